#include "planner/logical_plan.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <set>

#include "frontend/function_registry.h"
#include "planner/expr_compiler.h"
#include "planner/rules.h"
#include "runtime/aggregate.h"

namespace tql {

namespace {

SchemaPtr MakeSchema(const std::vector<Field>& fields) {
  return std::make_shared<Schema>(fields);
}

PExprPtr ColumnRef(int index, TypeId type) {
  auto c = std::make_unique<PExpr>();
  c->kind = PKind::kColumn;
  c->column = index;
  c->type = type;
  return c;
}

// The columns an expression reads (by name).
void CollectColumns(const ast::Expr& e, std::set<std::string>* out) {
  if (e.kind == ast::ExprKind::kName && !e.column.empty()) out->insert(e.column);
  for (const ast::ExprPtr& a : e.args) CollectColumns(*a, out);
}

class Planner {
 public:
  Planner(const BindResult& bound, const Catalog& catalog, const PlanOptions& options,
          PlanResult* result)
      : bound_(bound), catalog_(catalog), options_(options), result_(result) {}

  PlanPtr PlanPipeline(const ast::Pipeline& p) { return PlanPipeline(p, bound_.stage_columns); }

  // `stage_columns`: the binder's columns after the source and after each stage of `p`.
  PlanPtr PlanPipeline(const ast::Pipeline& p,
                       const std::vector<std::vector<Field>>& stage_columns) {
    // The name the rows of the pipeline carry in a `union withsource=...` stage.
    if (p.source_is_union) {
      std::vector<std::string> names;
      for (const ast::Name& n : p.union_sources) names.push_back(n.Joined());
      pipeline_source_ = fmt::format("{}", fmt::join(names, ","));
    } else {
      pipeline_source_ = p.source.Joined();
    }
    PlanPtr node = p.source_is_union ? UnionSource(p, stage_columns[0]) : Scan(p.source);
    if (!node) return nullptr;
    for (size_t i = 0; i < p.stages.size(); ++i) {
      const ast::Stage& stage = p.stages[i];
      const std::vector<Field>& out = stage_columns[i + 1];
      node = PlanStage(stage, std::move(node), out);
      if (!node) return nullptr;
    }
    return node;
  }

 private:
  void Error(SourceRange range, std::string message, std::vector<std::string> hints = {}) {
    result_->diagnostics.push_back(
        MakeDiagnostic(Severity::kError, range, std::move(message), std::move(hints)));
  }

  PlanPtr Scan(const ast::Name& source) {
    const std::string name = source.Joined();
    SchemaPtr schema = catalog_.Find(name);
    if (!schema) {
      // The binder reports unknown sources with suggestions; this only guards unbound input.
      Error(source.range, fmt::format("unknown source '{}'", name));
      return nullptr;
    }
    auto scan = std::make_unique<PlanNode>();
    scan->kind = PlanNode::Kind::kScan;
    scan->range = source.range;
    scan->source = name;
    scan->source_schema = schema;
    scan->output_schema = schema;
    for (int i = 0; i < schema->num_fields(); ++i) scan->columns.push_back(i);
    if (options_.time_range) return InTimeRange(std::move(scan), *options_.time_range, source);
    return scan;
  }

  // `scan` filtered to `from <= column < to`.
  PlanPtr InTimeRange(PlanPtr scan, const ScanTimeRange& r, const ast::Name& source) {
    const Schema& schema = *scan->output_schema;
    const int column = schema.IndexOf(r.column);
    if (column < 0 || schema.field(column).type != TypeId::kTimestamp) {
      Error(source.range, fmt::format("source '{}' has no {} column (a timestamp) to restrict to "
                                      "the time range",
                                      source.Joined(), r.column));
      return nullptr;
    }
    auto bound = [&](ast::Op op, int64_t at) {
      auto e = std::make_unique<ast::Expr>();
      e->kind = ast::ExprKind::kBinary;
      e->op = op;
      e->type = TypeId::kBool;
      e->range = source.range;
      auto col = std::make_unique<ast::Expr>();
      col->kind = ast::ExprKind::kName;
      col->name.parts = {r.column};
      col->column = r.column;
      col->type = TypeId::kTimestamp;
      col->range = source.range;
      ast::Literal lit;
      lit.type = TypeId::kTimestamp;
      lit.int_value = at;
      ast::ExprPtr value = ast::MakeLiteral(source.range, lit);
      value->type = TypeId::kTimestamp;
      e->args.push_back(std::move(col));
      e->args.push_back(std::move(value));
      return e;
    };
    ast::Expr both;
    both.kind = ast::ExprKind::kBinary;
    both.op = ast::Op::kAnd;
    both.type = TypeId::kBool;
    both.range = source.range;
    both.args.push_back(bound(ast::Op::kGe, r.from));
    both.args.push_back(bound(ast::Op::kLt, r.to));
    PExprPtr p = Compile(both, schema);
    if (!p) return nullptr;
    auto n = std::make_unique<PlanNode>();
    n->kind = PlanNode::Kind::kFilter;
    n->range = source.range;
    n->output_schema = scan->output_schema;
    n->predicate = CastTo(std::move(p), TypeId::kBool);
    n->inputs.push_back(std::move(scan));
    return n;
  }

  // `input`'s rows with the columns of a union: matched by name, missing ones null, the
  // `withsource` column holding `source_name`.
  static PlanPtr ProjectOnto(PlanPtr input, const SchemaPtr& out, const std::string& source_name,
                             const std::optional<ast::Name>& with_source, SourceRange range) {
    auto proj = std::make_unique<PlanNode>();
    proj->kind = PlanNode::Kind::kProject;
    proj->range = range;
    proj->output_schema = out;
    const Schema& in = *input->output_schema;
    for (const Field& f : out->fields()) {
      const int index = in.IndexOf(f.name);
      auto c = std::make_unique<PExpr>();
      c->kind = PKind::kConstant;
      c->type = f.type;
      if (with_source && f.name == with_source->Joined()) {
        c->constant = CastValue(Value::String(source_name), f.type);
        proj->exprs.push_back(std::move(c));
      } else if (index >= 0) {
        proj->exprs.push_back(CastTo(ColumnRef(index, in.field(index).type), f.type));
      } else {
        c->constant = Value::Null(f.type);
        proj->exprs.push_back(std::move(c));
      }
    }
    proj->inputs.push_back(std::move(input));
    return proj;
  }

  // The rows of `first` (when given) and then of each named source, on the columns `out`.
  PlanPtr Union(PlanPtr first, const std::string& first_name, const std::vector<ast::Name>& sources,
                const std::optional<ast::Name>& with_source, const std::vector<Field>& out,
                SourceRange range) {
    auto u = std::make_unique<PlanNode>();
    u->kind = PlanNode::Kind::kUnion;
    u->range = range;
    u->output_schema = MakeSchema(out);
    if (first) {
      u->inputs.push_back(
          ProjectOnto(std::move(first), u->output_schema, first_name, with_source, range));
    }
    for (const ast::Name& name : sources) {
      PlanPtr scan = Scan(name);
      if (!scan) return nullptr;
      u->inputs.push_back(
          ProjectOnto(std::move(scan), u->output_schema, name.Joined(), with_source, name.range));
    }
    return u;
  }

  PlanPtr UnionSource(const ast::Pipeline& p, const std::vector<Field>& columns) {
    return Union(nullptr, "", p.union_sources, p.union_with_source, columns, p.range);
  }

  PExprPtr Compile(const ast::Expr& e, const Schema& input) {
    CompileContext ctx;
    ctx.input = &input;
    ctx.parameters = &options_.parameters;
    ctx.now = options_.now;
    SourceRange at = e.range;
    Result<PExprPtr> r = CompileExpr(e, ctx, &at);
    if (!r.ok()) {
      Error(at, r.status().message());
      return nullptr;
    }
    return std::move(r).value();
  }

  std::optional<int64_t> RowCount(const ast::RowCount& count) {
    if (!count.parameter) return count.value;
    auto it = options_.parameters.find(*count.parameter);
    if (it == options_.parameters.end()) {
      Error(count.range, fmt::format("${} has no value; bind it (tql run --param {}=N)",
                                     *count.parameter, *count.parameter));
      return std::nullopt;
    }
    Value v = CastValue(it->second, TypeId::kInt);
    if (v.null || v.i < 0) {
      Error(count.range, fmt::format("${} must be a non-negative int here", *count.parameter));
      return std::nullopt;
    }
    return v.i;
  }

  PlanPtr Wrap(PlanNode::Kind kind, PlanPtr input, const std::vector<Field>& out,
               SourceRange range) {
    auto n = std::make_unique<PlanNode>();
    n->kind = kind;
    n->range = range;
    n->output_schema = MakeSchema(out);
    n->inputs.push_back(std::move(input));
    return n;
  }

  std::vector<PlanSortKey> SortKeys(const std::vector<ast::SortItem>& items, const Schema& in,
                                    bool* ok) {
    std::vector<PlanSortKey> keys;
    for (const ast::SortItem& item : items) {
      PlanSortKey k;
      k.expr = Compile(*item.expr, in);
      if (!k.expr) *ok = false;
      k.descending = item.descending;
      k.nulls_first = item.nulls_first.value_or(false);
      keys.push_back(std::move(k));
    }
    return keys;
  }

  // Replaces each aggregate call in `slot` by a name of the post schema (`$agg<i>`), adding
  // the aggregate to `n`.
  bool ExtractAggregates(ast::ExprPtr* slot, const Schema& in, PlanNode* n,
                         std::vector<Field>* post) {
    ast::Expr& e = **slot;
    if (e.kind == ast::ExprKind::kCall && !e.implicit) {
      std::string name = e.name.Joined();
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      const FunctionInfo* f = FindFunction(name);
      if (f != nullptr && f->kind == FunctionKind::kAggregate) {
        AggKind kind;
        double fraction = 0.5;
        const bool rate = name == "rate";
        if (rate) {
          // rate() is count() (rate(x): sum(x)) per second of the time bin's width.
          if (rate_window_ns_ <= 0) {
            Error(e.range, "rate() needs a 'by bin(timestamp, W)' key with a constant W > 0");
            return false;
          }
          kind = e.args.empty() ? AggKind::kCount : AggKind::kSum;
        } else if (!AggregateKindOf(name, &kind, &fraction)) {
          Error(e.range, fmt::format("aggregate '{}' cannot run in this version of tql yet", name),
                {"this version computes every aggregate of the language"});
          return false;
        }
        PlanAggregate a;
        a.kind = kind;
        a.function = rate ? (e.args.empty() ? "count" : "sum") : name;
        a.type = rate ? (e.args.empty() ? TypeId::kInt : TypeId::kFloat) : e.type;
        a.fraction = fraction;
        if (kind == AggKind::kHistogram) {
          PExprPtr bucket = Compile(*e.args[1], in);
          if (!bucket) return false;
          EvalContext ctx;
          ctx.now = options_.now;
          FoldConstants(&bucket, ctx);
          if (bucket->kind != PKind::kConstant || bucket->constant.null) {
            Error(e.args[1]->range, "the bucket of histogram() must be a constant");
            return false;
          }
          a.bucket = bucket->constant;
        }
        if (rate && !e.args.empty()) {
          PExprPtr x = Compile(*e.args[0], in);
          if (!x) return false;
          a.args.push_back(CastTo(std::move(x), TypeId::kFloat));
        }
        size_t value_args = rate ? 0 : e.args.size();
        if (kind == AggKind::kHistogram) value_args = 1;
        if (name == "percentile" || name == "percentile_exact") {
          const ast::Literal& q = e.args[1]->literal;
          a.fraction =
              (q.type == TypeId::kFloat ? q.float_value : static_cast<double>(q.int_value)) / 100;
          value_args = 1;
        }
        if (kind == AggKind::kMakeSet || kind == AggKind::kMakeList) {
          if (e.args.size() > 1) a.max_items = e.args[1]->literal.int_value;
          value_args = 1;
        }
        for (size_t i = 0; i < value_args; ++i) {
          PExprPtr arg = Compile(*e.args[i], in);
          if (!arg) return false;
          if (kind == AggKind::kCountIf) arg = CastTo(std::move(arg), TypeId::kBool);
          // Numbers in dynamic values are summed, averaged and ranked as floats.
          const bool numeric = kind == AggKind::kSum || kind == AggKind::kAvg ||
                               kind == AggKind::kVariance || kind == AggKind::kStdev ||
                               kind == AggKind::kPercentile || kind == AggKind::kPercentileExact;
          if (numeric && arg->type == TypeId::kDynamic)
            arg = CastTo(std::move(arg), TypeId::kFloat);
          a.args.push_back(std::move(arg));
        }
        const std::string column = fmt::format("$agg{}", n->aggregates.size());
        post->push_back({column, a.type});
        n->aggregates.push_back(std::move(a));
        auto ref = std::make_unique<ast::Expr>();
        ref->kind = ast::ExprKind::kName;
        ref->range = e.range;
        ref->name.parts = {column};
        ref->column = column;
        ref->type = post->back().type;
        if (rate) {
          // $agg * (1s / W): per second.
          ast::Literal per_second;
          per_second.type = TypeId::kFloat;
          per_second.float_value = 1e9 / static_cast<double>(rate_window_ns_);
          auto mul = std::make_unique<ast::Expr>();
          mul->kind = ast::ExprKind::kBinary;
          mul->op = ast::Op::kMul;
          mul->range = e.range;
          mul->type = TypeId::kFloat;
          mul->args.push_back(std::move(ref));
          mul->args.push_back(ast::MakeLiteral(e.range, per_second));
          mul->args.back()->type = TypeId::kFloat;
          *slot = std::move(mul);
          return true;
        }
        *slot = std::move(ref);
        return true;
      }
    }
    for (ast::ExprPtr& a : e.args) {
      if (!ExtractAggregates(&a, in, n, post)) return false;
    }
    return true;
  }

  PlanPtr Summarize(const ast::Stage& s, PlanPtr input, const std::vector<Field>& out) {
    const Schema& in = *input->output_schema;
    auto n = Wrap(PlanNode::Kind::kAggregate, std::move(input), out, s.range);
    std::vector<Field> post;
    for (size_t i = 0; i < s.keys.size(); ++i) {
      PExprPtr k = Compile(*s.keys[i].expr, in);
      if (!k) return nullptr;
      n->group_keys.push_back(CastTo(std::move(k), out[i].type));
      post.push_back(out[i]);
    }
    // The width of a bin(timestamp, W) key, for rate().
    rate_window_ns_ = 0;
    for (const ast::NamedExpr& key : s.keys) {
      const ast::Expr& k = *key.expr;
      if (k.kind == ast::ExprKind::kCall && FindFunction(k.name.Joined()) == FindFunction("bin") &&
          k.type == TypeId::kTimestamp && k.args.size() == 2) {
        PExprPtr w = Compile(*k.args[1], in);
        if (!w) return nullptr;
        EvalContext ctx;
        ctx.now = options_.now;
        FoldConstants(&w, ctx);
        if (w->kind == PKind::kConstant && !w->constant.null &&
            w->constant.type != TypeId::kFloat) {
          rate_window_ns_ = w->constant.i;
        }
      }
    }
    std::vector<ast::ExprPtr> items;
    for (const ast::NamedExpr& item : s.items) {
      ast::ExprPtr c = ast::Clone(*item.expr);
      if (!ExtractAggregates(&c, in, n.get(), &post)) return nullptr;
      items.push_back(std::move(c));
    }
    n->post_schema = MakeSchema(post);
    for (size_t i = 0; i < s.keys.size(); ++i) {
      n->exprs.push_back(ColumnRef(static_cast<int>(i), out[i].type));
    }
    for (size_t j = 0; j < items.size(); ++j) {
      PExprPtr e = Compile(*items[j], *n->post_schema);
      if (!e) return nullptr;
      n->exprs.push_back(CastTo(std::move(e), out[s.keys.size() + j].type));
    }
    return n;
  }

  PlanPtr PlanStage(const ast::Stage& s, PlanPtr input, const std::vector<Field>& out) {
    const Schema& in = *input->output_schema;
    switch (s.kind) {
      case ast::StageKind::kWhere: {
        PExprPtr p = Compile(*s.predicate, in);
        if (!p) return nullptr;
        auto n = Wrap(PlanNode::Kind::kFilter, std::move(input), out, s.range);
        n->output_schema = n->input()->output_schema;
        n->predicate = CastTo(std::move(p), TypeId::kBool);
        return n;
      }
      case ast::StageKind::kSearch: {
        auto e = std::make_unique<PExpr>();
        e->kind = PKind::kSearch;
        e->type = TypeId::kBool;
        e->memo = NewDictionaryMemo();  // answers per dictionary entry, across batches
        e->case_sensitive = s.match_case;
        if (s.regex) {
          Result<std::shared_ptr<const Regex>> re = Regex::Make(s.needle, s.match_case);
          if (!re.ok()) {
            Error(s.needle_range, re.status().message());
            return nullptr;
          }
          e->regex = std::move(re).value();
        } else {
          e->needle = s.match_case ? s.needle : Utf8Lower(s.needle);
        }
        auto add = [&](int index) { e->args.push_back(ColumnRef(index, in.field(index).type)); };
        if (s.names.empty()) {
          for (int i = 0; i < in.num_fields(); ++i) {
            if (IsStringBacked(in.field(i).type)) add(i);
          }
        } else {
          for (const ast::Name& name : s.names) {
            const int index = in.IndexOf(name.Joined());
            if (index >= 0 && IsStringBacked(in.field(index).type)) add(index);
          }
        }
        auto n = Wrap(PlanNode::Kind::kFilter, std::move(input), out, s.range);
        n->output_schema = n->input()->output_schema;
        n->predicate = std::move(e);
        return n;
      }
      case ast::StageKind::kExtend: {
        // Items become Project nodes; an item that uses a column an earlier item of the same
        // node made starts the next node, so it reads the computed column (no definition is
        // copied into another: chains stay linear).
        PlanPtr node = std::move(input);
        std::vector<Field> fields = node->output_schema->fields();
        std::vector<PExprPtr> defs;
        std::set<std::string> assigned;
        auto start = [&] {
          defs.clear();
          assigned.clear();
          for (size_t i = 0; i < fields.size(); ++i) {
            defs.push_back(ColumnRef(static_cast<int>(i), fields[i].type));
          }
        };
        auto flush = [&](const std::vector<Field>& types) {
          auto n = Wrap(PlanNode::Kind::kProject, std::move(node), types, s.range);
          for (size_t i = 0; i < defs.size(); ++i) {
            n->exprs.push_back(CastTo(std::move(defs[i]), types[i].type));
          }
          node = std::move(n);
        };
        start();
        for (const ast::NamedExpr& item : s.items) {
          std::set<std::string> used;
          CollectColumns(*item.expr, &used);
          if (std::any_of(used.begin(), used.end(),
                          [&](const std::string& c) { return assigned.count(c) > 0; })) {
            flush(fields);
            start();
          }
          PExprPtr e = Compile(*item.expr, *node->output_schema);
          if (!e) return nullptr;
          const std::string name = item.name->Joined();
          auto it = std::find_if(fields.begin(), fields.end(),
                                 [&](const Field& f) { return f.name == name; });
          if (it != fields.end()) {
            const auto index = static_cast<size_t>(it - fields.begin());
            fields[index].type = e->type;
            defs[index] = std::move(e);
          } else {
            fields.push_back({name, e->type});
            defs.push_back(std::move(e));
          }
          assigned.insert(name);
        }
        flush(out);
        return node;
      }
      case ast::StageKind::kProject:
      case ast::StageKind::kDistinct: {
        auto n = Wrap(PlanNode::Kind::kProject, std::move(input), out, s.range);
        for (size_t i = 0; i < s.items.size(); ++i) {
          PExprPtr e = Compile(*s.items[i].expr, in);
          if (!e) return nullptr;
          n->exprs.push_back(CastTo(std::move(e), out[i].type));
        }
        if (s.kind == ast::StageKind::kProject) return n;
        return Wrap(PlanNode::Kind::kDistinct, std::move(n), out, s.range);
      }
      case ast::StageKind::kProjectAway:
      case ast::StageKind::kProjectRename: {
        // Both keep (some of) the input columns in order: by position.
        auto n = Wrap(PlanNode::Kind::kProject, std::move(input), out, s.range);
        std::vector<std::string> sources;
        for (const Field& f : in.fields()) sources.push_back(f.name);
        if (s.kind == ast::StageKind::kProjectAway) {
          for (const Field& f : out) {
            const int index = in.IndexOf(f.name);
            n->exprs.push_back(ColumnRef(index, in.field(index).type));
          }
        } else {
          for (int i = 0; i < in.num_fields(); ++i)
            n->exprs.push_back(ColumnRef(i, in.field(i).type));
        }
        return n;
      }
      case ast::StageKind::kSort: {
        bool ok = true;
        auto n = Wrap(PlanNode::Kind::kSort, std::move(input), out, s.range);
        n->keys = SortKeys(s.sort, in, &ok);
        return ok ? std::move(n) : nullptr;
      }
      case ast::StageKind::kTop: {
        bool ok = true;
        auto limit = RowCount(s.count);
        auto n = Wrap(PlanNode::Kind::kTopK, std::move(input), out, s.range);
        n->keys = SortKeys(s.sort, in, &ok);
        if (!ok || !limit) return nullptr;
        n->limit = *limit;
        return n;
      }
      case ast::StageKind::kTake: {
        auto limit = RowCount(s.count);
        if (!limit) return nullptr;
        auto n = Wrap(PlanNode::Kind::kLimit, std::move(input), out, s.range);
        n->limit = *limit;
        return n;
      }
      case ast::StageKind::kCount:
        return Wrap(PlanNode::Kind::kCount, std::move(input), out, s.range);
      case ast::StageKind::kUnion:
        return Union(std::move(input), pipeline_source_, s.names, s.with_source, out, s.range);
      case ast::StageKind::kSummarize:
        return Summarize(s, std::move(input), out);
      case ast::StageKind::kJoin:
        return Join(s, std::move(input), out);
      case ast::StageKind::kMatch:
        return Match(s, std::move(input), out);
    }
    return nullptr;
  }

  PlanPtr Match(const ast::Stage& s, PlanPtr input, const std::vector<Field>& out) {
    const Schema& in = *input->output_schema;
    auto n = Wrap(PlanNode::Kind::kMatch, std::move(input), out, s.range);
    // The columns that link spans, and those the trace fields read, when of the right type.
    auto column = [&](const char* name, std::initializer_list<TypeId> types) {
      const int index = in.IndexOf(name);
      if (index < 0) return -1;
      const TypeId t = in.field(index).type;
      return std::find(types.begin(), types.end(), t) != types.end() ? index : -1;
    };
    TraceColumns& c = n->trace_columns;
    c.trace_id = in.IndexOf("trace_id");
    c.span_id = in.IndexOf("span_id");
    c.parent_id = in.IndexOf("parent_id");
    c.timestamp = column("timestamp", {TypeId::kTimestamp});
    c.duration = column("duration", {TypeId::kDuration});
    c.name = column("name", {TypeId::kString});
    c.service = column("service", {TypeId::kString});
    if (c.span_id >= 0 && c.parent_id >= 0) {
      const TypeId st = in.field(c.span_id).type;
      const TypeId pt = in.field(c.parent_id).type;
      if (st != pt && st != TypeId::kNull && pt != TypeId::kNull) {
        Error(s.keyword_range,
              fmt::format("match links spans by span_id and parent_id, but span_id is {} and "
                          "parent_id is {}",
                          TypeName(st), TypeName(pt)),
              {"convert one before the match, e.g. extend parent_id = tostring(parent_id)"});
        return nullptr;
      }
    }
    // The trace fields the spanset reads (a column of the same name shadows one).
    std::set<std::string> used;
    std::function<void(const ast::Spanset&)> collect = [&](const ast::Spanset& x) {
      if (x.filter) CollectColumns(*x.filter, &used);
      if (x.lhs) collect(*x.lhs);
      if (x.rhs) collect(*x.rhs);
    };
    collect(*s.spanset);
    std::vector<Field> fields = in.fields();
    for (TraceField f : {TraceField::kDuration, TraceField::kRootName, TraceField::kRootService,
                         TraceField::kSpanCount}) {
      if (used.count(TraceFieldName(f)) > 0 && in.IndexOf(TraceFieldName(f)) < 0) {
        n->trace_fields.push_back(f);
        fields.push_back({TraceFieldName(f), TraceFieldType(f)});
      }
    }
    n->match_schema = MakeSchema(fields);
    bool ok = true;
    n->spanset = PlanSpanset(*s.spanset, *n->match_schema, &n->num_leaves, &ok);
    return ok ? std::move(n) : nullptr;
  }

  std::unique_ptr<Spanset> PlanSpanset(const ast::Spanset& s, const Schema& schema, int* leaves,
                                       bool* ok) {
    auto out = std::make_unique<Spanset>();
    out->negated = s.negated;
    switch (s.kind) {
      case ast::SpansetKind::kFilter:
        out->op = Spanset::Op::kFilter;
        if (s.filter) {
          out->filter = Compile(*s.filter, schema);
          if (!out->filter) {
            *ok = false;
          } else {
            out->filter = CastTo(std::move(out->filter), TypeId::kBool);
            out->leaf = (*leaves)++;
          }
        }
        return out;
      case ast::SpansetKind::kAnd:
        out->op = Spanset::Op::kAnd;
        break;
      case ast::SpansetKind::kOr:
        out->op = Spanset::Op::kOr;
        break;
      case ast::SpansetKind::kChild:
        out->op = Spanset::Op::kChild;
        break;
      case ast::SpansetKind::kDescendant:
        out->op = Spanset::Op::kDescendant;
        break;
      case ast::SpansetKind::kParent:
        out->op = Spanset::Op::kParent;
        break;
      case ast::SpansetKind::kAncestor:
        out->op = Spanset::Op::kAncestor;
        break;
      case ast::SpansetKind::kSibling:
        out->op = Spanset::Op::kSibling;
        break;
    }
    out->lhs = PlanSpanset(*s.lhs, schema, leaves, ok);
    out->rhs = PlanSpanset(*s.rhs, schema, leaves, ok);
    return out;
  }

  PlanPtr Join(const ast::Stage& s, PlanPtr left, const std::vector<Field>& out) {
    auto columns = bound_.subquery_columns.find(s.subquery.get());
    if (columns == bound_.subquery_columns.end()) {
      Error(s.range, "the join's pipeline was not bound");
      return nullptr;
    }
    const std::string outer_source = pipeline_source_;
    PlanPtr right = PlanPipeline(*s.subquery, columns->second);
    pipeline_source_ = outer_source;
    if (!right) return nullptr;
    auto n = std::make_unique<PlanNode>();
    n->kind = PlanNode::Kind::kJoin;
    n->range = s.range;
    n->output_schema = std::make_shared<Schema>(out);
    switch (s.join_kind) {
      case ast::JoinKind::kInner:
        n->join_kind = PlanNode::JoinKind::kInner;
        break;
      case ast::JoinKind::kLeft:
        n->join_kind = PlanNode::JoinKind::kLeft;
        break;
      case ast::JoinKind::kSemi:
        n->join_kind = PlanNode::JoinKind::kSemi;
        break;
      case ast::JoinKind::kAnti:
        n->join_kind = PlanNode::JoinKind::kAnti;
        break;
    }
    for (const ast::ExprPtr& key : s.join_keys) {
      const std::string name = key->name.Joined();
      PlanNode::JoinKey k;
      k.left = left->output_schema->IndexOf(name);
      k.right = right->output_schema->IndexOf(name);
      if (k.left < 0 || k.right < 0) {
        Error(key->range, fmt::format("join key '{}' is missing on one side", name));
        return nullptr;
      }
      const TypeId lt = left->output_schema->field(k.left).type;
      const TypeId rt = right->output_schema->field(k.right).type;
      if (lt == TypeId::kDynamic || rt == TypeId::kDynamic) {
        Error(
            key->range,
            fmt::format("join key '{}' is dynamic on one side, which a join cannot compare yet",
                        name),
            {fmt::format("convert it on that side first, e.g. extend {0} = tostring({0})", name)});
        return nullptr;
      }
      // int against float compares as float; a side of type null (no values) matches nothing.
      auto number = [](TypeId t) { return t == TypeId::kInt || t == TypeId::kFloat; };
      k.as_float = lt != rt && number(lt) && number(rt);
      n->join_keys.push_back(k);
    }
    n->inputs.push_back(std::move(left));
    n->inputs.push_back(std::move(right));
    return n;
  }

  std::string pipeline_source_;
  int64_t rate_window_ns_ = 0;  // the bin width of the summarize being planned
  const BindResult& bound_;
  const Catalog& catalog_;
  const PlanOptions& options_;
  PlanResult* result_;
};

}  // namespace

PlanResult PlanQuery(const ast::Query& query, const BindResult& bound, const Catalog& catalog,
                     const PlanOptions& options) {
  PlanResult result;
  Planner planner(bound, catalog, options, &result);
  PlanPtr plan = planner.PlanPipeline(query.pipeline);
  if (!plan || !result.diagnostics.empty()) return result;
  if (options.optimize) {
    EvalContext ctx;
    ctx.now = options.now;
    OptimizePlan(&plan, ctx, &result.rules_fired);
  }
  result.plan = std::move(plan);
  return result;
}

// ---------------------------------------------------------------------------------------------

namespace {

std::string Names(const Schema& schema, const std::vector<int>& columns) {
  std::vector<std::string> names;
  for (int c : columns) names.push_back(schema.field(c).name);
  return fmt::format("{}", fmt::join(names, ", "));
}

std::string KeysText(const std::vector<PlanSortKey>& keys, const Schema& in) {
  std::vector<std::string> parts;
  for (const PlanSortKey& k : keys) {
    std::string s = k.expr->ToString(in) + (k.descending ? " desc" : " asc");
    if (k.nulls_first) s += " nulls first";
    parts.push_back(s);
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

void ExplainNode(const PlanNode& node, int depth, std::string* out) {
  const std::string pad(static_cast<size_t>(depth) * 2, ' ');
  switch (node.kind) {
    case PlanNode::Kind::kScan: {
      *out += fmt::format("{}Scan {} columns=[{}] ({} of {})\n", pad, node.source,
                          Names(*node.source_schema, node.columns), node.columns.size(),
                          node.source_schema->num_fields());
      if (node.filter) {
        *out += fmt::format("{}  filter: {}\n", pad, node.filter->ToString(*node.output_schema));
      }
      std::vector<std::string> by_range, by_bloom;
      for (const ScanPredicate& p : node.scan_predicates) {
        (p.constant.type == TypeId::kString ? by_bloom : by_range)
            .push_back(p.ToString(*node.output_schema));
      }
      if (!by_range.empty()) {
        *out += fmt::format("{}  skip batches by min/max: {}\n", pad, fmt::join(by_range, ", "));
      }
      if (!by_bloom.empty()) {
        *out +=
            fmt::format("{}  skip batches by Bloom filter: {}\n", pad, fmt::join(by_bloom, ", "));
      }
      break;
    }
    case PlanNode::Kind::kFilter:
      *out += fmt::format("{}Filter {}\n", pad, node.predicate->ToString(node.input_schema()));
      break;
    case PlanNode::Kind::kProject: {
      std::vector<std::string> items;
      const Schema& in = node.input_schema();
      for (size_t i = 0; i < node.exprs.size(); ++i) {
        const std::string& name = node.output_schema->field(static_cast<int>(i)).name;
        const std::string e = node.exprs[i]->ToString(in);
        items.push_back(e == name ? name : fmt::format("{} = {}", name, e));
      }
      *out += fmt::format("{}Project [{}]\n", pad, fmt::join(items, ", "));
      break;
    }
    case PlanNode::Kind::kSort:
      *out += fmt::format("{}Sort by {}\n", pad, KeysText(node.keys, node.input_schema()));
      break;
    case PlanNode::Kind::kTopK:
      *out += fmt::format("{}TopK {} by {}\n", pad, node.limit,
                          KeysText(node.keys, node.input_schema()));
      break;
    case PlanNode::Kind::kLimit:
      *out += fmt::format("{}Limit {}\n", pad, node.limit);
      break;
    case PlanNode::Kind::kDistinct:
      *out += fmt::format("{}Distinct\n", pad);
      break;
    case PlanNode::Kind::kCount:
      *out += fmt::format("{}Count\n", pad);
      break;
    case PlanNode::Kind::kUnion:
      *out += fmt::format("{}Union\n", pad);
      break;
    case PlanNode::Kind::kAggregate: {
      const Schema& in = node.input_schema();
      std::vector<std::string> keys, aggs, outs;
      for (size_t i = 0; i < node.group_keys.size(); ++i) {
        const std::string& name = node.post_schema->field(static_cast<int>(i)).name;
        const std::string e = node.group_keys[i]->ToString(in);
        keys.push_back(e == name ? name : fmt::format("{} = {}", name, e));
      }
      for (size_t i = 0; i < node.aggregates.size(); ++i) {
        const PlanAggregate& a = node.aggregates[i];
        std::vector<std::string> args;
        for (const PExprPtr& x : a.args) args.push_back(x->ToString(in));
        std::string text = fmt::format("{}({})", a.function, fmt::join(args, ", "));
        if (a.function == "percentile" || a.function == "percentile_exact") {
          text = fmt::format("{}({}, {})", a.function, fmt::join(args, ", "), a.fraction * 100);
        }
        aggs.push_back(fmt::format("$agg{} = {}", i, text));
      }
      for (size_t i = 0; i < node.exprs.size(); ++i) {
        outs.push_back(fmt::format("{} = {}", node.output_schema->field(static_cast<int>(i)).name,
                                   node.exprs[i]->ToString(*node.post_schema)));
      }
      *out += fmt::format("{}Aggregate by [{}] computing [{}]\n", pad, fmt::join(keys, ", "),
                          fmt::join(aggs, ", "));
      *out += fmt::format("{}  output [{}]\n", pad, fmt::join(outs, ", "));
      break;
    }
    case PlanNode::Kind::kJoin: {
      static constexpr const char* kKinds[] = {"inner", "left", "semi", "anti"};
      std::vector<std::string> keys;
      for (const PlanNode::JoinKey& k : node.join_keys) {
        keys.push_back(node.inputs[0]->output_schema->field(k.left).name);
      }
      *out += fmt::format("{}Join {} on [{}], building on the {}\n", pad,
                          kKinds[static_cast<int>(node.join_kind)], fmt::join(keys, ", "),
                          node.join_kind == PlanNode::JoinKind::kInner ? "smaller side" : "right");
      break;
    }
    case PlanNode::Kind::kMatch: {
      const TraceColumns& c = node.trace_columns;
      const Schema& in = node.input_schema();
      *out += fmt::format("{}Match {}\n", pad, SpansetToString(*node.spanset, *node.match_schema));
      if (c.trace_id < 0) {
        *out += fmt::format("{}  no trace_id: every span is a trace of its own\n", pad);
      } else if (c.span_id < 0 || c.parent_id < 0) {
        *out += fmt::format("{}  traces by {}; no span_id/parent_id: every span is a root\n", pad,
                            in.field(c.trace_id).name);
      } else {
        *out += fmt::format(
            "{}  traces by trace_id, linked by span_id <- parent_id; a span whose parent never "
            "arrives is the root of its own subtree (an orphan)\n",
            pad);
      }
      break;
    }
  }
  for (const auto& input : node.inputs) ExplainNode(*input, depth + 1, out);
}

void CollectScanNodes(const PlanNode& node, std::vector<const PlanNode*>* out) {
  if (node.kind == PlanNode::Kind::kScan) out->push_back(&node);
  for (const auto& input : node.inputs) CollectScanNodes(*input, out);
}

}  // namespace

std::string ExplainPlan(const PlanNode& plan) {
  std::string out;
  ExplainNode(plan, 0, &out);
  return out;
}

std::vector<const PlanNode*> ScanNodes(const PlanNode& plan) {
  std::vector<const PlanNode*> out;
  CollectScanNodes(plan, &out);
  return out;
}

std::vector<PushdownInfo> DescribePushdown(const PlanNode& plan) {
  std::vector<PushdownInfo> out;
  for (const PlanNode* scan : ScanNodes(plan)) {
    PushdownInfo info;
    info.source = scan->source;
    for (int c : scan->columns) info.columns.push_back(scan->source_schema->field(c).name);
    for (const ScanPredicate& p : scan->scan_predicates) {
      info.predicates.push_back(p.ToString(*scan->output_schema));
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace tql

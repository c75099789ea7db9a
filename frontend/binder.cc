#include "frontend/binder.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <set>

#include "frontend/function_registry.h"
#include "frontend/suggest.h"
#include "runtime/time_format.h"

namespace tql {

namespace {

using ast::Expr;
using ast::ExprKind;
using ast::ExprPtr;
using ast::Op;
using T = TypeId;

bool IsNumber(T t) {
  return t == T::kInt || t == T::kFloat;
}
bool IsIntLike(T t) {
  return t == T::kInt || t == T::kDuration;
}

// The trace-level fields available inside `match { ... }`.
std::optional<T> TraceFieldType(const std::string& name) {
  if (name == "trace.duration") return T::kDuration;
  if (name == "trace.root.name" || name == "trace.root.service") return T::kString;
  if (name == "trace.span_count") return T::kInt;
  return std::nullopt;
}

// Where an expression is: which aggregates and names it may use.
struct ExprContext {
  const std::vector<Field>* columns = nullptr;
  bool aggregates_allowed = false;  // summarize items
  bool in_aggregate = false;        // inside an aggregate's arguments
  bool in_spanset = false;          // inside match { ... }
  // summarize items: key names usable outside aggregates (`summarize count() / n by n`).
  const std::vector<std::string>* key_names = nullptr;
  bool in_keys = false;  // summarize ... by KEYS
};

class Binder {
 public:
  Binder(const Catalog& catalog, const BindOptions& options, BindResult* result)
      : catalog_(catalog), options_(options), result_(result) {}

  void BindQuery(ast::Query* query) {
    for (size_t i = 0; i < query->lets.size(); ++i) {
      const ast::Let& let = query->lets[i];
      const std::string& name = let.name.parts[0];
      if (lets_.contains(name)) {
        Warning(let.name.range, fmt::format("let '{}' is defined twice; the second wins", name));
      }
      lets_[name] = {&let, i, false};
    }
    // Each let is checked where it is written, against the source's columns (it is bound again
    // wherever it is used; the same diagnostics are reported once).
    bool open = true;
    std::vector<Field> source_columns;
    if (!query->pipeline.source_is_union && catalog_.Find(query->pipeline.source.Joined())) {
      source_columns = SourceColumns(query->pipeline.source, &open);
    }
    for (size_t i = 0; i < query->lets.size(); ++i) {
      ExprPtr value = ast::Clone(*query->lets[i].value);
      ExprContext ctx;
      ctx.columns = &source_columns;
      let_limit_ = i;
      BindExpr(&value, ctx);
    }
    let_limit_ = query->lets.size();
    // Lets whose names hide a column of the source are easy to write by accident.
    if (!query->pipeline.source_is_union && catalog_.Find(query->pipeline.source.Joined())) {
      for (const Field& f : SourceColumns(query->pipeline.source, &open)) {
        auto it = lets_.find(f.name);
        if (it != lets_.end()) {
          Warning(it->second.let->name.range,
                  fmt::format("let '{}' hides the column '{}' of {}", f.name, f.name,
                              query->pipeline.source.Joined()),
                  {"inside the query the name means the let's value; rename the let to use "
                   "the column"});
        }
      }
    }
    BindPipeline(&query->pipeline, &result_->stage_columns);
  }

 private:
  // --- diagnostics

  void Error(SourceRange range, std::string message, std::vector<std::string> hints = {}) {
    result_->diagnostics.push_back(
        MakeDiagnostic(Severity::kError, range, std::move(message), std::move(hints)));
  }

  void Warning(SourceRange range, std::string message, std::vector<std::string> hints = {}) {
    result_->diagnostics.push_back(
        MakeDiagnostic(Severity::kWarning, range, std::move(message), std::move(hints)));
  }

  size_t ErrorCount() const {
    return static_cast<size_t>(
        std::count_if(result_->diagnostics.begin(), result_->diagnostics.end(),
                      [](const Diagnostic& d) { return d.severity == Severity::kError; }));
  }

  static std::vector<std::string> ColumnNames(const std::vector<Field>& columns) {
    std::vector<std::string> names;
    for (const Field& f : columns) names.push_back(f.name);
    return names;
  }

  std::string DidYouMean(const std::string& name, const std::vector<std::string>& candidates) {
    auto near = ClosestName(name, candidates);
    return near ? fmt::format("; did you mean '{}'?", *near) : "";
  }

  // --- sources and pipelines

  std::vector<Field> SourceColumns(const ast::Name& name, bool* open) {
    const std::string source = name.Joined();
    SchemaPtr schema = catalog_.Find(source);
    *open = catalog_.IsOpen(source) && !options_.strict;
    if (!schema) {
      const std::vector<std::string> names = catalog_.Names();
      std::vector<std::string> hints;
      if (names.empty()) {
        hints.push_back("no source is registered (the CLI registers one per --input)");
      } else if (!ClosestName(source, names)) {
        hints.push_back(fmt::format("the sources are: {}", fmt::join(names, ", ")));
      }
      Error(name.range, fmt::format("unknown source '{}'{}", source, DidYouMean(source, names)),
            hints);
      return {};
    }
    return schema->fields();
  }

  // Columns of several sources together: by name in order of first appearance; a name whose
  // types differ becomes dynamic (ints and floats become float).
  std::vector<Field> UnionColumns(const std::vector<ast::Name>& sources,
                                  const std::optional<ast::Name>& with_source, bool* open) {
    std::vector<Field> out;
    *open = false;
    for (const ast::Name& s : sources) {
      bool source_open = false;
      MergeColumns(SourceColumns(s, &source_open), &out);
      *open = *open || source_open;
    }
    if (with_source) AddSourceColumn(*with_source, &out);
    return out;
  }

  // Adds the columns of `from` missing from `into`; a name whose types differ becomes dynamic
  // (ints and floats become float; an all-null column takes the other's type).
  static void MergeColumns(const std::vector<Field>& from, std::vector<Field>* into) {
    for (const Field& f : from) {
      auto it = std::find_if(into->begin(), into->end(),
                             [&f](const Field& o) { return o.name == f.name; });
      if (it == into->end()) {
        into->push_back(f);
      } else if (it->type != f.type) {
        it->type = IsNumber(it->type) && IsNumber(f.type) ? T::kFloat
                   : it->type == T::kNull                 ? f.type
                   : f.type == T::kNull                   ? it->type
                                                          : T::kDynamic;
      }
    }
  }

  // `withsource=NAME` adds NAME first; it must not collide with a column of the inputs.
  void AddSourceColumn(const ast::Name& name, std::vector<Field>* columns) {
    const std::string column = name.Joined();
    if (std::any_of(columns->begin(), columns->end(),
                    [&column](const Field& f) { return f.name == column; })) {
      Error(name.range,
            fmt::format("withsource={}: the inputs already have a column '{}'", column, column),
            {"choose another name for the source column, e.g. withsource=source_name"});
      return;
    }
    columns->insert(columns->begin(), {column, T::kString});
  }

  void BindPipeline(ast::Pipeline* p, std::vector<std::vector<Field>>* stage_columns) {
    bool open = true;
    std::vector<Field> columns = p->source_is_union
                                     ? UnionColumns(p->union_sources, p->union_with_source, &open)
                                     : SourceColumns(p->source, &open);
    const bool saved_open = open_;
    open_ = open;
    if (stage_columns) stage_columns->push_back(columns);
    for (ast::Stage& stage : p->stages) {
      BindStage(&stage, &columns);
      if (stage_columns) stage_columns->push_back(columns);
    }
    open_ = saved_open;
  }

  // --- stages

  static void SetColumn(std::vector<Field>* columns, const std::string& name, T type) {
    for (Field& f : *columns) {
      if (f.name == name) {
        f.type = type;
        return;
      }
    }
    columns->push_back({name, type});
  }

  void CheckBool(const ExprPtr& e, const std::string& where) {
    if (e->type != T::kBool && !IsLooselyTyped(e->type)) {
      Error(e->range, fmt::format("{} must be a bool, not {}", where, TypeName(e->type)),
            {"compare it with something, e.g. x > 0 or isnotnull(x)"});
    }
  }

  void BindStage(ast::Stage* s, std::vector<Field>* columns) {
    ExprContext ctx;
    ctx.columns = columns;
    switch (s->kind) {
      case ast::StageKind::kWhere:
        BindExpr(&s->predicate, ctx);
        CheckBool(s->predicate, "the condition of where");
        break;
      case ast::StageKind::kSearch:
        for (const ast::Name& n : s->names) {
          if (!RequireColumn(n, *columns, "search in")) continue;
          for (const Field& f : *columns) {
            if (f.name == n.Joined() && !IsStringBacked(f.type)) {
              Error(n.range,
                    fmt::format("search looks in string and dynamic columns; '{}' is {}", f.name,
                                TypeName(f.type)),
                    {"compare it in a where instead"});
            }
          }
        }
        if (s->regex) CheckRegex(s->needle, s->needle_range);
        break;
      case ast::StageKind::kExtend: {
        std::set<std::string> assigned;
        for (ast::NamedExpr& item : s->items) {
          BindExpr(&item.expr, ctx);
          if (!assigned.insert(item.name->Joined()).second) {
            Warning(item.name->range,
                    fmt::format("'{}' is assigned twice in one extend; the last one wins",
                                item.name->Joined()));
          }
          SetColumn(columns, item.name->Joined(), item.expr->type);
        }
        break;
      }
      case ast::StageKind::kProject:
      case ast::StageKind::kDistinct: {
        std::vector<Field> out;
        for (ast::NamedExpr& item : s->items) {
          const std::string name = item.name ? item.name->Joined() : DefaultColumnName(*item.expr);
          BindExpr(&item.expr, ctx);
          if (std::any_of(out.begin(), out.end(),
                          [&name](const Field& f) { return f.name == name; })) {
            Error(item.name ? item.name->range : item.expr->range,
                  fmt::format("column '{}' appears twice in the result", name),
                  {"give one of them another name: NAME = EXPR"});
          }
          out.push_back({name, item.expr->type});
        }
        // In an open source a name that is not among the new columns still reads as null,
        // with a warning (LANGUAGE.md section 2).
        *columns = std::move(out);
        break;
      }
      case ast::StageKind::kProjectAway:
        for (const ast::Name& n : s->names) {
          if (RequireColumn(n, *columns, "project-away")) {
            const std::string name = n.Joined();
            std::erase_if(*columns, [&name](const Field& f) { return f.name == name; });
          }
        }
        break;
      case ast::StageKind::kProjectRename:
        for (const auto& [to, from] : s->renames) {
          if (!RequireColumn(from, *columns, "project-rename")) continue;
          const std::string old_name = from.Joined(), new_name = to.Joined();
          if (new_name != old_name &&
              std::any_of(columns->begin(), columns->end(),
                          [&new_name](const Field& f) { return f.name == new_name; })) {
            Error(to.range, fmt::format("column '{}' already exists", new_name),
                  {"project-away it first, or choose another name"});
            continue;
          }
          for (Field& f : *columns) {
            if (f.name == old_name) f.name = new_name;
          }
        }
        break;
      case ast::StageKind::kSummarize:
        BindSummarize(s, columns);
        break;
      case ast::StageKind::kSort:
      case ast::StageKind::kTop:
        for (ast::SortItem& item : s->sort) {
          BindExpr(&item.expr, ctx);
          if (item.expr->type == T::kBool) {
            Warning(item.expr->range, "sorting by a bool: false sorts before true");
          }
        }
        if (s->kind == ast::StageKind::kTop) BindRowCount(&s->count);
        break;
      case ast::StageKind::kTake:
        BindRowCount(&s->count);
        break;
      case ast::StageKind::kCount:
        *columns = {{"count", T::kInt}};
        break;
      case ast::StageKind::kMatch:
        BindMatch(s, *columns);
        break;
      case ast::StageKind::kJoin:
        BindJoin(s, columns);
        break;
      case ast::StageKind::kUnion: {
        bool open = false;
        std::vector<Field> extra = UnionColumns(s->names, std::nullopt, &open);
        MergeColumns(extra, columns);
        if (s->with_source) AddSourceColumn(*s->with_source, columns);
        open_ = open_ || open;
        break;
      }
    }
  }

  bool RequireColumn(const ast::Name& n, const std::vector<Field>& columns, const char* stage) {
    const std::string name = n.Joined();
    for (const Field& f : columns) {
      if (f.name == name) return true;
    }
    if (open_) {
      Warning(n.range, fmt::format("{}: no column '{}'{}", stage, name,
                                   DidYouMean(name, ColumnNames(columns))));
    } else {
      Error(n.range, fmt::format("{}: unknown column '{}'{}", stage, name,
                                 DidYouMean(name, ColumnNames(columns))));
    }
    return false;
  }

  void BindRowCount(ast::RowCount* c) {
    if (!c->parameter) return;
    NoteParameter(*c->parameter);
    auto it = options_.parameter_types.find(*c->parameter);
    if (it != options_.parameter_types.end() && it->second != T::kInt) {
      Error(c->range,
            fmt::format("${} must be an int here, not {}", *c->parameter, TypeName(it->second)));
    }
  }

  void BindSummarize(ast::Stage* s, std::vector<Field>* columns) {
    std::vector<Field> out;
    std::vector<std::string> key_names;
    auto add = [&](const std::string& name, T type, SourceRange range) {
      if (std::any_of(out.begin(), out.end(), [&name](const Field& f) { return f.name == name; })) {
        Error(range, fmt::format("column '{}' appears twice in the result of summarize", name),
              {"give one of them another name: NAME = EXPR"});
      }
      out.push_back({name, type});
    };
    ExprContext key_ctx;
    key_ctx.columns = columns;
    key_ctx.in_keys = true;
    for (ast::NamedExpr& key : s->keys) {
      const std::string name = key.name ? key.name->Joined() : DefaultColumnName(*key.expr);
      BindExpr(&key.expr, key_ctx);
      if (key.expr->type == T::kDynamic) {
        Warning(key.expr->range, "grouping by a dynamic value groups by its JSON text");
      }
      key_names.push_back(name);
      add(name, key.expr->type, key.name ? key.name->range : key.expr->range);
    }
    ExprContext agg_ctx;
    agg_ctx.columns = columns;
    agg_ctx.aggregates_allowed = true;
    agg_ctx.key_names = &key_names;
    for (ast::NamedExpr& item : s->items) {
      const std::string name = item.name ? item.name->Joined() : DefaultColumnName(*item.expr);
      const size_t errors_before = ErrorCount();
      BindExpr(&item.expr, agg_ctx);
      if (ErrorCount() == errors_before && !ContainsAggregate(*item.expr)) {
        Error(item.expr->range,
              fmt::format("'{}' is not an aggregate", ast::FormatExpr(*item.expr)),
              {"summarize computes aggregates such as count(), sum(x), p99(duration); "
               "group keys go after 'by'"});
      }
      add(name, item.expr->type, item.name ? item.name->range : item.expr->range);
    }
    // rate() needs the width of a bin(timestamp, W) key.
    for (const ast::NamedExpr& item : s->items) {
      if (UsesFunction(*item.expr, "rate") && !HasTimeBinKey(*s)) {
        Error(item.expr->range, "rate() needs a 'by bin(timestamp, W)' key to know its window",
              {"for example: summarize rate() by bin(timestamp, 1m)"});
      }
    }
    *columns = std::move(out);
  }

  static bool ContainsAggregate(const Expr& e) {
    if (e.kind == ExprKind::kCall) {
      const FunctionInfo* f = FindFunction(e.name.Joined());
      if (f != nullptr && f->kind == FunctionKind::kAggregate && !e.implicit) return true;
    }
    return std::any_of(e.args.begin(), e.args.end(),
                       [](const ExprPtr& a) { return ContainsAggregate(*a); });
  }

  static bool UsesFunction(const Expr& e, std::string_view name) {
    if (e.kind == ExprKind::kCall && FindFunction(e.name.Joined()) == FindFunction(name))
      return true;
    return std::any_of(e.args.begin(), e.args.end(),
                       [name](const ExprPtr& a) { return UsesFunction(*a, name); });
  }

  static bool HasTimeBinKey(const ast::Stage& s) {
    return std::any_of(s.keys.begin(), s.keys.end(), [](const ast::NamedExpr& k) {
      return k.expr->kind == ExprKind::kCall &&
             FindFunction(k.expr->name.Joined()) == FindFunction("bin") &&
             k.expr->type == T::kTimestamp;
    });
  }

  void BindMatch(ast::Stage* s, const std::vector<Field>& columns) {
    std::vector<std::string> missing;
    for (const char* needed : {"trace_id", "span_id", "parent_id"}) {
      if (std::none_of(columns.begin(), columns.end(),
                       [needed](const Field& f) { return f.name == needed; })) {
        missing.push_back(needed);
      }
    }
    if (!missing.empty()) {
      const std::string message =
          fmt::format("match needs the column{} {} to link spans", missing.size() == 1 ? "" : "s",
                      fmt::format("'{}'", fmt::join(missing, "', '")));
      if (open_) {
        Warning(s->keyword_range, message, {"without them, every span is its own trace"});
      } else {
        Error(s->keyword_range, message, {"match works on spans: trace_id, span_id, parent_id"});
      }
    }
    BindSpanset(s->spanset.get(), columns);
  }

  void BindSpanset(ast::Spanset* s, const std::vector<Field>& columns) {
    if (s->kind == ast::SpansetKind::kFilter) {
      if (!s->filter) return;
      ExprContext ctx;
      ctx.columns = &columns;
      ctx.in_spanset = true;
      BindExpr(&s->filter, ctx);
      CheckBool(s->filter, "a spanset condition");
      return;
    }
    BindSpanset(s->lhs.get(), columns);
    BindSpanset(s->rhs.get(), columns);
  }

  void BindJoin(ast::Stage* s, std::vector<Field>* left) {
    std::vector<Field> right;
    const size_t errors_before = ErrorCount();
    {
      std::vector<std::vector<Field>> sub_columns;
      BindPipeline(s->subquery.get(), &sub_columns);
      right = sub_columns.back();
      result_->subquery_columns[s->subquery.get()] = sub_columns;
    }
    if (ErrorCount() > errors_before) return;  // the right side is wrong already
    for (ExprPtr& key : s->join_keys) {
      if (key->kind != ExprKind::kName) {
        Error(key->range, "a join key must be a column name present on both sides",
              {"compute it with extend on each side first"});
        continue;
      }
      const std::string name = key->name.Joined();
      auto find = [&name](const std::vector<Field>& cols) {
        return std::find_if(cols.begin(), cols.end(),
                            [&name](const Field& f) { return f.name == name; });
      };
      auto l = find(*left), r = find(right);
      if (l == left->end() || r == right.end()) {
        Error(key->range,
              fmt::format("join key '{}' is missing on the {} side", name,
                          l == left->end() ? "left" : "right"),
              {"a key must name a column of both inputs"});
        continue;
      }
      key->type = l->type;
      key->column = name;
      const bool comparable = l->type == r->type || (IsNumber(l->type) && IsNumber(r->type)) ||
                              IsLooselyTyped(l->type) || IsLooselyTyped(r->type);
      if (!comparable) {
        Error(key->range, fmt::format("join key '{}' is {} on the left and {} on the right", name,
                                      TypeName(l->type), TypeName(r->type)));
      }
    }
    if (s->join_kind == ast::JoinKind::kSemi || s->join_kind == ast::JoinKind::kAnti) return;
    // Left columns, then every right column; a name already present gets a number (KQL).
    for (const Field& f : right) {
      std::string name = f.name;
      for (int n = 1; std::any_of(left->begin(), left->end(),
                                  [&name](const Field& o) { return o.name == name; });
           ++n) {
        name = fmt::format("{}{}", f.name, n);
      }
      left->push_back({name, f.type});
    }
  }

  // --- expressions

  void NoteParameter(const std::string& name) {
    auto& ps = result_->parameters;
    if (std::find(ps.begin(), ps.end(), name) == ps.end()) ps.push_back(name);
  }

  static bool IsConstant(const Expr& e) { return e.kind == ExprKind::kLiteral; }

  void CheckRegex(const std::string& pattern, SourceRange range) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_max_mem(int64_t{8} << 20);
    RE2 re(pattern, options);
    if (!re.ok()) {
      Error(range, fmt::format("invalid regular expression: {}", re.error()),
            {"patterns are RE2 syntax (no backreferences or lookaround)"});
    }
  }

  ExprPtr Cast(ExprPtr e, const char* function, T to) {
    auto c = std::make_unique<Expr>();
    c->kind = ExprKind::kCall;
    c->range = e->range;
    c->name.range = e->range;
    c->name.parts.push_back(function);
    c->implicit = true;
    c->type = to;
    c->height = e->height + 1;
    c->args.push_back(std::move(e));
    return c;
  }

  // A string literal compared with a timestamp or duration is read as one, if it can be.
  bool CoerceLiteral(ExprPtr* e, T to) {
    Expr& x = **e;
    if (x.kind != ExprKind::kLiteral || x.literal.type != T::kString) return false;
    std::optional<int64_t> v = to == T::kTimestamp  ? ParseTimestamp(x.literal.string_value)
                               : to == T::kDuration ? ParseDuration(x.literal.string_value)
                                                    : std::nullopt;
    if (!v) return false;
    x.literal.type = to;
    x.literal.int_value = *v;
    x.literal.string_value.clear();
    x.type = to;
    return true;
  }

  T BindExpr(ExprPtr* slot, const ExprContext& ctx) {
    Expr& e = **slot;
    switch (e.kind) {
      case ExprKind::kLiteral:
        e.type = e.literal.type;
        break;
      case ExprKind::kParameter: {
        NoteParameter(e.name.parts[0]);
        auto it = options_.parameter_types.find(e.name.parts[0]);
        e.type = it == options_.parameter_types.end() ? T::kDynamic : it->second;
        break;
      }
      case ExprKind::kName:
        return BindName(slot, ctx);
      case ExprKind::kCall:
        return BindCall(slot, ctx);
      case ExprKind::kIndex: {
        BindExpr(&e.args[0], ctx);
        BindExpr(&e.args[1], ctx);
        const T base = e.args[0]->type;
        if (base != T::kDynamic && base != T::kString && base != T::kNull) {
          Error(e.args[0]->range, fmt::format("cannot index a value of type {}", TypeName(base)),
                {"[i] and [\"key\"] read into dynamic values (arrays and objects)"});
        }
        const T index = e.args[1]->type;
        if (index != T::kInt && index != T::kString && !IsLooselyTyped(index)) {
          Error(e.args[1]->range,
                fmt::format("an index must be an int or a string, not {}", TypeName(index)));
        }
        e.type = T::kDynamic;
        break;
      }
      case ExprKind::kUnary: {
        const T t = BindExpr(&e.args[0], ctx);
        if (e.op == Op::kNot) {
          CheckBool(e.args[0], "the operand of not");
          e.type = T::kBool;
        } else {
          if (!IsNumber(t) && t != T::kDuration && !IsLooselyTyped(t)) {
            Error(e.range, fmt::format("cannot negate a {}", TypeName(t)));
          }
          e.type = t == T::kNull || t == T::kDynamic ? T::kFloat : t;
        }
        break;
      }
      case ExprKind::kIn: {
        const T lhs = BindExpr(&e.args[0], ctx);
        for (size_t i = 1; i < e.args.size(); ++i) {
          BindExpr(&e.args[i], ctx);
          CoerceLiteral(&e.args[i], lhs);
          if (!Comparable(lhs, e.args[i]->type, false)) {
            Error(e.args[i]->range, fmt::format("cannot compare {} with {} in the list of 'in'",
                                                TypeName(lhs), TypeName(e.args[i]->type)));
          }
        }
        e.type = T::kBool;
        break;
      }
      case ExprKind::kBetween: {
        const T v = BindExpr(&e.args[0], ctx);
        for (size_t i = 1; i < 3; ++i) {
          BindExpr(&e.args[i], ctx);
          CoerceLiteral(&e.args[i], v);
          if (!Comparable(v, e.args[i]->type, true)) {
            Error(e.args[i]->range, fmt::format("cannot compare {} with {} in between", TypeName(v),
                                                TypeName(e.args[i]->type)));
          }
        }
        e.type = T::kBool;
        break;
      }
      case ExprKind::kBinary:
        return BindBinary(slot, ctx);
    }
    return e.type;
  }

  T BindName(ExprPtr* slot, const ExprContext& ctx) {
    Expr& e = **slot;
    const std::string name = e.name.Joined();
    // A let name (one part) stands for its value.
    if (e.name.parts.size() == 1) {
      auto it = lets_.find(name);
      if (it != lets_.end() && it->second.index >= let_limit_) {
        Error(e.range,
              it->second.index == let_limit_ ? fmt::format("let '{}' refers to itself", name)
                                             : fmt::format("'{}' is defined by a later let", name),
              {"a let can use the lets before it"});
        e.type = T::kNull;
        return e.type;
      }
      if (it != lets_.end()) {
        if (it->second.expanding) {
          Error(e.range, fmt::format("let '{}' refers to itself", name));
          e.type = T::kNull;
          return e.type;
        }
        // The value is bound where it is used: it may name the columns of this stage.
        ExprPtr value = ast::Clone(*it->second.let->value);
        const SourceRange range = e.range;
        it->second.expanding = true;
        const size_t saved_limit = let_limit_;
        let_limit_ = it->second.index;
        BindExpr(&value, ctx);
        let_limit_ = saved_limit;
        it->second.expanding = false;
        value->range = range;
        *slot = std::move(value);
        return (*slot)->type;
      }
    }
    const std::vector<Field>& columns = *ctx.columns;
    for (const Field& f : columns) {
      if (f.name == name) {
        e.column = name;
        e.type = f.type;
        if (ctx.aggregates_allowed && ctx.key_names != nullptr &&
            std::find(ctx.key_names->begin(), ctx.key_names->end(), name) == ctx.key_names->end()) {
          Error(e.range,
                fmt::format("column '{}' must be inside an aggregate or be a 'by' key", name),
                {fmt::format("e.g. any({}), or add it after 'by'", name)});
        }
        return e.type;
      }
    }
    if (ctx.in_spanset) {
      if (auto t = TraceFieldType(name)) {
        e.column = name;  // the match's planner appends it to the spans' columns
        e.type = *t;
        return e.type;
      }
    }
    // The longest prefix that is a dynamic or JSON-text column, and a path into it.
    for (size_t n = e.name.parts.size() - 1; n >= 1; --n) {
      std::string prefix = e.name.parts[0];
      for (size_t k = 1; k < n; ++k) prefix += "." + e.name.parts[k];
      for (const Field& f : columns) {
        if (f.name == prefix && (f.type == T::kDynamic || f.type == T::kString)) {
          e.column = prefix;
          e.path.assign(e.name.parts.begin() + static_cast<std::ptrdiff_t>(n), e.name.parts.end());
          e.type = T::kDynamic;
          return e.type;
        }
      }
    }
    // `duration.ms`: a member of a column that has none.
    for (size_t n = e.name.parts.size() - 1; n >= 1; --n) {
      std::string prefix = e.name.parts[0];
      for (size_t k = 1; k < n; ++k) prefix += "." + e.name.parts[k];
      for (const Field& f : columns) {
        if (f.name == prefix) {
          Error(e.range, fmt::format("'{}' is {}: only dynamic values have members", prefix,
                                     TypeName(f.type)));
          e.type = T::kNull;
          return e.type;
        }
      }
    }
    std::vector<std::string> candidates = ColumnNames(columns);
    for (const auto& [let_name, binding] : lets_) candidates.push_back(let_name);
    if (ctx.in_spanset) {
      for (const char* f :
           {"trace.duration", "trace.root.name", "trace.root.service", "trace.span_count"}) {
        candidates.push_back(f);
      }
    } else if (TraceFieldType(name)) {
      Error(e.range,
            fmt::format("'{}' is a trace-level field: it exists only inside match {{ ... }}", name),
            {"e.g. spans | match { trace.duration > 1s }"});
      e.type = T::kNull;
      return e.type;
    }
    const std::string suggestion = DidYouMean(name, candidates);
    if (open_) {
      // In an open schema an attribute that no row has reads as null — but a near miss of a
      // known name is most likely a typo, which must not pass silently. Once per name.
      // Names with a sigil (`@duration`, `$baselime.namespace`) are another system's fields,
      // written on purpose: without a sample there is nothing to say about them.
      const bool sigil = !name.empty() && (name[0] == '@' || name[0] == '$');
      if (!warned_names_.insert(name).second) {
      } else if (options_.only_near_misses && sigil) {
      } else if (!suggestion.empty()) {
        Warning(e.range, fmt::format("unknown column '{}' reads as null{}", name, suggestion));
      } else if (!ctx.columns->empty() && !options_.only_near_misses) {
        Warning(e.range, fmt::format("no column '{}' in the input; it reads as null", name));
      }
    } else {
      Error(e.range, fmt::format("unknown column '{}'{}", name, suggestion),
            suggestion.empty() ? std::vector<std::string>{fmt::format(
                                     "the columns are: {}", fmt::join(ColumnNames(columns), ", "))}
                               : std::vector<std::string>{});
    }
    e.type = T::kNull;
    return e.type;
  }

  T BindCall(ExprPtr* slot, const ExprContext& ctx) {
    Expr& e = **slot;
    // After summarize, `count()` names the column that summarize made.
    if (!ctx.aggregates_allowed) {
      const std::string text = ast::FormatExpr(e);
      for (const Field& f : *ctx.columns) {
        if (f.name == text) {
          const SourceRange range = e.range;
          auto ref = std::make_unique<Expr>();
          ref->kind = ExprKind::kName;
          ref->range = range;
          ref->name.range = range;
          ref->name.parts.push_back(text);
          ref->column = text;
          ref->type = f.type;
          *slot = std::move(ref);
          return f.type;
        }
      }
    }
    const std::string name = e.name.Joined();
    const FunctionInfo* f = FindFunction(name);
    if (f == nullptr) {
      for (ExprPtr& a : e.args) BindExpr(&a, ctx);
      const bool is_column = std::any_of(ctx.columns->begin(), ctx.columns->end(),
                                         [&name](const Field& c) { return c.name == name; });
      std::string message = is_column ? fmt::format("'{}' is a column, not a function", name)
                                      : fmt::format("unknown function '{}'", name) +
                                            DidYouMean(name, FunctionNames());
      Error(e.name.range, message, {"tql functions lists them all"});
      e.type = T::kNull;
      return e.type;
    }
    const bool aggregate = f->kind == FunctionKind::kAggregate;
    if (aggregate && !ctx.aggregates_allowed) {
      Error(e.range,
            ctx.in_aggregate
                ? fmt::format("aggregate '{}' cannot be nested inside another aggregate", f->name)
            : ctx.in_keys ? fmt::format("aggregate '{}' cannot be a group key", f->name)
                          : fmt::format("aggregate '{}' can only be used in summarize", f->name),
            {ctx.in_aggregate ? "aggregate over a column computed with extend before summarize"
                              : "compute it with summarize, then refer to its result by name, "
                                "e.g. summarize count() by service | where count() > 10"});
    }
    ExprContext arg_ctx = ctx;
    if (aggregate) {
      arg_ctx.aggregates_allowed = false;
      arg_ctx.in_aggregate = true;
    }
    CallArgs args;
    for (ExprPtr& a : e.args) {
      // exists(NAME) asks about a name; an unknown one is the point, not a typo.
      if (f->name == "exists" && a->kind == ExprKind::kName) {
        a->type = T::kNull;
        for (const Field& col : *ctx.columns) {
          if (col.name == a->name.Joined()) a->type = col.type, a->column = col.name;
        }
      } else {
        BindExpr(&a, arg_ctx);
      }
      args.types.push_back(a->type);
      args.constant.push_back(IsConstant(*a));
    }
    const int n = static_cast<int>(e.args.size());
    if (n < f->min_args || (f->max_args >= 0 && n > f->max_args)) {
      const std::string count = f->min_args == f->max_args ? fmt::format("{}", f->min_args)
                                : f->max_args < 0
                                    ? fmt::format("at least {}", f->min_args)
                                    : fmt::format("{} to {}", f->min_args, f->max_args);
      Error(e.range,
            fmt::format("{}() takes {} argument{}, not {}", f->name, count,
                        f->max_args == 1 || (f->max_args < 0 && f->min_args == 1) ? "" : "s", n),
            {fmt::format("{}", f->signature)});
      e.type = T::kNull;
      return e.type;
    }
    std::string error;
    std::optional<T> type = f->type_rule(args, &error);
    if (!type) {
      const SourceRange at =
          args.rejected >= 0 && static_cast<size_t>(args.rejected) < e.args.size()
              ? e.args[static_cast<size_t>(args.rejected)]->range
              : e.range;
      Error(at, fmt::format("{}(): {}", f->name, error), {fmt::format("{}", f->signature)});
      e.type = T::kNull;
      return e.type;
    }
    if ((f->name == "replace_regex" || f->name == "extract") && !e.args.empty()) {
      const ExprPtr& pattern = f->name == "extract" ? e.args[0] : e.args[1];
      if (pattern->kind == ExprKind::kLiteral && pattern->literal.type == T::kString) {
        CheckRegex(pattern->literal.string_value, pattern->range);
      }
    }
    CheckConstantArguments(*f, e);
    if ((f->name == "percentile" || f->name == "percentile_exact") && e.args.size() == 2 &&
        e.args[1]->kind == ExprKind::kLiteral) {
      const ast::Literal& q = e.args[1]->literal;
      const double v = q.type == T::kFloat ? q.float_value : static_cast<double>(q.int_value);
      if (v < 0 || v > 100) {
        Error(e.args[1]->range,
              fmt::format("a percentile must be between 0 and 100, not {}", ast::FormatLiteral(q)));
      }
    }
    e.type = *type;
    return e.type;
  }

  static std::optional<double> NumberLiteral(const Expr& e) {
    if (e.kind != ExprKind::kLiteral) return std::nullopt;
    const ast::Literal& l = e.literal;
    if (l.type == T::kFloat) return l.float_value;
    if (l.type == T::kInt || l.type == T::kDuration) return static_cast<double>(l.int_value);
    return std::nullopt;
  }

  // Arguments written as constants that cannot work are reported now, not when the query runs.
  void CheckConstantArguments(const FunctionInfo& f, const Expr& e) {
    const std::string_view name = f.name;
    auto positive = [&](size_t i, const char* what) {
      if (i >= e.args.size()) return;
      if (auto v = NumberLiteral(*e.args[i]); v && *v <= 0) {
        Error(e.args[i]->range, fmt::format("{} must be positive", what));
      }
    };
    if (name == "bin") positive(1, "the bin size");
    if (name == "histogram") {
      const Expr& bucket = *e.args[1];
      if (bucket.kind == ExprKind::kLiteral && !NumberLiteral(bucket)) {
        Error(bucket.range, fmt::format("the bucket size must be a number or a duration, not {}",
                                        TypeName(bucket.type)));
      }
      positive(1, "the bucket size");
    }
    if ((name == "make_list" || name == "make_set") && e.args.size() > 1) {
      if (auto v = NumberLiteral(*e.args[1]); v && *v < 0) {
        Error(e.args[1]->range, "the limit must not be negative");
      }
    }
    if (name == "exists" && e.args[0]->kind != ExprKind::kName) {
      Error(e.args[0]->range, "exists() takes a column name", {"for example: exists(db.system)"});
    }
    if (name == "datetime" && e.args[0]->kind == ExprKind::kLiteral &&
        e.args[0]->literal.type == T::kString && !ParseTimestamp(e.args[0]->literal.string_value)) {
      Error(e.args[0]->range, fmt::format("'{}' is not a time", e.args[0]->literal.string_value),
            {"write RFC 3339, e.g. datetime(2026-11-24T10:00:00Z)"});
    }
    if (name == "datetime_part" && e.args[0]->kind == ExprKind::kLiteral &&
        e.args[0]->literal.type == T::kString) {
      static const std::vector<std::string> kParts = {"year",        "month",   "day",
                                                      "hour",        "minute",  "second",
                                                      "millisecond", "weekday", "dayofyear"};
      const std::string& part = e.args[0]->literal.string_value;
      if (std::find(kParts.begin(), kParts.end(), part) == kParts.end()) {
        Error(e.args[0]->range, fmt::format("unknown part '{}'{}", part, DidYouMean(part, kParts)),
              {fmt::format("the parts are: {}", fmt::join(kParts, ", "))});
      }
    }
  }

  // Whether values of these types can be compared; `ordered`: with < <= > >=.
  static bool Comparable(T a, T b, bool ordered) {
    (void)ordered;  // every comparable pair is also ordered (false < true)
    if (IsLooselyTyped(a) || IsLooselyTyped(b) || a == b) return true;
    if (IsNumber(a) && IsNumber(b)) return true;
    if (IsIntLike(a) && IsIntLike(b)) return true;  // an integer counts nanoseconds
    if ((a == T::kFloat && b == T::kDuration) || (a == T::kDuration && b == T::kFloat)) return true;
    return false;
  }

  static bool IsStringOp(Op op) { return op >= Op::kContains && op <= Op::kNotEndsWithCs; }

  T BindBinary(ExprPtr* slot, const ExprContext& ctx) {
    Expr& e = **slot;
    for (ExprPtr& a : e.args) BindExpr(&a, ctx);
    if (e.op == Op::kAnd || e.op == Op::kOr) {
      for (const ExprPtr& a : e.args) {
        CheckBool(a, fmt::format("an operand of '{}'", ast::OpText(e.op)));
      }
      e.type = T::kBool;
      return e.type;
    }
    ExprPtr& l = e.args[0];
    ExprPtr& r = e.args[1];
    if (e.op >= Op::kEq && e.op <= Op::kGe) {
      CoerceLiteral(&r, l->type) || CoerceLiteral(&l, r->type);
      const bool ordered = e.op != Op::kEq && e.op != Op::kNe;
      if (!Comparable(l->type, r->type, ordered)) {
        Error(e.range,
              fmt::format("cannot compare {} with {}", TypeName(l->type), TypeName(r->type)),
              ComparisonHints(*l, *r));
      } else if (l->type == T::kInt && r->type == T::kFloat) {
        l = Cast(std::move(l), "tofloat", T::kFloat);
      } else if (l->type == T::kFloat && r->type == T::kInt) {
        r = Cast(std::move(r), "tofloat", T::kFloat);
      }
      if ((l->kind == ExprKind::kLiteral && l->literal.type == T::kNull) ||
          (r->kind == ExprKind::kLiteral && r->literal.type == T::kNull)) {
        Warning(e.range, "a comparison with null is always null, so no row matches",
                {e.op == Op::kNe ? "write isnotnull(x)" : "write isnull(x)"});
      }
      e.type = T::kBool;
      return e.type;
    }
    if (e.op == Op::kMatches || e.op == Op::kNotMatches) {
      RequireText(l, ast::OpText(e.op));
      if (r->kind == ExprKind::kLiteral && r->literal.type == T::kString) {
        CheckRegex(r->literal.string_value, r->range);
      } else if (r->kind == ExprKind::kParameter) {
        if (!IsLooselyTyped(r->type) && r->type != T::kString) {
          Error(r->range, fmt::format("the pattern of '{}' must be a string, not {}",
                                      ast::OpText(e.op), TypeName(r->type)));
        }
      } else {
        Error(r->range,
              fmt::format("the pattern of '{}' must be a constant string", ast::OpText(e.op)),
              {"write the RE2 pattern as a string literal, e.g. name =~ \"^GET /api\""});
      }
      e.type = T::kBool;
      return e.type;
    }
    if (IsStringOp(e.op)) {
      RequireText(l, ast::OpText(e.op));
      RequireText(r, ast::OpText(e.op));
      e.type = T::kBool;
      return e.type;
    }
    e.type = ArithmeticType(e.op, l->type, r->type);
    if (e.type == T::kNull && !IsLooselyTyped(l->type) && !IsLooselyTyped(r->type)) {
      std::vector<std::string> hints;
      if (l->type == T::kString && r->type == T::kString && e.op == Op::kAdd) {
        hints.push_back("join strings with strcat(a, b)");
      }
      Error(e.range,
            fmt::format("cannot apply '{}' to {} and {}", ast::OpText(e.op), TypeName(l->type),
                        TypeName(r->type)),
            hints);
    }
    return e.type;
  }

  std::vector<std::string> ComparisonHints(const Expr& l, const Expr& r) {
    std::vector<std::string> hints;
    for (const Expr* side : {&l, &r}) {
      const Expr* other = side == &l ? &r : &l;
      if (side->kind == ExprKind::kLiteral && side->literal.type == T::kString) {
        if (other->type == T::kDuration) hints.push_back("write a duration as 250ms, 1.5s, 2m");
        if (other->type == T::kTimestamp) {
          hints.push_back("write a time as datetime(2026-11-24T10:00:00Z)");
        }
        if (IsNumber(other->type)) hints.push_back("numbers are written without quotes");
      }
    }
    return hints;
  }

  void RequireText(const ExprPtr& e, const char* op) {
    if (e->type != T::kString && !IsLooselyTyped(e->type)) {
      Error(e->range, fmt::format("'{}' works on strings, not {}", op, TypeName(e->type)),
            {"convert it with tostring(x)"});
    }
  }

  // The result type of arithmetic, or kNull when the operands do not fit (dynamic and unknown
  // operands give float, decided at run time).
  static T ArithmeticType(Op op, T a, T b) {
    // A dynamic operand is only known when the query runs (LANGUAGE.md section 4): the result
    // is a float, or a timestamp or duration when the other side is one. An unknown name is a
    // typed null: the other side's type.
    if (a == T::kDynamic || b == T::kDynamic) {
      const T other = a == T::kDynamic ? b : a;
      if (op == Op::kDiv) return T::kFloat;
      if (other == T::kTimestamp) {
        if (op == Op::kAdd || (op == Op::kSub && a == T::kTimestamp)) return T::kTimestamp;
        return op == Op::kSub ? T::kDuration : T::kNull;  // dynamic - timestamp: a duration
      }
      if (other == T::kDuration) return T::kDuration;
      return T::kFloat;
    }
    if (a == T::kNull || b == T::kNull) {
      const T known = a == T::kNull ? b : a;
      if (known == T::kNull) return op == Op::kDiv ? T::kFloat : T::kNull;
      return op == Op::kDiv ? T::kFloat : known;
    }
    switch (op) {
      case Op::kAdd:
        if (IsNumber(a) && IsNumber(b))
          return a == T::kFloat || b == T::kFloat ? T::kFloat : T::kInt;
        if (IsIntLike(a) && IsIntLike(b)) return T::kDuration;
        if ((a == T::kTimestamp && IsIntLike(b)) || (IsIntLike(a) && b == T::kTimestamp)) {
          return T::kTimestamp;
        }
        return T::kNull;
      case Op::kSub:
        if (IsNumber(a) && IsNumber(b))
          return a == T::kFloat || b == T::kFloat ? T::kFloat : T::kInt;
        if (IsIntLike(a) && IsIntLike(b)) return T::kDuration;
        if (a == T::kTimestamp && IsIntLike(b)) return T::kTimestamp;
        if (a == T::kTimestamp && b == T::kTimestamp) return T::kDuration;
        return T::kNull;
      case Op::kMul:
        if (IsNumber(a) && IsNumber(b))
          return a == T::kFloat || b == T::kFloat ? T::kFloat : T::kInt;
        if ((a == T::kDuration && IsNumber(b)) || (IsNumber(a) && b == T::kDuration))
          return T::kDuration;
        return T::kNull;
      case Op::kDiv:
        // `/` always gives a float: duration / duration is a ratio, duration / 2 a number too.
        if ((IsNumber(a) || a == T::kDuration) && (IsNumber(b) || b == T::kDuration))
          return T::kFloat;
        return T::kNull;
      case Op::kMod:
        if (a == T::kInt && b == T::kInt) return T::kInt;
        if (IsIntLike(a) && IsIntLike(b)) return T::kDuration;
        return T::kNull;
      default:
        return T::kNull;
    }
  }

  const Catalog& catalog_;
  const BindOptions& options_;
  BindResult* result_;
  struct LetBinding {
    const ast::Let* let;
    size_t index;    // lets see only the lets defined before them
    bool expanding;  // being substituted: a use now is a cycle
  };
  std::map<std::string, LetBinding> lets_;
  size_t let_limit_ = 0;
  std::set<std::string> warned_names_;
  bool open_ = true;
};

}  // namespace

std::string DefaultColumnName(const ast::Expr& e) {
  if (e.kind == ExprKind::kName) return e.name.Joined();
  if (e.kind == ExprKind::kCall && FindFunction(e.name.Joined()) == FindFunction("bin") &&
      !e.args.empty() && e.args[0]->kind == ExprKind::kName) {
    return e.args[0]->name.Joined();
  }
  return ast::FormatExpr(e);
}

BindResult Bind(ast::Query* query, const Catalog& catalog, const BindOptions& options) {
  BindResult result;
  Binder(catalog, options, &result).BindQuery(query);
  std::stable_sort(
      result.diagnostics.begin(), result.diagnostics.end(),
      [](const Diagnostic& a, const Diagnostic& b) { return a.range.begin < b.range.begin; });
  // A let's value is bound where it is written and again wherever it is used.
  auto same = [](const Diagnostic& a, const Diagnostic& b) {
    return a.range.begin == b.range.begin && a.range.end == b.range.end && a.message == b.message;
  };
  std::vector<Diagnostic> unique;
  for (Diagnostic& d : result.diagnostics) {
    if (std::none_of(unique.begin(), unique.end(),
                     [&](const Diagnostic& u) { return same(u, d); })) {
      unique.push_back(std::move(d));
    }
  }
  result.diagnostics = std::move(unique);
  return result;
}

namespace {
std::string ColumnsText(const std::vector<Field>& columns) {
  std::string out;
  for (const Field& f : columns) {
    if (!out.empty()) out += ", ";
    ast::Name name;
    size_t start = 0;
    for (size_t dot = f.name.find('.'); dot != std::string::npos; dot = f.name.find('.', start)) {
      name.parts.push_back(f.name.substr(start, dot - start));
      start = dot + 1;
    }
    name.parts.push_back(f.name.substr(start));
    // A dotted name prints as written when every part is a plain name; else in one quote.
    const bool plain = std::all_of(name.parts.begin(), name.parts.end(), [](const std::string& p) {
      return !p.empty() && ast::FormatNamePart(p) == p;
    });
    out += fmt::format("{}: {}", plain ? ast::FormatName(name) : ast::FormatNamePart(f.name),
                       TypeName(f.type));
  }
  return out.empty() ? "(none)" : out;
}
}  // namespace

std::string FormatBoundQuery(const ast::Query& query, const BindResult& bound) {
  const ast::Pipeline& p = query.pipeline;
  std::string out;
  if (p.source_is_union) {
    out += "union " + std::string(p.union_with_source
                                      ? "withsource=" + ast::FormatName(*p.union_with_source) + " "
                                      : "");
    for (size_t i = 0; i < p.union_sources.size(); ++i) {
      out += (i > 0 ? ", " : "") + ast::FormatName(p.union_sources[i]);
    }
  } else {
    out += ast::FormatName(p.source);
  }
  out += "\n";
  for (size_t i = 0; i < bound.stage_columns.size(); ++i) {
    if (i > 0) out += "| " + ast::FormatStage(p.stages[i - 1]) + "\n";
    if (i > 0 && bound.stage_columns[i] == bound.stage_columns[i - 1]) {
      out += "    -> (same columns)\n";
    } else {
      out += "    -> " + ColumnsText(bound.stage_columns[i]) + "\n";
    }
  }
  return out;
}

}  // namespace tql

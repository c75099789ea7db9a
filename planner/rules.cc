#include "planner/rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <limits>

#include "planner/expr_compiler.h"

namespace tql {

namespace {

using Kind = PlanNode::Kind;

void ForEachNode(PlanPtr* node, const std::function<void(PlanPtr*)>& f) {
  for (PlanPtr& input : (*node)->inputs) ForEachNode(&input, f);
  f(node);
}

// Every expression slot of a node.
// Every expression slot of a node that reads the node's input (an aggregate's outputs read
// its post schema and are left alone).
void ForEachExpr(PlanNode* n, const std::function<void(PExprPtr*)>& f) {
  if (n->filter) f(&n->filter);
  if (n->predicate) f(&n->predicate);
  if (n->kind != Kind::kAggregate) {
    for (PExprPtr& e : n->exprs) f(&e);
  }
  for (PlanSortKey& k : n->keys) f(&k.expr);
  for (PExprPtr& k : n->group_keys) f(&k);
  for (PlanAggregate& a : n->aggregates) {
    for (PExprPtr& x : a.args) f(&x);
  }
}

void ForEachSubExpr(PExpr* e, const std::function<void(PExpr*)>& f) {
  for (PExprPtr& a : e->args) ForEachSubExpr(a.get(), f);
  f(e);
}

const Schema& InputOf(const PlanNode& n) {
  return n.kind == Kind::kScan ? *n.output_schema : *n.inputs[0]->output_schema;
}

// Splits an `and` into its conjuncts.
std::vector<PExprPtr> Conjuncts(PExprPtr e) {
  std::vector<PExprPtr> out;
  if (e->kind == PKind::kAnd) {
    for (PExprPtr& a : e->args) {
      for (PExprPtr& c : Conjuncts(std::move(a))) out.push_back(std::move(c));
    }
  } else {
    out.push_back(std::move(e));
  }
  return out;
}

PExprPtr AndOf(std::vector<PExprPtr> parts) {
  if (parts.size() == 1) return std::move(parts[0]);
  auto n = std::make_unique<PExpr>();
  n->kind = PKind::kAnd;
  n->type = TypeId::kBool;
  n->args = std::move(parts);
  return n;
}

bool IsTrue(const PExpr& e) {
  return e.kind == PKind::kConstant && !e.constant.null && e.constant.type == TypeId::kBool &&
         e.constant.i != 0;
}

// --- constant folding ------------------------------------------------------------------------

class ConstantFolding final : public Rule {
 public:
  const char* name() const override { return "ConstantFolding"; }
  void Apply(PlanPtr* plan, const EvalContext& ctx, std::vector<std::string>* fired) override {
    ForEachNode(plan, [&](PlanPtr* slot) {
      PlanNode* n = slot->get();
      ForEachExpr(n, [&](PExprPtr* e) {
        const std::string before = (*e)->ToString(InputOf(*n));
        if (FoldConstants(e, ctx) > 0) {
          fired->push_back(
              fmt::format("{}: {} -> {}", name(), before, (*e)->ToString(InputOf(*n))));
        }
      });
      // A filter that is always true goes away.
      if (n->kind == Kind::kFilter && IsTrue(*n->predicate)) {
        fired->push_back(fmt::format("{}: removed a filter that is always true", name()));
        PlanPtr input = std::move(n->inputs[0]);
        *slot = std::move(input);
      }
    });
  }
};

// --- filters ---------------------------------------------------------------------------------

class MergeFilters final : public Rule {
 public:
  const char* name() const override { return "MergeFilters"; }
  void Apply(PlanPtr* plan, const EvalContext&, std::vector<std::string>* fired) override {
    ForEachNode(plan, [&](PlanPtr* slot) {
      PlanNode* n = slot->get();
      while (n->kind == Kind::kFilter && n->input()->kind == Kind::kFilter) {
        PlanPtr below = std::move(n->inputs[0]);
        std::vector<PExprPtr> parts = Conjuncts(std::move(below->predicate));
        for (PExprPtr& c : Conjuncts(std::move(n->predicate))) parts.push_back(std::move(c));
        n->predicate = AndOf(std::move(parts));
        n->inputs[0] = std::move(below->inputs[0]);
        fired->push_back(fmt::format("{}: two adjacent filters became one", name()));
      }
    });
  }
};

int CountNodes(const PExpr& e) {
  int n = 1;
  for (const PExprPtr& a : e.args) n += CountNodes(*a);
  return n;
}

// A predicate pushed below a projection may grow by the definitions it inlines; beyond this
// many nodes it stays where it is.
constexpr int kMaxPushedNodes = 256;

// Moves filters below sorts and projections (through the projection's definitions), so they
// run as early as possible and reach the scan.
class PushFiltersDown final : public Rule {
 public:
  const char* name() const override { return "PushFiltersDown"; }
  void Apply(PlanPtr* plan, const EvalContext&, std::vector<std::string>* fired) override {
    bool changed = true;
    while (changed) {
      changed = false;
      ForEachNode(plan, [&](PlanPtr* slot) {
        PlanNode* n = slot->get();
        if (n->kind != Kind::kFilter) return;
        PlanNode* below = n->input();
        if (below->kind == Kind::kSort) {
          fired->push_back(fmt::format("{}: filter moved below sort", name()));
          Swap(slot);
          changed = true;
        } else if (below->kind == Kind::kProject) {
          // Columns the projection computes are replaced by their definitions, unless that
          // makes the predicate large (a definition used many times): then it stays above.
          std::function<void(PExprPtr*)> subst = [&](PExprPtr* e) {
            if ((*e)->kind == PKind::kColumn) {
              *e = CloneExpr(*below->exprs[static_cast<size_t>((*e)->column)]);
              return;
            }
            for (PExprPtr& a : (*e)->args) subst(&a);
          };
          PExprPtr pushed = CloneExpr(*n->predicate);
          subst(&pushed);
          if (CountNodes(*pushed) > kMaxPushedNodes) return;
          n->predicate = std::move(pushed);
          fired->push_back(fmt::format("{}: filter moved below project/extend", name()));
          // The filter's output is now the projection's input.
          n->output_schema = below->input()->output_schema;
          Swap(slot);
          changed = true;
        } else if (below->kind == Kind::kJoin) {
          if (PushIntoJoin(slot, fired)) changed = true;
        } else if (below->kind == Kind::kMatch) {
          if (PushBelowMatch(slot, fired)) changed = true;
        } else if (below->kind == Kind::kFilter) {
          PlanPtr lower = std::move(n->inputs[0]);
          std::vector<PExprPtr> parts = Conjuncts(std::move(lower->predicate));
          for (PExprPtr& c : Conjuncts(std::move(n->predicate))) parts.push_back(std::move(c));
          n->predicate = AndOf(std::move(parts));
          n->inputs[0] = std::move(lower->inputs[0]);
          changed = true;
        }
      });
    }
  }

 private:
  // filter(X(input)) -> X(filter(input)), where X keeps the filter's schema above it.
  // Conjuncts of the filter at `slot` that read only one side of the join below it move into
  // that side: left-only ones always (a left row's fate does not depend on them), right-only
  // ones for an inner join (in a left join they would turn non-matches into null rows).
  bool PushIntoJoin(PlanPtr* slot, std::vector<std::string>* fired) {
    PlanNode* n = slot->get();
    PlanNode* join = n->input();
    const int nl = join->inputs[0]->output_schema->num_fields();
    const int nr = join->inputs[1]->output_schema->num_fields();
    const bool inner = join->join_kind == PlanNode::JoinKind::kInner;
    std::vector<PExprPtr> stay, to_left, to_right;
    for (PExprPtr& c : Conjuncts(std::move(n->predicate))) {
      int lo = std::numeric_limits<int>::max(), hi = -1;
      ForEachColumn(*c, [&](int col) {
        lo = std::min(lo, col);
        hi = std::max(hi, col);
      });
      if (hi >= 0 && hi < nl) {
        to_left.push_back(std::move(c));
      } else if (hi >= 0 && lo >= nl && inner) {
        std::vector<int> shift(static_cast<size_t>(nl + nr), -1);
        for (int j = 0; j < nr; ++j) shift[static_cast<size_t>(nl + j)] = j;
        RemapColumns(c.get(), shift);
        to_right.push_back(std::move(c));
      } else {
        stay.push_back(std::move(c));
      }
    }
    if (to_left.empty() && to_right.empty()) {
      n->predicate = AndOf(std::move(stay));
      return false;
    }
    auto wrap = [](PlanPtr* side, std::vector<PExprPtr> parts) {
      auto f = std::make_unique<PlanNode>();
      f->kind = Kind::kFilter;
      f->range = (*side)->range;
      f->output_schema = (*side)->output_schema;
      f->predicate = AndOf(std::move(parts));
      f->inputs.push_back(std::move(*side));
      *side = std::move(f);
    };
    if (!to_left.empty()) {
      wrap(&join->inputs[0], std::move(to_left));
      fired->push_back(fmt::format("{}: filter moved below join into its left side", name()));
    }
    if (!to_right.empty()) {
      wrap(&join->inputs[1], std::move(to_right));
      fired->push_back(fmt::format("{}: filter moved below join into its right side", name()));
    }
    if (stay.empty()) {
      *slot = std::move(n->inputs[0]);
    } else {
      n->predicate = AndOf(std::move(stay));
    }
    return true;
  }

  // Conjuncts that read only trace_id keep or drop whole traces, so they commute with the
  // match below them (whose output columns are its input's): they move below it.
  bool PushBelowMatch(PlanPtr* slot, std::vector<std::string>* fired) {
    PlanNode* n = slot->get();
    PlanNode* match = n->input();
    const int trace_id = match->trace_columns.trace_id;
    if (trace_id < 0) return false;
    std::vector<PExprPtr> stay, down;
    for (PExprPtr& c : Conjuncts(std::move(n->predicate))) {
      bool only_trace_id = true, any = false;
      ForEachColumn(*c, [&](int col) {
        any = true;
        only_trace_id = only_trace_id && col == trace_id;
      });
      (any && only_trace_id ? down : stay).push_back(std::move(c));
    }
    if (down.empty()) {
      n->predicate = AndOf(std::move(stay));
      return false;
    }
    auto f = std::make_unique<PlanNode>();
    f->kind = Kind::kFilter;
    f->range = n->range;
    f->output_schema = match->input()->output_schema;
    f->predicate = AndOf(std::move(down));
    f->inputs.push_back(std::move(match->inputs[0]));
    match->inputs[0] = std::move(f);
    fired->push_back(fmt::format("{}: trace_id filter moved below match", name()));
    if (stay.empty()) {
      *slot = std::move(n->inputs[0]);
    } else {
      n->predicate = AndOf(std::move(stay));
    }
    return true;
  }

  static void Swap(PlanPtr* slot) {
    PlanPtr filter = std::move(*slot);
    PlanPtr below = std::move(filter->inputs[0]);
    filter->inputs[0] = std::move(below->inputs[0]);
    filter->output_schema = filter->input()->output_schema;
    below->inputs[0] = std::move(filter);
    *slot = std::move(below);
  }
};

class FilterIntoScan final : public Rule {
 public:
  const char* name() const override { return "FilterIntoScan"; }
  void Apply(PlanPtr* plan, const EvalContext&, std::vector<std::string>* fired) override {
    ForEachNode(plan, [&](PlanPtr* slot) {
      PlanNode* n = slot->get();
      if (n->kind != Kind::kFilter || n->input()->kind != Kind::kScan) return;
      PlanPtr scan = std::move(n->inputs[0]);
      std::vector<PExprPtr> parts;
      if (scan->filter) parts = Conjuncts(std::move(scan->filter));
      for (PExprPtr& c : Conjuncts(std::move(n->predicate))) parts.push_back(std::move(c));
      scan->filter = AndOf(std::move(parts));
      fired->push_back(fmt::format("{}: filter pushed into the scan of {}", name(), scan->source));
      *slot = std::move(scan);
    });
  }
};

// --- sort and limit --------------------------------------------------------------------------

class SortLimitToTopK final : public Rule {
 public:
  const char* name() const override { return "SortLimitToTopK"; }
  void Apply(PlanPtr* plan, const EvalContext&, std::vector<std::string>* fired) override {
    ForEachNode(plan, [&](PlanPtr* slot) {
      PlanNode* n = slot->get();
      if (n->kind != Kind::kLimit) return;
      PlanNode* below = n->input();
      if (below->kind == Kind::kSort || below->kind == Kind::kTopK) {
        const int64_t k = below->kind == Kind::kTopK ? std::min(below->limit, n->limit) : n->limit;
        fired->push_back(fmt::format("{}: {} | take {} became a top-k of {}", name(),
                                     below->kind == Kind::kSort ? "sort" : "top", n->limit, k));
        PlanPtr sort = std::move(n->inputs[0]);
        sort->kind = Kind::kTopK;
        sort->limit = k;
        *slot = std::move(sort);
      }
    });
  }
};

// --- expressions -----------------------------------------------------------------------------

class InListToHashSet final : public Rule {
 public:
  const char* name() const override { return "InListToHashSet"; }
  void Apply(PlanPtr* plan, const EvalContext&, std::vector<std::string>* fired) override {
    ForEachNode(plan, [&](PlanPtr* slot) {
      ForEachExpr(slot->get(), [&](PExprPtr* e) {
        ForEachSubExpr(e->get(), [&](PExpr* x) {
          if (x->kind != PKind::kIn || x->set || x->args[0]->type == TypeId::kDynamic) return;
          for (size_t i = 1; i < x->args.size(); ++i) {
            if (x->args[i]->kind != PKind::kConstant) return;
          }
          auto set = std::make_shared<ValueSet>();
          set->type = x->args[0]->type;
          for (size_t i = 1; i < x->args.size(); ++i) {
            const Value& v = x->args[i]->constant;
            if (v.null) {
              set->has_null = true;
            } else if (v.type == TypeId::kFloat) {
              if (v.f != v.f) {
                set->has_nan = true;
              } else {
                set->floats.insert(v.f == 0 ? 0.0 : v.f);
              }
            } else if (IsStringBacked(v.type)) {
              set->strings.insert(v.s);
            } else {
              set->ints.insert(v.i);
            }
          }
          fired->push_back(
              fmt::format("{}: a list of {} became a hash set", name(), x->args.size() - 1));
          x->args.resize(1);
          x->set = std::move(set);
        });
      });
    });
  }
};

}  // namespace

int EstimateCost(const PExpr& e) {
  int args = 0;
  for (const PExprPtr& a : e.args) args += EstimateCost(*a);
  switch (e.kind) {
    case PKind::kColumn:
    case PKind::kConstant:
      return 0;
    case PKind::kCompare:
      return args + (IsStringBacked(e.args[0]->type) ? 4 : 1);
    case PKind::kArith:
    case PKind::kNegate:
    case PKind::kNot:
    case PKind::kIsNull:
    case PKind::kAnd:
    case PKind::kOr:
      return args + 1;
    case PKind::kCast:
      return args + (e.args[0]->type == TypeId::kDynamic || e.type == TypeId::kString ? 20 : 1);
    case PKind::kIn:
      return args + 3;
    case PKind::kText:
      return args + (e.text_op == TextOp::kHas ? 10 : 6);
    case PKind::kRegex:
      return args + 25;
    case PKind::kPath:
    case PKind::kIndex:
      return args + 60;
    case PKind::kSearch:
      return args + 8 * static_cast<int>(e.args.size()) + 20;
    case PKind::kIf:
    case PKind::kCoalesce:
      return args + 5;
    case PKind::kCall:
      return args + 15;
  }
  return args;
}

namespace {

class ReorderConjuncts final : public Rule {
 public:
  const char* name() const override { return "ReorderConjuncts"; }
  void Apply(PlanPtr* plan, const EvalContext&, std::vector<std::string>* fired) override {
    ForEachNode(plan, [&](PlanPtr* slot) {
      PlanNode* n = slot->get();
      for (PExprPtr* e : {&n->filter, &n->predicate}) {
        if (!*e || (*e)->kind != PKind::kAnd) continue;
        auto& args = (*e)->args;
        std::vector<std::pair<int, size_t>> order;
        for (size_t i = 0; i < args.size(); ++i) order.emplace_back(EstimateCost(*args[i]), i);
        std::stable_sort(order.begin(), order.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        bool moved = false;
        for (size_t i = 0; i < order.size(); ++i) moved = moved || order[i].second != i;
        if (!moved) continue;
        std::vector<PExprPtr> sorted;
        for (const auto& [cost, i] : order) sorted.push_back(std::move(args[i]));
        args = std::move(sorted);
        fired->push_back(
            fmt::format("{}: cheapest first: {}", name(), (*e)->ToString(InputOf(*n))));
      }
    });
  }
};

// String predicates against constants on a column: evaluated once per dictionary entry when
// the column is dictionary-encoded, the answers kept across batches.
class DictionaryPredicates final : public Rule {
 public:
  const char* name() const override { return "DictionaryPredicates"; }
  void Apply(PlanPtr* plan, const EvalContext&, std::vector<std::string>* fired) override {
    ForEachNode(plan, [&](PlanPtr* slot) {
      PlanNode* n = slot->get();
      ForEachExpr(n, [&](PExprPtr* e) {
        ForEachSubExpr(e->get(), [&](PExpr* x) {
          const bool candidate =
              (x->kind == PKind::kText || x->kind == PKind::kRegex ||
               (x->kind == PKind::kIn && x->set) ||
               (x->kind == PKind::kCompare && x->args[1]->kind == PKind::kConstant)) &&
              !x->args.empty() && x->args[0]->kind == PKind::kColumn &&
              IsStringBacked(x->args[0]->type);
          if (!candidate || x->memo) return;
          x->memo = NewDictionaryMemo();
          fired->push_back(fmt::format("{}: {} is evaluated once per dictionary entry", name(),
                                       x->ToString(InputOf(*n))));
        });
      });
    });
  }
};

// --- projection pruning ----------------------------------------------------------------------

class ProjectionPruning final : public Rule {
 public:
  const char* name() const override { return "ProjectionPruning"; }
  void Apply(PlanPtr* plan, const EvalContext&, std::vector<std::string>* fired) override {
    fired_ = fired;
    std::vector<bool> all(static_cast<size_t>((*plan)->output_schema->num_fields()), true);
    Prune(plan->get(), all);
  }

 private:
  static void Need(const PExpr& e, std::vector<bool>* needed) {
    ForEachColumn(e, [&](int c) { (*needed)[static_cast<size_t>(c)] = true; });
  }

  // Keeps the output columns marked in `needed` (at least those); returns the new index of
  // every old output column (-1 when dropped).
  std::vector<int> Prune(PlanNode* n, const std::vector<bool>& needed) {
    switch (n->kind) {
      case Kind::kScan: {
        std::vector<int> remap(needed.size(), -1);
        std::vector<bool> keep = needed;
        if (n->filter) Need(*n->filter, &keep);
        std::vector<int> columns;
        std::vector<Field> fields;
        for (size_t i = 0; i < keep.size(); ++i) {
          if (!keep[i]) continue;
          remap[i] = static_cast<int>(columns.size());
          columns.push_back(n->columns[i]);
          fields.push_back(n->output_schema->field(static_cast<int>(i)));
        }
        if (columns.size() != n->columns.size()) {
          fired_->push_back(fmt::format("{}: {} reads {} of {} columns", name(), n->source,
                                        columns.size(), n->source_schema->num_fields()));
        }
        if (n->filter) RemapColumns(n->filter.get(), remap);
        n->columns = std::move(columns);
        n->output_schema = std::make_shared<Schema>(std::move(fields));
        return remap;
      }
      case Kind::kFilter:
      case Kind::kSort:
      case Kind::kTopK:
      case Kind::kLimit: {
        std::vector<bool> below = needed;
        if (n->predicate) Need(*n->predicate, &below);
        for (const PlanSortKey& k : n->keys) Need(*k.expr, &below);
        std::vector<int> remap = Prune(n->input(), below);
        if (n->predicate) RemapColumns(n->predicate.get(), remap);
        for (PlanSortKey& k : n->keys) RemapColumns(k.expr.get(), remap);
        n->output_schema = n->input()->output_schema;
        return remap;
      }
      case Kind::kProject: {
        std::vector<bool> below(static_cast<size_t>(n->input()->output_schema->num_fields()),
                                false);
        std::vector<int> remap(needed.size(), -1);
        std::vector<PExprPtr> exprs;
        std::vector<Field> fields;
        for (size_t i = 0; i < needed.size(); ++i) {
          if (!needed[i]) continue;
          Need(*n->exprs[i], &below);
          remap[i] = static_cast<int>(exprs.size());
          exprs.push_back(std::move(n->exprs[i]));
          fields.push_back(n->output_schema->field(static_cast<int>(i)));
        }
        std::vector<int> in_remap = Prune(n->input(), below);
        for (PExprPtr& e : exprs) RemapColumns(e.get(), in_remap);
        n->exprs = std::move(exprs);
        n->output_schema = std::make_shared<Schema>(std::move(fields));
        return remap;
      }
      case Kind::kDistinct: {
        std::vector<bool> all(needed.size(), true);
        return Prune(n->input(), all);
      }
      case Kind::kCount: {
        std::vector<bool> none(static_cast<size_t>(n->input()->output_schema->num_fields()), false);
        Prune(n->input(), none);
        return {0};
      }
      case Kind::kUnion: {
        std::vector<int> remap;
        for (PlanPtr& input : n->inputs) remap = Prune(input.get(), needed);
        n->output_schema = n->inputs[0]->output_schema;
        return remap;
      }
      case Kind::kAggregate: {
        std::vector<bool> below(static_cast<size_t>(n->input()->output_schema->num_fields()),
                                false);
        for (const PExprPtr& k : n->group_keys) Need(*k, &below);
        for (const PlanAggregate& a : n->aggregates) {
          for (const PExprPtr& x : a.args) Need(*x, &below);
        }
        std::vector<int> in_remap = Prune(n->input(), below);
        for (PExprPtr& k : n->group_keys) RemapColumns(k.get(), in_remap);
        for (PlanAggregate& a : n->aggregates) {
          for (PExprPtr& x : a.args) RemapColumns(x.get(), in_remap);
        }
        break;  // the outputs stay as they are
      }
      case Kind::kJoin: {
        // Each side keeps what the output needs of it, and its keys.
        PlanNode* left = n->inputs[0].get();
        PlanNode* right = n->inputs[1].get();
        const auto nl = static_cast<size_t>(left->output_schema->num_fields());
        const auto nr = static_cast<size_t>(right->output_schema->num_fields());
        const bool pairs =
            n->join_kind == PlanNode::JoinKind::kInner || n->join_kind == PlanNode::JoinKind::kLeft;
        std::vector<bool> left_needed(needed.begin(), needed.begin() + static_cast<long>(nl));
        std::vector<bool> right_needed(nr, false);
        if (pairs) {
          for (size_t j = 0; j < nr; ++j) right_needed[j] = needed[nl + j];
        }
        for (const PlanNode::JoinKey& k : n->join_keys) {
          left_needed[static_cast<size_t>(k.left)] = true;
          right_needed[static_cast<size_t>(k.right)] = true;
        }
        const std::vector<int> left_remap = Prune(left, left_needed);
        const std::vector<int> right_remap = Prune(right, right_needed);
        for (PlanNode::JoinKey& k : n->join_keys) {
          k.left = left_remap[static_cast<size_t>(k.left)];
          k.right = right_remap[static_cast<size_t>(k.right)];
        }
        std::vector<int> remap(needed.size(), -1);
        std::vector<Field> fields;
        for (size_t i = 0; i < nl; ++i) {
          if (left_remap[i] < 0) continue;
          remap[i] = static_cast<int>(fields.size());
          fields.push_back(n->output_schema->field(static_cast<int>(i)));
        }
        if (pairs) {
          for (size_t j = 0; j < nr; ++j) {
            if (right_remap[j] < 0) continue;
            remap[nl + j] = static_cast<int>(fields.size());
            fields.push_back(n->output_schema->field(static_cast<int>(nl + j)));
          }
        }
        n->output_schema = std::make_shared<Schema>(std::move(fields));
        return remap;
      }
      case Kind::kMatch: {
        // The output is the input's columns: the input keeps what the output needs, the
        // columns that link spans and feed the trace fields, and what the leaves read.
        const auto ni = static_cast<size_t>(n->input()->output_schema->num_fields());
        std::vector<bool> below = needed;
        TraceColumns& c = n->trace_columns;
        for (int index : {c.trace_id, c.span_id, c.parent_id}) {
          if (index >= 0) below[static_cast<size_t>(index)] = true;
        }
        for (TraceField f : n->trace_fields) {
          std::vector<int> feeds;
          if (f == TraceField::kDuration) feeds = {c.timestamp, c.duration};
          if (f == TraceField::kRootName) feeds = {c.name};
          if (f == TraceField::kRootService) feeds = {c.service};
          for (int index : feeds) {
            if (index >= 0) below[static_cast<size_t>(index)] = true;
          }
        }
        std::vector<bool> leaf_columns(ni + n->trace_fields.size(), false);
        ForEachLeaf(*n->spanset, [&](const PExpr& e) { Need(e, &leaf_columns); });
        for (size_t i = 0; i < ni; ++i) below[i] = below[i] || leaf_columns[i];
        const std::vector<int> in_remap = Prune(n->input(), below);
        int kept = 0;
        for (int r : in_remap) kept += r >= 0 ? 1 : 0;
        // Leaves: input columns move with the input; the trace fields follow the kept columns.
        std::vector<int> leaf_remap = in_remap;
        for (size_t k = 0; k < n->trace_fields.size(); ++k) {
          leaf_remap.push_back(kept + static_cast<int>(k));
        }
        ForEachLeafMutable(n->spanset.get(), [&](PExpr* e) { RemapColumns(e, leaf_remap); });
        for (int* index : {&c.trace_id, &c.span_id, &c.parent_id, &c.timestamp, &c.duration,
                           &c.name, &c.service}) {
          if (*index >= 0) *index = in_remap[static_cast<size_t>(*index)];
        }
        n->output_schema = n->input()->output_schema;
        std::vector<Field> fields = n->output_schema->fields();
        for (TraceField f : n->trace_fields)
          fields.push_back({TraceFieldName(f), TraceFieldType(f)});
        n->match_schema = std::make_shared<Schema>(std::move(fields));
        return in_remap;
      }
    }
    std::vector<int> identity(needed.size());
    for (size_t i = 0; i < identity.size(); ++i) identity[i] = static_cast<int>(i);
    return identity;
  }

  static void ForEachLeaf(const Spanset& s, const std::function<void(const PExpr&)>& f) {
    if (s.filter) f(*s.filter);
    if (s.lhs) ForEachLeaf(*s.lhs, f);
    if (s.rhs) ForEachLeaf(*s.rhs, f);
  }
  static void ForEachLeafMutable(Spanset* s, const std::function<void(PExpr*)>& f) {
    if (s->filter) f(s->filter.get());
    if (s->lhs) ForEachLeafMutable(s->lhs.get(), f);
    if (s->rhs) ForEachLeafMutable(s->rhs.get(), f);
  }

  std::vector<std::string>* fired_ = nullptr;
};

// Conjuncts of a scan filter of the form `column OP constant` on numbers and times: the scan
// skips a batch whose min/max prove no row matches.
class StatisticsSkipping final : public Rule {
 public:
  const char* name() const override { return "StatisticsSkipping"; }
  void Apply(PlanPtr* plan, const EvalContext&, std::vector<std::string>* fired) override {
    ForEachNode(plan, [&](PlanPtr* slot) {
      PlanNode* n = slot->get();
      if (n->kind != Kind::kScan || !n->filter) return;
      n->scan_predicates.clear();
      std::vector<const PExpr*> conjuncts;
      if (n->filter->kind == PKind::kAnd) {
        for (const PExprPtr& a : n->filter->args) conjuncts.push_back(a.get());
      } else {
        conjuncts.push_back(n->filter.get());
      }
      for (const PExpr* c : conjuncts) {
        if (c->kind != PKind::kCompare) continue;
        const PExpr* col = c->args[0].get();
        const PExpr* lit = c->args[1].get();
        CompareOp op = c->compare_op;
        if (col->kind == PKind::kConstant && lit->kind == PKind::kColumn) {
          std::swap(col, lit);
          op = FlipCompare(op);
        }
        if (col->kind != PKind::kColumn || lit->kind != PKind::kConstant || lit->constant.null) {
          continue;
        }
        if (lit->constant.type == TypeId::kFloat && lit->constant.f != lit->constant.f) continue;
        const TypeId t = col->type;
        // An identifier string equal to a constant: the batches' Bloom filters can refute it.
        const bool identifier = t == TypeId::kString && op == CompareOp::kEq &&
                                lit->constant.type == TypeId::kString &&
                                IsIdentifierColumn(n->output_schema->field(col->column).name);
        if (!IsInt64Backed(t) && t != TypeId::kFloat && !identifier) continue;
        if ((t == TypeId::kFloat) != (lit->constant.type == TypeId::kFloat)) continue;
        ScanPredicate p;
        p.column = col->column;
        p.op = op;
        p.constant = lit->constant;
        fired->push_back(fmt::format("{}: {} can skip batches of {}", name(),
                                     p.ToString(*n->output_schema), n->source));
        n->scan_predicates.push_back(std::move(p));
      }
    });
  }
};

}  // namespace

std::vector<std::unique_ptr<Rule>> DefaultRules() {
  std::vector<std::unique_ptr<Rule>> rules;
  rules.push_back(std::make_unique<ConstantFolding>());
  rules.push_back(std::make_unique<MergeFilters>());
  rules.push_back(std::make_unique<PushFiltersDown>());
  rules.push_back(std::make_unique<FilterIntoScan>());
  rules.push_back(std::make_unique<SortLimitToTopK>());
  rules.push_back(std::make_unique<InListToHashSet>());
  rules.push_back(std::make_unique<ReorderConjuncts>());
  rules.push_back(std::make_unique<DictionaryPredicates>());
  rules.push_back(std::make_unique<ProjectionPruning>());
  rules.push_back(std::make_unique<StatisticsSkipping>());
  return rules;
}

void OptimizePlan(PlanPtr* plan, const EvalContext& ctx, std::vector<std::string>* fired) {
  for (const auto& rule : DefaultRules()) rule->Apply(plan, ctx, fired);
}

}  // namespace tql

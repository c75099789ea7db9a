#include "planner/executor.h"

#include <vector>

#include "runtime/aggregate.h"
#include "runtime/operators.h"

namespace tql {

namespace {

// Forwards chunks but not Finish: the inputs of a union share one consumer, finished once.
class UnionInput final : public BatchConsumer {
 public:
  explicit UnionInput(BatchConsumer* next) : next_(next) {}
  Status Consume(Chunk& chunk) override { return next_->Consume(chunk); }
  Status Finish() override { return Status::Ok(); }
  bool Satisfied() const override { return next_->Satisfied(); }

 private:
  BatchConsumer* next_;
};

class Executor {
 public:
  Executor(const SourceTables& sources, ScanStats* stats, const ExecOptions& options)
      : sources_(sources), stats_(stats) {
    ctx_.now = options.now;
    ctx_.memory_limit = options.memory_limit;
    compiler_ = options.compiler;
    adaptive_ = options.adaptive;
  }

  // Partial aggregation: the summarize at `split` keeps its state (ExecutePartial), or takes
  // its groups from `partials` instead of its input (MergePartials).
  void SetSplit(const PlanNode* split, const std::vector<std::string_view>* partials) {
    split_ = split;
    partials_ = partials;
  }
  AggregateOperator* split_operator() const { return split_operator_; }

  // Runs `node` and everything below it, pushing its output into `out`.
  Status Run(const PlanNode& node, BatchConsumer* out) {
    switch (node.kind) {
      case PlanNode::Kind::kScan: {
        auto it = sources_.find(node.source);
        if (it == sources_.end()) {
          return Status::InvalidInput("source '{}' has no data registered", node.source);
        }
        BatchConsumer* root = out;
        if (node.filter) root = Filter(*node.filter, out);
        return RunScan(node.source, it->second, node.columns, node.scan_predicates, root, stats_);
      }
      case PlanNode::Kind::kFilter:
        return Run(*node.input(), Filter(*node.predicate, out));
      case PlanNode::Kind::kProject: {
        std::vector<const PExpr*> exprs;
        for (const PExprPtr& e : node.exprs) exprs.push_back(e.get());
        return Run(*node.input(), Own(std::make_unique<ProjectOperator>(
                                      std::move(exprs), node.output_schema, &ctx_, out)));
      }
      case PlanNode::Kind::kSort:
      case PlanNode::Kind::kTopK: {
        std::vector<SortKey> keys;
        for (const PlanSortKey& k : node.keys) {
          keys.push_back({k.expr.get(), k.descending, k.nulls_first});
        }
        const int64_t limit = node.kind == PlanNode::Kind::kTopK ? node.limit : -1;
        return Run(*node.input(), Own(std::make_unique<SortOperator>(
                                      std::move(keys), limit, node.output_schema, &ctx_, out)));
      }
      case PlanNode::Kind::kLimit:
        return Run(*node.input(), Own(std::make_unique<LimitOperator>(node.limit, out)));
      case PlanNode::Kind::kDistinct:
        return Run(*node.input(), Own(std::make_unique<DistinctOperator>(out)));
      case PlanNode::Kind::kCount:
        return Run(*node.input(), Own(std::make_unique<CountOperator>(node.output_schema, out)));
      case PlanNode::Kind::kUnion: {
        UnionInput* shared = static_cast<UnionInput*>(Own(std::make_unique<UnionInput>(out)));
        for (const auto& input : node.inputs) {
          if (out->Satisfied()) break;
          TQL_RETURN_IF_ERROR(Run(*input, shared));
        }
        return out->Finish();
      }
      case PlanNode::Kind::kAggregate: {
        std::vector<const PExpr*> keys, outputs;
        for (const PExprPtr& k : node.group_keys) keys.push_back(k.get());
        for (const PExprPtr& e : node.exprs) outputs.push_back(e.get());
        std::vector<AggregateSpec> specs;
        for (const PlanAggregate& a : node.aggregates) {
          AggregateSpec spec;
          spec.kind = a.kind;
          spec.fraction = a.fraction;
          spec.type = a.type;
          spec.max_items = a.max_items;
          spec.bucket = a.bucket;
          spec.name = a.function;
          for (const PExprPtr& x : a.args) spec.args.push_back(x.get());
          specs.push_back(std::move(spec));
        }
        const bool split = &node == split_;
        auto op = std::make_unique<AggregateOperator>(
            std::move(keys), std::move(specs), node.post_schema, std::move(outputs),
            node.output_schema, &ctx_, out, split && partials_ == nullptr);
        AggregateOperator* agg = op.get();
        Own(std::move(op));
        if (!split) return Run(*node.input(), agg);
        split_operator_ = agg;
        if (partials_ == nullptr) return Run(*node.input(), agg);
        for (std::string_view p : *partials_) TQL_RETURN_IF_ERROR(agg->MergePartial(p));
        return agg->Finish();
      }
      case PlanNode::Kind::kMatch:
      case PlanNode::Kind::kJoin:
        break;
    }
    return Status::Internal("this plan node cannot run in this version");
  }

 private:
  // A filter: with a compiled kernel for the conjuncts the compiler takes, when there is one.
  BatchConsumer* Filter(const PExpr& predicate, BatchConsumer* out) {
    if (compiler_ != nullptr && adaptive_) {
      return Own(std::make_unique<FilterOperator>(
          &predicate, compiler_->CompileFilterAsync(predicate), &ctx_, out));
    }
    if (compiler_ != nullptr) {
      std::vector<const PExpr*> residual;
      std::shared_ptr<const CompiledFilter> kernel = compiler_->CompileFilter(predicate, &residual);
      if (kernel) {
        return Own(
            std::make_unique<FilterOperator>(std::move(kernel), std::move(residual), &ctx_, out));
      }
    }
    return Own(std::make_unique<FilterOperator>(&predicate, &ctx_, out));
  }

  BatchConsumer* Own(std::unique_ptr<BatchConsumer> op) {
    operators_.push_back(std::move(op));
    return operators_.back().get();
  }

  const SourceTables& sources_;
  ScanStats* stats_;
  EvalContext ctx_;
  KernelCompiler* compiler_ = nullptr;
  bool adaptive_ = false;
  const PlanNode* split_ = nullptr;
  const std::vector<std::string_view>* partials_ = nullptr;
  AggregateOperator* split_operator_ = nullptr;
  std::vector<std::unique_ptr<BatchConsumer>> operators_;
};

// Discards what reaches it: the output of a partial run is the summarize's state.
class NullSink final : public BatchConsumer {
 public:
  Status Consume(Chunk&) override { return Status::Ok(); }
  Status Finish() override { return Status::Ok(); }
};

// True when `node` and everything below it work row by row.
bool RowByRow(const PlanNode& node, const PlanNode** offender) {
  switch (node.kind) {
    case PlanNode::Kind::kScan:
      return true;
    case PlanNode::Kind::kFilter:
    case PlanNode::Kind::kProject:
    case PlanNode::Kind::kUnion:
      for (const auto& input : node.inputs) {
        if (!RowByRow(*input, offender)) return false;
      }
      return true;
    default:
      *offender = &node;
      return false;
  }
}

const char* StageName(PlanNode::Kind kind) {
  switch (kind) {
    case PlanNode::Kind::kSort:
      return "sort";
    case PlanNode::Kind::kTopK:
      return "top";
    case PlanNode::Kind::kLimit:
      return "take";
    case PlanNode::Kind::kDistinct:
      return "distinct";
    case PlanNode::Kind::kCount:
      return "count";
    case PlanNode::Kind::kMatch:
      return "match";
    case PlanNode::Kind::kJoin:
      return "join";
    default:
      return "this stage";
  }
}

// The summarize a partial run splits at: the first one over the input rows.
Result<const PlanNode*> SplitPoint(const PlanNode& plan) {
  const PlanNode* split = nullptr;
  for (const PlanNode* n = &plan; n != nullptr && n->kind != PlanNode::Kind::kUnion;
       n = n->input()) {
    if (n->kind == PlanNode::Kind::kAggregate) split = n;
  }
  if (split == nullptr) {
    return Status::QueryError(
        "a partial run needs a summarize: the shards aggregate, and the merge combines their "
        "states");
  }
  const PlanNode* offender = nullptr;
  if (!RowByRow(*split->input(), &offender)) {
    return Status::QueryError(
        "a partial run splits the query at its first summarize, and {} before it cannot run on "
        "each shard apart; move it after the summarize",
        StageName(offender->kind));
  }
  return split;
}

}  // namespace

Result<std::string> ExecutePartial(const PlanNode& plan, const SourceTables& shard,
                                   ScanStats* stats, const ExecOptions& options) {
  TQL_ASSIGN_OR_RETURN(const PlanNode* split, SplitPoint(plan));
  Executor executor(shard, stats, options);
  executor.SetSplit(split, nullptr);
  NullSink sink;
  TQL_RETURN_IF_ERROR(executor.Run(*split, &sink));
  return executor.split_operator()->SerializePartial();
}

Result<Table> MergePartials(const PlanNode& plan, const std::vector<std::string_view>& partials,
                            const ExecOptions& options) {
  TQL_ASSIGN_OR_RETURN(const PlanNode* split, SplitPoint(plan));
  const SourceTables none;
  ScanStats stats;
  Executor executor(none, &stats, options);
  executor.SetSplit(split, &partials);
  CollectSink sink(plan.output_schema);
  TQL_RETURN_IF_ERROR(executor.Run(plan, &sink));
  return sink.TakeTable();
}

Result<Table> ExecutePlan(const PlanNode& plan, const SourceTables& sources, ScanStats* stats,
                          const ExecOptions& options) {
  CollectSink sink(plan.output_schema);
  Executor executor(sources, stats, options);
  TQL_RETURN_IF_ERROR(executor.Run(plan, &sink));
  return sink.TakeTable();
}

}  // namespace tql

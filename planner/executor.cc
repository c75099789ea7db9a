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
  }

  // Runs `node` and everything below it, pushing its output into `out`.
  Status Run(const PlanNode& node, BatchConsumer* out) {
    switch (node.kind) {
      case PlanNode::Kind::kScan: {
        auto it = sources_.find(node.source);
        if (it == sources_.end()) {
          return Status::InvalidInput("source '{}' has no data registered", node.source);
        }
        BatchConsumer* root = out;
        if (node.filter)
          root = Own(std::make_unique<FilterOperator>(node.filter.get(), &ctx_, out));
        return RunScan(node.source, it->second, node.columns, node.scan_predicates, root, stats_);
      }
      case PlanNode::Kind::kFilter:
        return Run(*node.input(),
                   Own(std::make_unique<FilterOperator>(node.predicate.get(), &ctx_, out)));
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
        return Run(*node.input(), Own(std::make_unique<AggregateOperator>(
                                      std::move(keys), std::move(specs), node.post_schema,
                                      std::move(outputs), node.output_schema, &ctx_, out)));
      }
      case PlanNode::Kind::kMatch:
      case PlanNode::Kind::kJoin:
        break;
    }
    return Status::Internal("this plan node cannot run in this version");
  }

 private:
  BatchConsumer* Own(std::unique_ptr<BatchConsumer> op) {
    operators_.push_back(std::move(op));
    return operators_.back().get();
  }

  const SourceTables& sources_;
  ScanStats* stats_;
  EvalContext ctx_;
  std::vector<std::unique_ptr<BatchConsumer>> operators_;
};

}  // namespace

Result<Table> ExecutePlan(const PlanNode& plan, const SourceTables& sources, ScanStats* stats,
                          const ExecOptions& options) {
  CollectSink sink(plan.output_schema);
  Executor executor(sources, stats, options);
  TQL_RETURN_IF_ERROR(executor.Run(plan, &sink));
  return sink.TakeTable();
}

}  // namespace tql

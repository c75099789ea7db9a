#include "planner/executor.h"

#include <vector>

namespace tql {

Result<Table> ExecutePlan(const PlanNode& plan, const SourceTables& sources, ScanStats* stats) {
  CollectSink sink(plan.output_schema);
  std::vector<std::unique_ptr<BatchConsumer>> operators;
  BatchConsumer* next = &sink;
  const PlanNode* node = &plan;
  while (node->kind != PlanNode::Kind::kScan) {
    switch (node->kind) {
      case PlanNode::Kind::kLimit:
        operators.push_back(std::make_unique<LimitOperator>(node->limit, next));
        break;
      case PlanNode::Kind::kScan:
        break;
    }
    next = operators.back().get();
    node = node->input.get();
  }
  auto it = sources.find(node->source);
  if (it == sources.end()) {
    return Status::InvalidInput("source '{}' has no data registered", node->source);
  }
  TQL_RETURN_IF_ERROR(RunScan(it->second, node->columns, next, stats));
  return sink.TakeTable();
}

}  // namespace tql

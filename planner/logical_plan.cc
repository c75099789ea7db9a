#include "planner/logical_plan.h"

#include <fmt/format.h>

#include "frontend/suggest.h"

namespace tql {

SchemaPtr Catalog::Find(const std::string& name) const {
  auto it = sources_.find(name);
  return it == sources_.end() ? nullptr : it->second;
}

std::vector<std::string> Catalog::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, schema] : sources_) names.push_back(name);
  return names;
}

PlanResult PlanQuery(const ast::Query& query, const Catalog& catalog) {
  PlanResult result;
  SchemaPtr schema = catalog.Find(query.source);
  if (!schema) {
    Diagnostic d;
    d.range = query.source_range;
    d.message = fmt::format("unknown source '{}'", query.source);
    const std::vector<std::string> names = catalog.Names();
    if (auto near = ClosestName(query.source, names)) {
      d.message += fmt::format("; did you mean '{}'?", *near);
    } else if (!names.empty()) {
      d.hints.push_back(fmt::format("the sources are: {}", fmt::join(names, ", ")));
    } else {
      d.hints.push_back("no source is registered (the CLI registers one per --input)");
    }
    result.diagnostics.push_back(std::move(d));
    return result;
  }
  auto scan = std::make_unique<PlanNode>();
  scan->kind = PlanNode::Kind::kScan;
  scan->source = query.source;
  scan->output_schema = schema;
  for (int i = 0; i < schema->num_fields(); ++i) scan->columns.push_back(i);
  std::unique_ptr<PlanNode> node = std::move(scan);
  for (const ast::Stage& stage : query.stages) {
    std::visit(
        [&node](const ast::TakeStage& take) {
          auto limit = std::make_unique<PlanNode>();
          limit->kind = PlanNode::Kind::kLimit;
          limit->limit = take.count;
          limit->output_schema = node->output_schema;
          limit->input = std::move(node);
          node = std::move(limit);
        },
        stage);
  }
  result.plan = std::move(node);
  return result;
}

namespace {
void ExplainNode(const PlanNode& node, int depth, std::string* out) {
  *out += std::string(static_cast<size_t>(depth) * 2, ' ');
  switch (node.kind) {
    case PlanNode::Kind::kScan: {
      std::vector<std::string> names;
      for (int c : node.columns) names.push_back(node.output_schema->field(c).name);
      *out += fmt::format("Scan {} columns=[{}]\n", node.source, fmt::join(names, ", "));
      break;
    }
    case PlanNode::Kind::kLimit:
      *out += fmt::format("Limit {}\n", node.limit);
      break;
  }
  if (node.input) ExplainNode(*node.input, depth + 1, out);
}
}  // namespace

std::string ExplainPlan(const PlanNode& plan) {
  std::string out;
  ExplainNode(plan, 0, &out);
  return out;
}

}  // namespace tql

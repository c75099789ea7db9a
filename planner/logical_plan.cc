#include "planner/logical_plan.h"

#include <fmt/format.h>

namespace tql {

namespace {

const char* StageName(ast::StageKind kind) {
  switch (kind) {
    case ast::StageKind::kWhere:
      return "where";
    case ast::StageKind::kSearch:
      return "search";
    case ast::StageKind::kExtend:
      return "extend";
    case ast::StageKind::kProject:
      return "project";
    case ast::StageKind::kProjectAway:
      return "project-away";
    case ast::StageKind::kProjectRename:
      return "project-rename";
    case ast::StageKind::kSummarize:
      return "summarize";
    case ast::StageKind::kSort:
      return "sort";
    case ast::StageKind::kTake:
      return "take";
    case ast::StageKind::kTop:
      return "top";
    case ast::StageKind::kDistinct:
      return "distinct";
    case ast::StageKind::kCount:
      return "count";
    case ast::StageKind::kMatch:
      return "match";
    case ast::StageKind::kJoin:
      return "join";
    case ast::StageKind::kUnion:
      return "union";
  }
  return "?";
}

Diagnostic NotExecutable(SourceRange range, const std::string& what) {
  Diagnostic d;
  d.range = range;
  d.message = fmt::format("{} cannot run in this version of tql yet", what);
  d.hints.push_back("tql check and tql fmt accept it; the executor runs sources and take");
  return d;
}

}  // namespace

PlanResult PlanQuery(const ast::Query& query, const Catalog& catalog) {
  PlanResult result;
  const ast::Pipeline& pipeline = query.pipeline;
  if (!query.lets.empty()) {
    result.diagnostics.push_back(NotExecutable(query.lets.front().range, "let"));
  }
  if (pipeline.source_is_union) {
    result.diagnostics.push_back(NotExecutable(pipeline.range, "a union source"));
    return result;
  }
  const std::string source = pipeline.source.Joined();
  SchemaPtr schema = catalog.Find(source);
  if (!schema) {
    // The binder reports unknown sources with suggestions; this only guards unbound input.
    Diagnostic d;
    d.range = pipeline.source.range;
    d.message = fmt::format("unknown source '{}'", source);
    result.diagnostics.push_back(std::move(d));
    return result;
  }
  auto scan = std::make_unique<PlanNode>();
  scan->kind = PlanNode::Kind::kScan;
  scan->source = source;
  scan->output_schema = schema;
  for (int i = 0; i < schema->num_fields(); ++i) scan->columns.push_back(i);
  std::unique_ptr<PlanNode> node = std::move(scan);
  for (const ast::Stage& stage : pipeline.stages) {
    if (stage.kind != ast::StageKind::kTake || stage.count.parameter) {
      result.diagnostics.push_back(NotExecutable(
          stage.keyword_range, stage.kind == ast::StageKind::kTake
                                   ? std::string("take with a $parameter")
                                   : fmt::format("the '{}' stage", StageName(stage.kind))));
      continue;
    }
    auto limit = std::make_unique<PlanNode>();
    limit->kind = PlanNode::Kind::kLimit;
    limit->limit = stage.count.value;
    limit->output_schema = node->output_schema;
    limit->input = std::move(node);
    node = std::move(limit);
  }
  if (result.diagnostics.empty()) result.plan = std::move(node);
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

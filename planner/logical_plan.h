//! Logical plans: the operators a query runs, built from the AST against a catalog of sources.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frontend/ast.h"
#include "frontend/catalog.h"
#include "frontend/diagnostics.h"
#include "runtime/types.h"

namespace tql {

struct PlanNode {
  enum class Kind { kScan, kLimit };

  Kind kind = Kind::kScan;
  SchemaPtr output_schema;
  std::unique_ptr<PlanNode> input;  // null for a scan
  // kScan: the source and the indexes of the columns read from it.
  std::string source;
  std::vector<int> columns;
  // kLimit
  int64_t limit = 0;
};

struct PlanResult {
  std::unique_ptr<PlanNode> plan;  // set when there are no errors
  std::vector<Diagnostic> diagnostics;
};

// REQUIRES: `query` was bound against `catalog` without errors (frontend/binder.h).
PlanResult PlanQuery(const ast::Query& query, const Catalog& catalog);

// The plan as indented text, one operator per line, root first.
std::string ExplainPlan(const PlanNode& plan);

}  // namespace tql

//! Runs a logical plan on the interpreter: lowers each node to a push operator and drives the
//! scans.
#pragma once

#include <map>
#include <string>

#include "planner/logical_plan.h"
#include "runtime/batch.h"
#include "runtime/pipeline.h"
#include "runtime/status.h"

namespace tql {

using SourceTables = std::map<std::string, Table>;

struct ExecOptions {
  int64_t now = 0;  // now(), as planned
};

Result<Table> ExecutePlan(const PlanNode& plan, const SourceTables& sources, ScanStats* stats,
                          const ExecOptions& options = {});

}  // namespace tql

//! Runs a logical plan on the interpreter: lowers it into a push pipeline over the sources.
#pragma once

#include <map>
#include <string>

#include "planner/logical_plan.h"
#include "runtime/batch.h"
#include "runtime/pipeline.h"
#include "runtime/status.h"

namespace tql {

using SourceTables = std::map<std::string, Table>;

Result<Table> ExecutePlan(const PlanNode& plan, const SourceTables& sources, ScanStats* stats);

}  // namespace tql

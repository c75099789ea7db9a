//! `tql alert eval`: each alert of a manifest run over the rows of its window, and whether its
//! condition holds for any row of the result.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "planner/executor.h"
#include "runtime/status.h"
#include "tools/inputs.h"
#include "tools/manifest.h"

namespace tql {

struct AlertOutcome {
  std::string id;
  std::string state;  // "firing", "ok", or "disabled" (not evaluated)
  int64_t rows = 0;   // result rows that satisfy the condition
  int64_t from = 0;   // the window, [from, to) in nanoseconds since the epoch
  int64_t to = 0;
  std::string query;  // the TQL it ran (empty when disabled)
  std::string plan;   // its optimized plan and what went into each scan, as `tql explain` prints
};

// The latest `timestamp` of any source + 1 ns: the default evaluation time, so that the
// newest row is inside every window. Null when no source has timestamps.
std::optional<int64_t> LatestTimestamp(const LoadedInputs& inputs);

// The query an alert runs: its query with the condition as a filter on the result. Its rows
// are restricted to the window by the plan (PlanOptions::time_range): every scan, of the
// source, of a union and of a join's pipeline, takes `at - window <= timestamp < at`.
Result<std::string> AlertQueryText(const Manifest& manifest, const ManifestAlert& alert);

// Evaluates every alert in manifest order. An alert that cannot run (a source without a
// timestamp column, a query error) fails the whole evaluation with its message.
// `exec` supplies the engine (its compiler) and limits; its `now` is replaced by `now`.
Result<std::vector<AlertOutcome>> EvaluateAlerts(const Manifest& manifest,
                                                 const LoadedInputs& inputs, int64_t at,
                                                 int64_t now, const ExecOptions& exec = {});

}  // namespace tql

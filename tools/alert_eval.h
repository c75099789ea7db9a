//! `tql alert eval`: each alert of a manifest run over the rows of its window, and whether its
//! condition holds for any row of the result.
#pragma once

#include <optional>
#include <string>
#include <vector>

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

// The query an alert runs at `at`: its query with `at - window <= timestamp < at` right after
// each source (so it reaches the scan), then the condition as a filter on the result.
Result<std::string> AlertQueryText(const Manifest& manifest, const ManifestAlert& alert,
                                   int64_t at);

// Evaluates every alert in manifest order. An alert that cannot run (a source without a
// timestamp column, a query error) fails the whole evaluation with its message.
Result<std::vector<AlertOutcome>> EvaluateAlerts(const Manifest& manifest,
                                                 const LoadedInputs& inputs, int64_t at,
                                                 int64_t now);

}  // namespace tql

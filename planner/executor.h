//! Runs a logical plan on the interpreter: lowers each node to a push operator and drives the
//! scans.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "planner/logical_plan.h"
#include "runtime/batch.h"
#include "runtime/kernel_compiler.h"
#include "runtime/pipeline.h"
#include "runtime/status.h"

namespace tql {

using SourceTables = std::map<std::string, Table>;
// Sources whose batches are pulled as the query scans them (a host's streams and callbacks).
using StreamSources = std::map<std::string, std::shared_ptr<StreamSource>>;

struct ExecOptions {
  int64_t now = 0;           // now(), as planned
  int64_t memory_limit = 0;  // bytes a summarize may hold (0: no limit)
  // Compiles kernels for the plan's filters (the JIT); null: everything on the interpreter.
  KernelCompiler* compiler = nullptr;
  // With a compiler: start on the interpreter and switch each filter to its kernel when the
  // background compilation finishes (`--engine auto`), instead of compiling before running.
  bool adaptive = false;
  // Sources that are not in the tables (null: none).
  const StreamSources* streams = nullptr;
  // Cancellation, the deadline, the row budget and the memory the operators hold (null: no
  // limits but memory_limit for summarize).
  QueryControl* control = nullptr;
};

Result<Table> ExecutePlan(const PlanNode& plan, const SourceTables& sources, ScanStats* stats,
                          const ExecOptions& options = {});

// The update a compiler may fuse with its input for `node`: a count over filters, or a
// summarize with at most one key whose aggregates take at most one argument, when only
// filters and projections lie between it and a scan. Fills `fusion` with expressions over the
// scan's output (the filters' conjuncts in the order they apply; what reads a projection's
// columns is rewritten over its input, into expressions appended to `owned`, which must
// outlive the fusion) and returns the scan; null when `node` does not fuse. `opaque`: a node
// whose output is given (not computed), which no fusion may reach into.
const PlanNode* FusionOf(const PlanNode& node, AggregateFusion* fusion,
                         std::vector<PExprPtr>* owned, const PlanNode* opaque = nullptr);

// Partial aggregation, the primitive for hosts that shard data across machines. A query splits
// at its first summarize: each shard runs the stages up to and including it over its own rows
// and returns the summarize's groups and aggregate states as bytes (ExecutePartial); the
// partials of every shard are then merged, and the stages after the summarize run once over
// the merged groups (MergePartials). Exact aggregates come out as from one pass over all rows;
// sketches (dcount, percentiles) within the same bounds. The stages before the summarize must
// work row by row (where, extend, project, search, union of sources): a shard cannot apply
// sort, take, top, distinct or count to rows it does not have.
Result<std::string> ExecutePartial(const PlanNode& plan, const SourceTables& shard,
                                   ScanStats* stats, const ExecOptions& options = {});
// ExecutePlan on up to `threads` threads: a query that ExecutePartial can split (its first
// summarize follows only row-by-row stages) and that reads only resident tables scans
// `threads` shards of their batches at once and merges their partial states; any other
// query runs on the calling thread. `stats` sums the shards'.
Result<Table> ExecuteParallel(const PlanNode& plan, const SourceTables& sources, int threads,
                              ScanStats* stats, const ExecOptions& options = {});

Result<Table> MergePartials(const PlanNode& plan, const std::vector<std::string_view>& partials,
                            const ExecOptions& options = {});

// An execution that the host feeds a batch at a time (a service's streaming mode): the plan
// reads one source, once, and its batches arrive through Push. The rows run through the
// query's row-by-row stages as they arrive; what comes after them runs when a result is
// asked for. When the first summarize follows only row-by-row stages, its groups are the
// state kept (and ExportState serializes them, as ExecutePartial does); otherwise the rows
// that pass the row-by-row stages are kept, against the memory limit.
class PushExecution {
 public:
  // REQUIRES: `plan` and what `options` points to outlive the execution.
  static Result<std::unique_ptr<PushExecution>> Start(const PlanNode& plan,
                                                      const ExecOptions& options);
  ~PushExecution();

  // The source the batches are for, and its schema.
  const std::string& source() const;
  const SchemaPtr& source_schema() const;
  // A batch of the source's schema. An error after Finish.
  Status Push(const Batch& batch);
  // The result over the batches pushed so far; more may follow.
  Result<Table> Snapshot();
  // The result; no batch may follow.
  Result<Table> Finish();
  // The summarize's partial state so far, for MergePartials (an error when the plan does not
  // split at a summarize).
  Result<std::string> ExportState() const;
  const ScanStats& stats() const;

  struct Impl;

 private:
  explicit PushExecution(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tql

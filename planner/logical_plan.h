//! Logical plans: the operators a query runs, built from the bound AST, then rewritten by the
//! rules of planner/rules.h. Expressions are the interpreter's physical expressions
//! (runtime/expression.h), with column indexes into the node's input.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frontend/ast.h"
#include "frontend/binder.h"
#include "frontend/catalog.h"
#include "frontend/diagnostics.h"
#include "runtime/aggregate.h"
#include "runtime/expression.h"
#include "runtime/pipeline.h"
#include "runtime/trace.h"
#include "runtime/types.h"

namespace tql {

struct PlanSortKey {
  PExprPtr expr;
  bool descending = false;
  bool nulls_first = false;
};

struct PlanAggregate {
  AggKind kind = AggKind::kCount;
  std::string function;        // as computed, lower case: count, p99, percentile, ...
  std::vector<PExprPtr> args;  // over the input
  TypeId type = TypeId::kNull;
  double fraction = 0.5;   // quantiles
  int64_t max_items = -1;  // make_set, make_list
  Value bucket;            // histogram
};

struct PlanNode {
  enum class Kind {
    kScan,       // reads a source: `columns`, then `filter` (pushed down) if any
    kFilter,     // `predicate`
    kProject,    // `exprs`, one per output column
    kSort,       // `keys`
    kLimit,      // `limit`
    kTopK,       // `keys`, `limit`
    kDistinct,   // unique rows of its input
    kCount,      // one row: the number of input rows
    kAggregate,  // summarize: `group_keys`, `aggregates`, then `exprs` over them
    kMatch,      // the spans of each trace that `spanset` selects
    kJoin,       // inputs[0] (left) joined with inputs[1] (right) on `join_keys`
    kUnion,      // the rows of every input, in order
  };

  Kind kind = Kind::kScan;
  SchemaPtr output_schema;
  std::vector<std::unique_ptr<PlanNode>> inputs;  // none for a scan, several for a union
  SourceRange range;                              // the stage it came from

  // kScan
  std::string source;
  SchemaPtr source_schema;
  std::vector<int> columns;                    // indexes into the source's schema
  PExprPtr filter;                             // a predicate over `columns`, or null
  std::vector<ScanPredicate> scan_predicates;  // conjuncts of `filter` that statistics refute
  // kFilter
  PExprPtr predicate;
  // kProject
  std::vector<PExprPtr> exprs;
  // kSort, kTopK
  std::vector<PlanSortKey> keys;
  // kLimit, kTopK
  int64_t limit = 0;
  // kAggregate: group keys and aggregates over the input; `exprs` are the output columns over
  // `post_schema` = [keys..., aggregates...].
  std::vector<PExprPtr> group_keys;
  std::vector<PlanAggregate> aggregates;
  SchemaPtr post_schema;
  // kJoin: the kind (inner, left, semi, anti) and, per key, its column on each side; a key
  // whose sides differ in type (int and float) compares as float.
  enum class JoinKind { kInner, kLeft, kSemi, kAnti };
  JoinKind join_kind = JoinKind::kInner;
  struct JoinKey {
    int left = -1;
    int right = -1;
    bool as_float = false;
  };
  std::vector<JoinKey> join_keys;
  // kMatch: the spanset, whose leaves read `match_schema` (the input columns, then the trace
  // fields `trace_fields`); where the linking and trace-field columns are in the input; the
  // number of leaves with a predicate.
  std::unique_ptr<Spanset> spanset;
  SchemaPtr match_schema;
  std::vector<TraceField> trace_fields;
  TraceColumns trace_columns;
  int num_leaves = 0;

  PlanNode* input() const { return inputs.empty() ? nullptr : inputs[0].get(); }
  const Schema& input_schema() const {
    return kind == Kind::kScan ? *output_schema : *inputs[0]->output_schema;
  }
};

using PlanPtr = std::unique_ptr<PlanNode>;

// Rows of every source restricted to `from <= COLUMN < to` (an alert's window): a filter over
// each scan of the plan, which the optimizer pushes into the scan. A source without the column
// (as a timestamp) is an error.
struct ScanTimeRange {
  std::string column = "timestamp";
  int64_t from = 0;
  int64_t to = 0;
};

struct PlanOptions {
  // Values of `$parameters` (the CLI's --param, the API's bind calls).
  std::map<std::string, Value> parameters;
  int64_t now = 0;  // now(), fixed for the query
  bool optimize = true;
  std::optional<ScanTimeRange> time_range;
};

struct PlanResult {
  PlanPtr plan;  // set when there are no errors
  std::vector<Diagnostic> diagnostics;
  std::vector<std::string> rules_fired;  // "rule: what it did", in order
};

// REQUIRES: `query` was bound against `catalog` without errors (frontend/binder.h), and
// `bound` is the binder's result.
PlanResult PlanQuery(const ast::Query& query, const BindResult& bound, const Catalog& catalog,
                     const PlanOptions& options = {});

// The plan as indented text, one operator per line, root first.
std::string ExplainPlan(const PlanNode& plan);

// The plan's scans, in the order explain prints them (a join's left side first).
std::vector<const PlanNode*> ScanNodes(const PlanNode& plan);

// The required columns and scan predicates of the plan's scans: what a host can push down.
struct PushdownInfo {
  std::string source;
  std::vector<std::string> columns;
  std::vector<std::string> predicates;
};
std::vector<PushdownInfo> DescribePushdown(const PlanNode& plan);

}  // namespace tql

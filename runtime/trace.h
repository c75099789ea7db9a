//! Traces: the spans of a query's input grouped by `trace_id` and linked into trees by
//! `span_id`/`parent_id` (TraceForest), and the `match` operator that keeps the spans of each
//! trace that a spanset expression selects (LANGUAGE.md section 6).
//!
//! Each trace's spans are laid out in preorder: a parent before its children, roots and
//! siblings in arrival order. Every structural operator is then one linear pass over a trace
//! (parents are visited before children, and in reverse, children before parents), so a
//! spanset costs O(spans × operators) whatever the trees' depth or fan-out.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "runtime/batch.h"
#include "runtime/expression.h"
#include "runtime/pipeline.h"
#include "runtime/query_control.h"

namespace tql {

// Where the columns a trace needs are in a batch (-1: absent). The linking columns group and
// link the spans; the others feed the trace-level fields.
struct TraceColumns {
  int trace_id = -1;
  int span_id = -1;
  int parent_id = -1;
  int timestamp = -1;  // timestamp: the span's start
  int duration = -1;   // duration: end = start + duration
  int name = -1;       // string
  int service = -1;    // string
};

// The spans of the rows of some batches (numbered 0.. across the batches, in order), grouped
// into traces and each trace laid out in preorder.
//
// - A span whose trace_id is null is a trace of its own.
// - A span whose parent_id is null or empty is a root. One whose parent_id names no span of
//   its trace (the parent never arrived) is an orphan: the root of its own subtree.
// - The first span of a trace with a given span_id is the one children link to.
// - parent_id links that form a cycle (bad data) are cut where the cycle is first entered:
//   that span becomes an orphan.
class TraceForest {
 public:
  // With `candidates` (a flag per row), only the traces that hold a flagged row are built;
  // the other rows belong to no trace (trace_of_row is kNoTrace).
  static Result<TraceForest> Build(const std::vector<Batch>& batches, const TraceColumns& columns,
                                   QueryControl* control,
                                   const std::vector<uint8_t>* candidates = nullptr);
  static constexpr uint32_t kNoTrace = 0xFFFFFFFF;

  int64_t num_traces() const { return static_cast<int64_t>(begin_.size()) - 1; }
  int64_t num_spans() const { return static_cast<int64_t>(rows_.size()); }
  // The positions [begin(t), end(t)) hold the spans of trace t.
  int64_t begin(int64_t t) const { return begin_[static_cast<size_t>(t)]; }
  int64_t end(int64_t t) const { return begin_[static_cast<size_t>(t) + 1]; }
  // The input row of the span at position `pos`.
  int64_t row(int64_t pos) const { return rows_[static_cast<size_t>(pos)]; }
  // The parent of the span at `pos`, as an offset from its trace's begin (always smaller than
  // the span's own offset), or -1 for a root.
  int32_t parent(int64_t pos) const { return parent_[static_cast<size_t>(pos)]; }
  // True for a span whose parent_id names no span of its trace.
  bool orphan(int64_t pos) const { return orphan_[static_cast<size_t>(pos)] != 0; }
  int64_t trace_of_row(int64_t row) const { return trace_of_row_[static_cast<size_t>(row)]; }
  int64_t num_orphans() const { return num_orphans_; }
  // The bytes the forest holds.
  int64_t memory() const;

 private:
  std::vector<int64_t> begin_;
  std::vector<uint32_t> rows_;
  std::vector<int32_t> parent_;
  std::vector<uint8_t> orphan_;
  std::vector<uint32_t> trace_of_row_;
  int64_t num_orphans_ = 0;
};

// The trace-level fields a spanset condition may read (appended to the match's input columns).
enum class TraceField { kDuration, kRootName, kRootService, kSpanCount };
const char* TraceFieldName(TraceField f);
TypeId TraceFieldType(TraceField f);

// A spanset expression. Leaves (`{ EXPR }`) have a predicate over the match schema (the input
// columns, then the trace fields used); `{}` has none and selects every span.
struct Spanset {
  enum class Op { kFilter, kAnd, kOr, kChild, kDescendant, kParent, kAncestor, kSibling };
  Op op = Op::kFilter;
  bool negated = false;  // structural operators: `!>`, `!>>`, `!<`, `!<<`, `!~`
  PExprPtr filter;       // kFilter
  int leaf = -1;         // kFilter with a filter: its index among the operator's leaves
  std::unique_ptr<Spanset> lhs, rhs;
};

// The spanset as text, the leaves' columns named by `schema`: `{a == 1} >> {b > 2}`.
std::string SpansetToString(const Spanset& s, const Schema& schema);

// Marks the rows that reach it: the end of a leaf's filter chain. Rows are numbered from the
// base of the batch being evaluated.
class RowMarks final : public BatchConsumer {
 public:
  void Start(int64_t base, std::vector<uint8_t>* marks) {
    base_ = base;
    marks_ = marks;
  }
  Status Consume(Chunk& chunk) override {
    uint8_t* m = marks_->data() + base_;
    chunk.sel.ForEach([&](int64_t r) { m[r] = 1; });
    return Status::Ok();
  }
  Status Finish() override { return Status::Ok(); }

 private:
  int64_t base_ = 0;
  std::vector<uint8_t>* marks_ = nullptr;
};

// match: collects every input span, assembles the traces, evaluates the spanset in each and
// passes on the selected spans, each once, in the order they arrived.
class MatchOperator final : public BatchConsumer {
 public:
  // A leaf's predicate: `root` is the chain that filters a batch of the match schema, ending
  // in `marks`.
  struct Leaf {
    BatchConsumer* root = nullptr;
    RowMarks* marks = nullptr;
  };
  MatchOperator(const Spanset* spanset, TraceColumns columns, std::vector<TraceField> fields,
                SchemaPtr input_schema, SchemaPtr match_schema, std::vector<Leaf> leaves,
                QueryControl* control, BatchConsumer* next);
  Status Consume(Chunk& chunk) override { return spans_.Consume(chunk); }
  Status Finish() override;

 private:
  // The trace fields' columns for the rows [base, base + rows) of the input.
  std::vector<Vector> FieldColumns(int64_t base, int64_t rows) const;
  // Computes the per-trace values of the trace fields.
  void ComputeTraceValues(const std::vector<int64_t>& batch_start);
  // The spans of trace `t` that `s` selects, by offset in the trace, into buffers_[id].
  const std::vector<uint8_t>& Eval(const Spanset& s, int64_t t, int* id);
  // Each leaf's predicate over every span (with the trace fields, when the spanset reads any).
  Status EvaluateLeaves(const std::vector<int64_t>& batch_start);
  // Marks in `out` the rows `s` may select; false when that is every row.
  bool Candidates(const Spanset& s, std::vector<uint8_t>* out) const;
  Status Run();

  const Spanset* spanset_;
  TraceColumns columns_;
  std::vector<TraceField> fields_;
  SchemaPtr match_schema_;
  std::vector<Leaf> leaves_;
  QueryControl* control_;
  BatchConsumer* next_;
  CollectSink spans_;
  TraceForest forest_;
  std::vector<std::vector<uint8_t>> marks_;    // per leaf, per input row
  std::vector<std::vector<uint8_t>> buffers_;  // per spanset node, per span of a trace
  std::vector<std::vector<int32_t>> counts_;   // sibling counts, per spanset node
  // Per trace: start, end, root position, span count.
  std::vector<int64_t> trace_start_, trace_end_;
  std::vector<int64_t> trace_root_;                           // position, or -1
  std::shared_ptr<const Vector> root_names_, root_services_;  // one entry per trace
  std::vector<uint8_t> root_name_valid_, root_service_valid_;
};

}  // namespace tql

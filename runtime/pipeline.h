//! Push-based pipelines: a source pushes chunks (a batch and the selection of its rows that are
//! still alive) into a chain of operators that ends in a sink. Filters only shrink the
//! selection; rows are copied when an operator must materialize them (sort, top-k, the sink).
//! An operator says when it needs no more input (a satisfied `take`), so scans stop early.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/batch.h"
#include "runtime/expression.h"
#include "runtime/query_control.h"
#include "runtime/status.h"

namespace tql {

struct ScanPredicate;

struct Chunk {
  Batch batch;
  Selection sel;
};

class BatchConsumer {
 public:
  virtual ~BatchConsumer() = default;
  virtual Status Consume(Chunk& chunk) = 0;
  // Called once after the last chunk.
  virtual Status Finish() = 0;
  // True when further input cannot change the result.
  virtual bool Satisfied() const { return false; }
  // A predicate on the consumer's input that a row must pass to change the result from now on
  // (a full top-k's k-th key), for scans to skip batches whose statistics refute it; none by
  // default. It only tightens as input arrives.
  virtual bool Bound(ScanPredicate* /*bound*/) const { return false; }
};

// The bytes of the buffers a batch's vectors hold (dictionaries, which batches share, are
// not counted).
int64_t BatchMemory(const Batch& batch);

// Collects the result into a table of dense batches. With a control, the batches it holds
// count against the query's memory limit.
class CollectSink final : public BatchConsumer {
 public:
  // `what` names the rows in the memory limit's message.
  explicit CollectSink(SchemaPtr schema, QueryControl* control = nullptr,
                       const char* what = "the query's result")
      : control_(control), what_(what) {
    table_.schema = std::move(schema);
  }
  Status Consume(Chunk& chunk) override;
  Status Finish() override { return Status::Ok(); }
  Table TakeTable() { return std::move(table_); }
  const Table& table() const { return table_; }

 private:
  QueryControl* control_;
  const char* what_;
  Table table_;
};

struct ScanStats {
  int64_t batches_read = 0;
  int64_t rows_read = 0;
  int64_t batches_skipped = 0;  // proven empty by their statistics
};

// A predicate on one scanned column that batch statistics can refute: `column OP constant`.
struct ScanPredicate {
  int column = -1;  // index into the scan's output columns
  CompareOp op = CompareOp::kEq;
  Value constant;
  std::string ToString(const Schema& schema) const;
  // False when no row of a batch with these statistics can satisfy the predicate.
  bool MayMatch(const ColumnStats& stats) const;
};

// What one scan asks of its source: the columns it reads (indexes into the source's schema,
// in the order of the scan's output) and the predicates it would like applied early. The
// predicates are a hint: the scan applies them again, so a source may ignore them, skip
// whole batches they refute, or drop rows that fail them.
struct ScanRequest {
  std::string source;
  SchemaPtr schema;  // the source's
  std::vector<int> columns;
  std::vector<ScanPredicate> predicates;  // `column` indexes into `columns`
};

// The batches of one scan, pulled one at a time. Each batch holds the requested columns in
// the order of the request.
class BatchStream {
 public:
  virtual ~BatchStream() = default;
  // The next batch, or nullopt at the end.
  virtual Result<std::optional<Batch>> Next() = 0;
};

// A source whose batches are not resident: opened once per scan (a host's Arrow stream or
// callback). Open may be called from any thread.
class StreamSource {
 public:
  virtual ~StreamSource() = default;
  virtual Result<std::unique_ptr<BatchStream>> Open(const ScanRequest& request) = 0;
};

// The step every scan takes for one batch (projected to the scan's columns): check the
// query's limits, skip the batch when its statistics refute a predicate, push it into `root`.
class ScanFeeder {
 public:
  ScanFeeder(std::vector<ScanPredicate> predicates, BatchConsumer* root, ScanStats* stats,
             QueryControl* control)
      : predicates_(std::move(predicates)), root_(root), stats_(stats), control_(control) {}
  Status Push(Batch batch);
  // True when the statistics of `batch` (a batch of the source, before projection to
  // `columns`) refute a predicate: the batch is counted as skipped and needs no projection.
  Result<bool> SkipSource(const Batch& batch, const std::vector<int>& columns);
  BatchConsumer* root() const { return root_; }

 private:
  std::vector<ScanPredicate> predicates_;
  BatchConsumer* root_;
  ScanStats* stats_;
  QueryControl* control_;
};

// Checks the `index`-th batch (from 1) of `source`, whose schema is `schema`, and returns its
// `columns` as a batch of `projected`: a batch whose column count or a column's type or length
// disagrees with the schema (a producer's mistake) is an error naming the batch and column.
Result<Batch> ProjectSourceBatch(const std::string& source, const Schema& schema,
                                 const std::vector<int>& columns, const SchemaPtr& projected,
                                 const Batch& batch, int64_t index);

// Pushes the batches of `input` (projected to `columns`, indexes into its schema) into `root`
// until it is satisfied, then finishes it. A batch whose statistics refute one of
// `predicates` is skipped. A batch whose schema differs from the table's is an error. With a
// control, each batch first checks cancellation, the deadline and the row limit.
Status RunScan(const std::string& source, const Table& input, const std::vector<int>& columns,
               const std::vector<ScanPredicate>& predicates, BatchConsumer* root, ScanStats* stats,
               QueryControl* control = nullptr);
// The same over a source that is not resident: its batches hold the request's columns.
Status RunStreamScan(StreamSource& input, const ScanRequest& request, BatchConsumer* root,
                     ScanStats* stats, QueryControl* control = nullptr);

// Copies the rows `refs` (batch index, row) of `batches` into one dense batch of `schema`.
// Dictionary columns that share one dictionary stay encoded.
// An error when the rows' strings pass 2 GiB.
Result<Batch> TakeRows(const SchemaPtr& schema, const std::vector<const Batch*>& batches,
                       const std::vector<std::pair<int32_t, int32_t>>& refs);

}  // namespace tql

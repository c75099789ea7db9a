//! Push-based pipelines: a source pushes chunks (a batch and the selection of its rows that are
//! still alive) into a chain of operators that ends in a sink. Filters only shrink the
//! selection; rows are copied when an operator must materialize them (sort, top-k, the sink).
//! An operator says when it needs no more input (a satisfied `take`), so scans stop early.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/batch.h"
#include "runtime/expression.h"
#include "runtime/status.h"

namespace tql {

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
};

// Collects the result into a table of dense batches.
class CollectSink final : public BatchConsumer {
 public:
  explicit CollectSink(SchemaPtr schema) { table_.schema = std::move(schema); }
  Status Consume(Chunk& chunk) override;
  Status Finish() override { return Status::Ok(); }
  Table TakeTable() { return std::move(table_); }

 private:
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

// Pushes the batches of `input` (projected to `columns`, indexes into its schema) into `root`
// until it is satisfied, then finishes it. A batch whose statistics refute one of
// `predicates` is skipped. A batch whose schema differs from the table's is an error.
Status RunScan(const std::string& source, const Table& input, const std::vector<int>& columns,
               const std::vector<ScanPredicate>& predicates, BatchConsumer* root, ScanStats* stats);

// Copies the rows `refs` (batch index, row) of `batches` into one dense batch of `schema`.
// Dictionary columns that share one dictionary stay encoded.
// An error when the rows' strings pass 2 GiB.
Result<Batch> TakeRows(const SchemaPtr& schema, const std::vector<const Batch*>& batches,
                       const std::vector<std::pair<int32_t, int32_t>>& refs);

}  // namespace tql

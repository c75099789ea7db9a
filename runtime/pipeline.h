//! Push-based pipelines: a source pushes batches into a chain of operators that ends in a sink.
//! An operator says when it needs no more input (a satisfied `take`), so scans stop early.
#pragma once

#include <cstdint>
#include <memory>

#include "runtime/batch.h"
#include "runtime/status.h"

namespace tql {

class BatchConsumer {
 public:
  virtual ~BatchConsumer() = default;
  virtual Status Consume(const Batch& batch) = 0;
  // Called once after the last batch.
  virtual Status Finish() = 0;
  // True when further input cannot change the result.
  virtual bool Satisfied() const { return false; }
};

// Passes on the first `limit` rows and then reports itself satisfied.
class LimitOperator final : public BatchConsumer {
 public:
  LimitOperator(int64_t limit, BatchConsumer* next) : remaining_(limit), next_(next) {}
  Status Consume(const Batch& batch) override;
  Status Finish() override { return next_->Finish(); }
  bool Satisfied() const override { return remaining_ <= 0 || next_->Satisfied(); }

 private:
  int64_t remaining_;
  BatchConsumer* next_;
};

// Collects the result into a table.
class CollectSink final : public BatchConsumer {
 public:
  explicit CollectSink(SchemaPtr schema) { table_.schema = std::move(schema); }
  Status Consume(const Batch& batch) override;
  Status Finish() override { return Status::Ok(); }
  Table TakeTable() { return std::move(table_); }

 private:
  Table table_;
};

struct ScanStats {
  int64_t batches_read = 0;
  int64_t rows_read = 0;
};

// Pushes the batches of `input` (projected to `columns`, indexes into its schema) into `root`
// until it is satisfied, then finishes it.
Status RunScan(const Table& input, const std::vector<int>& columns, BatchConsumer* root,
               ScanStats* stats);

}  // namespace tql

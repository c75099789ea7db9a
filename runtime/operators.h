//! The interpreter's physical operators: one per plan node kind, chained as BatchConsumers.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "runtime/expression.h"
#include "runtime/kernel_compiler.h"
#include "runtime/pipeline.h"

namespace tql {

// Keeps the rows where a predicate is true: narrows the selection, copies nothing.
class FilterOperator final : public BatchConsumer {
 public:
  FilterOperator(const PExpr* predicate, const EvalContext* ctx, BatchConsumer* next)
      : predicate_(predicate), ctx_(ctx), next_(next) {}
  // With a compiled kernel for some conjuncts of the predicate: the kernel selects first, then
  // the interpreter applies the `residual` conjuncts to the rows it kept.
  FilterOperator(std::shared_ptr<const CompiledFilter> kernel, std::vector<const PExpr*> residual,
                 const EvalContext* ctx, BatchConsumer* next)
      : kernel_(std::move(kernel)), residual_(std::move(residual)), ctx_(ctx), next_(next) {}
  // Adaptive: the interpreter until the kernel being compiled in the background is ready, then
  // the kernel (from the next batch on).
  FilterOperator(const PExpr* predicate, std::shared_ptr<PendingFilter> pending,
                 const EvalContext* ctx, BatchConsumer* next)
      : predicate_(predicate), pending_(std::move(pending)), ctx_(ctx), next_(next) {}
  Status Consume(Chunk& chunk) override;
  Status Finish() override { return next_->Finish(); }
  bool Satisfied() const override { return next_->Satisfied(); }
  bool Bound(ScanPredicate* bound) const override { return next_->Bound(bound); }

 private:
  const PExpr* predicate_ = nullptr;
  std::shared_ptr<PendingFilter> pending_;
  std::shared_ptr<const CompiledFilter> kernel_;
  std::vector<const PExpr*> residual_;
  const EvalContext* ctx_;
  BatchConsumer* next_;
};

// Computes the output columns (extend, project, rename, project-away): a column reference
// passes its vector on untouched.
class ProjectOperator final : public BatchConsumer {
 public:
  ProjectOperator(std::vector<const PExpr*> exprs, SchemaPtr schema, const EvalContext* ctx,
                  BatchConsumer* next)
      : exprs_(std::move(exprs)), schema_(std::move(schema)), ctx_(ctx), next_(next) {}
  // The columns a compiled kernel computes come from it (with `pending`, once it is ready);
  // the others from the interpreter.
  void UseKernel(std::shared_ptr<const CompiledProjection> kernel,
                 std::shared_ptr<PendingProjection> pending) {
    kernel_ = std::move(kernel);
    pending_ = std::move(pending);
  }
  Status Consume(Chunk& chunk) override;
  Status Finish() override { return next_->Finish(); }
  bool Satisfied() const override { return next_->Satisfied(); }

 private:
  std::vector<const PExpr*> exprs_;
  SchemaPtr schema_;
  const EvalContext* ctx_;
  BatchConsumer* next_;
  std::shared_ptr<const CompiledProjection> kernel_;
  std::shared_ptr<PendingProjection> pending_;
};

// Passes on the first `limit` rows and then reports itself satisfied.
class LimitOperator final : public BatchConsumer {
 public:
  LimitOperator(int64_t limit, BatchConsumer* next) : remaining_(limit), next_(next) {}
  Status Consume(Chunk& chunk) override;
  Status Finish() override { return next_->Finish(); }
  bool Satisfied() const override { return remaining_ <= 0 || next_->Satisfied(); }

 private:
  int64_t remaining_;
  BatchConsumer* next_;
};

struct SortKey {
  const PExpr* expr = nullptr;
  bool descending = false;
  bool nulls_first = false;
};

// Orders rows by keys; stable, nulls last unless asked otherwise. Buffers its whole input.
// With `limit` >= 0 it is a top-k: it keeps only the best `limit` rows as they arrive.
class SortOperator final : public BatchConsumer {
 public:
  SortOperator(std::vector<SortKey> keys, int64_t limit, SchemaPtr schema, const EvalContext* ctx,
               BatchConsumer* next);
  Status Consume(Chunk& chunk) override;
  Status Finish() override;
  // Top-k, once full, ordered first by a column of numbers (nulls last): only rows whose key is
  // better than the k-th's (or equal, when more keys follow) can enter.
  bool Bound(ScanPredicate* bound) const override;

 private:
  int Compare(const Batch& a, int64_t ra, const Batch& b, int64_t rb) const;
  // As Compare, with `a(k)` and `b(k)` giving key k's vector of each side.
  template <typename KeyA, typename KeyB>
  int CompareWith(const KeyA& a, int64_t ra, const KeyB& b, int64_t rb) const;
  // Top-k: keeps the best `limit_` rows, sorted, as the one run.
  Status Compact();

  std::vector<SortKey> keys_;
  int64_t limit_;
  SchemaPtr schema_;      // the data columns
  SchemaPtr run_schema_;  // data columns + keys
  const EvalContext* ctx_;
  BatchConsumer* next_;
  std::vector<Batch> runs_;  // rows with their evaluated keys (after the data columns)
  int64_t buffered_rows_ = 0;
};

// Passes on the first row of every distinct combination of column values.
class DistinctOperator final : public BatchConsumer {
 public:
  DistinctOperator(QueryControl* control, BatchConsumer* next) : control_(control), next_(next) {}
  Status Consume(Chunk& chunk) override;
  Status Finish() override { return next_->Finish(); }
  bool Satisfied() const override { return next_->Satisfied(); }

 private:
  QueryControl* control_;
  BatchConsumer* next_;
  std::unordered_set<std::string> seen_;
  std::string key_;
};

// Counts the rows; emits one row with the column `count`.
class CountOperator final : public BatchConsumer {
 public:
  CountOperator(SchemaPtr schema, BatchConsumer* next) : schema_(std::move(schema)), next_(next) {}
  CountOperator(const CountOperator&) = delete;  // the kernel state points into it
  CountOperator& operator=(const CountOperator&) = delete;
  // Fused with the filters before it (as AggregateOperator::Fuse): counts the rows where every
  // one of `conjuncts` holds, through the kernel where it can read the batch.
  void Fuse(std::vector<const PExpr*> conjuncts, std::shared_ptr<const CompiledAggregate> kernel,
            std::shared_ptr<PendingAggregate> pending, const EvalContext* ctx);
  Status Consume(Chunk& chunk) override;
  Status Finish() override;

 private:
  SchemaPtr schema_;
  BatchConsumer* next_;
  int64_t count_ = 0;
  std::vector<const PExpr*> conjuncts_;
  std::shared_ptr<const CompiledAggregate> kernel_;
  std::shared_ptr<PendingAggregate> pending_;
  const EvalContext* ctx_ = nullptr;
  void* arrays_[3] = {&count_, nullptr, nullptr};
  AggregateKernelState state_;
};

// Appends a value's bytes to a key that identifies it (type, null and value).
void AppendKeyBytes(const Vector& v, int64_t row, std::string* key);

// A hash join that builds on the right side: each input (left) row meets the right rows whose
// keys are equal. Null keys (and NaN) never match. inner and left emit the left columns then
// the right ones (a left row without a match once, with null right columns); semi and anti
// pass the left rows that have, or have no, match.
class JoinOperator final : public BatchConsumer {
 public:
  enum class Kind { kInner, kLeft, kSemi, kAnti };
  struct Key {
    int left = -1;
    int right = -1;
    bool as_float = false;  // the sides differ in type (int and float): compare as float
  };
  JoinOperator(Kind kind, std::vector<Key> keys, SchemaPtr left_schema, SchemaPtr output_schema,
               QueryControl* control, BatchConsumer* next);
  // Every row of the right side, before the first Consume.
  Status Build(Table right);
  // The output holds the built side's columns first (an inner join that built on its left:
  // the consumed rows are then the right side's).
  void set_build_columns_first(bool first) { build_columns_first_ = first; }
  Status Consume(Chunk& chunk) override;
  Status Finish() override { return next_->Finish(); }
  bool Satisfied() const override { return next_->Satisfied(); }

 private:
  // The key of `row` in `key`; false when a key column is null there (no match possible).
  bool KeyOf(const Batch& b, int64_t row, bool left, std::string* key) const;
  Status Emit(const Batch& left, std::vector<std::pair<int32_t, int32_t>>* left_refs,
              std::vector<std::pair<int32_t, int32_t>>* right_refs);

  Kind kind_;
  std::vector<Key> keys_;
  SchemaPtr left_schema_;
  SchemaPtr output_schema_;
  QueryControl* control_;
  BatchConsumer* next_;
  Table right_;
  std::vector<const Batch*> right_batches_;  // the right's, then one all-null row
  Batch null_row_;
  // The hash table: open addressing over key bytes kept in `keys_`; each slot heads a chain
  // of the built rows with its key, in build order.
  struct Slot {
    uint64_t hash = 0;
    uint32_t key_offset = 0;
    uint32_t key_size = 0;
    int32_t head = -1;  // first entry, -1: empty slot
    int32_t tail = -1;
  };
  struct Entry {
    int32_t batch, row;
    int32_t next;  // -1: the last of its key
  };
  // The first entry of `key`'s chain, or -1.
  int32_t Find(std::string_view key) const;
  void Grow();
  std::vector<Slot> slots_;
  std::vector<Entry> entries_;
  std::string key_bytes_;
  size_t used_ = 0;
  std::string key_;
  bool build_columns_first_ = false;
};

// An inner join that builds its hash table on the smaller side. The left rows are held until
// they outnumber the right side's: if the left ends first, its rows are built and the right
// streams through them; otherwise the right is built, and the held left rows, then the rest,
// stream through it. The held rows count against the memory limit.
class SmallerSideJoin final : public BatchConsumer {
 public:
  SmallerSideJoin(std::vector<JoinOperator::Key> keys, SchemaPtr left_schema,
                  SchemaPtr output_schema, Table right, QueryControl* control, BatchConsumer* next);
  Status Consume(Chunk& chunk) override;
  Status Finish() override;
  bool Satisfied() const override { return join_ ? join_->Satisfied() : next_->Satisfied(); }

 private:
  std::vector<JoinOperator::Key> keys_;
  SchemaPtr left_schema_;
  SchemaPtr output_schema_;
  Table right_;
  int64_t right_rows_ = 0;
  QueryControl* control_;
  BatchConsumer* next_;
  CollectSink held_;
  int64_t held_rows_ = 0;
  std::unique_ptr<JoinOperator> join_;  // once the side to build on is known
};

}  // namespace tql

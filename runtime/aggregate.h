//! Hash aggregation: `summarize` groups rows by key values and keeps one state per aggregate
//! and group. Groups come out in the order they were first seen.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/expression.h"
#include "runtime/kernel_compiler.h"
#include "runtime/pipeline.h"

namespace tql {

enum class AggKind : uint8_t {
  kCount,    // count(): rows; count(x): rows where x is not null
  kCountIf,  // rows where the predicate is true
  kSum,
  kAvg,
  kMin,
  kMax,
  kAny,
  kDcount,       // distinct values, HyperLogLog (exact up to 1024 of them)
  kDcountExact,  // distinct values, exactly
  kVariance,     // sample variance (n - 1), Welford's method
  kStdev,
  kPercentile,       // quantile of `fraction` from the relative-error sketch
  kPercentileExact,  // quantile_cont of `fraction` over every value
  kArgMin,           // args: by, x
  kArgMax,
  kMakeSet,  // args: x [, max]
  kMakeList,
  kHistogram,  // args: x; AggregateSpec::bucket is the width
};

struct AggregateSpec {
  AggKind kind = AggKind::kCount;
  std::vector<const PExpr*> args;  // over the input rows
  TypeId type = TypeId::kNull;     // the result type
  double fraction = 0.5;           // kPercentile, kPercentileExact
  int64_t max_items = -1;          // kMakeSet, kMakeList: at most this many (-1: no limit)
  Value bucket;                    // kHistogram: the bucket width (int64 storage or float)
  std::string name;                // for explain
};

// Maps an aggregate function name (lower case) to its kind; false for one this version does
// not compute. `fraction` is set for the fixed quantiles (p99 -> 0.99, median -> 0.5).
bool AggregateKindOf(const std::string& name, AggKind* kind, double* fraction);

class Accumulator;
class GroupTable;
class StringInterner;

// summarize: keys and aggregates over the input; the output columns are `outputs`, each an
// expression over [key 0, ..., key k-1, aggregate 0, ...] (the "post" schema).
//
// Partial aggregation: an operator made with `partial` set keeps its groups at Finish instead
// of emitting them; SerializePartial() then writes them as bytes, and MergePartial() of an
// operator of the same summarize adds them to its own before its Finish.
class AggregateOperator final : public BatchConsumer {
 public:
  AggregateOperator(std::vector<const PExpr*> keys, std::vector<AggregateSpec> aggregates,
                    SchemaPtr post_schema, std::vector<const PExpr*> outputs, SchemaPtr schema,
                    const EvalContext* ctx, BatchConsumer* next, bool partial = false);
  ~AggregateOperator() override;

  // Fused with the stages before it: the operator's input is then the scan's, and it applies
  // the fusion's conjuncts, key and arguments (over the scan's columns) itself, through
  // `kernel` (filters and update in one) where it can read the batch and on the interpreter
  // elsewhere. With `pending`, the interpreter until that kernel is ready. The fusion's
  // expressions must outlive the operator.
  void Fuse(const AggregateFusion& fusion, std::shared_ptr<const CompiledAggregate> kernel,
            std::shared_ptr<PendingAggregate> pending);
  Status Consume(Chunk& chunk) override;
  Status Finish() override;

  std::string SerializePartial() const;
  Status MergePartial(std::string_view bytes);
  int32_t num_groups() const;
  size_t MemoryUsage() const;

 private:
  void EncodeKeys(const std::vector<Vector>& key_vectors, const Selection& sel);
  std::vector<int64_t>& CodeIds(size_t key, const Vector& v);
  void EncodeValue(size_t key, const Value& v, uint64_t* words);
  Value KeyValue(int32_t group, size_t key) const;
  void GroupsOf(const std::vector<Vector>& key_vectors, const Selection& sel);
  void AddGroups(int32_t groups);
  Status CheckMemory() const;
  // AggregateKernelState::group_of for a fused kernel's one int64-backed key.
  static int64_t KernelGroupOf(AggregateKernelState* state, int64_t key, int64_t is_null);
  // Points the kernel's state at the group table as it is now.
  void ShowTableToKernel();
  // Points the kernel's state at the code-to-group map of the batch's key dictionary (none
  // when the key is not a string column with a dictionary in this batch).
  void ShowDictionaryToKernel(const Batch& batch);
  // The code-to-group map of a dictionary-encoded key's dictionary (-1: not seen yet).
  std::vector<int32_t>& CodeGroups(const Vector& kv);
  uint64_t Fingerprint() const;

  std::vector<const PExpr*> keys_;
  std::vector<AggregateSpec> aggregates_;
  SchemaPtr post_schema_;
  std::vector<const PExpr*> outputs_;
  SchemaPtr schema_;
  const EvalContext* ctx_;
  BatchConsumer* next_;
  bool partial_;
  int width_;  // words per key: one per key, then the null bits
  std::unique_ptr<GroupTable> table_;
  std::unique_ptr<StringInterner> strings_;
  std::vector<std::unique_ptr<Accumulator>> accumulators_;
  // Per string key and dictionary: the interned id of each code (-1: not yet).
  std::vector<std::vector<std::pair<std::shared_ptr<const Vector>, std::vector<int64_t>>>>
      code_ids_;
  // One dictionary-encoded key: per dictionary, the group of each code (-1: not seen yet).
  std::vector<std::pair<std::shared_ptr<const Vector>, std::vector<int32_t>>> code_groups_;
  // Per float key, per group: the first value seen (-0.0 and 0.0 are one group, shown as the
  // first of them); empty for the other keys.
  std::vector<std::vector<double>> float_first_;
  bool float_keys_ = false;
  std::vector<uint64_t> words_;    // per row of the batch, width_ words
  std::vector<int32_t> group_of_;  // per row of the batch
  // Fused: the filters before the operator, the kernel and the state it updates.
  std::vector<const PExpr*> conjuncts_;
  std::shared_ptr<const CompiledAggregate> kernel_;
  std::shared_ptr<PendingAggregate> pending_;
  std::vector<void*> kernel_arrays_;  // three per aggregate, refreshed when groups are added
  int32_t state_groups_ = 0;          // the groups the accumulators hold states for
  const Vector* kernel_dictionary_ = nullptr;  // the key column of the batch being updated
  AggregateKernelState kernel_state_;
};

}  // namespace tql

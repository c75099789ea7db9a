//! Hash aggregation: `summarize` groups rows by key values and keeps one state per aggregate
//! and group. Groups come out in the order they were first seen.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/expression.h"
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
  kDcount,    // distinct values (exact in this version: within every error bound)
  kVariance,  // sample variance (n - 1), Welford's method
  kStdev,
  kPercentile,  // quantile_cont of `fraction` (median, percentile, pNN, percentile_exact)
  kArgMin,      // args: by, x
  kArgMax,
  kMakeSet,  // args: x [, max]
  kMakeList,
  kHistogram,  // args: x; AggregateSpec::bucket is the width
};

struct AggregateSpec {
  AggKind kind = AggKind::kCount;
  std::vector<const PExpr*> args;  // over the input rows
  TypeId type = TypeId::kNull;     // the result type
  double fraction = 0.5;           // kPercentile
  int64_t max_items = -1;          // kMakeSet, kMakeList: at most this many (-1: no limit)
  Value bucket;                    // kHistogram: the bucket width (int64 storage or float)
  std::string name;                // for explain
};

// Maps an aggregate function name (lower case) to its kind; false for one this version does
// not compute yet. `fraction` is set for the fixed quantiles (p99 -> 0.99, median -> 0.5).
bool AggregateKindOf(const std::string& name, AggKind* kind, double* fraction);

// summarize: keys and aggregates over the input; the output columns are `outputs`, each an
// expression over [key 0, ..., key k-1, aggregate 0, ...] (the "post" schema).
class AggregateOperator final : public BatchConsumer {
 public:
  AggregateOperator(std::vector<const PExpr*> keys, std::vector<AggregateSpec> aggregates,
                    SchemaPtr post_schema, std::vector<const PExpr*> outputs, SchemaPtr schema,
                    const EvalContext* ctx, BatchConsumer* next);
  ~AggregateOperator() override;
  Status Consume(Chunk& chunk) override;
  Status Finish() override;

 private:
  struct State;
  int32_t KeyGroup(const Vector& kv, int64_t r);
  int32_t NullGroup();
  std::vector<int32_t>& CodeMap(const Vector& kv);
  static bool UpdateTyped(const AggregateSpec& spec, const std::vector<Datum>& args,
                          const Selection& sel, const std::vector<int32_t>& group_of, State* st);

  std::vector<const PExpr*> keys_;
  std::vector<AggregateSpec> aggregates_;
  SchemaPtr post_schema_;
  std::vector<const PExpr*> outputs_;
  SchemaPtr schema_;
  const EvalContext* ctx_;
  BatchConsumer* next_;
  std::unordered_map<std::string, int32_t> groups_;  // key bytes -> group
  int32_t num_groups_ = 0;
  std::vector<std::vector<Value>> key_values_;  // per key, per group
  std::vector<std::unique_ptr<State>> states_;  // per aggregate
  std::string key_;
  // Keys of int64 storage, bools and strings (2 to 4 of them, or one int64): each row's key
  // as fixed-width words (values, interned string ids, a null mask) in a table of their own.
  bool fixed_keys_ = false;
  struct FixedKey {
    uint64_t words[5];
    bool operator==(const FixedKey& o) const {
      for (int i = 0; i < 5; ++i) {
        if (words[i] != o.words[i]) return false;
      }
      return true;
    }
  };
  struct FixedKeyHash {
    size_t operator()(const FixedKey& k) const {
      uint64_t h = 0x9E3779B97F4A7C15ULL;
      for (uint64_t w : k.words) {
        h ^= w + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
        h *= 0xff51afd7ed558ccdULL;
      }
      return static_cast<size_t>(h ^ (h >> 32));
    }
  };
  std::unordered_map<FixedKey, int32_t, FixedKeyHash> fixed_groups_;
  // Per string key: string -> id, and per dictionary the id of each code (-1: not yet).
  std::vector<std::unordered_map<std::string, uint64_t>> interned_;
  std::vector<std::vector<std::pair<std::shared_ptr<const Vector>, std::vector<int64_t>>>>
      code_ids_;
  uint64_t InternedId(size_t key, const Vector& v, int64_t row);
  // One dictionary-encoded key: per dictionary, the group of each code (-1: not seen yet).
  std::vector<std::pair<std::shared_ptr<const Vector>, std::vector<int32_t>>> code_maps_;
  int32_t null_group_ = -1;
};

}  // namespace tql

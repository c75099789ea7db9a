//! The approximate aggregates' sketches: HyperLogLog for dcount and a relative-error quantile
//! sketch (DDSketch) for median, percentile and pNN. Both start exact and switch to the
//! sketch when that is smaller; both serialize to bytes and merge, so that partial states of
//! shards combine into the state of the whole input. docs/aggregation.md gives the bounds.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/byte_io.h"

namespace tql {

// Distinct 64-bit hashes: exactly, in a small open-addressing set, up to kExactLimit of them;
// then in 2^14 registers of HyperLogLog, read with Ertl's improved estimator (no bias tables):
// a standard error of 1.04 / sqrt(2^14) = 0.81%.
class HyperLogLog {
 public:
  static constexpr int kPrecision = 14;
  static constexpr size_t kRegisters = size_t{1} << kPrecision;
  static constexpr size_t kExactLimit = 1024;

  void Add(uint64_t hash);
  void Merge(const HyperLogLog& other);
  int64_t Estimate() const;
  bool exact() const { return registers_.empty(); }
  size_t MemoryUsage() const { return set_.capacity() * 8 + registers_.capacity(); }

  void Serialize(ByteWriter* w) const;
  bool Deserialize(ByteReader* r);

 private:
  void AddExact(uint64_t hash);
  void AddDense(uint64_t hash);
  void ToDense();

  std::vector<uint64_t> set_;  // open addressing; 0 is an empty slot (hash 0 is stored as 1)
  size_t set_size_ = 0;
  std::vector<uint8_t> registers_;
};

// Values with a relative error of at most 0.99%: each nonzero |x| falls in a bucket
// [2^(i/35), 2^((i+1)/35)) and is represented by the bucket's harmonic midpoint; the index
// comes from the exponent bits and a table of the mantissa (no logarithm per value). The
// first kExactLimit values are kept as they are, so small groups are exact.
// SQL's quantile_cont of `values`: linear interpolation between the closest ranks.
// REQUIRES: values is not empty.
double QuantileCont(std::vector<double> values, double q);

class QuantileSketch {
 public:
  static constexpr size_t kExactLimit = 128;
  static constexpr int kBucketsPerOctave = 35;
  static constexpr size_t kMaxBuckets = 4096;  // per sign; beyond it the smallest collapse
  static double RelativeAccuracy();

  void Add(double x);  // NaN is ignored
  void Merge(const QuantileSketch& other);
  // The q-quantile as SQL's quantile_cont: linear interpolation between the values at ranks
  // floor(q (n-1)) and ceil(q (n-1)). REQUIRES: count() > 0.
  double Quantile(double q) const;
  int64_t count() const { return count_; }
  bool exact() const { return !sketched_; }
  size_t MemoryUsage() const;

  void Serialize(ByteWriter* w) const;
  bool Deserialize(ByteReader* r);

  // Exposed for tests: the bucket of |x| > 0 and the value that represents it.
  static int32_t BucketOf(double magnitude);
  static double ValueOf(int32_t bucket);

 private:
  // Counts of consecutive buckets starting at `first`.
  struct Store {
    int32_t first = 0;
    std::vector<uint64_t> counts;
    void Add(int32_t bucket, uint64_t n);
    uint64_t total() const;
  };
  void Sketch();
  void AddToSketch(double x, uint64_t n);
  double ValueAtRank(uint64_t rank) const;  // 0-based, over the sketched values

  int64_t count_ = 0;
  double min_ = 0, max_ = 0;
  bool sketched_ = false;
  std::vector<double> exact_;
  uint64_t zeros_ = 0;
  Store positive_, negative_;
};

}  // namespace tql

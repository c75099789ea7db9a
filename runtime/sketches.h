//! The approximate aggregates' sketches: HyperLogLog for dcount and a relative-error quantile
//! sketch (DDSketch) for median, percentile and pNN. Both start exact and switch to the
//! sketch when that is smaller; both serialize to bytes and merge, so that partial states of
//! shards combine into the state of the whole input. docs/aggregation.md gives the bounds.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
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
// SQL's quantile_cont of `values`: linear interpolation between the closest ranks, in the
// arithmetic of R (long double keeps the nanoseconds of int64 timestamps, which a double
// cannot hold). REQUIRES: values is not empty.
template <typename R = double, typename T>
R QuantileCont(std::vector<T> v, double q) {
  const size_t n = v.size();
  const double pos = q * static_cast<double>(n - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  const auto a = static_cast<R>(v[lo]);
  if (lo + 1 >= n || pos == static_cast<double>(lo)) return a;
  const auto b =
      static_cast<R>(*std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end()));
  return a + static_cast<R>(pos - static_cast<double>(lo)) * (b - a);
}

class QuantileSketch {
 public:
  static constexpr size_t kExactLimit = 128;
  static constexpr int kBucketsPerOctave = 35;
  static constexpr size_t kMaxBuckets = 4096;  // per sign; beyond it the smallest collapse
  static double RelativeAccuracy();

  // Adds x (NaN is ignored) and returns the bytes the sketch allocated for it (for memory
  // accounting); a value of a bucket the sketch already holds takes the inline path.
  size_t Add(double x) {
    if (sketched_ && x > 0 && count_ > 0 && x >= min_ && x <= max_ && !positive_.counts.empty()) {
      const int32_t b = BucketOf(x);
      const auto i = static_cast<uint32_t>(b - positive_.first);
      if (i < positive_.counts.size()) {
        ++positive_.counts[i];
        ++count_;
        return 0;
      }
    }
    const size_t before = MemoryUsage();
    AddSlow(x);
    return MemoryUsage() - before;
  }
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
  static int32_t BucketOf(double magnitude) {
    uint64_t bits;
    std::memcpy(&bits, &magnitude, sizeof bits);
    const auto exponent = static_cast<int32_t>((bits >> 52) & 0x7FF) - 1023;
    const uint64_t mantissa = bits & ((uint64_t{1} << 52) - 1);
    int32_t j = kTables.start[mantissa >> (52 - kTableBits)];
    if (mantissa >= kTables.bound[j + 1]) ++j;
    return exponent * kBucketsPerOctave + j;
  }
  static double ValueOf(int32_t bucket);

 private:
  // Counts of consecutive buckets starting at `first`.
  struct Store {
    int32_t first = 0;
    std::vector<uint64_t> counts;
    void Add(int32_t bucket, uint64_t n);
    uint64_t total() const;
  };
  // The bucket bounds within an octave as mantissa bits (bound[j] = (2^(j/35) - 1) * 2^52),
  // and for the top 12 mantissa bits the last bound at or below them. A table cell is narrower
  // than a bucket, so one comparison finishes the lookup exactly.
  static constexpr int kTableBits = 12;
  struct Tables {
    uint64_t bound[kBucketsPerOctave + 1];
    uint8_t start[size_t{1} << kTableBits];
    Tables();
  };
  static const Tables kTables;

  void AddSlow(double x);
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

#include "runtime/sketches.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>

namespace tql {

// ---- HyperLogLog -----------------------------------------------------------------------------

namespace {

constexpr int kRankBits = 64 - HyperLogLog::kPrecision;  // q in Ertl's paper

// sigma and tau of Ertl, "New cardinality estimation algorithms for HyperLogLog sketches"
// (2017): the corrections for empty and saturated registers.
double Sigma(double x) {
  if (x == 1) return std::numeric_limits<double>::infinity();
  double y = 1, z = x, previous;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z != previous);
  return z;
}

double Tau(double x) {
  if (x == 0 || x == 1) return 0;
  double y = 1, z = 1 - x, previous;
  do {
    x = std::sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (z != previous);
  return z / 3;
}

}  // namespace

void HyperLogLog::Add(uint64_t hash) {
  if (registers_.empty()) {
    AddExact(hash);
  } else {
    AddDense(hash);
  }
}

void HyperLogLog::AddExact(uint64_t hash) {
  if (hash == 0) hash = 1;
  if (!set_.empty()) {
    const size_t mask = set_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      if (set_[i] == hash) return;
      if (set_[i] == 0) break;
    }
  }
  // A new hash: past the limit the registers take over, else it goes into a set at most
  // half full.
  if (set_size_ + 1 > kExactLimit) {
    ToDense();
    AddDense(hash);
    return;
  }
  if ((set_size_ + 1) * 2 > set_.size()) {
    std::vector<uint64_t> old(std::max<size_t>(16, set_.size() * 2), 0);
    old.swap(set_);
    const size_t mask = set_.size() - 1;
    for (uint64_t h : old) {
      if (h == 0) continue;
      size_t i = h & mask;
      while (set_[i] != 0) i = (i + 1) & mask;
      set_[i] = h;
    }
  }
  const size_t mask = set_.size() - 1;
  size_t i = hash & mask;
  while (set_[i] != 0) i = (i + 1) & mask;
  set_[i] = hash;
  ++set_size_;
}

void HyperLogLog::AddDense(uint64_t hash) {
  const size_t index = hash >> kRankBits;
  const uint64_t rest = hash << kPrecision;
  const auto rank = static_cast<uint8_t>(rest == 0 ? kRankBits + 1 : __builtin_clzll(rest) + 1);
  if (rank > registers_[index]) registers_[index] = rank;
}

void HyperLogLog::ToDense() {
  registers_.assign(kRegisters, 0);
  for (uint64_t h : set_) {
    if (h != 0) AddDense(h);
  }
  std::vector<uint64_t>().swap(set_);
  set_size_ = 0;
}

void HyperLogLog::Merge(const HyperLogLog& other) {
  if (other.registers_.empty()) {
    for (uint64_t h : other.set_) {
      if (h != 0) Add(h);
    }
    return;
  }
  if (registers_.empty()) ToDense();
  for (size_t i = 0; i < kRegisters; ++i) {
    registers_[i] = std::max(registers_[i], other.registers_[i]);
  }
}

int64_t HyperLogLog::Estimate() const {
  if (registers_.empty()) return static_cast<int64_t>(set_size_);
  double counts[kRankBits + 2] = {};
  for (uint8_t r : registers_) counts[r] += 1;
  const double m = static_cast<double>(kRegisters);
  double z = m * Tau(1 - counts[kRankBits + 1] / m);
  for (int k = kRankBits; k >= 1; --k) z = 0.5 * (z + counts[k]);
  z += m * Sigma(counts[0] / m);
  const double alpha_inf = 0.5 / std::log(2.0);
  return static_cast<int64_t>(std::llround(alpha_inf * m * m / z));
}

void HyperLogLog::Serialize(ByteWriter* w) const {
  if (registers_.empty()) {
    w->U8(0);
    w->Varint(set_size_);
    for (uint64_t h : set_) {
      if (h != 0) w->U64(h);
    }
  } else {
    w->U8(1);
    w->Raw(registers_.data(), registers_.size());
  }
}

bool HyperLogLog::Deserialize(ByteReader* r) {
  *this = HyperLogLog();
  uint8_t mode;
  if (!r->U8(&mode)) return false;
  if (mode == 0) {
    uint64_t n;
    if (!r->Count(&n, 8) || n > kExactLimit) return false;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t h;
      if (!r->U64(&h)) return false;
      AddExact(h);
    }
    return true;
  }
  if (mode != 1) return false;
  registers_.assign(kRegisters, 0);
  if (!r->Raw(registers_.data(), kRegisters)) return false;
  return std::all_of(registers_.begin(), registers_.end(),
                     [](uint8_t x) { return x <= kRankBits + 1; });
}

// ---- QuantileSketch --------------------------------------------------------------------------

namespace {

constexpr int kOctave = QuantileSketch::kBucketsPerOctave;
constexpr int kMantissaBits = 52;

int32_t FloorDiv(int32_t a, int32_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

}  // namespace

double QuantileSketch::RelativeAccuracy() {
  const double gamma = std::exp2(1.0 / kOctave);
  return (gamma - 1) / (gamma + 1);
}

QuantileSketch::Tables::Tables() {
  for (int j = 0; j <= kOctave; ++j) {
    bound[j] = static_cast<uint64_t>(
        std::ldexp(std::exp2(static_cast<double>(j) / kOctave) - 1, kMantissaBits));
  }
  bound[0] = 0;
  bound[kOctave] = uint64_t{1} << kMantissaBits;
  int j = 0;
  for (uint64_t t = 0; t < (uint64_t{1} << kTableBits); ++t) {
    const uint64_t cell = t << (kMantissaBits - kTableBits);
    while (bound[j + 1] <= cell) ++j;
    start[t] = static_cast<uint8_t>(j);
  }
}

const QuantileSketch::Tables QuantileSketch::kTables;

double QuantileSketch::ValueOf(int32_t bucket) {
  const Tables& t = kTables;
  const int32_t exponent = FloorDiv(bucket, kOctave);
  const int32_t j = bucket - exponent * kOctave;
  if (exponent > 1023) return std::numeric_limits<double>::infinity();
  const double lo = 1 + std::ldexp(static_cast<double>(t.bound[j]), -kMantissaBits);
  const double hi = 1 + std::ldexp(static_cast<double>(t.bound[j + 1]), -kMantissaBits);
  // The harmonic midpoint is within (hi - lo) / (hi + lo) of every value of the bucket.
  return std::ldexp(2 * lo * hi / (lo + hi), exponent);
}

void QuantileSketch::Store::Add(int32_t bucket, uint64_t n) {
  if (counts.empty()) {
    first = bucket;
    counts.assign(1, n);
    return;
  }
  const int64_t last = first + static_cast<int64_t>(counts.size()) - 1;
  if (bucket >= first && bucket <= last) {
    counts[static_cast<size_t>(bucket - first)] += n;
    return;
  }
  int64_t lo = std::min<int64_t>(first, bucket);
  const int64_t hi = std::max<int64_t>(last, bucket);
  if (hi - lo + 1 > static_cast<int64_t>(kMaxBuckets)) {
    lo = hi - static_cast<int64_t>(kMaxBuckets) + 1;  // the smallest magnitudes collapse
  }
  if (lo == first) {
    counts.resize(static_cast<size_t>(hi - lo + 1), 0);
  } else {
    std::vector<uint64_t> grown(static_cast<size_t>(hi - lo + 1), 0);
    for (size_t i = 0; i < counts.size(); ++i) {
      const int64_t b = std::max<int64_t>(lo, first + static_cast<int64_t>(i));
      grown[static_cast<size_t>(b - lo)] += counts[i];
    }
    counts.swap(grown);
    first = static_cast<int32_t>(lo);
  }
  counts[static_cast<size_t>(std::max<int64_t>(lo, bucket) - lo)] += n;
}

uint64_t QuantileSketch::Store::total() const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

void QuantileSketch::AddSlow(double x) {
  if (std::isnan(x)) return;
  if (count_ == 0 || x < min_) min_ = x;
  if (count_ == 0 || x > max_) max_ = x;
  ++count_;
  if (sketched_) {
    AddToSketch(x, 1);
    return;
  }
  exact_.push_back(x);
  if (exact_.size() > kExactLimit) Sketch();
}

void QuantileSketch::AddToSketch(double x, uint64_t n) {
  const double a = std::fabs(x);
  if (a < DBL_MIN) {
    zeros_ += n;  // zero, and the subnormals with it
  } else if (x > 0) {
    positive_.Add(BucketOf(a), n);
  } else {
    negative_.Add(BucketOf(a), n);
  }
}

void QuantileSketch::Sketch() {
  sketched_ = true;
  for (double v : exact_) AddToSketch(v, 1);
  std::vector<double>().swap(exact_);
}

void QuantileSketch::Merge(const QuantileSketch& other) {
  if (other.count_ == 0) return;
  if (count_ == 0 || other.min_ < min_) min_ = other.min_;
  if (count_ == 0 || other.max_ > max_) max_ = other.max_;
  count_ += other.count_;
  if (!other.sketched_) {
    for (double v : other.exact_) {
      if (sketched_) {
        AddToSketch(v, 1);
      } else {
        exact_.push_back(v);
      }
    }
    if (!sketched_ && exact_.size() > kExactLimit) Sketch();
    return;
  }
  if (!sketched_) Sketch();
  zeros_ += other.zeros_;
  for (size_t i = 0; i < other.positive_.counts.size(); ++i) {
    if (other.positive_.counts[i] != 0) {
      positive_.Add(other.positive_.first + static_cast<int32_t>(i), other.positive_.counts[i]);
    }
  }
  for (size_t i = 0; i < other.negative_.counts.size(); ++i) {
    if (other.negative_.counts[i] != 0) {
      negative_.Add(other.negative_.first + static_cast<int32_t>(i), other.negative_.counts[i]);
    }
  }
}

double QuantileSketch::ValueAtRank(uint64_t rank) const {
  if (rank == 0) return min_;
  if (rank + 1 >= static_cast<uint64_t>(count_)) return max_;
  uint64_t seen = 0;
  for (size_t i = negative_.counts.size(); i-- > 0;) {  // the most negative first
    seen += negative_.counts[i];
    if (rank < seen) return -ValueOf(negative_.first + static_cast<int32_t>(i));
  }
  seen += zeros_;
  if (rank < seen) return 0;
  for (size_t i = 0; i < positive_.counts.size(); ++i) {
    seen += positive_.counts[i];
    if (rank < seen) return ValueOf(positive_.first + static_cast<int32_t>(i));
  }
  return max_;
}

double QuantileSketch::Quantile(double q) const {
  if (!sketched_) return QuantileCont(exact_, q);
  const double pos = q * static_cast<double>(count_ - 1);
  const auto lo = static_cast<uint64_t>(std::floor(pos));
  const double frac = pos - static_cast<double>(lo);
  double v = ValueAtRank(lo);
  if (frac > 0) {
    const double next = ValueAtRank(lo + 1);
    if (next != v) v += frac * (next - v);  // (never inf - inf)
  }
  return std::clamp(v, min_, max_);
}

size_t QuantileSketch::MemoryUsage() const {
  return sizeof(*this) + exact_.capacity() * sizeof(double) +
         (positive_.counts.capacity() + negative_.counts.capacity()) * sizeof(uint64_t);
}

void QuantileSketch::Serialize(ByteWriter* w) const {
  w->U8(sketched_ ? 1 : 0);
  w->Varint(static_cast<uint64_t>(count_));
  w->F64(min_);
  w->F64(max_);
  if (!sketched_) {
    for (double v : exact_) w->F64(v);
    return;
  }
  w->Varint(zeros_);
  for (const Store* s : {&positive_, &negative_}) {
    w->SignedVarint(s->first);
    w->Varint(s->counts.size());
    for (uint64_t c : s->counts) w->Varint(c);
  }
}

bool QuantileSketch::Deserialize(ByteReader* r) {
  *this = QuantileSketch();
  uint8_t mode;
  uint64_t n;
  if (!r->U8(&mode) || mode > 1 || !r->Varint(&n) || !r->F64(&min_) || !r->F64(&max_)) {
    return false;
  }
  if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) || std::isnan(min_) ||
      std::isnan(max_) || (n > 0 && min_ > max_)) {
    return false;
  }
  count_ = static_cast<int64_t>(n);
  sketched_ = mode == 1;
  if (!sketched_) {
    if (n > kExactLimit) return false;
    exact_.resize(n);
    for (double& v : exact_) {
      if (!r->F64(&v) || std::isnan(v) || v < min_ || v > max_) return false;
    }
    return true;
  }
  uint64_t total;
  if (!r->Varint(&zeros_)) return false;
  total = zeros_;
  for (Store* s : {&positive_, &negative_}) {
    int64_t first;
    uint64_t len;
    if (!r->SignedVarint(&first) || !r->Count(&len) || len > kMaxBuckets) return false;
    if (first < -40000 || first > 40000) return false;  // beyond every double's bucket
    s->first = static_cast<int32_t>(first);
    s->counts.resize(len);
    for (uint64_t& c : s->counts) {
      if (!r->Varint(&c) || __builtin_add_overflow(total, c, &total)) return false;
    }
  }
  return total == n;
}

}  // namespace tql

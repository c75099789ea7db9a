#include "runtime/aggregate.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "runtime/byte_io.h"
#include "runtime/group_table.h"
#include "runtime/operators.h"
#include "runtime/sketches.h"
#include "runtime/vector_writer.h"

namespace tql {

bool AggregateKindOf(const std::string& name, AggKind* kind, double* fraction) {
  static const std::unordered_map<std::string, AggKind> kKinds = {
      {"count", AggKind::kCount},
      {"countif", AggKind::kCountIf},
      {"sum", AggKind::kSum},
      {"avg", AggKind::kAvg},
      {"min", AggKind::kMin},
      {"max", AggKind::kMax},
      {"any", AggKind::kAny},
      {"dcount", AggKind::kDcount},
      {"dcount_exact", AggKind::kDcountExact},
      {"variance", AggKind::kVariance},
      {"stdev", AggKind::kStdev},
      {"percentile", AggKind::kPercentile},
      {"percentile_exact", AggKind::kPercentileExact},
      {"median", AggKind::kPercentile},
      {"arg_min", AggKind::kArgMin},
      {"arg_max", AggKind::kArgMax},
      {"make_set", AggKind::kMakeSet},
      {"make_list", AggKind::kMakeList},
      {"histogram", AggKind::kHistogram},
  };
  static const std::unordered_map<std::string, double> kFixed = {
      {"median", 0.5}, {"p001", 0.001}, {"p01", 0.01}, {"p05", 0.05},
      {"p10", 0.10},   {"p25", 0.25},   {"p50", 0.50}, {"p75", 0.75},
      {"p90", 0.90},   {"p95", 0.95},   {"p99", 0.99}, {"p999", 0.999}};
  auto f = kFixed.find(name);
  if (f != kFixed.end()) {
    *kind = AggKind::kPercentile;
    *fraction = f->second;
    return true;
  }
  auto it = kKinds.find(name);
  if (it == kKinds.end()) return false;
  *kind = it->second;
  return true;
}

namespace {

__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

// A datum as a vector as long as the batch.
Vector Materialize(const Datum& d, int64_t n) {
  if (d.is_constant) return ConstantVector(d.constant, d.constant.type, n);
  return d.vector;
}

// A value in a partial state: its type, whether it is null, and its payload.
void PutValue(ByteWriter* w, const Value& v) {
  w->U8(static_cast<uint8_t>(v.type));
  w->U8(v.null ? 1 : 0);
  if (v.null) return;
  switch (v.type) {
    case TypeId::kNull:
      break;
    case TypeId::kBool:
      w->U8(v.i != 0 ? 1 : 0);
      break;
    case TypeId::kInt:
    case TypeId::kTimestamp:
    case TypeId::kDuration:
      w->SignedVarint(v.i);
      break;
    case TypeId::kFloat:
      w->F64(v.f);
      break;
    case TypeId::kString:
    case TypeId::kDynamic:
      w->Bytes(v.s);
      break;
  }
}

bool GetValue(ByteReader* r, Value* v) {
  uint8_t type, null;
  if (!r->U8(&type) || type >= kNumTypes || !r->U8(&null) || null > 1) return false;
  *v = Value::Null(static_cast<TypeId>(type));
  if (null) return true;
  v->null = false;
  switch (v->type) {
    case TypeId::kNull:
      return false;
    case TypeId::kBool: {
      uint8_t b;
      if (!r->U8(&b) || b > 1) return false;
      v->i = b;
      return true;
    }
    case TypeId::kInt:
    case TypeId::kTimestamp:
    case TypeId::kDuration:
      return r->SignedVarint(&v->i);
    case TypeId::kFloat:
      return r->F64(&v->f);
    case TypeId::kString:
    case TypeId::kDynamic: {
      std::string_view s;
      if (!r->Bytes(&s)) return false;
      v->s.assign(s);
      return true;
    }
  }
  return false;
}

// Calls f(row, x) for each selected row whose argument is a non-null number, read as double.
template <typename F>
void ForEachNumber(const Datum& d, const Selection& sel, F&& f) {
  if (d.is_constant) {
    const Value& c = d.constant;
    if (c.null) return;
    const double x = c.type == TypeId::kFloat ? c.f : static_cast<double>(c.i);
    sel.ForEach([&](int64_t r) { f(r, x); });
    return;
  }
  const Vector& v = d.vector;
  const uint8_t* valid = v.validity_bits();
  if (IsInt64Backed(v.type())) {
    const int64_t* iv = v.int64_values();
    sel.ForEach([&](int64_t r) {
      if (valid == nullptr || bits::Get(valid, r)) f(r, static_cast<double>(iv[r]));
    });
  } else if (v.type() == TypeId::kFloat) {
    const double* fv = v.float_values();
    sel.ForEach([&](int64_t r) {
      if (valid == nullptr || bits::Get(valid, r)) f(r, fv[r]);
    });
  } else {
    Value x;
    sel.ForEach([&](int64_t r) {
      ReadValue(v, r, &x);
      if (x.null) return;
      if (x.type == TypeId::kFloat) {
        f(r, x.f);
      } else if (IsInt64Backed(x.type) || x.type == TypeId::kBool) {
        f(r, static_cast<double>(x.i));
      }
    });
  }
}

// Calls f(row, value) for each selected row whose argument is not null.
template <typename F>
void ForEachValue(const Datum& d, const Selection& sel, F&& f) {
  Value x;
  sel.ForEach([&](int64_t r) {
    d.Read(r, &x);
    if (!x.null) f(r, x);
  });
}

// The integer result of a quantile of an int64-backed type (durations stay durations).
Value QuantileValue(double q, TypeId type) {
  if (type == TypeId::kFloat) return Value::Float(q);
  Value v = Value::Int(static_cast<int64_t>(std::llround(q)));
  v.type = type;
  return v;
}

}  // namespace

// ---- Accumulators: one aggregate's state for every group -------------------------------------

// Each kind keeps its states in arrays indexed by group; Update adds the selected rows of a
// batch, Serialize and Merge move one group's state through bytes, Final gives its value.
class Accumulator {
 public:
  explicit Accumulator(const AggregateSpec& spec) : spec_(spec) {}
  virtual ~Accumulator() = default;
  virtual void Resize(size_t groups) = 0;
  virtual void Update(const std::vector<Datum>& args, const Selection& sel,
                      const int32_t* group_of) = 0;
  virtual void Serialize(size_t g, ByteWriter* w) const = 0;
  virtual bool Merge(size_t g, ByteReader* r) = 0;
  virtual Value Final(size_t g) = 0;  // a null Value when the group has no value
  virtual size_t MemoryUsage() const = 0;
  // The state arrays a fused kernel updates (AggregateKernelState::arrays): counts, integer
  // sums, float sums. Left null by the kinds no kernel updates.
  virtual void KernelArrays(void** /*arrays*/) {}

 protected:
  const AggregateSpec& spec_;
};

namespace {

inline size_t G(const int32_t* group_of, int64_t r) {
  return static_cast<size_t>(group_of[r]);
}

class CountAccumulator final : public Accumulator {
 public:
  using Accumulator::Accumulator;
  void Resize(size_t groups) override { n_.resize(groups); }
  void Update(const std::vector<Datum>& args, const Selection& sel,
              const int32_t* group_of) override {
    auto all = [&] { sel.ForEach([&](int64_t r) { ++n_[G(group_of, r)]; }); };
    if (args.empty()) return all();
    const Datum& d = args[0];
    const bool countif = spec_.kind == AggKind::kCountIf;
    if (d.is_constant) {
      if (!d.constant.null && (!countif || d.constant.i != 0)) all();
      return;
    }
    const Vector& v = d.vector;
    const uint8_t* valid = v.validity_bits();
    if (!countif) {
      if (v.type() == TypeId::kNull) return;
      if (valid == nullptr) return all();
      sel.ForEach([&](int64_t r) {
        if (bits::Get(valid, r)) ++n_[G(group_of, r)];
      });
      return;
    }
    if (v.type() == TypeId::kBool) {
      const uint8_t* b = v.bool_bits();
      sel.ForEach([&](int64_t r) {
        if ((valid == nullptr || bits::Get(valid, r)) && bits::Get(b, r)) ++n_[G(group_of, r)];
      });
      return;
    }
    ForEachValue(d, sel, [&](int64_t r, const Value& x) {
      if (x.i != 0) ++n_[G(group_of, r)];
    });
  }
  void Serialize(size_t g, ByteWriter* w) const override { w->SignedVarint(n_[g]); }
  bool Merge(size_t g, ByteReader* r) override {
    int64_t n;
    if (!r->SignedVarint(&n) || n < 0) return false;
    n_[g] += n;
    return true;
  }
  Value Final(size_t g) override { return Value::Int(n_[g]); }
  size_t MemoryUsage() const override { return n_.capacity() * sizeof(int64_t); }
  void KernelArrays(void** arrays) override { arrays[0] = n_.data(); }

 private:
  std::vector<int64_t> n_;
};

// sum and avg: integers exactly in 128 bits, floats apart.
class SumAccumulator final : public Accumulator {
 public:
  using Accumulator::Accumulator;
  void Resize(size_t groups) override {
    n_.resize(groups);
    ints_.resize(groups);
    floats_.resize(groups);
  }
  void Update(const std::vector<Datum>& args, const Selection& sel,
              const int32_t* group_of) override {
    const Datum& d = args[0];
    if (!d.is_constant && IsInt64Backed(d.vector.type())) {
      const int64_t* iv = d.vector.int64_values();
      const uint8_t* valid = d.vector.validity_bits();
      sel.ForEach([&](int64_t r) {
        if (valid != nullptr && !bits::Get(valid, r)) return;
        const size_t g = G(group_of, r);
        ++n_[g];
        ints_[g] += iv[r];
      });
      return;
    }
    if (!d.is_constant && d.vector.type() == TypeId::kFloat) {
      ForEachNumber(d, sel, [&](int64_t r, double x) {
        const size_t g = G(group_of, r);
        ++n_[g];
        floats_[g] += x;
      });
      return;
    }
    ForEachValue(d, sel, [&](int64_t r, const Value& x) {
      const size_t g = G(group_of, r);
      ++n_[g];
      if (x.type == TypeId::kFloat) {
        floats_[g] += x.f;
      } else {
        ints_[g] += x.i;
      }
    });
  }
  void Serialize(size_t g, ByteWriter* w) const override {
    w->Varint(static_cast<uint64_t>(n_[g]));
    const auto u = static_cast<UInt128>(ints_[g]);
    w->U64(static_cast<uint64_t>(u));
    w->U64(static_cast<uint64_t>(u >> 64));
    w->F64(floats_[g]);
  }
  bool Merge(size_t g, ByteReader* r) override {
    uint64_t n, lo, hi;
    double f;
    if (!r->Varint(&n) || !r->U64(&lo) || !r->U64(&hi) || !r->F64(&f)) return false;
    n_[g] += static_cast<int64_t>(n);
    ints_[g] += static_cast<Int128>((static_cast<UInt128>(hi) << 64) | lo);
    floats_[g] += f;
    return true;
  }
  Value Final(size_t g) override {
    if (n_[g] == 0) return Value::Null(spec_.type);
    const double total = floats_[g] + static_cast<double>(ints_[g]);
    if (spec_.kind == AggKind::kAvg) return Value::Float(total / static_cast<double>(n_[g]));
    if (spec_.type == TypeId::kFloat) return Value::Float(total);
    // Integer sums wrap, as integer arithmetic does.
    Value v = Value::Int(static_cast<int64_t>(static_cast<uint64_t>(ints_[g])));
    v.type = spec_.type;
    return v;
  }
  size_t MemoryUsage() const override {
    return n_.capacity() * 8 + ints_.capacity() * 16 + floats_.capacity() * 8;
  }
  void KernelArrays(void** arrays) override {
    arrays[0] = n_.data();
    arrays[1] = ints_.data();
    arrays[2] = floats_.data();
  }

 private:
  std::vector<int64_t> n_;
  std::vector<Int128> ints_;
  std::vector<double> floats_;
};

// variance and stdev: Welford's update, and Chan's formula to merge.
class VarianceAccumulator final : public Accumulator {
 public:
  using Accumulator::Accumulator;
  void Resize(size_t groups) override {
    n_.resize(groups);
    mean_.resize(groups);
    m2_.resize(groups);
  }
  void Update(const std::vector<Datum>& args, const Selection& sel,
              const int32_t* group_of) override {
    ForEachNumber(args[0], sel, [&](int64_t r, double x) {
      const size_t g = G(group_of, r);
      const int64_t k = ++n_[g];
      const double delta = x - mean_[g];
      mean_[g] += delta / static_cast<double>(k);
      m2_[g] += delta * (x - mean_[g]);
    });
  }
  void Serialize(size_t g, ByteWriter* w) const override {
    w->Varint(static_cast<uint64_t>(n_[g]));
    w->F64(mean_[g]);
    w->F64(m2_[g]);
  }
  bool Merge(size_t g, ByteReader* r) override {
    uint64_t nb;
    double mb, m2b;
    if (!r->Varint(&nb) || !r->F64(&mb) || !r->F64(&m2b)) return false;
    if (nb == 0) return true;
    const auto na = static_cast<double>(n_[g]);
    const double n = na + static_cast<double>(nb);
    const double delta = mb - mean_[g];
    mean_[g] += delta * static_cast<double>(nb) / n;
    m2_[g] += m2b + delta * delta * na * static_cast<double>(nb) / n;
    n_[g] += static_cast<int64_t>(nb);
    return true;
  }
  Value Final(size_t g) override {
    if (n_[g] < 2) return Value::Null(TypeId::kFloat);
    const double var = m2_[g] / static_cast<double>(n_[g] - 1);
    return Value::Float(spec_.kind == AggKind::kStdev ? std::sqrt(var) : var);
  }
  size_t MemoryUsage() const override { return n_.capacity() * 24; }

 private:
  std::vector<int64_t> n_;
  std::vector<double> mean_, m2_;
};

// min, max and any (the first value seen).
class BestAccumulator final : public Accumulator {
 public:
  using Accumulator::Accumulator;
  void Resize(size_t groups) override {
    best_.resize(groups);
    has_.resize(groups);
  }
  void Update(const std::vector<Datum>& args, const Selection& sel,
              const int32_t* group_of) override {
    const Datum& d = args[0];
    const bool is_min = spec_.kind == AggKind::kMin;
    if (spec_.kind != AggKind::kAny && !d.is_constant && IsInt64Backed(d.vector.type())) {
      const int64_t* iv = d.vector.int64_values();
      const uint8_t* valid = d.vector.validity_bits();
      const TypeId type = d.vector.type();
      sel.ForEach([&](int64_t r) {
        if (valid != nullptr && !bits::Get(valid, r)) return;
        const size_t g = G(group_of, r);
        const int64_t x = iv[r];
        if (!has_[g] || (is_min ? x < best_[g].i : x > best_[g].i)) {
          best_[g].type = type;
          best_[g].null = false;
          best_[g].i = x;
          has_[g] = 1;
        }
      });
      return;
    }
    ForEachValue(d, sel, [&](int64_t r, const Value& x) { Offer(G(group_of, r), x); });
  }
  void Serialize(size_t g, ByteWriter* w) const override {
    w->U8(has_[g]);
    if (has_[g]) PutValue(w, best_[g]);
  }
  bool Merge(size_t g, ByteReader* r) override {
    uint8_t has;
    if (!r->U8(&has) || has > 1) return false;
    if (!has) return true;
    Value x;
    if (!GetValue(r, &x)) return false;
    if (!x.null) Offer(g, x);
    return true;
  }
  Value Final(size_t g) override { return has_[g] ? best_[g] : Value::Null(spec_.type); }
  size_t MemoryUsage() const override {
    return best_.capacity() * sizeof(Value) + has_.capacity() + strings_;
  }

 private:
  void Offer(size_t g, const Value& x) {
    const bool better = !has_[g] || (spec_.kind == AggKind::kMin   ? CompareValues(x, best_[g]) < 0
                                     : spec_.kind == AggKind::kMax ? CompareValues(x, best_[g]) > 0
                                                                   : false);
    if (!better) return;
    strings_ += x.s.size();
    strings_ -= std::min(strings_, best_[g].s.size());
    best_[g] = x;
    has_[g] = 1;
  }
  std::vector<Value> best_;
  std::vector<uint8_t> has_;
  size_t strings_ = 0;
};

// arg_min and arg_max: the x of the row with the least (greatest) `by`; the first such row
// wins ties.
class ArgAccumulator final : public Accumulator {
 public:
  using Accumulator::Accumulator;
  void Resize(size_t groups) override {
    by_.resize(groups);
    x_.resize(groups);
    has_.resize(groups);
  }
  void Update(const std::vector<Datum>& args, const Selection& sel,
              const int32_t* group_of) override {
    Value y;
    ForEachValue(args[0], sel, [&](int64_t r, const Value& by) {
      const size_t g = G(group_of, r);
      if (Better(g, by)) {
        args[1].Read(r, &y);
        Set(g, by, y);
      }
    });
  }
  void Serialize(size_t g, ByteWriter* w) const override {
    w->U8(has_[g]);
    if (!has_[g]) return;
    PutValue(w, by_[g]);
    PutValue(w, x_[g]);
  }
  bool Merge(size_t g, ByteReader* r) override {
    uint8_t has;
    if (!r->U8(&has) || has > 1) return false;
    if (!has) return true;
    Value by, x;
    if (!GetValue(r, &by) || !GetValue(r, &x) || by.null) return false;
    if (Better(g, by)) Set(g, by, x);
    return true;
  }
  Value Final(size_t g) override { return has_[g] ? x_[g] : Value::Null(spec_.type); }
  size_t MemoryUsage() const override {
    return by_.capacity() * sizeof(Value) * 2 + has_.capacity() + strings_;
  }

 private:
  bool Better(size_t g, const Value& by) const {
    if (!has_[g]) return true;
    const int c = CompareValues(by, by_[g]);
    return spec_.kind == AggKind::kArgMin ? c < 0 : c > 0;
  }
  void Set(size_t g, const Value& by, const Value& x) {
    strings_ += by.s.size() + x.s.size();
    strings_ -= std::min(strings_, by_[g].s.size() + x_[g].s.size());
    by_[g] = by;
    x_[g] = x;
    has_[g] = 1;
  }
  std::vector<Value> by_, x_;
  std::vector<uint8_t> has_;
  size_t strings_ = 0;
};

// The hash of a value for dcount: the same for a value wherever it comes from (a plain or
// dictionary vector, a constant, another shard).
uint64_t DistinctHash(const Value& v) {
  switch (v.type) {
    case TypeId::kFloat:
      return HashWord(FloatKeyBits(v.f));
    case TypeId::kString:
    case TypeId::kDynamic:
      return HashBytes(v.s.data(), v.s.size());
    default:
      return HashWord(static_cast<uint64_t>(v.i));
  }
}

// Calls f(row, hash) for each selected non-null row of `d`.
template <typename F>
void ForEachDistinctHash(const Datum& d, const Selection& sel,
                         std::vector<std::pair<const Vector*, std::vector<uint64_t>>>* memo,
                         F&& f) {
  if (d.is_constant) {
    if (d.constant.null) return;
    const uint64_t h = DistinctHash(d.constant);
    sel.ForEach([&](int64_t r) { f(r, h); });
    return;
  }
  const Vector& v = d.vector;
  if (v.type() == TypeId::kNull) return;
  const uint8_t* valid = v.validity_bits();
  auto each = [&](auto&& hash) {
    sel.ForEach([&](int64_t r) {
      if (valid == nullptr || bits::Get(valid, r)) f(r, hash(r));
    });
  };
  if (IsInt64Backed(v.type())) {
    const int64_t* iv = v.int64_values();
    return each([iv](int64_t r) { return HashWord(static_cast<uint64_t>(iv[r])); });
  }
  if (v.type() == TypeId::kFloat) {
    const double* fv = v.float_values();
    return each([fv](int64_t r) { return HashWord(FloatKeyBits(fv[r])); });
  }
  if (v.type() == TypeId::kBool) {
    return each([&v](int64_t r) { return HashWord(v.GetBool(r) ? 1 : 0); });
  }
  if (v.is_dictionary()) {
    // Each entry of a dictionary is hashed once; the memo holds the last few dictionaries.
    std::vector<uint64_t>* hashes = nullptr;
    for (auto& [dict, h] : *memo) {
      if (dict == &v.dictionary()) hashes = &h;
    }
    if (hashes == nullptr) {
      if (memo->size() >= 8) memo->erase(memo->begin());
      const Vector& dict = v.dictionary();
      std::vector<uint64_t> h(static_cast<size_t>(dict.length()));
      for (int64_t i = 0; i < dict.length(); ++i) {
        const std::string_view s = dict.GetString(i);
        h[static_cast<size_t>(i)] = HashBytes(s.data(), s.size());
      }
      memo->emplace_back(&dict, std::move(h));
      hashes = &memo->back().second;
    }
    const int32_t* codes = v.dictionary_codes();
    const uint64_t* hv = hashes->data();
    return each([codes, hv](int64_t r) { return hv[codes[r]]; });
  }
  return each([&v](int64_t r) {
    const std::string_view s = v.GetString(r);
    return HashBytes(s.data(), s.size());
  });
}

class DcountAccumulator final : public Accumulator {
 public:
  using Accumulator::Accumulator;
  void Resize(size_t groups) override { sketches_.resize(groups); }
  void Update(const std::vector<Datum>& args, const Selection& sel,
              const int32_t* group_of) override {
    ForEachDistinctHash(args[0], sel, &memo_, [&](int64_t r, uint64_t h) {
      HyperLogLog& s = sketches_[G(group_of, r)];
      if (s.exact()) {
        const size_t before = s.MemoryUsage();
        s.Add(h);
        bytes_ += s.MemoryUsage() - before;
      } else {
        s.Add(h);
      }
    });
  }
  void Serialize(size_t g, ByteWriter* w) const override { sketches_[g].Serialize(w); }
  bool Merge(size_t g, ByteReader* r) override {
    HyperLogLog other;
    if (!other.Deserialize(r)) return false;
    const size_t before = sketches_[g].MemoryUsage();
    sketches_[g].Merge(other);
    bytes_ += sketches_[g].MemoryUsage() - before;
    return true;
  }
  Value Final(size_t g) override { return Value::Int(sketches_[g].Estimate()); }
  size_t MemoryUsage() const override {
    return sketches_.capacity() * sizeof(HyperLogLog) + bytes_;
  }

 private:
  std::vector<HyperLogLog> sketches_;
  std::vector<std::pair<const Vector*, std::vector<uint64_t>>> memo_;
  size_t bytes_ = 0;
};

// dcount_exact: the set of each group's distinct values (their key bytes).
class DcountExactAccumulator final : public Accumulator {
 public:
  using Accumulator::Accumulator;
  void Resize(size_t groups) override { sets_.resize(groups); }
  void Update(const std::vector<Datum>& args, const Selection& sel,
              const int32_t* group_of) override {
    const Datum& d = args[0];
    if (d.is_constant) {
      if (d.constant.null) return;
      const Vector one = ConstantVector(d.constant, d.constant.type, 1);
      std::string bytes;
      AppendKeyBytes(one, 0, &bytes);
      sel.ForEach([&](int64_t r) { Insert(G(group_of, r), bytes); });
      return;
    }
    std::string bytes;
    sel.ForEach([&](int64_t r) {
      if (d.vector.IsNull(r)) return;
      bytes.clear();
      AppendKeyBytes(d.vector, r, &bytes);
      Insert(G(group_of, r), bytes);
    });
  }
  void Serialize(size_t g, ByteWriter* w) const override {
    w->Varint(sets_[g].size());
    for (const std::string& s : sets_[g]) w->Bytes(s);
  }
  bool Merge(size_t g, ByteReader* r) override {
    uint64_t n;
    if (!r->Count(&n)) return false;
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view s;
      if (!r->Bytes(&s)) return false;
      Insert(g, std::string(s));
    }
    return true;
  }
  Value Final(size_t g) override { return Value::Int(static_cast<int64_t>(sets_[g].size())); }
  size_t MemoryUsage() const override {
    return sets_.capacity() * sizeof(std::unordered_set<std::string>) + bytes_;
  }

 private:
  void Insert(size_t g, const std::string& bytes) {
    if (sets_[g].insert(bytes).second) bytes_ += bytes.size() + 64;
  }
  std::vector<std::unordered_set<std::string>> sets_;
  size_t bytes_ = 0;
};

class QuantileAccumulator final : public Accumulator {
 public:
  using Accumulator::Accumulator;
  void Resize(size_t groups) override { sketches_.resize(groups); }
  void Update(const std::vector<Datum>& args, const Selection& sel,
              const int32_t* group_of) override {
    ForEachNumber(args[0], sel,
                  [&](int64_t r, double x) { bytes_ += sketches_[G(group_of, r)].Add(x); });
  }
  void Serialize(size_t g, ByteWriter* w) const override { sketches_[g].Serialize(w); }
  bool Merge(size_t g, ByteReader* r) override {
    QuantileSketch other;
    if (!other.Deserialize(r)) return false;
    const size_t before = sketches_[g].MemoryUsage();
    sketches_[g].Merge(other);
    bytes_ += sketches_[g].MemoryUsage() - before;
    return true;
  }
  Value Final(size_t g) override {
    if (sketches_[g].count() == 0) return Value::Null(spec_.type);
    const Value v = QuantileValue(sketches_[g].Quantile(spec_.fraction), spec_.type);
    return v;
  }
  size_t MemoryUsage() const override {
    return sketches_.capacity() * sizeof(QuantileSketch) + bytes_;
  }
  // A kernel adds one value at a time through AddOne.
  void KernelArrays(void** arrays) override {
    arrays[0] = this;
    arrays[1] = reinterpret_cast<void*>(&QuantileAccumulator::AddOne);
  }
  static void AddOne(void* self, int64_t g, double x) {
    auto* acc = static_cast<QuantileAccumulator*>(self);
    acc->bytes_ += acc->sketches_[static_cast<size_t>(g)].Add(x);
  }

 private:
  std::vector<QuantileSketch> sketches_;
  size_t bytes_ = 0;
};

// percentile_exact (and every quantile of a timestamp, where a relative error has no meaning):
// every value, ranked at the end. int64-backed values are kept as integers.
template <typename T>
class QuantileExactAccumulator final : public Accumulator {
 public:
  using Accumulator::Accumulator;
  void Resize(size_t groups) override { values_.resize(groups); }
  void Update(const std::vector<Datum>& args, const Selection& sel,
              const int32_t* group_of) override {
    auto add = [&](int64_t r, T x) {
      std::vector<T>& v = values_[G(group_of, r)];
      if (v.size() == v.capacity()) bytes_ += std::max<size_t>(v.capacity(), 1) * sizeof(T);
      v.push_back(x);
    };
    const Datum& d = args[0];
    if constexpr (std::is_same_v<T, int64_t>) {
      if (!d.is_constant && IsInt64Backed(d.vector.type())) {
        const int64_t* iv = d.vector.int64_values();
        const uint8_t* valid = d.vector.validity_bits();
        sel.ForEach([&](int64_t r) {
          if (valid == nullptr || bits::Get(valid, r)) add(r, iv[r]);
        });
        return;
      }
      ForEachValue(d, sel, [&](int64_t r, const Value& x) { add(r, x.i); });
    } else {
      ForEachNumber(d, sel, [&](int64_t r, double x) {
        if (!std::isnan(x)) add(r, x);
      });
    }
  }
  void Serialize(size_t g, ByteWriter* w) const override {
    w->Varint(values_[g].size());
    for (T x : values_[g]) {
      if constexpr (std::is_same_v<T, int64_t>) {
        w->SignedVarint(x);
      } else {
        w->F64(x);
      }
    }
  }
  bool Merge(size_t g, ByteReader* r) override {
    uint64_t n;
    if (!r->Count(&n)) return false;
    std::vector<T>& v = values_[g];
    const size_t before = v.capacity();
    for (uint64_t i = 0; i < n; ++i) {
      T x;
      if constexpr (std::is_same_v<T, int64_t>) {
        if (!r->SignedVarint(&x)) return false;
      } else {
        if (!r->F64(&x) || std::isnan(x)) return false;
      }
      v.push_back(x);
    }
    bytes_ += (v.capacity() - before) * sizeof(T);
    return true;
  }
  Value Final(size_t g) override {
    if (values_[g].empty()) return Value::Null(spec_.type);
    Value result;
    if constexpr (std::is_same_v<T, int64_t>) {
      if (spec_.type == TypeId::kTimestamp) {
        const long double q = QuantileCont<long double>(std::move(values_[g]), spec_.fraction);
        result = Value::Timestamp(static_cast<int64_t>(std::llroundl(q)));
      } else {
        // Numbers and durations interpolate in double, as SQL's quantile_cont does.
        result = QuantileValue(QuantileCont(std::move(values_[g]), spec_.fraction), spec_.type);
      }
    } else {
      result = QuantileValue(QuantileCont(std::move(values_[g]), spec_.fraction), spec_.type);
    }
    std::vector<T>().swap(values_[g]);
    return result;
  }
  size_t MemoryUsage() const override {
    return values_.capacity() * sizeof(std::vector<T>) + bytes_;
  }

 private:
  std::vector<std::vector<T>> values_;
  size_t bytes_ = 0;
};

// histogram(x, width): rows per bucket, the bucket being x rounded down to a multiple of the
// width.
class HistogramAccumulator final : public Accumulator {
 public:
  using Accumulator::Accumulator;
  void Resize(size_t groups) override {
    ints_.resize(groups);
    floats_.resize(groups);
  }
  void Update(const std::vector<Datum>& args, const Selection& sel,
              const int32_t* group_of) override {
    ForEachValue(args[0], sel, [&](int64_t r, const Value& x) {
      const size_t g = G(group_of, r);
      if (x.type == TypeId::kFloat) {
        const double w = spec_.bucket.type == TypeId::kFloat ? spec_.bucket.f
                                                             : static_cast<double>(spec_.bucket.i);
        if (!(w > 0) || std::isnan(x.f)) return;
        Add(&floats_[g], std::floor(x.f / w) * w, 1);
      } else if (IsInt64Backed(x.type)) {
        const int64_t w = spec_.bucket.i;
        if (w <= 0) return;
        int64_t q = x.i / w;
        if (x.i % w != 0 && x.i < 0) --q;
        int64_t lower;
        if (__builtin_mul_overflow(q, w, &lower)) return;
        Add(&ints_[g], lower, 1);
      }
    });
  }
  void Serialize(size_t g, ByteWriter* w) const override {
    w->Varint(ints_[g].size());
    for (const auto& [lower, n] : ints_[g]) {
      w->SignedVarint(lower);
      w->Varint(static_cast<uint64_t>(n));
    }
    w->Varint(floats_[g].size());
    for (const auto& [lower, n] : floats_[g]) {
      w->F64(lower);
      w->Varint(static_cast<uint64_t>(n));
    }
  }
  bool Merge(size_t g, ByteReader* r) override {
    uint64_t count, n;
    if (!r->Count(&count, 2)) return false;
    for (uint64_t i = 0; i < count; ++i) {
      int64_t lower;
      if (!r->SignedVarint(&lower) || !r->Varint(&n)) return false;
      Add(&ints_[g], lower, static_cast<int64_t>(n));
    }
    if (!r->Count(&count, 9)) return false;
    for (uint64_t i = 0; i < count; ++i) {
      double lower;
      if (!r->F64(&lower) || std::isnan(lower) || !r->Varint(&n)) return false;
      Add(&floats_[g], lower, static_cast<int64_t>(n));
    }
    return true;
  }
  Value Final(size_t g) override {
    if (ints_[g].empty() && floats_[g].empty()) return Value::Null(TypeId::kDynamic);
    // {"<lower bound as text>": rows, ...} in increasing order of the bounds.
    std::string json = "{";
    auto add = [&](const Value& bound, int64_t rows) {
      if (json.size() > 1) json += ',';
      json += ValueToJson(Value::String(ValueToText(bound)));
      json += ':' + std::to_string(rows);
    };
    for (const auto& [lower, rows] : ints_[g]) {
      Value b = Value::Int(lower);
      b.type = spec_.args[0]->type;
      add(b, rows);
    }
    for (const auto& [lower, rows] : floats_[g]) add(Value::Float(lower), rows);
    json += '}';
    return Value::Dynamic(std::move(json));
  }
  size_t MemoryUsage() const override {
    return ints_.capacity() * sizeof(ints_[0]) * 2 + buckets_ * 64;
  }

 private:
  template <typename K>
  void Add(std::map<K, int64_t>* m, K lower, int64_t n) {
    auto [it, fresh] = m->emplace(lower, 0);
    it->second += n;
    if (fresh) ++buckets_;
  }
  std::vector<std::map<int64_t, int64_t>> ints_;
  std::vector<std::map<double, int64_t>> floats_;
  size_t buckets_ = 0;
};

// make_set and make_list: values as JSON text, at most max_items of them.
class CollectAccumulator final : public Accumulator {
 public:
  using Accumulator::Accumulator;
  void Resize(size_t groups) override {
    items_.resize(groups);
    if (spec_.kind == AggKind::kMakeSet) seen_.resize(groups);
  }
  void Update(const std::vector<Datum>& args, const Selection& sel,
              const int32_t* group_of) override {
    ForEachValue(args[0], sel, [&](int64_t r, const Value& x) {
      Add(G(group_of, r), x.type == TypeId::kDynamic ? x.s : ValueToJson(x));
    });
  }
  void Serialize(size_t g, ByteWriter* w) const override {
    w->Varint(items_[g].size());
    for (const std::string& s : items_[g]) w->Bytes(s);
  }
  bool Merge(size_t g, ByteReader* r) override {
    uint64_t n;
    if (!r->Count(&n)) return false;
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view s;
      if (!r->Bytes(&s)) return false;
      Add(g, std::string(s));
    }
    return true;
  }
  Value Final(size_t g) override {
    if (items_[g].empty()) return Value::Null(TypeId::kDynamic);  // as every aggregate
    std::string json = "[";
    for (size_t i = 0; i < items_[g].size(); ++i) {
      if (i) json += ',';
      json += items_[g][i];
    }
    json += ']';
    return Value::Dynamic(std::move(json));
  }
  size_t MemoryUsage() const override {
    return items_.capacity() * sizeof(items_[0]) + seen_.capacity() * sizeof(seen_[0]) + bytes_;
  }

 private:
  void Add(size_t g, std::string json) {
    if (spec_.max_items >= 0 && static_cast<int64_t>(items_[g].size()) >= spec_.max_items) return;
    if (spec_.kind == AggKind::kMakeSet) {
      if (!seen_[g].insert(json).second) return;
      bytes_ += json.size() + 64;
    }
    bytes_ += json.size() + 32;
    items_[g].push_back(std::move(json));
  }
  std::vector<std::vector<std::string>> items_;
  std::vector<std::unordered_set<std::string>> seen_;
  size_t bytes_ = 0;
};

std::unique_ptr<Accumulator> MakeAccumulator(const AggregateSpec& spec) {
  switch (spec.kind) {
    case AggKind::kCount:
    case AggKind::kCountIf:
      return std::make_unique<CountAccumulator>(spec);
    case AggKind::kSum:
    case AggKind::kAvg:
      return std::make_unique<SumAccumulator>(spec);
    case AggKind::kVariance:
    case AggKind::kStdev:
      return std::make_unique<VarianceAccumulator>(spec);
    case AggKind::kMin:
    case AggKind::kMax:
    case AggKind::kAny:
      return std::make_unique<BestAccumulator>(spec);
    case AggKind::kArgMin:
    case AggKind::kArgMax:
      return std::make_unique<ArgAccumulator>(spec);
    case AggKind::kDcount:
      return std::make_unique<DcountAccumulator>(spec);
    case AggKind::kDcountExact:
      return std::make_unique<DcountExactAccumulator>(spec);
    case AggKind::kPercentile:
    case AggKind::kPercentileExact: {
      const TypeId arg = spec.args[0]->type;
      // A relative error on a point in time has no meaning: timestamps rank exactly.
      if (spec.kind == AggKind::kPercentile && arg != TypeId::kTimestamp) {
        return std::make_unique<QuantileAccumulator>(spec);
      }
      if (IsInt64Backed(arg)) return std::make_unique<QuantileExactAccumulator<int64_t>>(spec);
      return std::make_unique<QuantileExactAccumulator<double>>(spec);
    }
    case AggKind::kHistogram:
      return std::make_unique<HistogramAccumulator>(spec);
    case AggKind::kMakeSet:
    case AggKind::kMakeList:
      return std::make_unique<CollectAccumulator>(spec);
  }
  return nullptr;
}

constexpr char kPartialMagic[8] = {'T', 'Q', 'L', 'P', 'A', 'R', 'T', '1'};

}  // namespace

// ---- The operator ---------------------------------------------------------------------------

AggregateOperator::AggregateOperator(std::vector<const PExpr*> keys,
                                     std::vector<AggregateSpec> aggregates, SchemaPtr post_schema,
                                     std::vector<const PExpr*> outputs, SchemaPtr schema,
                                     const EvalContext* ctx, BatchConsumer* next, bool partial)
    : keys_(std::move(keys)),
      aggregates_(std::move(aggregates)),
      post_schema_(std::move(post_schema)),
      outputs_(std::move(outputs)),
      schema_(std::move(schema)),
      ctx_(ctx),
      next_(next),
      partial_(partial) {
  // One word per key, then one bit per key for nulls. Without keys, one word that is always
  // zero: the single group, which exists also for empty input.
  width_ = keys_.empty() ? 1 : static_cast<int>(keys_.size() + (keys_.size() + 63) / 64);
  table_ = std::make_unique<GroupTable>(width_);
  strings_ = std::make_unique<StringInterner>();
  code_ids_.resize(keys_.size());
  float_first_.resize(keys_.size());
  for (const PExpr* k : keys_) float_keys_ = float_keys_ || k->type == TypeId::kFloat;
  for (const AggregateSpec& spec : aggregates_) accumulators_.push_back(MakeAccumulator(spec));
  if (keys_.empty()) {
    const uint64_t zero = 0;
    table_->FindOrInsert(&zero, table_->Hash(&zero));
    AddGroups(1);
  }
}

AggregateOperator::~AggregateOperator() = default;

int32_t AggregateOperator::num_groups() const {
  return table_->size();
}

void AggregateOperator::AddGroups(int32_t groups) {
  state_groups_ = groups;
  for (auto& acc : accumulators_) acc->Resize(static_cast<size_t>(groups));
  if (!kernel_arrays_.empty()) {
    for (size_t a = 0; a < accumulators_.size(); ++a) {
      accumulators_[a]->KernelArrays(kernel_arrays_.data() + 3 * a);
    }
  }
}

void AggregateOperator::Fuse(const AggregateFusion& fusion,
                             std::shared_ptr<const CompiledAggregate> kernel,
                             std::shared_ptr<PendingAggregate> pending) {
  conjuncts_ = fusion.conjuncts;
  // The same key and arguments, over the scan's columns (rewritten through projections).
  if (fusion.key != nullptr) keys_[0] = fusion.key;
  for (size_t a = 0; a < aggregates_.size(); ++a) {
    if (fusion.aggregates[a].arg != nullptr) aggregates_[a].args[0] = fusion.aggregates[a].arg;
  }
  kernel_ = std::move(kernel);
  pending_ = std::move(pending);
  kernel_arrays_.assign(3 * accumulators_.size(), nullptr);
  kernel_state_.group_of = &AggregateOperator::KernelGroupOf;
  kernel_state_.owner = this;
  kernel_state_.arrays = kernel_arrays_.data();
  if (keys_.empty()) kernel_state_.last_group = 0;
  AddGroups(table_->size());
}

int64_t AggregateOperator::KernelGroupOf(AggregateKernelState* state, int64_t key,
                                         int64_t is_null) {
  auto* op = static_cast<AggregateOperator*>(state->owner);
  // The words of one key, as EncodeKeys writes them: the value (0 when null; for a string,
  // its interned id), the null bit. A string key arrives as its code in the batch's dictionary.
  const bool by_code = is_null == 0 && op->kernel_dictionary_ != nullptr;
  const uint64_t words[2] = {
      is_null != 0 ? 0
      : by_code
          ? uint64_t{op->strings_->Intern(op->kernel_dictionary_->dictionary().GetString(key))}
          : static_cast<uint64_t>(key),
      is_null != 0 ? uint64_t{1} : 0};
  const int32_t g = op->table_->FindOrInsert<2>(words, op->table_->Hash<2>(words));
  // States for new groups ahead of the table, doubling (one group at a time would resize
  // every state array per new key); the states past the table's size stay unused.
  if (op->table_->size() > op->state_groups_) {
    op->AddGroups(std::max({op->table_->size(), 2 * op->state_groups_, int32_t{64}}));
  }
  // Also for a key that was there: FindOrInsert may have grown the slots first.
  op->ShowTableToKernel();
  if (by_code) op->kernel_state_.code_groups[key] = g;  // the same map GroupsOf keeps
  return g;
}

std::vector<int32_t>& AggregateOperator::CodeGroups(const Vector& kv) {
  for (auto& [dict, map] : code_groups_) {
    if (dict.get() == &kv.dictionary()) return map;
  }
  code_groups_.emplace_back(
      kv.dictionary_ptr(), std::vector<int32_t>(static_cast<size_t>(kv.dictionary().length()), -1));
  return code_groups_.back().second;
}

void AggregateOperator::ShowDictionaryToKernel(const Batch& batch) {
  kernel_state_.code_groups = nullptr;
  kernel_dictionary_ = nullptr;
  if (keys_.size() != 1 || keys_[0]->kind != PKind::kColumn || !IsStringBacked(keys_[0]->type)) {
    return;
  }
  const Vector& kv = batch.column(keys_[0]->column);
  if (!kv.is_dictionary()) return;  // the kernel declines the batch
  kernel_dictionary_ = &kv;
  kernel_state_.code_groups = CodeGroups(kv).data();
}

void AggregateOperator::ShowTableToKernel() {
  kernel_state_.slots = table_->slot_words();
  kernel_state_.slot_mask = table_->slot_mask();
  kernel_state_.keys = table_->key_words();
}

std::vector<int64_t>& AggregateOperator::CodeIds(size_t key, const Vector& v) {
  for (auto& [dict, map] : code_ids_[key]) {
    if (dict.get() == &v.dictionary()) return map;
  }
  code_ids_[key].emplace_back(
      v.dictionary_ptr(), std::vector<int64_t>(static_cast<size_t>(v.dictionary().length()), -1));
  return code_ids_[key].back().second;
}

void AggregateOperator::EncodeKeys(const std::vector<Vector>& key_vectors, const Selection& sel) {
  const auto w = static_cast<size_t>(width_);
  const size_t nkeys = key_vectors.size();
  const size_t rows = static_cast<size_t>(key_vectors[0].length());
  if (words_.size() < rows * w) words_.resize(rows * w);
  uint64_t* words = words_.data();
  // Every selected row's key words are written below; only the null bits start at zero.
  sel.ForEach([&](int64_t r) {
    uint64_t* row = words + static_cast<size_t>(r) * w;
    for (size_t i = nkeys; i < w; ++i) row[i] = 0;
  });
  for (size_t k = 0; k < nkeys; ++k) {
    const Vector& kv = key_vectors[k];
    const size_t null_word = nkeys + k / 64;
    const uint64_t null_bit = uint64_t{1} << (k % 64);
    const uint8_t* valid = kv.validity_bits();
    if (kv.type() == TypeId::kNull) {
      sel.ForEach([&](int64_t r) {
        uint64_t* row = words + static_cast<size_t>(r) * w;
        row[k] = 0;
        row[null_word] |= null_bit;
      });
      continue;
    }
    auto each = [&](auto&& word) {
      sel.ForEach([&](int64_t r) {
        uint64_t* row = words + static_cast<size_t>(r) * w;
        if (valid != nullptr && !bits::Get(valid, r)) {
          row[k] = 0;
          row[null_word] |= null_bit;
        } else {
          row[k] = word(r);
        }
      });
    };
    if (IsInt64Backed(kv.type())) {
      const int64_t* iv = kv.int64_values();
      each([iv](int64_t r) { return static_cast<uint64_t>(iv[r]); });
    } else if (kv.type() == TypeId::kFloat) {
      const double* fv = kv.float_values();
      each([fv](int64_t r) { return FloatKeyBits(fv[r]); });
    } else if (kv.type() == TypeId::kBool) {
      each([&kv](int64_t r) { return uint64_t{kv.GetBool(r) ? 1u : 0u}; });
    } else if (kv.is_dictionary()) {
      // Each code is interned once per dictionary.
      std::vector<int64_t>& ids = CodeIds(k, kv);
      const int32_t* codes = kv.dictionary_codes();
      each([&](int64_t r) {
        int64_t& id = ids[static_cast<size_t>(codes[r])];
        if (id < 0) id = strings_->Intern(kv.GetString(r));
        return static_cast<uint64_t>(id);
      });
    } else {
      each([&](int64_t r) { return uint64_t{strings_->Intern(kv.GetString(r))}; });
    }
  }
}

void AggregateOperator::EncodeValue(size_t key, const Value& v, uint64_t* words) {
  if (v.null) {
    words[keys_.size() + key / 64] |= uint64_t{1} << (key % 64);
    return;
  }
  switch (keys_[key]->type) {
    case TypeId::kFloat:
      words[key] = FloatKeyBits(v.f);
      break;
    case TypeId::kString:
    case TypeId::kDynamic:
      words[key] = strings_->Intern(v.s);
      break;
    default:
      words[key] = static_cast<uint64_t>(v.i);
      break;
  }
}

Value AggregateOperator::KeyValue(int32_t group, size_t key) const {
  const uint64_t* words = table_->key(group);
  const TypeId type = keys_[key]->type;
  if ((words[keys_.size() + key / 64] >> (key % 64)) & 1) return Value::Null(type);
  const uint64_t w = words[key];
  switch (type) {
    case TypeId::kNull:
      return Value::Null(type);
    case TypeId::kBool:
      return Value::Bool(w != 0);
    case TypeId::kFloat:
      return Value::Float(float_first_[key][static_cast<size_t>(group)]);
    case TypeId::kString:
      return Value::String(std::string(strings_->Get(static_cast<uint32_t>(w))));
    case TypeId::kDynamic:
      return Value::Dynamic(std::string(strings_->Get(static_cast<uint32_t>(w))));
    default: {
      Value v = Value::Int(static_cast<int64_t>(w));
      v.type = type;
      return v;
    }
  }
}

void AggregateOperator::GroupsOf(const std::vector<Vector>& key_vectors, const Selection& sel) {
  int32_t* group_of = group_of_.data();
  if (keys_.size() == 1 && key_vectors[0].is_dictionary()) {
    // One dictionary-encoded key (service, route, status): a direct map from code to group,
    // per dictionary, instead of hashing every row's key.
    const Vector& kv = key_vectors[0];
    std::vector<int32_t>* map = &CodeGroups(kv);
    const int32_t* codes = kv.dictionary_codes();
    const uint8_t* valid = kv.validity_bits();
    int32_t null_group = -1;
    sel.ForEach([&](int64_t r) {
      uint64_t key[2] = {0, 0};
      if (valid != nullptr && !bits::Get(valid, r)) {
        if (null_group < 0) {
          key[1] = 1;
          null_group = table_->FindOrInsert(key, table_->Hash(key));
        }
        group_of[r] = null_group;
        return;
      }
      int32_t& g = (*map)[static_cast<size_t>(codes[r])];
      if (g < 0) {
        key[0] = strings_->Intern(kv.GetString(r));
        g = table_->FindOrInsert(key, table_->Hash(key));
      }
      group_of[r] = g;
    });
    return;
  }
  EncodeKeys(key_vectors, sel);
  const uint64_t* words = words_.data();
  GroupTable& table = *table_;
  // The lookups with the key width known at compile time for the common widths.
  // A new group of float keys keeps the keys' first values as they were.
  auto first_values = [&](int64_t r) {
    for (size_t k = 0; k < keys_.size(); ++k) {
      if (keys_[k]->type != TypeId::kFloat) continue;
      const Vector& kv = key_vectors[k];
      float_first_[k].push_back(kv.type() == TypeId::kFloat && kv.IsValid(r) ? kv.GetFloat(r) : 0);
    }
  };
  auto lookup = [&](auto width) {
    constexpr int kWidth = decltype(width)::value;
    if (float_keys_) {
      sel.ForEach([&](int64_t r) {
        const uint64_t* key = words + static_cast<size_t>(r) * kWidth;
        const int32_t before = table.size();
        group_of[r] = table.FindOrInsert<kWidth>(key, table.Hash<kWidth>(key));
        if (group_of[r] == before) first_values(r);
      });
      return;
    }
    sel.ForEach([&](int64_t r) {
      const uint64_t* key = words + static_cast<size_t>(r) * kWidth;
      group_of[r] = table.FindOrInsert<kWidth>(key, table.Hash<kWidth>(key));
    });
  };
  switch (width_) {
    case 2:
      return lookup(std::integral_constant<int, 2>());
    case 3:
      return lookup(std::integral_constant<int, 3>());
    case 4:
      return lookup(std::integral_constant<int, 4>());
    case 5:
      return lookup(std::integral_constant<int, 5>());
    default: {
      const auto w = static_cast<size_t>(width_);
      sel.ForEach([&](int64_t r) {
        const uint64_t* key = words + static_cast<size_t>(r) * w;
        const int32_t before = table.size();
        group_of[r] = table.FindOrInsert(key, table.Hash(key));
        if (float_keys_ && group_of[r] == before) first_values(r);
      });
    }
  }
}

size_t AggregateOperator::MemoryUsage() const {
  size_t bytes = table_->MemoryUsage() + strings_->MemoryUsage() + words_.capacity() * 8 +
                 group_of_.capacity() * 4;
  for (const auto& acc : accumulators_) bytes += acc->MemoryUsage();
  for (const auto& ids : code_ids_) {
    for (const auto& [dict, map] : ids) bytes += map.capacity() * 8;
  }
  for (const auto& [dict, map] : code_groups_) bytes += map.capacity() * 4;
  return bytes;
}

Status AggregateOperator::CheckMemory() const {
  const int64_t limit = ctx_->memory_limit;
  if (limit <= 0) return Status::Ok();
  // What the other operators of the query hold (the result, a sort) counts too.
  const int64_t others = ctx_->control != nullptr ? ctx_->control->memory_used() : 0;
  const auto used = static_cast<int64_t>(MemoryUsage()) + others;
  if (used <= limit) return Status::Ok();
  return Status(StatusCode::kLimitExceeded,
                fmt::format("summarize needs more than the memory limit of {} ({} groups so far); "
                            "raise the limit (--memory-limit), or group by fewer or coarser keys",
                            QueryControl::FormatBytes(limit), table_->size()));
}

Status AggregateOperator::Consume(Chunk& chunk) {
  const Batch& b = chunk.batch;
  const int64_t n = b.num_rows();
  TakeWhenReady(&pending_, &kernel_);
  if (kernel_ != nullptr) {
    ShowTableToKernel();  // the interpreter may have added groups
    ShowDictionaryToKernel(b);
    TQL_ASSIGN_OR_RETURN(bool done, kernel_->Update(b, chunk.sel, *ctx_, &kernel_state_));
    if (done) return CheckMemory();
  }
  TQL_ASSIGN_OR_RETURN(chunk.sel, SelectAllTrue(conjuncts_, b, std::move(chunk.sel), *ctx_));
  if (chunk.sel.empty()) return Status::Ok();
  // Keyed: GroupsOf writes the group of every selected row. Without keys: all group 0.
  if (keys_.empty()) {
    group_of_.assign(static_cast<size_t>(n), 0);
  } else {
    if (group_of_.size() < static_cast<size_t>(n)) group_of_.resize(static_cast<size_t>(n));
    std::vector<Vector> key_vectors;
    for (const PExpr* k : keys_) {
      TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(*k, b, chunk.sel, *ctx_));
      key_vectors.push_back(Materialize(d, n));
    }
    GroupsOf(key_vectors, chunk.sel);
    AddGroups(table_->size());
  }
  std::vector<Datum> args;
  for (size_t a = 0; a < aggregates_.size(); ++a) {
    args.clear();
    for (const PExpr* e : aggregates_[a].args) {
      TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(*e, b, chunk.sel, *ctx_));
      args.push_back(std::move(d));
    }
    accumulators_[a]->Update(args, chunk.sel, group_of_.data());
  }
  return CheckMemory();
}

uint64_t AggregateOperator::Fingerprint() const {
  std::string desc;
  ByteWriter w(&desc);
  w.Varint(keys_.size());
  for (const PExpr* k : keys_) w.U8(static_cast<uint8_t>(k->type));
  w.Varint(aggregates_.size());
  for (const AggregateSpec& a : aggregates_) {
    w.U8(static_cast<uint8_t>(a.kind));
    w.U8(static_cast<uint8_t>(a.type));
    w.F64(a.fraction);
    w.SignedVarint(a.max_items);
    PutValue(&w, a.bucket);
    for (const PExpr* e : a.args) w.U8(static_cast<uint8_t>(e->type));
  }
  return HashBytes(desc.data(), desc.size());
}

std::string AggregateOperator::SerializePartial() const {
  std::string out;
  ByteWriter w(&out);
  w.Raw(kPartialMagic, sizeof kPartialMagic);
  w.U64(Fingerprint());
  const int32_t groups = table_->size();
  w.Varint(static_cast<uint64_t>(groups));
  for (int32_t g = 0; g < groups; ++g) {
    for (size_t k = 0; k < keys_.size(); ++k) PutValue(&w, KeyValue(g, k));
  }
  for (const auto& acc : accumulators_) {
    for (int32_t g = 0; g < groups; ++g) acc->Serialize(static_cast<size_t>(g), &w);
  }
  return out;
}

Status AggregateOperator::MergePartial(std::string_view bytes) {
  ByteReader r(bytes);
  char magic[sizeof kPartialMagic];
  uint64_t fingerprint, groups;
  if (!r.Raw(magic, sizeof magic) || std::memcmp(magic, kPartialMagic, sizeof magic) != 0 ||
      !r.U64(&fingerprint)) {
    return Status::InvalidInput("this is not a partial aggregate state of tql");
  }
  if (fingerprint != Fingerprint()) {
    return Status::InvalidInput(
        "this partial aggregate state was made by a different summarize (other keys, "
        "aggregates or types); merge only the partials of the same query");
  }
  const Status corrupt =
      Status::InvalidInput("the partial aggregate state is truncated or corrupt");
  if (!r.Count(&groups, 2 * keys_.size()) || (keys_.empty() && groups != 1)) return corrupt;
  std::vector<int32_t> local(groups);
  std::vector<uint64_t> key(static_cast<size_t>(width_));
  Value v;
  std::vector<double> values(keys_.size());
  for (uint64_t g = 0; g < groups; ++g) {
    std::fill(key.begin(), key.end(), 0);
    for (size_t k = 0; k < keys_.size(); ++k) {
      if (!GetValue(&r, &v)) return corrupt;
      if (v.type != keys_[k]->type && !(v.null && keys_[k]->type == TypeId::kNull)) return corrupt;
      EncodeValue(k, v, key.data());
      values[k] = v.null ? 0 : v.f;
    }
    const int32_t before = table_->size();
    local[g] = table_->FindOrInsert(key.data(), table_->Hash(key.data()));
    if (local[g] == before) {
      for (size_t k = 0; k < keys_.size(); ++k) {
        if (keys_[k]->type == TypeId::kFloat) float_first_[k].push_back(values[k]);
      }
    }
  }
  AddGroups(table_->size());
  for (auto& acc : accumulators_) {
    for (uint64_t g = 0; g < groups; ++g) {
      if (!acc->Merge(static_cast<size_t>(local[g]), &r)) return corrupt;
    }
  }
  if (r.remaining() != 0) return corrupt;
  return CheckMemory();
}

Status AggregateOperator::Finish() {
  if (partial_) return Status::Ok();  // the state stays for SerializePartial
  const int32_t groups = table_->size();
  // The post batch: keys, then each aggregate's final value, one row per group.
  std::vector<Vector> cols;
  for (size_t k = 0; k < keys_.size(); ++k) {
    VectorWriter w(post_schema_->field(static_cast<int>(k)).type, groups);
    for (int32_t g = 0; g < groups; ++g) {
      const Value v = KeyValue(g, k);
      if (!v.null) w.Set(g, v);
    }
    TQL_ASSIGN_OR_RETURN(Vector v, w.FinishChecked());
    cols.push_back(std::move(v));
  }
  for (size_t a = 0; a < aggregates_.size(); ++a) {
    VectorWriter w(aggregates_[a].type, groups);
    for (int32_t g = 0; g < groups; ++g) {
      const Value v = accumulators_[a]->Final(static_cast<size_t>(g));
      if (!v.null) w.Set(g, v);
    }
    TQL_ASSIGN_OR_RETURN(Vector v, w.FinishChecked());
    cols.push_back(std::move(v));
  }
  Batch post(post_schema_, std::move(cols), groups);
  // The output columns, a batch at a time.
  for (int64_t off = 0; off < groups; off += kDefaultBatchRows) {
    if (next_->Satisfied()) break;
    const int64_t len = std::min<int64_t>(kDefaultBatchRows, groups - off);
    Batch slice = post.Slice(off, len);
    std::vector<Vector> out;
    for (size_t i = 0; i < outputs_.size(); ++i) {
      TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(*outputs_[i], slice, Selection::All(len), *ctx_));
      const TypeId type = schema_->field(static_cast<int>(i)).type;
      Vector v = d.is_constant ? ConstantVector(d.constant, type, len) : std::move(d.vector);
      if (v.type() != type) {
        return Status::Internal("summarize output {} is {}, not {}", i, TypeName(v.type()),
                                TypeName(type));
      }
      out.push_back(std::move(v));
    }
    Chunk chunk{Batch(schema_, std::move(out), len), Selection::All(len)};
    TQL_RETURN_IF_ERROR(next_->Consume(chunk));
  }
  return next_->Finish();
}

}  // namespace tql

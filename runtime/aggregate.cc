#include "runtime/aggregate.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_set>

#include "runtime/operators.h"
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
      {"dcount_exact", AggKind::kDcount},
      {"variance", AggKind::kVariance},
      {"stdev", AggKind::kStdev},
      {"percentile", AggKind::kPercentile},
      {"percentile_exact", AggKind::kPercentile},
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

// A datum as a vector as long as the batch.
Vector Materialize(const Datum& d, int64_t n) {
  if (d.is_constant) return ConstantVector(d.constant, d.constant.type, n);
  return d.vector;
}

}  // namespace

// The states of one aggregate for every group; only the members its kind uses grow.
struct AggregateOperator::State {
  std::vector<int64_t> count;
  std::vector<Int128> int_sum;
  std::vector<double> float_sum, mean, m2;
  std::vector<uint8_t> has;
  std::vector<Value> best, best_x;
  std::vector<std::unordered_set<std::string>> distinct;
  std::vector<std::vector<double>> values;
  std::vector<std::vector<std::string>> items;
  std::vector<std::map<int64_t, int64_t>> hist_int;  // bucket lower bound -> rows
  std::vector<std::map<double, int64_t>> hist_float;

  void Grow(AggKind kind, size_t groups) {
    if (count.size() >= groups) return;
    count.resize(groups);
    has.resize(groups);
    switch (kind) {
      case AggKind::kSum:
      case AggKind::kAvg:
        int_sum.resize(groups);
        float_sum.resize(groups);
        break;
      case AggKind::kVariance:
      case AggKind::kStdev:
        mean.resize(groups);
        m2.resize(groups);
        break;
      case AggKind::kMin:
      case AggKind::kMax:
      case AggKind::kAny:
        best.resize(groups);
        break;
      case AggKind::kArgMin:
      case AggKind::kArgMax:
        best.resize(groups);
        best_x.resize(groups);
        break;
      case AggKind::kDcount:
        distinct.resize(groups);
        break;
      case AggKind::kPercentile:
        values.resize(groups);
        break;
      case AggKind::kMakeSet:
        distinct.resize(groups);
        items.resize(groups);
        break;
      case AggKind::kMakeList:
        items.resize(groups);
        break;
      case AggKind::kHistogram:
        hist_int.resize(groups);
        hist_float.resize(groups);
        break;
      default:
        break;
    }
  }
};

AggregateOperator::AggregateOperator(std::vector<const PExpr*> keys,
                                     std::vector<AggregateSpec> aggregates, SchemaPtr post_schema,
                                     std::vector<const PExpr*> outputs, SchemaPtr schema,
                                     const EvalContext* ctx, BatchConsumer* next)
    : keys_(std::move(keys)),
      aggregates_(std::move(aggregates)),
      post_schema_(std::move(post_schema)),
      outputs_(std::move(outputs)),
      schema_(std::move(schema)),
      ctx_(ctx),
      next_(next) {
  key_values_.resize(keys_.size());
  // Fixed-width keys: several int64/bool/string keys, or one int64 key. (A single string key
  // keeps the hashed key bytes, with the direct code-to-group map for dictionaries.)
  bool all_fixed = !keys_.empty() && keys_.size() <= 4;
  for (const PExpr* k : keys_) {
    all_fixed = all_fixed &&
                (IsInt64Backed(k->type) || k->type == TypeId::kBool || k->type == TypeId::kString);
  }
  fixed_keys_ = all_fixed && !(keys_.size() == 1 && keys_[0]->type == TypeId::kString);
  interned_.resize(keys_.size());
  code_ids_.resize(keys_.size());
  for (size_t i = 0; i < aggregates_.size(); ++i) states_.push_back(std::make_unique<State>());
  // Without keys there is exactly one group, also for empty input.
  if (keys_.empty()) {
    groups_.emplace("", 0);
    num_groups_ = 1;
    for (size_t a = 0; a < aggregates_.size(); ++a) states_[a]->Grow(aggregates_[a].kind, 1);
  }
}

AggregateOperator::~AggregateOperator() = default;

// The group of row `r` of the (single) key vector, made on first sight through the hash table
// so that every path agrees on group identity.
int32_t AggregateOperator::KeyGroup(const Vector& kv, int64_t r) {
  key_.clear();
  AppendKeyBytes(kv, r, &key_);
  auto [it, fresh] = groups_.emplace(key_, num_groups_);
  if (fresh) {
    ++num_groups_;
    Value v;
    ReadValue(kv, r, &v);
    key_values_[0].push_back(v);
  }
  return it->second;
}

uint64_t AggregateOperator::InternedId(size_t key, const Vector& v, int64_t row) {
  auto intern = [&](std::string_view text) {
    auto [it, fresh] = interned_[key].emplace(std::string(text), interned_[key].size());
    return it->second;
  };
  if (!v.is_dictionary()) return intern(v.GetString(row));
  // Encoded: each code is interned once per dictionary.
  std::vector<int64_t>* ids = nullptr;
  for (auto& [dict, map] : code_ids_[key]) {
    if (dict.get() == &v.dictionary()) ids = &map;
  }
  if (ids == nullptr) {
    code_ids_[key].emplace_back(
        v.dictionary_ptr(), std::vector<int64_t>(static_cast<size_t>(v.dictionary().length()), -1));
    ids = &code_ids_[key].back().second;
  }
  int64_t& id = (*ids)[static_cast<size_t>(v.dictionary_codes()[row])];
  if (id < 0) id = static_cast<int64_t>(intern(v.GetString(row)));
  return static_cast<uint64_t>(id);
}

int32_t AggregateOperator::NullGroup() {
  if (null_group_ < 0) {
    key_.assign(1, '\0');  // AppendKeyBytes of a null
    auto [it, fresh] = groups_.emplace(key_, num_groups_);
    if (fresh) {
      ++num_groups_;
      key_values_[0].push_back(Value::Null(keys_[0]->type));
    }
    null_group_ = it->second;
  }
  return null_group_;
}

std::vector<int32_t>& AggregateOperator::CodeMap(const Vector& kv) {
  for (auto& [dict, map] : code_maps_) {
    if (dict.get() == &kv.dictionary()) return map;
  }
  code_maps_.emplace_back(kv.dictionary_ptr(),
                          std::vector<int32_t>(static_cast<size_t>(kv.dictionary().length()), -1));
  return code_maps_.back().second;
}

// Count, sum, avg, min, max, variance and quantiles of an int64, float or bool vector without
// going through Values. False when the aggregate or its argument has no such path.
bool AggregateOperator::UpdateTyped(const AggregateSpec& spec, const std::vector<Datum>& args,
                                    const Selection& sel, const std::vector<int32_t>& group_of,
                                    State* st) {
  if (spec.kind == AggKind::kCount && args.empty()) {
    sel.ForEach(
        [&](int64_t r) { ++st->count[static_cast<size_t>(group_of[static_cast<size_t>(r)])]; });
    return true;
  }
  if (args.size() != 1 || args[0].is_constant) return false;
  const Vector& v = args[0].vector;
  const uint8_t* valid = v.validity_bits();
  auto is_valid = [valid](int64_t r) { return valid == nullptr || bits::Get(valid, r); };
  auto group = [&](int64_t r) { return static_cast<size_t>(group_of[static_cast<size_t>(r)]); };
  if (spec.kind == AggKind::kCount) {
    if (v.type() == TypeId::kNull) return true;
    sel.ForEach([&](int64_t r) {
      if (is_valid(r)) ++st->count[group(r)];
    });
    return true;
  }
  if (spec.kind == AggKind::kCountIf && v.type() == TypeId::kBool) {
    const uint8_t* b = v.bool_bits();
    sel.ForEach([&](int64_t r) {
      if (is_valid(r) && bits::Get(b, r)) ++st->count[group(r)];
    });
    return true;
  }
  const bool ints = IsInt64Backed(v.type());
  if (!ints && v.type() != TypeId::kFloat) return false;
  const int64_t* iv = ints ? v.int64_values() : nullptr;
  const double* fv = ints ? nullptr : v.float_values();
  switch (spec.kind) {
    case AggKind::kSum:
    case AggKind::kAvg:
      sel.ForEach([&](int64_t r) {
        if (!is_valid(r)) return;
        const size_t g = group(r);
        ++st->count[g];
        st->has[g] = 1;
        if (ints) {
          st->int_sum[g] += iv[r];
        } else {
          st->float_sum[g] += fv[r];
        }
      });
      return true;
    case AggKind::kMin:
    case AggKind::kMax: {
      if (!ints) return false;  // NaN ordering: the Value path
      const bool is_min = spec.kind == AggKind::kMin;
      sel.ForEach([&](int64_t r) {
        if (!is_valid(r)) return;
        const size_t g = group(r);
        const int64_t x = iv[r];
        if (!st->has[g] || (is_min ? x < st->best[g].i : x > st->best[g].i)) {
          st->best[g].type = v.type();
          st->best[g].null = false;
          st->best[g].i = x;
          st->has[g] = 1;
        }
      });
      return true;
    }
    case AggKind::kVariance:
    case AggKind::kStdev:
      sel.ForEach([&](int64_t r) {
        if (!is_valid(r)) return;
        const size_t g = group(r);
        const double x = ints ? static_cast<double>(iv[r]) : fv[r];
        const int64_t k = ++st->count[g];
        const double delta = x - st->mean[g];
        st->mean[g] += delta / static_cast<double>(k);
        st->m2[g] += delta * (x - st->mean[g]);
      });
      return true;
    case AggKind::kPercentile:
      sel.ForEach([&](int64_t r) {
        if (is_valid(r)) st->values[group(r)].push_back(ints ? static_cast<double>(iv[r]) : fv[r]);
      });
      return true;
    default:
      return false;
  }
}

Status AggregateOperator::Consume(Chunk& chunk) {
  const Batch& b = chunk.batch;
  const int64_t n = b.num_rows();
  // The group of every selected row.
  std::vector<Vector> key_vectors;
  for (const PExpr* k : keys_) {
    TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(*k, b, chunk.sel, *ctx_));
    key_vectors.push_back(Materialize(d, n));
  }
  std::vector<int32_t> group_of(static_cast<size_t>(n), 0);
  if (keys_.size() == 1 && key_vectors[0].is_dictionary()) {
    // One dictionary-encoded key (service, route, status): a direct map from code to group,
    // per dictionary, instead of hashing every row's key.
    const Vector& kv = key_vectors[0];
    std::vector<int32_t>& map = CodeMap(kv);
    const int32_t* codes = kv.dictionary_codes();
    chunk.sel.ForEach([&](int64_t r) {
      if (kv.IsNull(r)) {
        group_of[static_cast<size_t>(r)] = NullGroup();
        return;
      }
      int32_t& g = map[static_cast<size_t>(codes[r])];
      if (g < 0) g = KeyGroup(kv, r);
      group_of[static_cast<size_t>(r)] = g;
    });
  } else if (fixed_keys_) {
    FixedKey key{};
    chunk.sel.ForEach([&](int64_t r) {
      uint64_t nulls = 0;
      for (size_t k = 0; k < key_vectors.size(); ++k) {
        const Vector& kv = key_vectors[k];
        uint64_t w = 0;
        if (kv.type() == TypeId::kNull || kv.IsNull(r)) {
          nulls |= uint64_t{1} << k;
        } else if (kv.type() == TypeId::kBool) {
          w = kv.GetBool(r) ? 1 : 0;
        } else if (IsInt64Backed(kv.type())) {
          w = static_cast<uint64_t>(kv.GetInt64(r));
        } else {
          w = InternedId(k, kv, r);
        }
        key.words[k] = w;
      }
      key.words[4] = nulls;
      auto it = fixed_groups_.find(key);
      if (it == fixed_groups_.end()) {
        it = fixed_groups_.emplace(key, num_groups_++).first;
        Value v;
        for (size_t k = 0; k < key_vectors.size(); ++k) {
          ReadValue(key_vectors[k], r, &v);
          key_values_[k].push_back(v);
        }
      }
      group_of[static_cast<size_t>(r)] = it->second;
    });
  } else if (!keys_.empty()) {
    chunk.sel.ForEach([&](int64_t r) {
      key_.clear();
      for (const Vector& kv : key_vectors) AppendKeyBytes(kv, r, &key_);
      // Look up first: inserting copies the key, which only a new group needs.
      auto it = groups_.find(key_);
      if (it == groups_.end()) {
        it = groups_.emplace(key_, num_groups_++).first;
        Value v;
        for (size_t k = 0; k < key_vectors.size(); ++k) {
          ReadValue(key_vectors[k], r, &v);
          key_values_[k].push_back(v);
        }
      }
      group_of[static_cast<size_t>(r)] = it->second;
    });
  }
  const auto groups = static_cast<size_t>(num_groups_);
  for (size_t a = 0; a < aggregates_.size(); ++a) {
    const AggregateSpec& spec = aggregates_[a];
    State& st = *states_[a];
    st.Grow(spec.kind, groups);
    std::vector<Datum> args;
    for (const PExpr* e : spec.args) {
      TQL_ASSIGN_OR_RETURN(Datum d, Evaluate(*e, b, chunk.sel, *ctx_));
      args.push_back(std::move(d));
    }
    if (UpdateTyped(spec, args, chunk.sel, group_of, &st)) continue;
    Value x, y;
    auto update = [&](int64_t r) {
      const auto g = static_cast<size_t>(group_of[static_cast<size_t>(r)]);
      switch (spec.kind) {
        case AggKind::kCount:
          if (args.empty()) {
            ++st.count[g];
          } else {
            args[0].Read(r, &x);
            if (!x.null) ++st.count[g];
          }
          return;
        case AggKind::kCountIf:
          args[0].Read(r, &x);
          if (!x.null && x.i != 0) ++st.count[g];
          return;
        default:
          break;
      }
      args[0].Read(r, &x);
      if (x.null) return;
      switch (spec.kind) {
        case AggKind::kSum:
        case AggKind::kAvg:
          ++st.count[g];
          if (x.type == TypeId::kFloat) {
            st.float_sum[g] += x.f;
          } else {
            st.int_sum[g] += x.i;
          }
          st.has[g] = 1;
          break;
        case AggKind::kVariance:
        case AggKind::kStdev: {
          // Welford: numerically stable in one pass.
          const double v = x.type == TypeId::kFloat ? x.f : static_cast<double>(x.i);
          const int64_t k = ++st.count[g];
          const double delta = v - st.mean[g];
          st.mean[g] += delta / static_cast<double>(k);
          st.m2[g] += delta * (v - st.mean[g]);
          break;
        }
        case AggKind::kMin:
        case AggKind::kMax:
          if (!st.has[g] || (spec.kind == AggKind::kMin ? CompareValues(x, st.best[g]) < 0
                                                        : CompareValues(x, st.best[g]) > 0)) {
            st.best[g] = x;
            st.has[g] = 1;
          }
          break;
        case AggKind::kAny:
          if (!st.has[g]) {
            st.best[g] = x;
            st.has[g] = 1;
          }
          break;
        case AggKind::kArgMin:
        case AggKind::kArgMax:
          // The first row with the least (greatest) `by` wins ties.
          if (!st.has[g] || (spec.kind == AggKind::kArgMin ? CompareValues(x, st.best[g]) < 0
                                                           : CompareValues(x, st.best[g]) > 0)) {
            st.best[g] = x;
            args[1].Read(r, &y);
            st.best_x[g] = y;
            st.has[g] = 1;
          }
          break;
        case AggKind::kDcount: {
          std::string bytes;
          if (args[0].is_constant) {
            bytes = ValueToJson(x);
          } else {
            AppendKeyBytes(args[0].vector, r, &bytes);
          }
          st.distinct[g].insert(std::move(bytes));
          break;
        }
        case AggKind::kPercentile:
          st.values[g].push_back(x.type == TypeId::kFloat ? x.f : static_cast<double>(x.i));
          break;
        case AggKind::kHistogram: {
          // The bucket is the lower bound: x rounded down to a multiple of the width.
          if (x.type == TypeId::kFloat) {
            const double w = spec.bucket.type == TypeId::kFloat
                                 ? spec.bucket.f
                                 : static_cast<double>(spec.bucket.i);
            if (!(w > 0) || x.f != x.f) break;
            ++st.hist_float[g][std::floor(x.f / w) * w];
          } else if (IsInt64Backed(x.type)) {
            const int64_t w = spec.bucket.i;
            if (w <= 0) break;
            int64_t q = x.i / w;
            if (x.i % w != 0 && x.i < 0) --q;
            int64_t lower;
            if (__builtin_mul_overflow(q, w, &lower)) break;
            ++st.hist_int[g][lower];
          }
          break;
        }
        case AggKind::kMakeSet:
        case AggKind::kMakeList: {
          if (spec.max_items >= 0 && static_cast<int64_t>(st.items[g].size()) >= spec.max_items) {
            break;
          }
          std::string json = x.type == TypeId::kDynamic ? x.s : ValueToJson(x);
          if (spec.kind == AggKind::kMakeSet && !st.distinct[g].insert(json).second) break;
          st.items[g].push_back(std::move(json));
          break;
        }
        default:
          break;
      }
    };
    chunk.sel.ForEach(update);
  }
  return Status::Ok();
}

namespace {

// quantile_cont: linear interpolation between the closest ranks.
double Quantile(std::vector<double>* v, double q) {
  const size_t n = v->size();
  const double pos = q * static_cast<double>(n - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(n - 1, lo + 1);
  std::nth_element(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(lo), v->end());
  const double a = (*v)[lo];
  if (hi == lo || pos == static_cast<double>(lo)) return a;
  const double b = *std::min_element(v->begin() + static_cast<std::ptrdiff_t>(lo) + 1, v->end());
  return a + (pos - static_cast<double>(lo)) * (b - a);
}

}  // namespace

Status AggregateOperator::Finish() {
  const auto groups = static_cast<int64_t>(num_groups_);
  // The post batch: keys, then each aggregate's final value, one row per group.
  std::vector<Vector> cols;
  for (size_t k = 0; k < keys_.size(); ++k) {
    VectorWriter w(post_schema_->field(static_cast<int>(k)).type, groups);
    for (int64_t g = 0; g < groups; ++g) w.Set(g, key_values_[k][static_cast<size_t>(g)]);
    TQL_ASSIGN_OR_RETURN(Vector v, w.FinishChecked());
    cols.push_back(std::move(v));
  }
  for (size_t a = 0; a < aggregates_.size(); ++a) {
    const AggregateSpec& spec = aggregates_[a];
    State& st = *states_[a];
    st.Grow(spec.kind, static_cast<size_t>(groups));
    VectorWriter w(spec.type, groups);
    for (int64_t gi = 0; gi < groups; ++gi) {
      const auto g = static_cast<size_t>(gi);
      switch (spec.kind) {
        case AggKind::kCount:
        case AggKind::kCountIf:
          w.Set(gi, Value::Int(st.count[g]));
          break;
        case AggKind::kSum:
          if (!st.has[g]) break;
          if (spec.type == TypeId::kFloat) {
            w.Set(gi, Value::Float(st.float_sum[g] + static_cast<double>(st.int_sum[g])));
          } else {
            // Integer sums wrap, as integer arithmetic does.
            Value v = Value::Int(static_cast<int64_t>(static_cast<uint64_t>(st.int_sum[g])));
            v.type = spec.type;
            w.Set(gi, v);
          }
          break;
        case AggKind::kAvg:
          if (st.count[g] == 0) break;
          w.Set(gi, Value::Float((st.float_sum[g] + static_cast<double>(st.int_sum[g])) /
                                 static_cast<double>(st.count[g])));
          break;
        case AggKind::kVariance:
        case AggKind::kStdev: {
          if (st.count[g] < 2) break;
          const double var = st.m2[g] / static_cast<double>(st.count[g] - 1);
          w.Set(gi, Value::Float(spec.kind == AggKind::kStdev ? std::sqrt(var) : var));
          break;
        }
        case AggKind::kMin:
        case AggKind::kMax:
        case AggKind::kAny:
          if (st.has[g]) w.Set(gi, st.best[g]);
          break;
        case AggKind::kArgMin:
        case AggKind::kArgMax:
          if (st.has[g]) w.Set(gi, st.best_x[g]);
          break;
        case AggKind::kDcount:
          w.Set(gi, Value::Int(static_cast<int64_t>(st.distinct[g].size())));
          break;
        case AggKind::kPercentile: {
          if (st.values[g].empty()) break;
          const double q = Quantile(&st.values[g], spec.fraction);
          if (spec.type == TypeId::kFloat) {
            w.Set(gi, Value::Float(q));
          } else {
            Value v = Value::Int(static_cast<int64_t>(std::llround(q)));
            v.type = spec.type;
            w.Set(gi, v);
          }
          std::vector<double>().swap(st.values[g]);
          break;
        }
        case AggKind::kHistogram: {
          if (st.hist_int[g].empty() && st.hist_float[g].empty()) break;
          // {"<lower bound as text>": rows, ...} in increasing order of the bounds.
          std::string json = "{";
          auto add = [&](const Value& bound, int64_t rows) {
            if (json.size() > 1) json += ',';
            json += ValueToJson(Value::String(ValueToText(bound)));
            json += ':' + std::to_string(rows);
          };
          for (const auto& [lower, rows] : st.hist_int[g]) {
            Value b = Value::Int(lower);
            b.type = spec.args[0]->type;
            add(b, rows);
          }
          for (const auto& [lower, rows] : st.hist_float[g]) add(Value::Float(lower), rows);
          json += '}';
          w.Set(gi, Value::Dynamic(std::move(json)));
          break;
        }
        case AggKind::kMakeSet:
        case AggKind::kMakeList: {
          if (st.items[g].empty()) break;  // no values: null, as for every other aggregate
          std::string json = "[";
          for (size_t i = 0; i < st.items[g].size(); ++i) {
            if (i) json += ',';
            json += st.items[g][i];
          }
          json += ']';
          w.Set(gi, Value::Dynamic(std::move(json)));
          break;
        }
      }
    }
    TQL_ASSIGN_OR_RETURN(Vector v, w.FinishChecked());
    cols.push_back(std::move(v));
  }
  Batch post(post_schema_, std::move(cols), groups);
  // The output columns, a batch at a time.
  for (int64_t off = 0; off < groups; off += kDefaultBatchRows) {
    if (next_->Satisfied()) break;
    const int64_t len = std::min(kDefaultBatchRows, groups - off);
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

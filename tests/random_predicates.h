//! Random predicates and batches for checking compiled kernels against the interpreter: the
//! shapes the JIT compiles (and a few it does not), over columns with nulls, NaN, signed zeros
//! and extreme integers. Used by tests/jit_filter_test.cc and fuzz/jit_differential.cc.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "runtime/expression.h"
#include "runtime/vector_writer.h"

namespace tql::test {

// Columns: 0 int, 1 duration, 2 float, 3 bool, 4 string, 5 float without nulls, 6 string
// (dictionary-encoded in most batches, plain in some).
inline SchemaPtr TestSchema() {
  return std::make_shared<Schema>(std::vector<Field>{{"i", TypeId::kInt},
                                                     {"d", TypeId::kDuration},
                                                     {"f", TypeId::kFloat},
                                                     {"b", TypeId::kBool},
                                                     {"s", TypeId::kString},
                                                     {"g", TypeId::kFloat},
                                                     {"k", TypeId::kString}});
}

// Short strings that the string predicates tell apart: case, prefixes, the empty string.
inline const char* const kWords[] = {"checkout", "Checkout", "cart", "db", "", "x", "xx", "é"};
constexpr int kNumWords = 8;

inline Batch RandomBatch(std::mt19937_64& rng, int64_t n) {
  std::uniform_int_distribution<int> pick(0, 9);
  const int64_t extremes[] = {0,
                              1,
                              -1,
                              2,
                              7,
                              std::numeric_limits<int64_t>::max(),
                              std::numeric_limits<int64_t>::min(),
                              1000,
                              -1000};
  const double specials[] = {0.0, -0.0, 1.5, -2.5, std::nan(""), 1e300, -1e300, 3.0, 0.25};
  VectorWriter i(TypeId::kInt, n), d(TypeId::kDuration, n), f(TypeId::kFloat, n),
      b(TypeId::kBool, n), s(TypeId::kString, n), g(TypeId::kFloat, n);
  for (int64_t r = 0; r < n; ++r) {
    if (pick(rng) > 1) {
      i.SetInt64(r, pick(rng) < 5 ? extremes[rng() % 9] : static_cast<int64_t>(rng() % 21) - 10);
    }
    if (pick(rng) > 1) d.SetInt64(r, static_cast<int64_t>(rng() % 5) * 1000000000);
    if (pick(rng) > 1) {
      f.SetFloat(r, pick(rng) < 5 ? specials[rng() % 9] : static_cast<double>(rng() % 9) - 4);
    }
    if (pick(rng) > 2) b.SetBool(r, (rng() & 1) != 0);
    if (pick(rng) > 3) s.SetString(r, kWords[rng() % kNumWords]);
    g.SetFloat(r, static_cast<double>(rng() % 7) / 2);
  }
  // Column k: codes into a shuffled dictionary of the words (some never used), or plain.
  std::vector<int> order(kNumWords);
  for (int w = 0; w < kNumWords; ++w) order[static_cast<size_t>(w)] = w;
  std::shuffle(order.begin(), order.end(), rng);
  VectorWriter words(TypeId::kString, kNumWords), plain(TypeId::kString, n);
  for (int w = 0; w < kNumWords; ++w) words.SetString(w, kWords[order[static_cast<size_t>(w)]]);
  auto dict = std::make_shared<Vector>(words.Finish());
  auto codes = Buffer::Allocate(static_cast<size_t>(n) * 4);
  auto validity = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(n)));
  std::memset(validity->mutable_data(), 0, validity->size());
  int64_t nulls = 0;
  for (int64_t r = 0; r < n; ++r) {
    const int code = static_cast<int>(rng() % (kNumWords - 2));
    codes->mutable_as<int32_t>()[r] = code;
    if (pick(rng) > 1) {
      bits::Set(validity->mutable_data(), r);
      plain.SetString(r, kWords[order[static_cast<size_t>(code)]]);
    } else {
      ++nulls;
    }
  }
  Vector k = rng() % 4 == 0 ? plain.Finish() : Vector::Dictionary(n, codes, validity, dict, nulls);
  return Batch(
      TestSchema(),
      {i.Finish(), d.Finish(), f.Finish(), b.Finish(), s.Finish(), g.Finish(), std::move(k)}, n);
}

inline PExprPtr Column(int c, TypeId t) {
  auto e = std::make_unique<PExpr>();
  e->kind = PKind::kColumn;
  e->column = c;
  e->type = t;
  return e;
}

inline PExprPtr Constant(Value v) {
  auto e = std::make_unique<PExpr>();
  e->kind = PKind::kConstant;
  e->type = v.type;
  e->constant = std::move(v);
  return e;
}

inline PExprPtr Node(PKind kind, TypeId type, std::vector<PExprPtr> args) {
  auto e = std::make_unique<PExpr>();
  e->kind = kind;
  e->type = type;
  e->args = std::move(args);
  return e;
}

// Random expressions of the shapes the JIT compiles, and some it does not (which the
// compiler must leave to the interpreter).
class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  PExprPtr Int(int depth) {
    const int k = depth <= 0 ? static_cast<int>(rng_() % 2) : static_cast<int>(rng_() % 5);
    if (k == 0) return Column(0, TypeId::kInt);
    if (k == 1) {
      const int64_t values[] = {
          0, 1, -1, 3, std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
      return Constant(Value::Int(values[rng_() % 6]));
    }
    if (k == 4) return Node(PKind::kNegate, TypeId::kInt, Args(Int(depth - 1)));
    auto e = Node(PKind::kArith, TypeId::kInt, Args(Int(depth - 1), Int(depth - 1)));
    const ArithOp ops[] = {ArithOp::kAdd, ArithOp::kSub, ArithOp::kMul, ArithOp::kMod};
    e->arith_op = ops[rng_() % 4];
    return e;
  }
  PExprPtr Float(int depth) {
    const int k = depth <= 0 ? static_cast<int>(rng_() % 3) : static_cast<int>(rng_() % 6);
    if (k == 0) return Column(2, TypeId::kFloat);
    if (k == 1) return Column(5, TypeId::kFloat);
    if (k == 2) {
      const double values[] = {0.0, -0.0, 1.5, std::nan(""), -3.0, 1e308};
      return Constant(Value::Float(values[rng_() % 6]));
    }
    if (k == 3) return Node(PKind::kCast, TypeId::kFloat, Args(Int(depth - 1)));
    if (k == 4) return Node(PKind::kNegate, TypeId::kFloat, Args(Float(depth - 1)));
    auto e = Node(PKind::kArith, TypeId::kFloat, Args(Float(depth - 1), Float(depth - 1)));
    const ArithOp ops[] = {ArithOp::kAdd, ArithOp::kSub, ArithOp::kMul, ArithOp::kDiv};
    e->arith_op = ops[rng_() % 4];
    return e;
  }
  // A predicate over one string column (s or k), which the JIT looks up in a match table.
  PExprPtr StringLeaf() {
    PExprPtr col = Column(rng_() % 2 == 0 ? 4 : 6, TypeId::kString);
    const std::string word = kWords[rng_() % kNumWords];
    switch (rng_() % 5) {
      case 0:
        return Compare(std::move(col), Constant(Value::String(word)));
      case 1: {
        auto e = Node(PKind::kText, TypeId::kBool, Args(std::move(col)));
        e->text_op = static_cast<TextOp>(rng_() % 4);
        e->case_sensitive = (rng_() & 1) != 0;
        e->needle = e->case_sensitive ? word : Utf8Lower(word);
        e->negated = (rng_() & 1) != 0;
        return e;
      }
      case 2: {
        auto e = Node(PKind::kIn, TypeId::kBool, Args(std::move(col)));
        auto set = std::make_shared<ValueSet>();
        set->type = TypeId::kString;
        for (int i = 0; i < 1 + static_cast<int>(rng_() % 3); ++i) {
          set->strings.insert(kWords[rng_() % kNumWords]);
        }
        set->has_null = rng_() % 4 == 0;
        e->set = std::move(set);
        e->negated = (rng_() & 1) != 0;
        return e;
      }
      case 3: {
        const char* const patterns[] = {"^c.*t$", "(?i)^check", "x+", "^$", "[ab]"};
        auto e = Node(PKind::kRegex, TypeId::kBool, Args(std::move(col)));
        e->regex = Regex::Make(patterns[rng_() % 5]).value();
        e->negated = (rng_() & 1) != 0;
        return e;
      }
      default: {
        // Not a leaf of its own: the whole `not (...)` over one column is.
        auto inner = Compare(std::move(col), Constant(Value::String(word)));
        return Node(PKind::kNot, TypeId::kBool, Args(std::move(inner)));
      }
    }
  }
  PExprPtr Bool(int depth) {
    const int k = depth <= 0 ? static_cast<int>(rng_() % 4) : static_cast<int>(rng_() % 13);
    if (k == 3 && depth <= 0) return StringLeaf();
    if (k >= 11) return StringLeaf();
    switch (k) {
      case 10: {
        // x in (list of ints), possibly with a null in the list, possibly negated.
        auto e = Node(PKind::kIn, TypeId::kBool, Args(Int(depth - 1)));
        auto set = std::make_shared<ValueSet>();
        set->type = TypeId::kInt;
        const int items = 1 + static_cast<int>(rng_() % 5);
        for (int i = 0; i < items; ++i) set->ints.insert(static_cast<int64_t>(rng_() % 9) - 4);
        set->has_null = rng_() % 4 == 0;
        e->set = std::move(set);
        e->negated = (rng_() & 1) != 0;
        return e;
      }
      case 0:
        return Column(3, TypeId::kBool);
      case 1: {
        auto e = Node(PKind::kIsNull, TypeId::kBool, Args(Column(4, TypeId::kString)));
        e->negated = (rng_() & 1) != 0;
        return e;
      }
      case 2:
        return Compare(Column(1, TypeId::kDuration),
                       Constant(Value::Duration(static_cast<int64_t>(rng_() % 4) * 1000000000)));
      case 3:
        return Compare(Int(depth - 1), Int(depth - 1));
      case 4:
        return Compare(Float(depth - 1), Float(depth - 1));
      case 5:
      case 6: {
        std::vector<PExprPtr> args;
        const int n = 2 + static_cast<int>(rng_() % 2);
        for (int a = 0; a < n; ++a) args.push_back(Bool(depth - 1));
        return Node(k == 5 ? PKind::kAnd : PKind::kOr, TypeId::kBool, std::move(args));
      }
      case 7:
        return Node(PKind::kNot, TypeId::kBool, Args(Bool(depth - 1)));
      case 8: {
        auto e = Node(PKind::kIsNull, TypeId::kBool, Args(Float(depth - 1)));
        e->negated = (rng_() & 1) != 0;
        return e;
      }
      default:
        return Compare(Column(3, TypeId::kBool), Constant(Value::Bool((rng_() & 1) != 0)));
    }
  }

 private:
  template <typename... P>
  static std::vector<PExprPtr> Args(P... p) {
    std::vector<PExprPtr> v;
    (v.push_back(std::move(p)), ...);
    return v;
  }
  PExprPtr Compare(PExprPtr a, PExprPtr b) {
    auto e = Node(PKind::kCompare, TypeId::kBool, Args(std::move(a), std::move(b)));
    e->compare_op = static_cast<CompareOp>(rng_() % 6);
    return e;
  }
  std::mt19937_64 rng_;
};

inline std::vector<int32_t> Rows(const Selection& s) {
  std::vector<int32_t> rows;
  s.ForEach([&](int64_t r) { rows.push_back(static_cast<int32_t>(r)); });
  return rows;
}

}  // namespace tql::test

// The JIT's filter kernels against the interpreter: random predicates over random batches
// (nulls, NaN, extreme integers, empty and sparse selections) must select the same rows; the
// kernel cache shares one kernel between predicates that differ only in their literals.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <thread>

#include "codegen/filter_compiler.h"
#include "runtime/vector_writer.h"

namespace tql {
namespace {

// Columns: 0 int, 1 duration, 2 float, 3 bool, 4 string, 5 float without nulls.
SchemaPtr TestSchema() {
  return std::make_shared<Schema>(std::vector<Field>{{"i", TypeId::kInt},
                                                     {"d", TypeId::kDuration},
                                                     {"f", TypeId::kFloat},
                                                     {"b", TypeId::kBool},
                                                     {"s", TypeId::kString},
                                                     {"g", TypeId::kFloat}});
}

Batch RandomBatch(std::mt19937_64& rng, int64_t n) {
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
    if (pick(rng) > 3) s.SetString(r, "x");
    g.SetFloat(r, static_cast<double>(rng() % 7) / 2);
  }
  return Batch(TestSchema(),
               {i.Finish(), d.Finish(), f.Finish(), b.Finish(), s.Finish(), g.Finish()}, n);
}

PExprPtr Column(int c, TypeId t) {
  auto e = std::make_unique<PExpr>();
  e->kind = PKind::kColumn;
  e->column = c;
  e->type = t;
  return e;
}

PExprPtr Constant(Value v) {
  auto e = std::make_unique<PExpr>();
  e->kind = PKind::kConstant;
  e->type = v.type;
  e->constant = std::move(v);
  return e;
}

PExprPtr Node(PKind kind, TypeId type, std::vector<PExprPtr> args) {
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
  PExprPtr Bool(int depth) {
    const int k = depth <= 0 ? static_cast<int>(rng_() % 3) : static_cast<int>(rng_() % 11);
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

std::vector<int32_t> Rows(const Selection& s) {
  std::vector<int32_t> rows;
  s.ForEach([&](int64_t r) { rows.push_back(static_cast<int32_t>(r)); });
  return rows;
}

JitKernelCompiler& Compiler() {
  static std::unique_ptr<JitKernelCompiler> compiler = [] {
    Result<std::unique_ptr<JitKernelCompiler>> c = JitKernelCompiler::Create(64);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }();
  return *compiler;
}

// Interpreter and kernel on the same rows, for the whole predicate and for its conjuncts.
TEST(JitFilter, AgreesWithTheInterpreterOnRandomPredicatesAndBatches) {
  std::mt19937_64 rng(42);
  Generator gen(7);
  const EvalContext ctx;
  int compiled = 0;
  for (int round = 0; round < 400; ++round) {
    PExprPtr predicate = gen.Bool(1 + round % 4);
    std::vector<const PExpr*> residual;
    std::shared_ptr<const CompiledFilter> kernel = Compiler().CompileFilter(*predicate, &residual);
    ASSERT_TRUE(kernel) << predicate->ToString(*TestSchema());
    ASSERT_TRUE(residual.empty());
    ++compiled;
    for (int64_t n : {0, 1, 7, 64, 1000}) {
      Batch batch = RandomBatch(rng, n);
      std::vector<int32_t> some;
      for (int64_t r = 0; r < n; ++r) {
        if (rng() % 3 == 0) some.push_back(static_cast<int32_t>(r));
      }
      for (const Selection& sel : {Selection::All(n), Selection::Of(some)}) {
        Result<Selection> want = SelectTrue(*predicate, batch, sel, ctx);
        ASSERT_TRUE(want.ok());
        EXPECT_EQ(Rows(kernel->Select(batch, sel)), Rows(*want))
            << predicate->ToString(*TestSchema()) << " over " << n << " rows";
      }
    }
  }
  EXPECT_EQ(compiled, 400);
}

TEST(JitFilter, LiteralsShareOneKernel) {
  JitKernelCompiler& c = Compiler();
  auto predicate = [](int64_t ns) {
    auto e = Node(PKind::kCompare, TypeId::kBool, {});
    e->args.push_back(Column(1, TypeId::kDuration));
    e->args.push_back(Constant(Value::Duration(ns)));
    e->compare_op = CompareOp::kGt;
    return e;
  };
  const JitStats before = c.stats();
  std::vector<const PExpr*> residual;
  PExprPtr a = predicate(250000000), b = predicate(1000000000);
  auto ka = c.CompileFilter(*a, &residual);
  auto kb = c.CompileFilter(*b, &residual);
  ASSERT_TRUE(ka && kb);
  const JitStats after = c.stats();
  EXPECT_LE(after.kernels_compiled - before.kernels_compiled, 1);
  EXPECT_GE(after.cache_hits - before.cache_hits, 1);
  // And each applies its own literal.
  std::mt19937_64 rng(3);
  Batch batch = RandomBatch(rng, 500);
  const EvalContext ctx;
  EXPECT_EQ(Rows(ka->Select(batch, Selection::All(500))),
            Rows(SelectTrue(*a, batch, Selection::All(500), ctx).value()));
  EXPECT_EQ(Rows(kb->Select(batch, Selection::All(500))),
            Rows(SelectTrue(*b, batch, Selection::All(500), ctx).value()));
}

TEST(JitFilter, LeavesWhatItCannotCompileToTheInterpreter) {
  // i > 0 and (a text predicate it does not compile): one conjunct each way.
  auto gt = Node(PKind::kCompare, TypeId::kBool, {});
  gt->args.push_back(Column(0, TypeId::kInt));
  gt->args.push_back(Constant(Value::Int(0)));
  gt->compare_op = CompareOp::kGt;
  auto text = Node(PKind::kText, TypeId::kBool, {});
  text->args.push_back(Column(4, TypeId::kString));
  text->needle = "x";
  std::vector<PExprPtr> both;
  both.push_back(std::move(gt));
  both.push_back(std::move(text));
  auto conj = Node(PKind::kAnd, TypeId::kBool, std::move(both));
  std::vector<const PExpr*> residual;
  auto kernel = Compiler().CompileFilter(*conj, &residual);
  ASSERT_TRUE(kernel);
  ASSERT_EQ(residual.size(), 1u);
  EXPECT_EQ(residual[0], conj->args[1].get());
  std::vector<const PExpr*> none;
  EXPECT_FALSE(Compiler().CompileFilter(*conj->args[1], &none));
  EXPECT_EQ(none.size(), 1u);
}

TEST(JitFilter, KeepsItsOptimizedIr) {
  auto e = Node(PKind::kCompare, TypeId::kBool, {});
  e->args.push_back(Column(2, TypeId::kFloat));
  e->args.push_back(Constant(Value::Float(0.5)));
  e->compare_op = CompareOp::kLe;
  std::vector<const PExpr*> residual;
  ASSERT_TRUE(Compiler().CompileFilter(*e, &residual));
  const std::vector<std::string> ir = Compiler().ir();
  ASSERT_FALSE(ir.empty());
  EXPECT_NE(ir.back().find("define"), std::string::npos);
}

}  // namespace
}  // namespace tql

namespace tql {
namespace {

// --engine auto: the kernel arrives on another thread; until then the caller interprets. Once
// ready it selects the same rows, and the conjuncts it left are named by index.
TEST(JitFilter, CompilesInTheBackground) {
  auto gt = Node(PKind::kCompare, TypeId::kBool, {});
  gt->args.push_back(Column(0, TypeId::kInt));
  gt->args.push_back(Constant(Value::Int(2)));
  gt->compare_op = CompareOp::kGe;
  auto text = Node(PKind::kText, TypeId::kBool, {});
  text->args.push_back(Column(4, TypeId::kString));
  text->needle = "x";
  std::vector<PExprPtr> both;
  both.push_back(std::move(text));
  both.push_back(std::move(gt));
  auto conj = Node(PKind::kAnd, TypeId::kBool, std::move(both));
  std::shared_ptr<PendingFilter> pending = Compiler().CompileFilterAsync(*conj);
  conj.reset();  // the compiler works on its own copy
  for (int i = 0; i < 2000 && !pending->ready.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(pending->ready.load());
  ASSERT_TRUE(pending->kernel);
  EXPECT_EQ(pending->residual, std::vector<size_t>{0});
  std::mt19937_64 rng(9);
  Batch batch = RandomBatch(rng, 300);
  auto alone = Node(PKind::kCompare, TypeId::kBool, {});
  alone->args.push_back(Column(0, TypeId::kInt));
  alone->args.push_back(Constant(Value::Int(2)));
  alone->compare_op = CompareOp::kGe;
  const EvalContext ctx;
  EXPECT_EQ(Rows(pending->kernel->Select(batch, Selection::All(300))),
            Rows(SelectTrue(*alone, batch, Selection::All(300), ctx).value()));
}

}  // namespace
}  // namespace tql

// The JIT's filter kernels against the interpreter: random predicates over random batches
// (nulls, NaN, extreme integers, empty and sparse selections) must select the same rows; the
// kernel cache shares one kernel between predicates that differ only in their literals.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <thread>

#include "codegen/filter_compiler.h"
#include "tests/random_predicates.h"

namespace tql {
namespace {

using test::Column;
using test::Constant;
using test::Generator;
using test::Node;
using test::RandomBatch;
using test::Rows;
using test::TestSchema;

// `column op literal`.
PExprPtr CompareTo(PExprPtr column, CompareOp op, Value literal) {
  auto e = Node(PKind::kCompare, TypeId::kBool, {});
  e->args.push_back(std::move(column));
  e->args.push_back(Constant(std::move(literal)));
  e->compare_op = op;
  return e;
}

// `a and b`.
PExprPtr And(PExprPtr a, PExprPtr b) {
  std::vector<PExprPtr> both;
  both.push_back(std::move(a));
  both.push_back(std::move(b));
  return Node(PKind::kAnd, TypeId::kBool, std::move(both));
}

// `search "x"` over two string columns: a conjunct the JIT leaves to the interpreter.
PExprPtr ContainsX() {
  auto search = Node(PKind::kSearch, TypeId::kBool, {});
  search->args.push_back(Column(4, TypeId::kString));
  search->args.push_back(Column(6, TypeId::kString));
  search->needle = "x";
  return search;
}

JitKernelCompiler& Compiler() {
  static std::unique_ptr<JitKernelCompiler> compiler = [] {
    Result<std::unique_ptr<JitKernelCompiler>> c = JitKernelCompiler::Create(64, true);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }();
  return *compiler;
}

// Interpreter and kernel on the same rows, for the whole predicate and for its conjuncts.
void AgreesOnRandomPredicates(JitKernelCompiler& compiler) {
  std::mt19937_64 rng(42);
  Generator gen(7);
  const EvalContext ctx;
  int compiled = 0;
  for (int round = 0; round < 400; ++round) {
    PExprPtr predicate = gen.Bool(1 + round % 4);
    std::vector<const PExpr*> residual;
    std::shared_ptr<const CompiledFilter> kernel = compiler.CompileFilter(*predicate, &residual);
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
        EXPECT_EQ(Rows(kernel->Select(batch, sel, EvalContext{}).value()), Rows(*want))
            << predicate->ToString(*TestSchema()) << " over " << n << " rows";
      }
    }
  }
  EXPECT_EQ(compiled, 400);
}

// The optimized tier (the compiler that keeps IR compiles only that one).
TEST(JitFilter, AgreesWithTheInterpreterOnRandomPredicatesAndBatches) {
  AgreesOnRandomPredicates(Compiler());
}

// The first tier: fast instruction selection, the O1 pipeline.
TEST(JitFilter, FirstTierAgreesWithTheInterpreter) {
  Result<std::unique_ptr<JitKernelCompiler>> c =
      JitKernelCompiler::Create(64, false, JitKernelCompiler::Tiers::kFastOnly);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  AgreesOnRandomPredicates(**c);
}

// Both tiers: filters made before the optimized code is swapped in keep working after it.
TEST(JitFilter, KernelsSwapToTheOptimizedTier) {
  Result<std::unique_ptr<JitKernelCompiler>> c = JitKernelCompiler::Create(64, false);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Generator gen(11);
  std::mt19937_64 rng(5);
  const EvalContext ctx;
  std::vector<std::pair<PExprPtr, std::shared_ptr<const CompiledFilter>>> filters;
  for (int i = 0; i < 40; ++i) {
    PExprPtr predicate = gen.Bool(1 + i % 3);
    std::vector<const PExpr*> residual;
    auto kernel = (*c)->CompileFilter(*predicate, &residual);
    ASSERT_TRUE(kernel);
    filters.emplace_back(std::move(predicate), std::move(kernel));
  }
  auto check = [&] {
    for (const auto& [predicate, kernel] : filters) {
      Batch batch = RandomBatch(rng, 100);
      const Selection all = Selection::All(100);
      Result<Selection> want = SelectTrue(*predicate, batch, all, ctx);
      ASSERT_TRUE(want.ok());
      EXPECT_EQ(Rows(kernel->Select(batch, all, EvalContext{}).value()), Rows(*want))
          << predicate->ToString(*TestSchema());
    }
  };
  check();
  (*c)->WaitForOptimized();
  const JitStats stats = (*c)->stats();
  EXPECT_EQ(stats.kernels_optimized, stats.kernels_compiled);
  check();
}

TEST(JitFilter, LiteralsShareOneKernel) {
  JitKernelCompiler& c = Compiler();
  auto predicate = [](int64_t ns) {
    return CompareTo(Column(1, TypeId::kDuration), CompareOp::kGt, Value::Duration(ns));
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
  EXPECT_EQ(Rows(ka->Select(batch, Selection::All(500), EvalContext{}).value()),
            Rows(SelectTrue(*a, batch, Selection::All(500), ctx).value()));
  EXPECT_EQ(Rows(kb->Select(batch, Selection::All(500), EvalContext{}).value()),
            Rows(SelectTrue(*b, batch, Selection::All(500), ctx).value()));
}

TEST(JitFilter, LeavesWhatItCannotCompileToTheInterpreter) {
  // i > 0 and (a text predicate it does not compile): one conjunct each way.
  auto conj = And(CompareTo(Column(0, TypeId::kInt), CompareOp::kGt, Value::Int(0)), ContainsX());
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
  auto e = CompareTo(Column(2, TypeId::kFloat), CompareOp::kLe, Value::Float(0.5));
  std::vector<const PExpr*> residual;
  ASSERT_TRUE(Compiler().CompileFilter(*e, &residual));
  const std::vector<std::string> ir = Compiler().ir();
  ASSERT_FALSE(ir.empty());
  EXPECT_NE(ir.back().find("define"), std::string::npos);
}

// --engine auto: the kernel arrives on another thread; until then the caller interprets. Once
// ready it selects the same rows, and the conjuncts it left are named by index.
TEST(JitFilter, CompilesInTheBackground) {
  auto conj = And(ContainsX(), CompareTo(Column(0, TypeId::kInt), CompareOp::kGe, Value::Int(2)));
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
  auto alone = CompareTo(Column(0, TypeId::kInt), CompareOp::kGe, Value::Int(2));
  const EvalContext ctx;
  EXPECT_EQ(Rows(pending->kernel->Select(batch, Selection::All(300), EvalContext{}).value()),
            Rows(SelectTrue(*alone, batch, Selection::All(300), ctx).value()));
}

}  // namespace
}  // namespace tql

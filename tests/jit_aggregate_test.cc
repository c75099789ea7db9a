// The JIT's fused updates against the interpreter: random filters, keys and aggregates over
// random batches (nulls, NaN, extreme integers, empty and sparse selections, batches the
// kernel declines) must give the same groups, in the same order, with the same values to the
// bit; literals share kernels; the operators fuse through the executor on real queries.

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <thread>

#include "codegen/filter_compiler.h"
#include "runtime/operators.h"
#include "runtime/vector_writer.h"
#include "tests/random_fusions.h"

namespace tql {
namespace {

using test::Column;
using test::Constant;
using test::Generator;
using test::MakeRandomFusion;
using test::RandomBatches;
using test::RandomFusion;
using test::RunFusion;

void AgreesOnRandomFusions(JitKernelCompiler& compiler, uint64_t seed, int rounds) {
  std::mt19937_64 rng(seed);
  Generator gen(seed + 1);
  int compiled = 0;
  for (int round = 0; round < rounds; ++round) {
    RandomFusion f = MakeRandomFusion(rng, gen);
    std::shared_ptr<const CompiledAggregate> kernel = compiler.CompileAggregate(f.fusion);
    if (kernel == nullptr) continue;  // a shape the JIT leaves to the interpreter
    ++compiled;
    const auto batches = RandomBatches(rng, 1 + static_cast<int>(rng() % 5));
    Result<std::vector<std::string>> want = RunFusion(f, batches, nullptr);
    Result<std::vector<std::string>> got = RunFusion(f, batches, kernel);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, *want) << f.ToString();
  }
  // Most random shapes compile (the generator makes some that do not, on purpose).
  EXPECT_GT(compiled, rounds / 2);
}

TEST(JitAggregate, AgreesWithTheInterpreterOnRandomFusions) {
  Result<std::unique_ptr<JitKernelCompiler>> c =
      JitKernelCompiler::Create(64, false, JitKernelCompiler::Tiers::kOptimizedOnly);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  AgreesOnRandomFusions(**c, 3, 300);
}

TEST(JitAggregate, FirstTierAgreesWithTheInterpreter) {
  Result<std::unique_ptr<JitKernelCompiler>> c =
      JitKernelCompiler::Create(64, false, JitKernelCompiler::Tiers::kFastOnly);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  AgreesOnRandomFusions(**c, 17, 300);
}

// `sum(x) by bin(d, 2s) where d > L`: literals are parameters, so every L and every bin size
// share one kernel, and each gives its own answer.
TEST(JitAggregate, LiteralsShareOneKernel) {
  Result<std::unique_ptr<JitKernelCompiler>> c =
      JitKernelCompiler::Create(64, false, JitKernelCompiler::Tiers::kFastOnly);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::mt19937_64 rng(9);
  const auto batches = RandomBatches(rng, 3);
  for (int64_t seconds = 1; seconds <= 3; ++seconds) {
    RandomFusion f;
    auto predicate = test::Node(PKind::kCompare, TypeId::kBool, {});
    predicate->compare_op = CompareOp::kGt;
    predicate->args.push_back(Column(1, TypeId::kDuration));
    predicate->args.push_back(Constant(Value::Duration(seconds * 500000000)));
    auto key = test::Node(PKind::kCall, TypeId::kDuration, {});
    key->function_name = "bin";
    key->args.push_back(Column(1, TypeId::kDuration));
    key->args.push_back(Constant(Value::Duration(seconds * 1000000000)));
    f.fusion.conjuncts.push_back(predicate.get());
    f.fusion.key = key.get();
    f.exprs.push_back(std::move(predicate));
    f.exprs.push_back(std::move(key));
    f.Add(AggKind::kSum, Column(0, TypeId::kInt), TypeId::kInt);
    auto kernel = (*c)->CompileAggregate(f.fusion);
    ASSERT_TRUE(kernel);
    EXPECT_EQ(RunFusion(f, batches, kernel).value(), RunFusion(f, batches, nullptr).value());
  }
  const JitStats stats = (*c)->stats();
  EXPECT_EQ(stats.kernels_compiled, 1);
  EXPECT_EQ(stats.cache_hits, 2);
}

// Time-ordered rows, as a scan of spans delivers them: most 8-row blocks stay in one bin and
// take the kernel's block path; nulls, filtered rows and bin edges send blocks row by row.
TEST(JitAggregate, BinsOfOrderedRows) {
  Result<std::unique_ptr<JitKernelCompiler>> c =
      JitKernelCompiler::Create(64, false, JitKernelCompiler::Tiers::kOptimizedOnly);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::mt19937_64 rng(31);
  std::vector<std::pair<Batch, Selection>> batches;
  int64_t t = -3000000000;  // across zero: floor division below it
  for (int b = 0; b < 4; ++b) {
    const int64_t n = 3000 + b;
    Batch random = test::RandomBatch(rng, n);
    VectorWriter d(TypeId::kDuration, n);
    for (int64_t r = 0; r < n; ++r) {
      t += static_cast<int64_t>(rng() % 5) * 1000000;  // 0-4 ms apart, ties included
      if (rng() % 50 != 0) d.SetInt64(r, t);
    }
    std::vector<Vector> columns;
    for (int col = 0; col < random.num_columns(); ++col) columns.push_back(random.column(col));
    columns[1] = d.Finish();
    batches.emplace_back(Batch(random.schema(), std::move(columns), n), Selection::All(n));
  }
  Generator gen(32);
  for (int round = 0; round < 12; ++round) {
    RandomFusion f;
    auto key = test::Node(PKind::kCall, TypeId::kDuration, {});
    key->function_name = "bin";
    key->args.push_back(Column(1, TypeId::kDuration));
    key->args.push_back(Constant(Value::Duration(round % 2 == 0 ? 1000000000 : 37000000)));
    f.fusion.key = key.get();
    f.exprs.push_back(std::move(key));
    if (round % 3 != 0) {
      f.exprs.push_back(gen.Bool(1));
      f.fusion.conjuncts.push_back(f.exprs.back().get());
    }
    f.Add(AggKind::kCount, nullptr, TypeId::kInt);
    f.Add(AggKind::kSum, gen.Int(1), TypeId::kInt);
    f.Add(AggKind::kSum, gen.Float(1), TypeId::kFloat);
    f.Add(AggKind::kCountIf, gen.Bool(1), TypeId::kInt);
    auto kernel = (*c)->CompileAggregate(f.fusion);
    if (kernel == nullptr) continue;
    Result<std::vector<std::string>> want = RunFusion(f, batches, nullptr);
    Result<std::vector<std::string>> got = RunFusion(f, batches, kernel);
    ASSERT_TRUE(want.ok() && got.ok());
    if (f.fusion.conjuncts.empty()) {
      EXPECT_GT(want->size(), 5u);
    }
    EXPECT_EQ(*got, *want) << f.ToString();
  }
}

// The interpreter makes the null group and fills the table to the size at which the next
// lookup grows it; the kernel then asks for that null group (a key that is there) and goes on
// probing the grown table.
TEST(JitAggregate, ProbesTheTableAfterALookupGrewIt) {
  Result<std::unique_ptr<JitKernelCompiler>> c =
      JitKernelCompiler::Create(64, false, JitKernelCompiler::Tiers::kFastOnly);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  RandomFusion f;
  f.exprs.push_back(Column(0, TypeId::kInt));
  f.fusion.key = f.exprs.back().get();
  f.Add(AggKind::kCount, nullptr, TypeId::kInt);
  auto batch = [](const std::vector<std::optional<int64_t>>& keys) {
    const auto n = static_cast<int64_t>(keys.size());
    VectorWriter i(TypeId::kInt, n);
    for (int64_t r = 0; r < n; ++r) {
      if (keys[static_cast<size_t>(r)]) i.SetInt64(r, *keys[static_cast<size_t>(r)]);
    }
    std::mt19937_64 rng(1);
    Batch random = test::RandomBatch(rng, n);
    std::vector<Vector> columns;
    for (int col = 0; col < random.num_columns(); ++col) columns.push_back(random.column(col));
    columns[0] = i.Finish();
    return std::make_pair(Batch(random.schema(), std::move(columns), n), Selection::All(n));
  };
  std::vector<std::pair<Batch, Selection>> batches;
  batches.push_back(batch({1, 2, 3, 4, 5, 6, 7, std::nullopt}));  // 8 groups: the next grows
  std::vector<std::optional<int64_t>> later = {std::nullopt};
  for (int64_t k = 1; k <= 40; ++k) later.push_back(k % 9);
  batches.push_back(batch(later));
  batches.push_back(batch(later));
  auto kernel = (*c)->CompileAggregate(f.fusion);
  ASSERT_TRUE(kernel);
  EXPECT_EQ(RunFusion(f, batches, kernel, 1).value(), RunFusion(f, batches, nullptr).value());
}

// Projection kernels: random computed columns (and plain columns and constants, which stay with
// the interpreter) over random batches, dense and sparse: the selected rows' values and nulls
// must be the interpreter's.
TEST(JitProjection, AgreesWithTheInterpreterOnRandomColumns) {
  for (auto tiers :
       {JitKernelCompiler::Tiers::kFastOnly, JitKernelCompiler::Tiers::kOptimizedOnly}) {
    Result<std::unique_ptr<JitKernelCompiler>> c = JitKernelCompiler::Create(64, false, tiers);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    std::mt19937_64 rng(41);
    Generator gen(42);
    const EvalContext ctx;
    for (int round = 0; round < 150; ++round) {
      std::vector<PExprPtr> owned;
      std::vector<const PExpr*> exprs;
      const int n = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < n; ++e) {
        const int which = static_cast<int>(rng() % 4);
        owned.push_back(which == 0   ? gen.Int(2)
                        : which == 1 ? gen.Float(2)
                        : which == 2 ? gen.Bool(2)
                                     : Column(0, TypeId::kInt));
        exprs.push_back(owned.back().get());
      }
      auto kernel = (*c)->CompileProjection(exprs);
      if (kernel == nullptr) continue;
      for (const auto& [batch, sel] : RandomBatches(rng, 3)) {
        std::vector<Vector> got;
        Result<bool> projected = kernel->Project(batch, sel, ctx, &got);
        ASSERT_TRUE(projected.ok());
        if (!*projected) continue;  // declined: a batch the kernel does not read
        for (size_t k = 0; k < kernel->columns().size(); ++k) {
          const PExpr& e = *exprs[kernel->columns()[k]];
          Result<Datum> want = Evaluate(e, batch, sel, ctx);
          ASSERT_TRUE(want.ok());
          sel.ForEach([&](int64_t r) {
            const std::string expected =
                want->is_constant
                    ? (want->constant.null
                           ? "null"
                           : test::CellText(ConstantVector(want->constant, e.type, 1), 0))
                    : test::CellText(want->vector, r);
            std::string actual = test::CellText(got[k], r);
            if (expected != actual && expected.find("nan") != std::string::npos &&
                actual.find("nan") != std::string::npos) {
              return;  // one NaN
            }
            EXPECT_EQ(actual, expected) << e.ToString(*test::TestSchema()) << " at row " << r;
          });
        }
      }
    }
    (*c)->WaitForOptimized();
  }
}

// Shapes a kernel does not take: a float key, a key that is a string expression, a sketch
// without a kernel (dcount), min, the sum of a string.
TEST(JitAggregate, DeclinesWhatItDoesNotCompile) {
  Result<std::unique_ptr<JitKernelCompiler>> c =
      JitKernelCompiler::Create(64, false, JitKernelCompiler::Tiers::kFastOnly);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  PExprPtr f = Column(2, TypeId::kFloat);
  PExprPtr s = Column(4, TypeId::kString);
  PExprPtr i = Column(0, TypeId::kInt);
  auto lower = test::Node(PKind::kCall, TypeId::kString, {});
  lower->function_name = "tolower";
  lower->args.push_back(Column(4, TypeId::kString));
  auto declined = [&](const PExpr* key, AggKind kind, const PExpr* arg) {
    AggregateFusion fusion;
    fusion.key = key;
    fusion.aggregates.push_back({kind, arg});
    return (*c)->CompileAggregate(fusion) == nullptr &&
           (*c)->CompileAggregateAsync(fusion) == nullptr;
  };
  EXPECT_TRUE(declined(f.get(), AggKind::kCount, nullptr));
  EXPECT_TRUE(declined(lower.get(), AggKind::kCount, nullptr));
  EXPECT_TRUE(declined(nullptr, AggKind::kDcount, i.get()));
  EXPECT_TRUE(declined(nullptr, AggKind::kMin, i.get()));
  EXPECT_TRUE(declined(nullptr, AggKind::kSum, s.get()));
  // What it takes: a string column's codes as the key, a percentile's sketch.
  EXPECT_FALSE(declined(s.get(), AggKind::kPercentile, i.get()));
}

// In the background: the operator runs the interpreter until the kernel is ready, then the
// kernel, on the same groups.
TEST(JitAggregate, SwitchesFromTheInterpreterMidway) {
  Result<std::unique_ptr<JitKernelCompiler>> c = JitKernelCompiler::Create(64, false);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::mt19937_64 rng(21);
  Generator gen(22);
  for (int round = 0; round < 20; ++round) {
    RandomFusion f = MakeRandomFusion(rng, gen);
    std::shared_ptr<PendingAggregate> pending = (*c)->CompileAggregateAsync(f.fusion);
    if (pending == nullptr) continue;
    while (!pending->ready.load()) std::this_thread::yield();
    ASSERT_TRUE(pending->kernel);
    const auto batches = RandomBatches(rng, 6);
    Result<std::vector<std::string>> want = RunFusion(f, batches, nullptr);
    Result<std::vector<std::string>> got = RunFusion(f, batches, pending->kernel, 3);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, *want) << f.ToString();
  }
  (*c)->WaitForOptimized();
}

}  // namespace
}  // namespace tql

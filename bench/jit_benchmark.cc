// The JIT's own costs, in one run: how long a kernel takes to compile (cold, p50 and p99 over
// random predicates of the shapes filters have), how long a cache hit takes, and how close a
// compiled filter, and a fused filter and sum, come to the memory bandwidth that a plain SIMD
// sum reaches on the same machine in the same run.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include "codegen/filter_compiler.h"
#include "runtime/aggregate.h"
#include "runtime/simd_kernels.h"
#include "tests/random_fusions.h"
#include "tests/random_predicates.h"

namespace tql {
namespace {

constexpr int64_t kRows = 16 << 20;  // 128 MiB of int64: far beyond the caches

const std::vector<int64_t>& Values() {
  static const std::vector<int64_t> values = [] {
    std::vector<int64_t> v(kRows);
    uint64_t x = 88172645463325252ull;
    for (int64_t i = 0; i < kRows; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      v[static_cast<size_t>(i)] = static_cast<int64_t>(x % 1000);
    }
    return v;
  }();
  return values;
}

// The reference: the SIMD sum of the column, bound by memory bandwidth.
void BM_BandwidthSum(benchmark::State& state) {
  const auto& v = Values();
  for (auto _ : state) benchmark::DoNotOptimize(SumInt64(v.data(), nullptr, kRows));
  state.SetBytesProcessed(state.iterations() * kRows * 8);
  state.SetLabel(SimdArchName());
}
BENCHMARK(BM_BandwidthSum)->Unit(benchmark::kMillisecond);

// Tier 0: the first tier alone (what a query waits for); 1: the optimized tier alone (what
// replaces it in the background); 2: both, as queries run (the default).
JitKernelCompiler& Compiler(int64_t tier = 2) {
  using Tiers = JitKernelCompiler::Tiers;
  static std::unique_ptr<JitKernelCompiler> compilers[3] = {
      JitKernelCompiler::Create(256, false, Tiers::kFastOnly).value(),
      JitKernelCompiler::Create(256, false, Tiers::kOptimizedOnly).value(),
      JitKernelCompiler::Create(256, false, Tiers::kTiered).value()};
  return *compilers[tier];
}

const char* TierName(int64_t tier) {
  return tier == 0 ? "first tier" : tier == 1 ? "optimized tier" : "both tiers";
}

// `column > literal`.
PExprPtr Greater(int64_t literal) {
  auto e = test::Node(PKind::kCompare, TypeId::kBool, {});
  e->args.push_back(test::Column(0, TypeId::kInt));
  e->args.push_back(test::Constant(Value::Int(literal)));
  e->compare_op = CompareOp::kGt;
  return e;
}

// A compiled `x > literal` over the same column, in batches of 8192 rows as a scan feeds it;
// the first Arg is the literal (990: 1% of the rows pass, 500: half of them), the second the
// tier whose code runs.
void BM_JitFilterScan(benchmark::State& state) {
  const auto& v = Values();
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"x", TypeId::kInt}});
  std::vector<Batch> batches;
  for (int64_t off = 0; off < kRows; off += kDefaultBatchRows) {
    auto buffer = Buffer::CopyOf(v.data() + off, kDefaultBatchRows * 8);
    batches.emplace_back(schema,
                         std::vector<Vector>{Vector::Fixed(TypeId::kInt, kDefaultBatchRows,
                                                           std::move(buffer), nullptr, 0)},
                         kDefaultBatchRows);
  }
  PExprPtr predicate = Greater(state.range(0));
  std::vector<const PExpr*> residual;
  auto kernel = Compiler(state.range(1)).CompileFilter(*predicate, &residual);
  const EvalContext ctx;
  int64_t selected = 0;
  for (auto _ : state) {
    selected = 0;
    for (const Batch& b : batches) {
      selected += kernel->Select(b, Selection::All(b.num_rows()), ctx).value().count();
    }
    benchmark::DoNotOptimize(selected);
  }
  state.SetBytesProcessed(state.iterations() * kRows * 8);
  state.counters["selected"] = static_cast<double>(selected);
  state.SetLabel(TierName(state.range(1)));
}
BENCHMARK(BM_JitFilterScan)
    ->Args({990, 0})
    ->Args({990, 1})
    ->Args({500, 0})
    ->Args({500, 1})
    ->Unit(benchmark::kMillisecond);

// A fused `where x > literal | summarize sum(y)` over two such columns (256 MiB), in batches
// of 8192 rows: the filter and the sum in one kernel, without a selection. Args as above.
void BM_JitFilterSum(benchmark::State& state) {
  const auto& v = Values();
  auto schema =
      std::make_shared<Schema>(std::vector<Field>{{"x", TypeId::kInt}, {"y", TypeId::kInt}});
  std::vector<Batch> batches;
  for (int64_t off = 0; off < kRows; off += kDefaultBatchRows) {
    auto x = Buffer::CopyOf(v.data() + off, kDefaultBatchRows * 8);
    // y: the same values in another order, in memory of its own.
    auto y = Buffer::CopyOf(v.data() + (kRows - kDefaultBatchRows - off), kDefaultBatchRows * 8);
    batches.emplace_back(
        schema,
        std::vector<Vector>{
            Vector::Fixed(TypeId::kInt, kDefaultBatchRows, std::move(x), nullptr, 0),
            Vector::Fixed(TypeId::kInt, kDefaultBatchRows, std::move(y), nullptr, 0)},
        kDefaultBatchRows);
  }
  PExprPtr predicate = Greater(state.range(0));
  PExprPtr y = test::Column(1, TypeId::kInt);
  AggregateFusion fusion;
  fusion.conjuncts.push_back(predicate.get());
  fusion.aggregates.push_back({AggKind::kSum, y.get()});
  auto kernel = Compiler(state.range(1)).CompileAggregate(fusion);
  const EvalContext ctx;
  int64_t n = 0;
  __extension__ __int128 sum = 0;
  double floats = 0;
  void* arrays[3] = {&n, &sum, &floats};
  AggregateKernelState st;
  st.last_group = 0;
  st.arrays = arrays;
  for (auto _ : state) {
    n = 0;
    sum = 0;
    for (const Batch& b : batches) {
      benchmark::DoNotOptimize(kernel->Update(b, Selection::All(b.num_rows()), ctx, &st).value());
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(state.iterations() * kRows * 16);
  state.counters["summed"] = static_cast<double>(n);
  state.SetLabel(TierName(state.range(1)));
}
BENCHMARK(BM_JitFilterSum)
    ->Args({990, 0})
    ->Args({990, 1})
    ->Args({500, 0})
    ->Args({500, 1})
    ->Unit(benchmark::kMillisecond);

// Times `compile()`, appending the milliseconds to `ms` when it compiled a kernel (missed the
// cache).
template <typename Compile>
void TimeCompile(JitKernelCompiler& compiler, std::vector<double>* ms, const Compile& compile) {
  const int64_t before = compiler.stats().kernels_compiled;
  const auto start = std::chrono::steady_clock::now();
  auto kernel = compile();
  const double took =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  benchmark::DoNotOptimize(kernel);
  if (compiler.stats().kernels_compiled > before) ms->push_back(took);
}

// The p50 and p99 of compile times in milliseconds, as counters.
void ReportCompiles(benchmark::State& state, std::vector<double> ms, int64_t tier) {
  if (ms.empty()) return;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[static_cast<size_t>(q * static_cast<double>(ms.size() - 1))];
  };
  state.counters["p50_ms"] = at(0.50);
  state.counters["p99_ms"] = at(0.99);
  state.counters["compiled"] = static_cast<double>(ms.size());
  state.SetLabel(TierName(tier));
}

// Cold compiles: random predicates of depth 1 to the first Arg (the shapes of
// tests/jit_filter_test.cc: depth 1 is a filter of one or a few comparisons, depth 4 a tree of
// dozens of nodes), each timed when it missed the cache, on the tier of the second Arg.
// Reports the p50 and p99 in milliseconds.
void BM_ColdCompile(benchmark::State& state) {
  JitKernelCompiler& compiler = Compiler(state.range(1));
  std::vector<double> ms;
  uint64_t seed = 1;
  for (auto _ : state) {
    test::Generator gen(seed++);
    PExprPtr predicate =
        gen.Bool(1 + static_cast<int>(seed % static_cast<uint64_t>(state.range(0))));
    std::vector<const PExpr*> residual;
    TimeCompile(compiler, &ms, [&] { return compiler.CompileFilter(*predicate, &residual); });
  }
  ReportCompiles(state, ms, state.range(1));
}
BENCHMARK(BM_ColdCompile)
    ->Args({1, 0})
    ->Args({4, 0})
    ->Args({1, 1})
    ->Args({4, 1})
    ->Iterations(300)
    ->Unit(benchmark::kMillisecond);

// Cold compiles of fused updates: random filters, keys and aggregates (the shapes of
// tests/jit_aggregate_test.cc), each timed when it missed the cache, on the tier of the Arg.
void BM_ColdCompileUpdate(benchmark::State& state) {
  JitKernelCompiler& compiler = Compiler(state.range(0));
  std::vector<double> ms;
  uint64_t seed = 1;
  for (auto _ : state) {
    std::mt19937_64 rng(seed);
    test::Generator gen(seed++);
    test::RandomFusion f = test::MakeRandomFusion(rng, gen);
    TimeCompile(compiler, &ms, [&] { return compiler.CompileAggregate(f.fusion); });
  }
  ReportCompiles(state, ms, state.range(0));
}
BENCHMARK(BM_ColdCompileUpdate)->Arg(0)->Arg(1)->Iterations(300)->Unit(benchmark::kMillisecond);

// A cache hit: the same shape with another literal, normalized, looked up and bound.
void BM_CacheHit(benchmark::State& state) {
  std::vector<const PExpr*> residual;
  PExprPtr first = Greater(1);
  benchmark::DoNotOptimize(Compiler().CompileFilter(*first, &residual));
  int64_t literal = 2;
  for (auto _ : state) {
    PExprPtr predicate = Greater(literal++);
    benchmark::DoNotOptimize(Compiler().CompileFilter(*predicate, &residual));
  }
  // The background tier must be done before the process exits (see filter_compiler.h).
  Compiler().WaitForOptimized();
}
BENCHMARK(BM_CacheHit)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tql

BENCHMARK_MAIN();

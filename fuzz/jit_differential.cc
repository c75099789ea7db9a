// Differential fuzzing of the JIT: random predicates over random batches, each compiled to a
// filter kernel, and random fused updates (filters, a key, aggregates) compiled to one kernel,
// each checked against the interpreter, for a given time. Exits 1 with the predicate or the
// update, the batch size and the seed that reproduce a disagreement.
//
//   tql_jit_differential SECONDS [SEED]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "codegen/filter_compiler.h"
#include "tests/random_fusions.h"
#include "tests/random_predicates.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: tql_jit_differential SECONDS [SEED]\n");
    return 2;
  }
  const double seconds = std::atof(argv[1]);
  const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  auto compiler = tql::JitKernelCompiler::Create();
  if (!compiler.ok()) {
    std::fprintf(stderr, "%s\n", compiler.status().ToString().c_str());
    return 1;
  }
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  const bool trace = std::getenv("TQL_JIT_FUZZ_TRACE") != nullptr;
  const tql::EvalContext ctx;
  const tql::SchemaPtr schema = tql::test::TestSchema();
  int64_t predicates = 0, checks = 0, updates = 0, declined = 0;
  for (uint64_t round = 0; std::chrono::steady_clock::now() < end; ++round) {
    const uint64_t s = seed * 1000003 + round;
    std::mt19937_64 rng(s);
    tql::test::Generator gen(s);
    // TQL_JIT_FUZZ_TRACE set: each round's seed before it runs (a crash's last line names it).
    if (trace)
      std::fprintf(stderr, "round %llu seed %llu\n", static_cast<unsigned long long>(round),
                   static_cast<unsigned long long>(s));
    if (round % 2 == 1) {
      // A fused update: the groups and their values must be the interpreter's to the bit.
      tql::test::RandomFusion f = tql::test::MakeRandomFusion(rng, gen);
      auto kernel = (*compiler)->CompileAggregate(f.fusion);
      if (!kernel) {
        ++declined;  // a shape the JIT leaves to the interpreter
        continue;
      }
      ++updates;
      const auto batches = tql::test::RandomBatches(rng, 1 + static_cast<int>(rng() % 6));
      auto want = tql::test::RunFusion(f, batches, nullptr);
      auto got = tql::test::RunFusion(f, batches, kernel, rng() % 3);
      if (!want.ok() || !got.ok() || *want != *got) {
        std::fprintf(stderr, "the JIT and the interpreter disagree on %s (seed %llu)\n",
                     f.ToString().c_str(), static_cast<unsigned long long>(s));
        return 1;
      }
      ++checks;
      continue;
    }
    tql::PExprPtr predicate = gen.Bool(1 + static_cast<int>(rng() % 5));
    std::vector<const tql::PExpr*> residual;
    auto kernel = (*compiler)->CompileFilter(*predicate, &residual);
    if (!kernel || !residual.empty()) {
      std::fprintf(stderr, "not compiled: %s (seed %llu)\n", predicate->ToString(*schema).c_str(),
                   static_cast<unsigned long long>(s));
      return 1;
    }
    ++predicates;
    for (int b = 0; b < 4; ++b) {
      const int64_t n = static_cast<int64_t>(rng() % 2000);
      tql::Batch batch = tql::test::RandomBatch(rng, n);
      std::vector<int32_t> some;
      for (int64_t r = 0; r < n; ++r) {
        if (rng() % 4 == 0) some.push_back(static_cast<int32_t>(r));
      }
      for (const tql::Selection& sel : {tql::Selection::All(n), tql::Selection::Of(some)}) {
        auto want = tql::SelectTrue(*predicate, batch, sel, ctx);
        if (!want.ok() ||
            tql::test::Rows(kernel->Select(batch, sel, ctx).value()) != tql::test::Rows(*want)) {
          std::fprintf(stderr,
                       "the JIT and the interpreter disagree on %s over %lld rows (seed %llu)\n",
                       predicate->ToString(*schema).c_str(), static_cast<long long>(n),
                       static_cast<unsigned long long>(s));
          return 1;
        }
        ++checks;
      }
    }
  }
  const tql::JitStats stats = (*compiler)->stats();
  std::printf(
      "jit differential: %lld predicates, %lld fused updates (%lld not compiled), %lld checks, "
      "%lld kernels compiled, %lld cache hits: all agree\n",
      static_cast<long long>(predicates), static_cast<long long>(updates),
      static_cast<long long>(declined), static_cast<long long>(checks),
      static_cast<long long>(stats.kernels_compiled), static_cast<long long>(stats.cache_hits));
  return 0;
}

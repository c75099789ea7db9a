// Scan-bound reference: summing an int64 column, the SIMD kernel beside a plain scalar loop,
// with and without a validity bitmap. bytes_per_second is the memory bandwidth reached.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "runtime/simd_kernels.h"

namespace tql {
namespace {

constexpr int64_t kRows = 16 << 20;  // 128 MiB of int64: far beyond the caches

const std::vector<int64_t>& Values() {
  static const std::vector<int64_t> values = [] {
    std::vector<int64_t> v(kRows);
    for (int64_t i = 0; i < kRows; ++i) v[static_cast<size_t>(i)] = i * 7 - 3;
    return v;
  }();
  return values;
}

const std::vector<uint8_t>& Validity() {
  static const std::vector<uint8_t> validity(kRows / 8, 0xEF);  // 1 row in 8 is null
  return validity;
}

void BM_SumInt64Simd(benchmark::State& state) {
  const auto& v = Values();
  const uint8_t* validity = state.range(0) ? Validity().data() : nullptr;
  for (auto _ : state) benchmark::DoNotOptimize(SumInt64(v.data(), validity, kRows));
  state.SetBytesProcessed(state.iterations() * kRows * 8);
  state.SetLabel(SimdArchName());
}
BENCHMARK(BM_SumInt64Simd)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// The same sum as a plain loop the compiler may auto-vectorize for the baseline x86-64 only.
void BM_SumInt64Scalar(benchmark::State& state) {
  const auto& v = Values();
  const uint8_t* validity = state.range(0) ? Validity().data() : nullptr;
  for (auto _ : state) {
    uint64_t total = 0;
    for (int64_t i = 0; i < kRows; ++i) {
      if (validity == nullptr || ((validity[i >> 3] >> (i & 7)) & 1)) {
        total += static_cast<uint64_t>(v[static_cast<size_t>(i)]);
      }
    }
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(state.iterations() * kRows * 8);
}
BENCHMARK(BM_SumInt64Scalar)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tql

BENCHMARK_MAIN();

#include "runtime/simd_kernels.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "runtime/simd_kernel_decls.h"
#include "tests/test_util.h"

namespace tql {
namespace {

int64_t ScalarSum(const int64_t* values, const uint8_t* validity, int64_t n) {
  uint64_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (validity == nullptr || bits::Get(validity, i)) total += static_cast<uint64_t>(values[i]);
  }
  return static_cast<int64_t>(total);
}

TEST(SimdKernels, SumMatchesScalarForEveryLengthAndAlignment) {
  std::mt19937_64 rng(42);
  std::vector<int64_t> values(20000 + 3);  // room for the largest n at the largest offset
  for (auto& v : values) v = static_cast<int64_t>(rng());  // overflow wraps
  std::vector<uint8_t> validity((values.size() + 7) / 8);
  for (auto& b : validity) b = static_cast<uint8_t>(rng());
  for (int64_t n : {0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 19999}) {
    for (int64_t offset : {0, 1, 3}) {
      const int64_t* p = values.data() + offset;
      EXPECT_EQ(SumInt64(p, nullptr, n), ScalarSum(p, nullptr, n)) << n << " " << offset;
    }
    EXPECT_EQ(SumInt64(values.data(), validity.data(), n),
              ScalarSum(values.data(), validity.data(), n))
        << n;
  }
}

// Dispatch runs only the best set; each compiled set must agree with the scalar loop too.
TEST(SimdKernels, EveryInstructionSetTheCpuHasAgrees) {
  std::mt19937_64 rng(7);
  std::vector<int64_t> values(4099);
  for (auto& v : values) v = static_cast<int64_t>(rng());
  std::vector<uint8_t> validity((values.size() + 7) / 8);
  for (auto& b : validity) b = static_cast<uint8_t>(rng());
  const auto n = static_cast<int64_t>(values.size());
  const int64_t plain = ScalarSum(values.data(), nullptr, n);
  const int64_t masked = ScalarSum(values.data(), validity.data(), n);
  const simd::SumInt64Kernel sum;
  EXPECT_EQ(sum(xsimd::sse2{}, values.data(), nullptr, n), plain);
  EXPECT_EQ(sum(xsimd::sse2{}, values.data(), validity.data(), n), masked);
  const auto available = xsimd::available_architectures();
  if (available.avx2) {
    EXPECT_EQ(sum(xsimd::avx2{}, values.data(), nullptr, n), plain);
    EXPECT_EQ(sum(xsimd::avx2{}, values.data(), validity.data(), n), masked);
  }
  if (available.avx512bw) {
    EXPECT_EQ(sum(xsimd::avx512bw{}, values.data(), nullptr, n), plain);
    EXPECT_EQ(sum(xsimd::avx512bw{}, values.data(), validity.data(), n), masked);
  }
}

TEST(SimdKernels, SumSkipsNullsAndWraps) {
  Vector v = test::Int64s({INT64_MAX, 1, std::nullopt, 5});
  EXPECT_EQ(SumInt64(v), INT64_MIN + 5);
  EXPECT_EQ(SumInt64(test::Int64s({})), 0);
  EXPECT_NE(std::string(SimdArchName()), "");
}

}  // namespace
}  // namespace tql

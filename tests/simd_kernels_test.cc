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

// Every instruction set's kernel against a scalar reference, on random data with nulls,
// dense and sparse selections, and every operator.
TEST(SimdKernels, SelectCompareMatchesScalar) {
  std::mt19937_64 rng(11);
  for (int64_t n : {0, 1, 7, 8, 9, 63, 64, 65, 1000, 1024, 1025, 4099}) {
    std::vector<int64_t> values(static_cast<size_t>(n));
    for (auto& v : values) v = static_cast<int64_t>(rng() % 21) - 10;
    std::vector<uint8_t> validity(static_cast<size_t>((n + 7) / 8) + 8);
    for (auto& b : validity) b = static_cast<uint8_t>(rng());
    std::vector<int32_t> sparse;
    for (int64_t i = 0; i < n; ++i) {
      if (rng() % 3 == 0) sparse.push_back(static_cast<int32_t>(i));
    }
    for (int op = 0; op < 6; ++op) {
      for (const uint8_t* valid :
           {static_cast<const uint8_t*>(nullptr), static_cast<const uint8_t*>(validity.data())}) {
        auto holds = [&](int64_t r) {
          const int64_t v = values[static_cast<size_t>(r)];
          const bool ok = valid == nullptr || ((valid[r >> 3] >> (r & 7)) & 1);
          const bool cmp = op == 0   ? v == 3
                           : op == 1 ? v != 3
                           : op == 2 ? v < 3
                           : op == 3 ? v <= 3
                           : op == 4 ? v > 3
                                     : v >= 3;
          return ok && cmp;
        };
        std::vector<int32_t> want_dense, want_sparse;
        for (int64_t i = 0; i < n; ++i) {
          if (holds(i)) want_dense.push_back(static_cast<int32_t>(i));
        }
        for (int32_t r : sparse) {
          if (holds(r)) want_sparse.push_back(r);
        }
        std::vector<int32_t> out(static_cast<size_t>(n));
        out.resize(static_cast<size_t>(
            SelectCompareInt64(values.data(), valid, op, 3, nullptr, n, out.data())));
        EXPECT_EQ(out, want_dense) << "n=" << n << " op=" << op;
        out.assign(sparse.size(), 0);
        out.resize(static_cast<size_t>(
            SelectCompareInt64(values.data(), valid, op, 3, sparse.data(),
                               static_cast<int64_t>(sparse.size()), out.data())));
        EXPECT_EQ(out, want_sparse) << "sparse n=" << n << " op=" << op;
      }
    }
  }
}

bool ReferenceContains(const std::string& hay, const std::string& needle, bool fold) {
  auto lower = [](std::string s) {
    for (char& c : s) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    return s;
  };
  return fold ? lower(hay).find(needle) != std::string::npos
              : hay.find(needle) != std::string::npos;
}

TEST(SimdKernels, ContainsMatchesReference) {
  std::mt19937_64 rng(5);
  const std::string alphabet = "abAB t\xc3\xbc";
  const simd::ContainsKernel kernel;
  const auto available = xsimd::available_architectures();
  for (int round = 0; round < 3000; ++round) {
    std::string hay(rng() % 150, ' ');
    for (char& c : hay) c = alphabet[rng() % alphabet.size()];
    std::string needle(1 + rng() % 4, ' ');
    for (char& c : needle) c = "ab t"[rng() % 4];
    if (rng() % 2 && hay.size() > needle.size()) {
      hay.replace(rng() % (hay.size() - needle.size()), needle.size(), needle);
    }
    for (bool fold : {false, true}) {
      const bool want = ReferenceContains(hay, needle, fold);
      EXPECT_EQ(ContainsBytes(hay.data(), hay.size(), needle.data(), needle.size(), fold), want)
          << hay << " / " << needle;
      EXPECT_EQ(kernel(xsimd::sse2{}, hay.data(), hay.size(), needle.data(), needle.size(), fold),
                want);
      if (available.avx2) {
        EXPECT_EQ(kernel(xsimd::avx2{}, hay.data(), hay.size(), needle.data(), needle.size(), fold),
                  want);
      }
      if (available.avx512bw) {
        EXPECT_EQ(
            kernel(xsimd::avx512bw{}, hay.data(), hay.size(), needle.data(), needle.size(), fold),
            want);
      }
    }
  }
  EXPECT_TRUE(ContainsBytes("abc", 3, "", 0, true));
  EXPECT_FALSE(ContainsBytes("ab", 2, "abc", 3, true));
}

TEST(SimdKernels, SelectCompareFloatOrdersNanAboveNumbers) {
  const double nan = std::nan("");
  std::vector<double> values = {1.0, nan, -0.0, 0.0, 2.5, -3.0, nan, 7.0, 2.5};
  for (int i = 0; i < 100; ++i) values.push_back(i % 7 == 0 ? nan : i * 0.5 - 10);
  const auto n = static_cast<int64_t>(values.size());
  for (double c : {2.5, 0.0, -100.0, nan}) {
    for (int op = 0; op < 6; ++op) {
      std::vector<int32_t> want;
      for (int64_t i = 0; i < n; ++i) {
        const double v = values[static_cast<size_t>(i)];
        const int cmp = (v != v || c != c) ? ((v != v) - (c != c)) : (v < c ? -1 : v > c ? 1 : 0);
        const bool holds = op == 0   ? cmp == 0
                           : op == 1 ? cmp != 0
                           : op == 2 ? cmp < 0
                           : op == 3 ? cmp <= 0
                           : op == 4 ? cmp > 0
                                     : cmp >= 0;
        if (holds) want.push_back(static_cast<int32_t>(i));
      }
      std::vector<int32_t> out(static_cast<size_t>(n));
      out.resize(static_cast<size_t>(
          SelectCompareFloat64(values.data(), nullptr, op, c, nullptr, n, out.data())));
      EXPECT_EQ(out, want) << "op " << op << " c " << c;
    }
  }
}

TEST(SimdKernels, ArithmeticWrapsAndBroadcastsConstants) {
  std::vector<int64_t> a = {INT64_MAX, 1, -5, 7, 0, 3, 9, 11, 13};
  std::vector<int64_t> b = {1, 2, 3, -4, 5, 6, 7, 8, 9};
  std::vector<int64_t> out(a.size());
  const auto n = static_cast<int64_t>(a.size());
  ArithInt64(a.data(), 0, b.data(), 0, 0, n, out.data());
  EXPECT_EQ(out[0], INT64_MIN);
  EXPECT_EQ(out[3], 3);
  ArithInt64(nullptr, 10, b.data(), 0, 1, n, out.data());
  EXPECT_EQ(out[8], 1);
  ArithInt64(a.data(), 0, nullptr, 3, 2, n, out.data());
  EXPECT_EQ(out[2], -15);
  EXPECT_EQ(out[0], static_cast<int64_t>(static_cast<uint64_t>(INT64_MAX) * 3));
  std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8, 9}, y(x.size());
  ArithFloat64(x.data(), 0, nullptr, 2, 3, n, y.data());
  EXPECT_EQ(y[8], 4.5);
  ArithFloat64(nullptr, 1, x.data(), 0, 1, n, y.data());
  EXPECT_EQ(y[3], -3);
}

}  // namespace
}  // namespace tql

#include "runtime/simd_kernels.h"

#include <algorithm>
#include <cstring>

#include "runtime/simd_kernel_decls.h"

namespace tql {

int64_t SumInt64(const int64_t* values, const uint8_t* validity, int64_t n) {
  static auto dispatched = xsimd::dispatch<simd::KernelArchs>(simd::SumInt64Kernel{});
  return dispatched(values, validity, n);
}

namespace {

template <typename T>
bool ScalarCompare(int op, T v, T c) {
  switch (op) {
    case 0:
      return v == c;
    case 1:
      return v != c;
    case 2:
      return v < c;
    case 3:
      return v <= c;
    case 4:
      return v > c;
    default:
      return v >= c;
  }
}

// The rows whose bits `fill(base, len, bitmap)` sets, chunk by chunk, ANDed with validity.
template <typename Fill>
int64_t BitmapToRows(const uint8_t* validity, int64_t n, int32_t* out, Fill fill) {
  constexpr int64_t kChunk = 1024;
  uint8_t bitmap[kChunk / 8];
  int64_t k = 0;
  for (int64_t base = 0; base < n; base += kChunk) {
    const int64_t len = std::min(kChunk, n - base);
    fill(base, len, bitmap);
    const int64_t bytes = (len + 7) / 8;
    for (int64_t b = 0; b < bytes; b += 8) {
      uint64_t word = 0;
      const int64_t take = std::min<int64_t>(8, bytes - b);
      std::memcpy(&word, bitmap + b, static_cast<size_t>(take));
      if (validity != nullptr) {
        uint64_t valid = 0;
        std::memcpy(&valid, validity + ((base >> 3) + b), static_cast<size_t>(take));
        word &= valid;
      }
      const int64_t bits_left = len - b * 8;
      if (bits_left < 64) word &= (uint64_t{1} << bits_left) - 1;
      while (word != 0) {
        out[k++] = static_cast<int32_t>(base + b * 8 + __builtin_ctzll(word));
        word &= word - 1;
      }
    }
  }
  return k;
}

// The rows of `rows` (every row 0..n-1 when null) that are valid and pass `holds(row)`:
// branch-free scalar tests.
template <typename Holds>
int64_t SelectScalar(const uint8_t* validity, const int32_t* rows, int64_t n, int32_t* out,
                     Holds holds) {
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t r = rows != nullptr ? rows[i] : static_cast<int32_t>(i);
    const bool keep = holds(r) && (validity == nullptr || ((validity[r >> 3] >> (r & 7)) & 1));
    out[k] = r;
    k += keep ? 1 : 0;
  }
  return k;
}

}  // namespace

int64_t SelectCompareInt64(const int64_t* values, const uint8_t* validity, int op, int64_t c,
                           const int32_t* rows, int64_t n, int32_t* out) {
  if (rows != nullptr) {
    // A sparse selection: scalar compares of the rows still alive.
    return SelectScalar(validity, rows, n, out,
                        [&](int32_t r) { return ScalarCompare(op, values[r], c); });
  }
  static auto dispatched = xsimd::dispatch<simd::KernelArchs>(simd::CompareInt64Kernel{});
  // Dense: SIMD compares into a bitmap, a chunk at a time, then the set bits become rows.
  return BitmapToRows(validity, n, out, [&](int64_t base, int64_t len, uint8_t* bitmap) {
    dispatched(values + base, op, c, len, bitmap);
  });
}

int64_t SelectCompareFloat64(const double* values, const uint8_t* validity, int op, double c,
                             const int32_t* rows, int64_t n, int32_t* out) {
  // NaN equals NaN and is above every number.
  auto holds = [op, c](double v) {
    const bool vn = v != v, cn = c != c;
    if (vn || cn) return ScalarCompare(op, vn ? 1 : 0, cn ? 1 : 0);
    return ScalarCompare(op, v, c);
  };
  if (rows != nullptr || c != c) {
    return SelectScalar(validity, rows, n, out, [&](int32_t r) { return holds(values[r]); });
  }
  static auto dispatched = xsimd::dispatch<simd::KernelArchs>(simd::CompareFloat64Kernel{});
  return BitmapToRows(validity, n, out, [&](int64_t base, int64_t len, uint8_t* bitmap) {
    dispatched(values + base, op, c, len, bitmap);
  });
}

void ArithInt64(const int64_t* a, int64_t ca, const int64_t* b, int64_t cb, int op, int64_t n,
                int64_t* out) {
  static auto dispatched = xsimd::dispatch<simd::KernelArchs>(simd::ArithInt64Kernel{});
  dispatched(a, ca, b, cb, op, n, out);
}

void ArithFloat64(const double* a, double ca, const double* b, double cb, int op, int64_t n,
                  double* out) {
  static auto dispatched = xsimd::dispatch<simd::KernelArchs>(simd::ArithFloat64Kernel{});
  dispatched(a, ca, b, cb, op, n, out);
}

bool ContainsBytes(const char* hay, size_t n, const char* needle, size_t m, bool fold) {
  static auto dispatched = xsimd::dispatch<simd::KernelArchs>(simd::ContainsKernel{});
  return dispatched(hay, n, needle, m, fold);
}

const char* SimdArchName() {
  const auto available = xsimd::available_architectures();
  if (available.avx512bw) return xsimd::avx512bw::name();
  if (available.avx2) return xsimd::avx2::name();
  return xsimd::sse2::name();
}

}  // namespace tql

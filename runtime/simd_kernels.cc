#include "runtime/simd_kernels.h"

#include <algorithm>
#include <cstring>

#include "runtime/simd_kernel_decls.h"

namespace tql {

int64_t SumInt64(const int64_t* values, const uint8_t* validity, int64_t n) {
  static auto dispatched = xsimd::dispatch<simd::KernelArchs>(simd::SumInt64Kernel{});
  return dispatched(values, validity, n);
}

int64_t SelectCompareInt64(const int64_t* values, const uint8_t* validity, int op, int64_t c,
                           const int32_t* rows, int64_t n, int32_t* out) {
  if (rows != nullptr) {
    // A sparse selection: branch-free scalar compares of the rows still alive.
    int64_t k = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int32_t r = rows[i];
      const int64_t v = values[r];
      bool keep;
      switch (op) {
        case 0:
          keep = v == c;
          break;
        case 1:
          keep = v != c;
          break;
        case 2:
          keep = v < c;
          break;
        case 3:
          keep = v <= c;
          break;
        case 4:
          keep = v > c;
          break;
        default:
          keep = v >= c;
          break;
      }
      keep = keep && (validity == nullptr || ((validity[r >> 3] >> (r & 7)) & 1));
      out[k] = r;
      k += keep ? 1 : 0;
    }
    return k;
  }
  static auto dispatched = xsimd::dispatch<simd::KernelArchs>(simd::CompareInt64Kernel{});
  // Dense: SIMD compares into a bitmap, a chunk at a time, then the set bits become rows.
  constexpr int64_t kChunk = 1024;
  uint8_t bitmap[kChunk / 8];
  int64_t k = 0;
  for (int64_t base = 0; base < n; base += kChunk) {
    const int64_t len = std::min(kChunk, n - base);
    dispatched(values + base, op, c, len, bitmap);
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
      if (len - b * 8 < 64)
        word &= (len - b * 8) >= 64 ? ~uint64_t{0} : ((uint64_t{1} << (len - b * 8)) - 1);
      while (word != 0) {
        out[k++] = static_cast<int32_t>(base + b * 8 + __builtin_ctzll(word));
        word &= word - 1;
      }
    }
  }
  return k;
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

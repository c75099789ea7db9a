//! Definitions of the SIMD kernels, included by one translation unit per instruction set
//! (simd_kernels_sse2.cc, _avx2.cc, _avx512.cc), each compiled with that set's flags.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "runtime/simd_kernel_decls.h"

namespace tql::simd {

template <class Arch>
int64_t SumInt64Kernel::operator()(Arch, const int64_t* values, const uint8_t* validity,
                                   int64_t n) const {
  using Batch = xsimd::batch<int64_t, Arch>;
  constexpr int64_t kLanes = static_cast<int64_t>(Batch::size);
  static_assert(8 % kLanes == 0, "a batch's validity bits must lie in one byte");
  // Four accumulators hide the add latency; unsigned lanes would be the same bits.
  Batch acc0(int64_t{0}), acc1(int64_t{0}), acc2(int64_t{0}), acc3(int64_t{0});
  int64_t i = 0;
  if (validity == nullptr) {
    for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
      acc0 += Batch::load_unaligned(values + i);
      acc1 += Batch::load_unaligned(values + i + kLanes);
      acc2 += Batch::load_unaligned(values + i + 2 * kLanes);
      acc3 += Batch::load_unaligned(values + i + 3 * kLanes);
    }
  } else {
    // Lane k of a batch is valid when bit k of its validity nibble/byte is set.
    alignas(64) int64_t lane_bits[kLanes];
    for (int64_t k = 0; k < kLanes; ++k) lane_bits[k] = int64_t{1} << k;
    const Batch bit_of_lane = Batch::load_aligned(lane_bits);
    const Batch zero(int64_t{0});
    for (; i + kLanes <= n; i += kLanes) {
      const int64_t byte = validity[i >> 3] >> (i & 7);
      const auto valid = (Batch(byte) & bit_of_lane) != zero;
      acc0 += xsimd::select(valid, Batch::load_unaligned(values + i), zero);
    }
  }
  // Wrapping addition: accumulate the lane sums as unsigned.
  // (xsimd::hadd adds the lanes as signed integers, which is undefined on overflow.)
  alignas(64) int64_t lanes[kLanes];
  (acc0 + acc1 + acc2 + acc3).store_aligned(lanes);
  uint64_t total = 0;
  for (int64_t k = 0; k < kLanes; ++k) total += static_cast<uint64_t>(lanes[k]);
  for (; i < n; ++i) {
    if (validity == nullptr || ((validity[i >> 3] >> (i & 7)) & 1)) {
      total += static_cast<uint64_t>(values[i]);
    }
  }
  return static_cast<int64_t>(total);
}

template <class Arch, class Cmp>
void CompareInt64Loop(const int64_t* values, int64_t c, int64_t n, uint8_t* out_bits, Cmp cmp) {
  using Batch = xsimd::batch<int64_t, Arch>;
  constexpr int64_t kLanes = static_cast<int64_t>(Batch::size);
  const Batch constant(c);
  // Lane k contributes bit k when its compare holds (old xsimd has no batch_bool::mask()).
  alignas(64) int64_t lane_bits[kLanes];
  for (int64_t k = 0; k < kLanes; ++k) lane_bits[k] = int64_t{1} << k;
  const Batch bit_of_lane = Batch::load_aligned(lane_bits);
  const Batch zero(int64_t{0});
  int64_t i = 0;
  // One output byte holds 8 rows: 8 / kLanes compares, their lane masks shifted into place.
  for (; i + 8 <= n; i += 8) {
    uint32_t byte = 0;
    for (int64_t k = 0; k < 8; k += kLanes) {
      const auto m = cmp(Batch::load_unaligned(values + i + k), constant);
      byte |= static_cast<uint32_t>(xsimd::hadd(xsimd::select(m, bit_of_lane, zero))) << k;
    }
    out_bits[i >> 3] = static_cast<uint8_t>(byte);
  }
  if (i < n) {
    uint32_t byte = 0;
    for (int64_t k = 0; i + k < n; ++k) {
      const Batch one(values[i + k]);
      if (xsimd::hadd(xsimd::select(cmp(one, constant), bit_of_lane, zero)) & 1) byte |= 1u << k;
    }
    out_bits[i >> 3] = static_cast<uint8_t>(byte);
  }
}

template <class Arch>
void CompareInt64Kernel::operator()(Arch, const int64_t* values, int op, int64_t c, int64_t n,
                                    uint8_t* out_bits) const {
  switch (op) {
    case 0:
      return CompareInt64Loop<Arch>(values, c, n, out_bits, [](auto a, auto b) { return a == b; });
    case 1:
      return CompareInt64Loop<Arch>(values, c, n, out_bits, [](auto a, auto b) { return a != b; });
    case 2:
      return CompareInt64Loop<Arch>(values, c, n, out_bits, [](auto a, auto b) { return a < b; });
    case 3:
      return CompareInt64Loop<Arch>(values, c, n, out_bits, [](auto a, auto b) { return a <= b; });
    case 4:
      return CompareInt64Loop<Arch>(values, c, n, out_bits, [](auto a, auto b) { return a > b; });
    default:
      return CompareInt64Loop<Arch>(values, c, n, out_bits, [](auto a, auto b) { return a >= b; });
  }
}

// Helpers compiled into each instruction set's file on its own (an anonymous namespace: the
// files' copies must not be merged by the linker, as they use different instructions).
namespace {

// One bit per lane of a byte compare (xsimd 8 has no batch_bool::mask()): the movemask
// instruction of each set, compiled only in the file built for that set.
inline uint64_t ByteMask(const xsimd::batch_bool<uint8_t, xsimd::sse2>& b) {
  return static_cast<uint32_t>(_mm_movemask_epi8(b));
}
#if defined(__AVX2__)
inline uint64_t ByteMask(const xsimd::batch_bool<uint8_t, xsimd::avx2>& b) {
  return static_cast<uint32_t>(_mm256_movemask_epi8(b));
}
#endif
#if defined(__AVX512BW__)
inline uint64_t ByteMask(const xsimd::batch_bool<uint8_t, xsimd::avx512bw>& b) {
  return static_cast<uint64_t>(static_cast<__mmask64>(b));
}
#endif

inline char UpperAscii(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
}

inline bool FoldEquals(const char* a, const char* lowered, size_t n, bool fold) {
  for (size_t k = 0; k < n; ++k) {
    char c = a[k];
    if (fold && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != lowered[k]) return false;
  }
  return true;
}

}  // namespace

// The needle's first and last bytes are compared at 16/32/64 positions at once (either case
// when folding); only positions where both match are verified byte by byte. Two bytes of the
// needle make candidates rare even in text where its first letter is frequent.
template <class Arch>
bool ContainsKernel::operator()(Arch, const char* hay, size_t n, const char* needle, size_t m,
                                bool fold) const {
  if (m == 0) return true;
  if (n < m) return false;
  using Batch = xsimd::batch<uint8_t, Arch>;
  constexpr size_t kLanes = Batch::size;
  const char first = needle[0], last = needle[m - 1];
  const Batch f1(static_cast<uint8_t>(first)), l1(static_cast<uint8_t>(last));
  const Batch f2(static_cast<uint8_t>(fold ? UpperAscii(first) : first));
  const Batch l2(static_cast<uint8_t>(fold ? UpperAscii(last) : last));
  const auto* bytes = reinterpret_cast<const uint8_t*>(hay);
  const size_t positions = n - m + 1;  // candidate starts 0 .. n - m
  // Whether the needle starts at one of the kLanes positions from i.
  auto window = [&](size_t i) {
    const Batch a = Batch::load_unaligned(bytes + i);
    const Batch b = Batch::load_unaligned(bytes + i + m - 1);
    uint64_t hits = ByteMask(((a == f1) | (a == f2)) & ((b == l1) | (b == l2)));
    while (hits != 0) {
      const auto k = static_cast<size_t>(__builtin_ctzll(hits));
      if (FoldEquals(hay + i + k + 1, needle + 1, m - 1, fold)) return true;
      hits &= hits - 1;
    }
    return false;
  };
  if (positions >= kLanes) {
    size_t i = 0;
    for (; i + kLanes <= positions; i += kLanes) {
      if (window(i)) return true;
    }
    // The last positions: one more window ending at the last one (overlapping is harmless).
    return i < positions && window(positions - kLanes);
  }
  // Shorter than one register: 16-byte registers if they fit, else byte by byte.
  if constexpr (kLanes > 16) {
    if (positions >= 16) return ContainsKernel{}(xsimd::sse2{}, hay, n, needle, m, fold);
  }
  for (size_t i = 0; i < positions; ++i) {
    if (FoldEquals(hay + i, needle, m, fold)) return true;
  }
  return false;
}

template <class Arch, class Cmp>
void CompareFloat64Loop(const double* values, double c, bool nan_result, int64_t n,
                        uint8_t* out_bits, Cmp cmp) {
  using Batch = xsimd::batch<double, Arch>;
  constexpr int64_t kLanes = static_cast<int64_t>(Batch::size);
  const Batch constant(c);
  // Lane k contributes 2^k (as a double: exact) when it holds; their sum is the lane mask.
  alignas(64) double lane_bits[kLanes];
  for (int64_t k = 0; k < kLanes; ++k) lane_bits[k] = static_cast<double>(int64_t{1} << k);
  const Batch bit_of_lane = Batch::load_aligned(lane_bits);
  const Batch zero(0.0);
  const Batch nan_bits = nan_result ? bit_of_lane : zero;
  auto lanes_of = [&](const Batch& x) {
    // NaN lanes take the fixed answer; the others the compare.
    return xsimd::select(xsimd::isnan(x), nan_bits,
                         xsimd::select(cmp(x, constant), bit_of_lane, zero));
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint32_t byte = 0;
    for (int64_t k = 0; k < 8; k += kLanes) {
      byte |= static_cast<uint32_t>(xsimd::hadd(lanes_of(Batch::load_unaligned(values + i + k))))
              << k;  // the lane sum is a small integer, exact in a double
    }
    out_bits[i >> 3] = static_cast<uint8_t>(byte);
  }
  if (i < n) {
    uint32_t byte = 0;
    for (int64_t k = 0; i + k < n; ++k) {
      if (static_cast<int64_t>(xsimd::hadd(lanes_of(Batch(values[i + k])))) & 1) byte |= 1u << k;
    }
    out_bits[i >> 3] = static_cast<uint8_t>(byte);
  }
}

template <class Arch>
void CompareFloat64Kernel::operator()(Arch, const double* values, int op, double c, int64_t n,
                                      uint8_t* out_bits) const {
  // A NaN value is above every number: != > >= hold, == < <= do not.
  const bool nan_result = op == 1 || op == 4 || op == 5;
  switch (op) {
    case 0:
      return CompareFloat64Loop<Arch>(values, c, nan_result, n, out_bits,
                                      [](auto a, auto b) { return a == b; });
    case 1:
      return CompareFloat64Loop<Arch>(values, c, nan_result, n, out_bits,
                                      [](auto a, auto b) { return a != b; });
    case 2:
      return CompareFloat64Loop<Arch>(values, c, nan_result, n, out_bits,
                                      [](auto a, auto b) { return a < b; });
    case 3:
      return CompareFloat64Loop<Arch>(values, c, nan_result, n, out_bits,
                                      [](auto a, auto b) { return a <= b; });
    case 4:
      return CompareFloat64Loop<Arch>(values, c, nan_result, n, out_bits,
                                      [](auto a, auto b) { return a > b; });
    default:
      return CompareFloat64Loop<Arch>(values, c, nan_result, n, out_bits,
                                      [](auto a, auto b) { return a >= b; });
  }
}

template <class Arch, class T, class Op>
void ArithLoop(const T* a, T ca, const T* b, T cb, int64_t n, T* out, Op op) {
  using Batch = xsimd::batch<T, Arch>;
  constexpr int64_t kLanes = static_cast<int64_t>(Batch::size);
  const Batch va(ca), vb(cb);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const Batch x = a ? Batch::load_unaligned(a + i) : va;
    const Batch y = b ? Batch::load_unaligned(b + i) : vb;
    op(x, y).store_unaligned(out + i);
  }
  for (; i < n; ++i) {
    const Batch x(a ? a[i] : ca), y(b ? b[i] : cb);
    alignas(64) T lane[kLanes];
    op(x, y).store_aligned(lane);
    out[i] = lane[0];
  }
}

template <class Arch>
void ArithInt64Kernel::operator()(Arch, const int64_t* a, int64_t ca, const int64_t* b, int64_t cb,
                                  int op, int64_t n, int64_t* out) const {
  // Two's complement lanes wrap on overflow, as TQL's integer arithmetic does: computed on
  // unsigned lanes (the same bits), because signed overflow is undefined where a lane
  // operation falls back to scalar C++ (64-bit multiply on AVX2).
  using Unsigned = xsimd::batch<uint64_t, Arch>;
  using Signed = xsimd::batch<int64_t, Arch>;
  auto wrap = [](auto f) {
    return [f](const Signed& x, const Signed& y) {
      return xsimd::bitwise_cast<Signed>(
          f(xsimd::bitwise_cast<Unsigned>(x), xsimd::bitwise_cast<Unsigned>(y)));
    };
  };
  switch (op) {
    case 0:
      return ArithLoop<Arch>(a, ca, b, cb, n, out, wrap([](auto x, auto y) { return x + y; }));
    case 1:
      return ArithLoop<Arch>(a, ca, b, cb, n, out, wrap([](auto x, auto y) { return x - y; }));
    default:
      return ArithLoop<Arch>(a, ca, b, cb, n, out, wrap([](auto x, auto y) { return x * y; }));
  }
}

template <class Arch>
void ArithFloat64Kernel::operator()(Arch, const double* a, double ca, const double* b, double cb,
                                    int op, int64_t n, double* out) const {
  switch (op) {
    case 0:
      return ArithLoop<Arch>(a, ca, b, cb, n, out, [](auto x, auto y) { return x + y; });
    case 1:
      return ArithLoop<Arch>(a, ca, b, cb, n, out, [](auto x, auto y) { return x - y; });
    case 2:
      return ArithLoop<Arch>(a, ca, b, cb, n, out, [](auto x, auto y) { return x * y; });
    default:
      return ArithLoop<Arch>(a, ca, b, cb, n, out, [](auto x, auto y) { return x / y; });
  }
}

}  // namespace tql::simd

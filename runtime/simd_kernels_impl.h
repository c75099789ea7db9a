//! Definitions of the SIMD kernels, included by one translation unit per instruction set
//! (simd_kernels_sse2.cc, _avx2.cc, _avx512.cc), each compiled with that set's flags.
#pragma once

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

template <class Arch>
size_t FindEitherByteKernel::operator()(Arch, const char* p, size_t n, char a, char b) const {
  using Batch = xsimd::batch<uint8_t, Arch>;
  constexpr size_t kLanes = Batch::size;
  const Batch va(static_cast<uint8_t>(a)), vb(static_cast<uint8_t>(b));
  const auto* bytes = reinterpret_cast<const uint8_t*>(p);
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const Batch x = Batch::load_unaligned(bytes + i);
    const auto hit = (x == va) | (x == vb);
    if (xsimd::any(hit)) {
      alignas(64) bool lanes[kLanes];
      hit.store_aligned(lanes);
      for (size_t k = 0; k < kLanes; ++k) {
        if (lanes[k]) return i + k;
      }
    }
  }
  for (; i < n; ++i) {
    if (p[i] == a || p[i] == b) return i;
  }
  return n;
}

}  // namespace tql::simd

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

}  // namespace tql::simd

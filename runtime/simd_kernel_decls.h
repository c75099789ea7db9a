//! Declarations of the per-instruction-set kernel functors. Their definitions
//! (simd_kernels_impl.h) are instantiated only in the files compiled for each set, so the
//! dispatching code never compiles AVX instructions for a CPU that may lack them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <xsimd/xsimd.hpp>

namespace tql::simd {

struct SumInt64Kernel {
  template <class Arch>
  int64_t operator()(Arch, const int64_t* values, const uint8_t* validity, int64_t n) const;
};

// Writes bit i of `out_bits` (n bits, whole bytes) as `values[i] OP c`, OP being a CompareOp
// (== != < <= > >=) given as its index.
struct CompareInt64Kernel {
  template <class Arch>
  void operator()(Arch, const int64_t* values, int op, int64_t c, int64_t n,
                  uint8_t* out_bits) const;
};

// The offset of the first byte of `p[0..n)` equal to `a` or `b`, or n.
struct FindEitherByteKernel {
  template <class Arch>
  size_t operator()(Arch, const char* p, size_t n, char a, char b) const;
};

// The instruction sets with a compiled kernel file, best first.
using KernelArchs = xsimd::arch_list<xsimd::avx512bw, xsimd::avx2, xsimd::sse2>;

#define TQL_DECLARE_KERNELS(ARCH)                                                                \
  extern template int64_t SumInt64Kernel::operator()<ARCH>(ARCH, const int64_t*, const uint8_t*, \
                                                           int64_t) const;                       \
  extern template void CompareInt64Kernel::operator()<ARCH>(ARCH, const int64_t*, int, int64_t,  \
                                                            int64_t, uint8_t*) const;            \
  extern template size_t FindEitherByteKernel::operator()<ARCH>(ARCH, const char*, size_t, char, \
                                                                char) const;
TQL_DECLARE_KERNELS(xsimd::avx512bw)
TQL_DECLARE_KERNELS(xsimd::avx2)
TQL_DECLARE_KERNELS(xsimd::sse2)
#undef TQL_DECLARE_KERNELS

}  // namespace tql::simd

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

// Whether `needle` (m bytes, lower-case ASCII letters when `fold`) occurs in `hay` (n bytes),
// ignoring ASCII case when `fold`.
struct ContainsKernel {
  template <class Arch>
  bool operator()(Arch, const char* hay, size_t n, const char* needle, size_t m, bool fold) const;
};

// Writes bit i of `out_bits` as `values[i] OP c` for doubles (c not NaN), a NaN value being
// equal to itself and above every number (the order of sort).
struct CompareFloat64Kernel {
  template <class Arch>
  void operator()(Arch, const double* values, int op, double c, int64_t n, uint8_t* out_bits) const;
};

// out[i] = a[i] OP b[i] for i < n, with a null `a` or `b` standing for the constant `ca` or
// `cb`. int64: OP 0 add, 1 sub, 2 mul, wrapping; double: also 3 div.
struct ArithInt64Kernel {
  template <class Arch>
  void operator()(Arch, const int64_t* a, int64_t ca, const int64_t* b, int64_t cb, int op,
                  int64_t n, int64_t* out) const;
};
struct ArithFloat64Kernel {
  template <class Arch>
  void operator()(Arch, const double* a, double ca, const double* b, double cb, int op, int64_t n,
                  double* out) const;
};

// The instruction sets with a compiled kernel file, best first.
using KernelArchs = xsimd::arch_list<xsimd::avx512bw, xsimd::avx2, xsimd::sse2>;

#define TQL_DECLARE_KERNELS(ARCH)                                                                \
  extern template int64_t SumInt64Kernel::operator()<ARCH>(ARCH, const int64_t*, const uint8_t*, \
                                                           int64_t) const;                       \
  extern template void CompareInt64Kernel::operator()<ARCH>(ARCH, const int64_t*, int, int64_t,  \
                                                            int64_t, uint8_t*) const;            \
  extern template bool ContainsKernel::operator()<ARCH>(ARCH, const char*, size_t, const char*,  \
                                                        size_t, bool) const;                     \
  extern template void CompareFloat64Kernel::operator()<ARCH>(ARCH, const double*, int, double,  \
                                                              int64_t, uint8_t*) const;          \
  extern template void ArithInt64Kernel::operator()<ARCH>(                                       \
      ARCH, const int64_t*, int64_t, const int64_t*, int64_t, int, int64_t, int64_t*) const;     \
  extern template void ArithFloat64Kernel::operator()<ARCH>(                                     \
      ARCH, const double*, double, const double*, double, int, int64_t, double*) const;
TQL_DECLARE_KERNELS(xsimd::avx512bw)
TQL_DECLARE_KERNELS(xsimd::avx2)
TQL_DECLARE_KERNELS(xsimd::sse2)
#undef TQL_DECLARE_KERNELS

}  // namespace tql::simd

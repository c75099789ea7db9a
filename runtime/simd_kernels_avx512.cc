// The kernels for AVX-512 (F + BW); this file alone is compiled with those flags.
#include "runtime/simd_kernels_impl.h"

namespace tql::simd {
template int64_t SumInt64Kernel::operator()<xsimd::avx512bw>(xsimd::avx512bw, const int64_t*,
                                                             const uint8_t*, int64_t) const;
template void CompareInt64Kernel::operator()<xsimd::avx512bw>(xsimd::avx512bw, const int64_t*, int,
                                                              int64_t, int64_t, uint8_t*) const;
template bool ContainsKernel::operator()<xsimd::avx512bw>(xsimd::avx512bw, const char*, size_t,
                                                          const char*, size_t, bool) const;
template void CompareFloat64Kernel::operator()<xsimd::avx512bw>(xsimd::avx512bw, const double*, int,
                                                                double, int64_t, uint8_t*) const;
template void ArithInt64Kernel::operator()<xsimd::avx512bw>(xsimd::avx512bw, const int64_t*,
                                                            int64_t, const int64_t*, int64_t, int,
                                                            int64_t, int64_t*) const;
template void ArithFloat64Kernel::operator()<xsimd::avx512bw>(xsimd::avx512bw, const double*,
                                                              double, const double*, double, int,
                                                              int64_t, double*) const;
}  // namespace tql::simd

// The kernels for SSE2, the x86-64 baseline every CPU has.
#include "runtime/simd_kernels_impl.h"

namespace tql::simd {
template int64_t SumInt64Kernel::operator()<xsimd::sse2>(xsimd::sse2, const int64_t*,
                                                         const uint8_t*, int64_t) const;
template void CompareInt64Kernel::operator()<xsimd::sse2>(xsimd::sse2, const int64_t*, int, int64_t,
                                                          int64_t, uint8_t*) const;
template bool ContainsKernel::operator()<xsimd::sse2>(xsimd::sse2, const char*, size_t, const char*,
                                                      size_t, bool) const;
template void CompareFloat64Kernel::operator()<xsimd::sse2>(xsimd::sse2, const double*, int, double,
                                                            int64_t, uint8_t*) const;
template void ArithInt64Kernel::operator()<xsimd::sse2>(xsimd::sse2, const int64_t*, int64_t,
                                                        const int64_t*, int64_t, int, int64_t,
                                                        int64_t*) const;
template void ArithFloat64Kernel::operator()<xsimd::sse2>(xsimd::sse2, const double*, double,
                                                          const double*, double, int, int64_t,
                                                          double*) const;
}  // namespace tql::simd

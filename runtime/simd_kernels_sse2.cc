// The kernels for SSE2, the x86-64 baseline every CPU has.
#include "runtime/simd_kernels_impl.h"

namespace tql::simd {
template int64_t SumInt64Kernel::operator()<xsimd::sse2>(xsimd::sse2, const int64_t*,
                                                         const uint8_t*, int64_t) const;
template void CompareInt64Kernel::operator()<xsimd::sse2>(xsimd::sse2, const int64_t*, int, int64_t,
                                                          int64_t, uint8_t*) const;
template bool ContainsKernel::operator()<xsimd::sse2>(xsimd::sse2, const char*, size_t, const char*,
                                                      size_t, bool) const;
}  // namespace tql::simd

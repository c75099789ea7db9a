// The kernels for AVX-512 (F + BW); this file alone is compiled with those flags.
#include "runtime/simd_kernels_impl.h"

namespace tql::simd {
template int64_t SumInt64Kernel::operator()<xsimd::avx512bw>(xsimd::avx512bw, const int64_t*,
                                                             const uint8_t*, int64_t) const;
}  // namespace tql::simd

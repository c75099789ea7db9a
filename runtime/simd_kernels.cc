#include "runtime/simd_kernels.h"

#include "runtime/simd_kernel_decls.h"

namespace tql {

int64_t SumInt64(const int64_t* values, const uint8_t* validity, int64_t n) {
  static auto dispatched = xsimd::dispatch<simd::KernelArchs>(simd::SumInt64Kernel{});
  return dispatched(values, validity, n);
}

const char* SimdArchName() {
  const auto available = xsimd::available_architectures();
  if (available.avx512bw) return xsimd::avx512bw::name();
  if (available.avx2) return xsimd::avx2::name();
  return xsimd::sse2::name();
}

}  // namespace tql

//! SIMD kernels of the interpreter, compiled once per instruction set (SSE2 and AVX2 here)
//! and chosen at run time for the CPU at hand (xsimd dispatch).
#pragma once

#include <cstdint>

#include "runtime/vector.h"

namespace tql {

// Sum of the valid values of int64 storage, wrapping on overflow (two's complement).
// `validity` may be null (every row valid). REQUIRES: `values` holds `n` values.
int64_t SumInt64(const int64_t* values, const uint8_t* validity, int64_t n);

// Sum of an int/timestamp/duration vector's valid values.
inline int64_t SumInt64(const Vector& v) {
  return SumInt64(v.int64_values(), v.validity_bits(), v.length());
}

// The instruction set the kernels run with on this CPU, e.g. "avx2".
const char* SimdArchName();

}  // namespace tql

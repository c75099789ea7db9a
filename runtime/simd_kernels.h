//! SIMD kernels of the interpreter, compiled once per instruction set (SSE2 and AVX2 here)
//! and chosen at run time for the CPU at hand (xsimd dispatch).
#pragma once

#include <cstddef>
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

// The selected rows where `values[row] OP c` holds and the row is valid (`validity` may be
// null), OP being a CompareOp (== != < <= > >=) by index. `rows` lists the selected rows in
// increasing order, or is null for every row 0..n-1. Writes them to `out` (room for n) and
// returns how many there are.
int64_t SelectCompareInt64(const int64_t* values, const uint8_t* validity, int op, int64_t c,
                           const int32_t* rows, int64_t n, int32_t* out);

// SelectCompareInt64 for doubles; a NaN equals NaN and is above every number.
int64_t SelectCompareFloat64(const double* values, const uint8_t* validity, int op, double c,
                             const int32_t* rows, int64_t n, int32_t* out);

// out[i] = a[i] OP b[i] for every i < n, a null `a` or `b` standing for the constant `ca` or
// `cb`. int64 (wrapping): OP 0 add, 1 sub, 2 mul; double: also 3 div. Nulls are the caller's.
void ArithInt64(const int64_t* a, int64_t ca, const int64_t* b, int64_t cb, int op, int64_t n,
                int64_t* out);
void ArithFloat64(const double* a, double ca, const double* b, double cb, int op, int64_t n,
                  double* out);

// Substring search: whether `needle` occurs in `hay`. With `fold`, ASCII letters match either
// case; REQUIRES then that the needle is lower-case (its letters a-z).
bool ContainsBytes(const char* hay, size_t n, const char* needle, size_t m, bool fold);

// The instruction set the kernels run with on this CPU, e.g. "avx2".
const char* SimdArchName();

}  // namespace tql

//! The scalar functions of TQL (LANGUAGE.md section 5) as row-at-a-time implementations over
//! Values. Casts, conditions, coalesce and null tests are expression nodes of their own
//! (runtime/expression.h); everything else is here.
#pragma once

#include <string_view>

#include "runtime/expression.h"

namespace tql {

// The implementation of the scalar function `name` (lower case), or null when the function is
// one the planner lowers to an expression node (or does not exist).
ScalarFunction FindScalarFunction(std::string_view name);

// A stable 64-bit hash of a value (the `hash` function): the same value always hashes the
// same, on every machine and in every version of the format.
int64_t HashValue(const Value& v);

}  // namespace tql

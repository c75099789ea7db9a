//! FunctionRegistry: every scalar function and aggregate of TQL in one table — arity,
//! argument types, result type, documentation. The binder type-checks calls with it, "did you
//! mean" searches it, `tql functions` prints it and docs/functions.md is generated from it, so
//! they cannot drift apart.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/types.h"

namespace tql {

enum class FunctionKind { kScalar, kAggregate };

// What the type rule of a function sees of one call.
struct CallArgs {
  std::vector<TypeId> types;
  std::vector<bool> constant;  // the argument is a literal (after let substitution)
  // Set by a rule that rejects one argument: its index, so the error can point at it.
  mutable int rejected = -1;
};

// Computes the result type of a call, or explains (in `error`) why the arguments do not fit.
// `error` names arguments by position ("argument 2"); the binder adds the function's name.
using TypeRule = std::optional<TypeId> (*)(const CallArgs& args, std::string* error);

struct FunctionInfo {
  std::string_view name;
  FunctionKind kind;
  int min_args;
  int max_args;  // -1: any number
  TypeRule type_rule;
  std::string_view signature;  // e.g. "substring(s: string, start: int [, length: int]) -> string"
  std::string_view description;
  std::string_view example;
};

// All functions and aggregates, in documentation order (grouped by family).
const std::vector<FunctionInfo>& AllFunctions();

// Case-insensitive lookup; null when there is no such function.
const FunctionInfo* FindFunction(std::string_view name);

// Every function name, for suggestions.
std::vector<std::string> FunctionNames();

// True for a type that any argument slot accepts: unknown (null) and dynamic values are
// converted at run time.
inline bool IsLooselyTyped(TypeId t) {
  return t == TypeId::kNull || t == TypeId::kDynamic;
}

}  // namespace tql

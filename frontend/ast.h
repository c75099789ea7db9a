//! The TQL abstract syntax tree. Every node carries the source range it was parsed from.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "frontend/diagnostics.h"

namespace tql::ast {

// `take N` / `limit N`.
struct TakeStage {
  SourceRange range;
  int64_t count = 0;
};

using Stage = std::variant<TakeStage>;

struct Query {
  SourceRange range;
  std::string source;  // the dataset a host registered, e.g. `spans`
  SourceRange source_range;
  std::vector<Stage> stages;
};

// The canonical text of a query: the same query always prints the same way
// (`spans\n| take 10`), whatever spacing, case of keywords and aliases it was written with.
std::string FormatQuery(const Query& query);

}  // namespace tql::ast

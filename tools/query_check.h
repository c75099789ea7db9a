//! Checking a query without running it (`tql check`, manifests, imported Baselime queries):
//! parse and bind against the sources it names, with the columns of a sample when one is given
//! and the conventional span and log columns otherwise.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "frontend/ast.h"
#include "frontend/diagnostics.h"
#include "runtime/types.h"

namespace tql {

struct QueryCheck {
  std::vector<Diagnostic> diagnostics;  // ranges are offsets into the query's text
  std::vector<Field> columns;           // the result's columns, when the query binds
  bool ok() const { return !HasErrors(diagnostics); }
};

// `sample`: the columns of every source, checked strictly (an unknown name is an error with
// "did you mean"); null: the conventional columns, other names allowed.
QueryCheck CheckQueryText(std::string_view text, const SchemaPtr& sample);

// The source names a query reads: its source, union members and join pipelines.
std::vector<std::string> SourceNames(const ast::Query& query);

}  // namespace tql

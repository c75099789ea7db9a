//! The binder: resolves names against the catalog, substitutes `let`s, types every expression
//! (inserting implicit casts), checks calls against the function registry and computes the
//! columns that flow out of each stage. It reports every independent problem it finds.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "frontend/ast.h"
#include "frontend/catalog.h"
#include "frontend/diagnostics.h"

namespace tql {

struct BindOptions {
  // Unknown names are errors even in open sources (tql check --schema).
  bool strict = false;
  // In open sources, say nothing about an unknown name unless it is close to a known one
  // (tql check without a sample knows only the conventional columns).
  bool only_near_misses = false;
  // Types of `$parameters` whose values are known at compile time (the CLI's --param).
  std::map<std::string, TypeId> parameter_types;
};

struct BindResult {
  std::vector<Diagnostic> diagnostics;  // errors and warnings, in source order
  // The columns after the source (element 0) and after each stage of the main pipeline.
  std::vector<std::vector<Field>> stage_columns;
  std::vector<std::string> parameters;  // the `$names` the query uses, in order of appearance
  // The same columns for each `join`'s right-hand pipeline.
  std::map<const ast::Pipeline*, std::vector<std::vector<Field>>> subquery_columns;
  bool ok() const { return !HasErrors(diagnostics); }
};

// Binds `query` in place: types, resolved names, substituted lets, implicit casts.
BindResult Bind(ast::Query* query, const Catalog& catalog, const BindOptions& options = {});

// The output name of an unnamed item (LANGUAGE.md section 5): a column keeps its name,
// `bin(timestamp, 1m)` is named `timestamp`, anything else by its canonical text (`count()`).
std::string DefaultColumnName(const ast::Expr& e);

// The bound query as text for `tql explain`: each stage in canonical form (implicit casts
// shown) followed by the columns it produces.
std::string FormatBoundQuery(const ast::Query& query, const BindResult& bound);

}  // namespace tql

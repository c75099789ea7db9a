//! Lowers bound AST expressions to the interpreter's physical expressions: resolves columns to
//! indexes of the input schema, binds parameter values, and inserts the conversions each
//! kernel needs (dynamic values to the type they meet, ints to floats in float arithmetic).
#pragma once

#include <map>
#include <string>

#include "frontend/ast.h"
#include "runtime/expression.h"
#include "runtime/status.h"

namespace tql {

struct CompileContext {
  const Schema* input = nullptr;
  const std::map<std::string, Value>* parameters = nullptr;
  int64_t now = 0;
};

// REQUIRES: `e` is bound. Errors: a parameter without a value, a column missing from `input`;
// `error_range`, when given, is set to the range of the subexpression at fault.
Result<PExprPtr> CompileExpr(const ast::Expr& e, const CompileContext& ctx,
                             SourceRange* error_range = nullptr);

// `e` converted to `type` (a cast node unless it already has that type).
PExprPtr CastTo(PExprPtr e, TypeId type);

// Folds constant subexpressions into constants, bottom-up. Returns the number folded.
int FoldConstants(PExprPtr* e, const EvalContext& ctx);

}  // namespace tql

//! Text → AST. Syntax errors come back as diagnostics in the user's terms; the ANTLR
//! runtime's own messages never reach a user.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "frontend/ast.h"
#include "frontend/diagnostics.h"

namespace tql {

struct ParseResult {
  std::optional<ast::Query> query;  // set when there are no errors
  std::vector<Diagnostic> diagnostics;
  bool has_comments = false;
  std::vector<ast::Comment> comments;  // in source order, for FormatQueryKeepingComments
};

// Longer queries are rejected before parsing (source ranges are 32-bit byte offsets).
inline constexpr size_t kMaxQueryBytes = 16u << 20;
// Deepest nesting of ( [ { accepted: the parser recurses per level, and a host may run it on a
// thread with a small stack.
inline constexpr int kMaxNesting = 64;
// Tallest expression tree accepted (long chains of + or == count; and/or lists do not).
inline constexpr int kMaxExpressionHeight = 1000;

ParseResult ParseQuery(std::string_view text);

}  // namespace tql

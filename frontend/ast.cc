#include "frontend/ast.h"

#include <fmt/format.h>

namespace tql::ast {

namespace {
// Names that are not plain identifiers print in backticks.
std::string FormatName(const std::string& name) {
  bool plain = !name.empty();
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '@' || c == '.';
    plain = plain && ok;
  }
  if (plain && name.front() >= '0' && name.front() <= '9') plain = false;
  return plain ? name : fmt::format("`{}`", name);
}
}  // namespace

std::string FormatQuery(const Query& query) {
  std::string out = FormatName(query.source);
  for (const Stage& stage : query.stages) {
    std::visit([&out](const TakeStage& s) { out += fmt::format("\n| take {}", s.count); }, stage);
  }
  return out;
}

}  // namespace tql::ast

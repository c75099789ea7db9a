// libFuzzer target: arbitrary bytes as a query. Parsing and binding must give a query or
// diagnostics, never crash; a parsed query's canonical text must parse back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "frontend/binder.h"
#include "frontend/parser.h"

namespace {

const tql::Catalog& FuzzCatalog() {
  static const tql::Catalog catalog = [] {
    using T = tql::TypeId;
    tql::Catalog c;
    std::vector<tql::Field> spans = tql::ConventionalColumns();
    spans.push_back({"payload", T::kDynamic});
    spans.push_back({"ok", T::kBool});
    spans.push_back({"ratio", T::kFloat});
    c.Add("spans", std::make_shared<tql::Schema>(spans));
    c.Add("logs",
          std::make_shared<tql::Schema>(
              std::vector<tql::Field>{{"timestamp", T::kTimestamp}, {"message", T::kString}}),
          /*open=*/false);
    return c;
  }();
  return catalog;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tql::ParseResult parsed = tql::ParseQuery(text);
  for (const tql::Diagnostic& d : parsed.diagnostics) (void)tql::FormatDiagnostic(text, d);
  if (!parsed.query) return 0;
  const std::string canonical = tql::ast::FormatQuery(*parsed.query);
  tql::ParseResult again = tql::ParseQuery(canonical);
  if (!again.query || tql::ast::FormatQuery(*again.query) != canonical) std::abort();
  tql::BindResult bound = tql::Bind(&*parsed.query, FuzzCatalog());
  for (const tql::Diagnostic& d : bound.diagnostics) (void)tql::FormatDiagnostic(text, d);
  if (bound.ok()) (void)tql::FormatBoundQuery(*parsed.query, bound);
  return 0;
}

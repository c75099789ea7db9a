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
    c.Add("spans",
          std::make_shared<tql::Schema>(std::vector<tql::Field>{{"timestamp", T::kTimestamp},
                                                                {"duration", T::kDuration},
                                                                {"trace_id", T::kString},
                                                                {"span_id", T::kString},
                                                                {"parent_id", T::kString},
                                                                {"name", T::kString},
                                                                {"service", T::kString},
                                                                {"http.status_code", T::kInt},
                                                                {"payload", T::kDynamic},
                                                                {"ok", T::kBool},
                                                                {"ratio", T::kFloat}}));
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

// libFuzzer target: arbitrary bytes as a query. Parsing must produce a query or diagnostics,
// never crash; a parsed query's canonical text must parse again to the same text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "frontend/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tql::ParseResult parsed = tql::ParseQuery(text);
  for (const tql::Diagnostic& d : parsed.diagnostics) (void)tql::FormatDiagnostic(text, d);
  if (!parsed.query) return 0;
  const std::string canonical = tql::ast::FormatQuery(*parsed.query);
  tql::ParseResult again = tql::ParseQuery(canonical);
  if (!again.query || tql::ast::FormatQuery(*again.query) != canonical) std::abort();
  return 0;
}

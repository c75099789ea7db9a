//! Diagnostics: problems in a query with the source range they point at, printed as
//! `line:col: error: message`, the source line, a caret/underline, and hints.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tql {

// Byte offsets [begin, end) into the query text.
struct SourceRange {
  uint32_t begin = 0;
  uint32_t end = 0;
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  SourceRange range;
  std::string message;
  std::vector<std::string> hints;  // e.g. "did you mean 'take'?"
};

inline Diagnostic MakeDiagnostic(Severity severity, SourceRange range, std::string message,
                                 std::vector<std::string> hints = {}) {
  return Diagnostic{severity, range, std::move(message), std::move(hints)};
}

struct LineColumn {
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in characters (UTF-8 code points)
};

LineColumn LocateOffset(std::string_view source, uint32_t offset);

// `prefix` (a file name) is printed before the position when not empty: `f.tql:2:9: error: ...`.
std::string FormatDiagnostic(std::string_view source, const Diagnostic& d,
                             std::string_view prefix = {});
std::string FormatDiagnostics(std::string_view source, const std::vector<Diagnostic>& ds,
                              std::string_view prefix = {});

bool HasErrors(const std::vector<Diagnostic>& ds);

}  // namespace tql

#include "frontend/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>

namespace tql {

namespace {
bool IsContinuationByte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

int CountChars(std::string_view s) {
  return static_cast<int>(
      std::count_if(s.begin(), s.end(), [](char c) { return !IsContinuationByte(c); }));
}
}  // namespace

LineColumn LocateOffset(std::string_view source, uint32_t offset) {
  offset = std::min<uint32_t>(offset, static_cast<uint32_t>(source.size()));
  LineColumn lc;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (source[i] == '\n') {
      ++lc.line;
      line_start = i + 1;
    }
  }
  lc.column = CountChars(source.substr(line_start, offset - line_start)) + 1;
  return lc;
}

std::string FormatDiagnostic(std::string_view source, const Diagnostic& d,
                             std::string_view prefix) {
  const LineColumn lc = LocateOffset(source, d.range.begin);
  std::string out;
  if (!prefix.empty()) out += fmt::format("{}:", prefix);
  out += fmt::format("{}:{}: {}: {}\n", lc.line, lc.column,
                     d.severity == Severity::kError ? "error" : "warning", d.message);
  // The source line, then a caret under the first character and tildes under the rest.
  const uint32_t begin = std::min<uint32_t>(d.range.begin, static_cast<uint32_t>(source.size()));
  size_t line_start = begin == 0 ? std::string_view::npos : source.rfind('\n', begin - 1);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  size_t line_end = source.find('\n', begin);
  if (line_end == std::string_view::npos) line_end = source.size();
  std::string_view line = source.substr(line_start, line_end - line_start);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  out += fmt::format("  {}\n", line);
  const uint32_t end = std::clamp<uint32_t>(d.range.end, begin, static_cast<uint32_t>(line_end));
  const int width = std::max(1, CountChars(source.substr(begin, end - begin)));
  // The caret lines up under the range: tabs before it are copied, other characters become
  // one space each.
  std::string pad;
  for (char c : source.substr(line_start, begin - line_start)) {
    if (c == '\t') {
      pad += '\t';
    } else if (!IsContinuationByte(c)) {
      pad += ' ';
    }
  }
  out += fmt::format("  {}^{}\n", pad, std::string(static_cast<size_t>(width - 1), '~'));
  for (const std::string& hint : d.hints) out += fmt::format("  hint: {}\n", hint);
  return out;
}

std::string FormatDiagnostics(std::string_view source, const std::vector<Diagnostic>& ds,
                              std::string_view prefix) {
  std::string out;
  for (const Diagnostic& d : ds) out += FormatDiagnostic(source, d, prefix);
  return out;
}

bool HasErrors(const std::vector<Diagnostic>& ds) {
  return std::any_of(ds.begin(), ds.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

}  // namespace tql

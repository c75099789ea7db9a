#include "tools/result_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime/table_builder.h"
#include "runtime/time_format.h"

namespace tql {

std::optional<OutputFormat> OutputFormatFromName(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "json") return OutputFormat::kJson;
  if (name == "ndjson") return OutputFormat::kNdjson;
  if (name == "csv") return OutputFormat::kCsv;
  return std::nullopt;
}

namespace {

std::string FormatFloat(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  return fmt::format("{}", d);
}

}  // namespace

std::string FormatValueText(const Vector& v, int64_t row) {
  switch (v.type()) {
    case TypeId::kNull:
      return "";
    case TypeId::kBool:
      return v.GetBool(row) ? "true" : "false";
    case TypeId::kInt:
      return fmt::format("{}", v.GetInt64(row));
    case TypeId::kFloat:
      return FormatFloat(v.GetFloat(row));
    case TypeId::kString:
    case TypeId::kDynamic:
      return std::string(v.GetString(row));
    case TypeId::kTimestamp:
      return FormatTimestamp(v.GetInt64(row));
    case TypeId::kDuration:
      return FormatDuration(v.GetInt64(row));
  }
  return "";
}

namespace {

// A value as JSON: timestamps as RFC 3339 strings, durations as integer nanoseconds,
// non-finite floats as null, dynamic values embedded as JSON.
void AppendJsonValue(std::string* out, const Vector& v, int64_t row) {
  if (v.IsNull(row)) {
    *out += "null";
    return;
  }
  switch (v.type()) {
    case TypeId::kNull:
      *out += "null";
      break;
    case TypeId::kBool:
      *out += v.GetBool(row) ? "true" : "false";
      break;
    case TypeId::kInt:
    case TypeId::kDuration:
      fmt::format_to(std::back_inserter(*out), "{}", v.GetInt64(row));
      break;
    case TypeId::kFloat: {
      const double d = v.GetFloat(row);
      if (std::isfinite(d)) {
        fmt::format_to(std::back_inserter(*out), "{}", d);
      } else {
        *out += "null";
      }
      break;
    }
    case TypeId::kString:
      AppendJsonString(out, v.GetString(row));
      break;
    case TypeId::kDynamic: {
      const std::string_view json = v.GetString(row);
      *out += json.empty() ? "null" : json;
      break;
    }
    case TypeId::kTimestamp:
      AppendJsonString(out, FormatTimestamp(v.GetInt64(row)));
      break;
  }
}

void AppendJsonRow(std::string* out, const Batch& b, int64_t row) {
  *out += '{';
  for (int c = 0; c < b.num_columns(); ++c) {
    if (c > 0) *out += ',';
    AppendJsonString(out, b.schema()->field(c).name);
    *out += ':';
    AppendJsonValue(out, b.column(c), row);
  }
  *out += '}';
}

std::string CsvQuote(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

size_t DisplayWidth(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Long cells are cut to keep the table readable; json/csv print values whole.
constexpr size_t kMaxCellWidth = 60;

std::string TableCell(const Vector& v, int64_t row) {
  if (v.IsNull(row)) return "";
  std::string text = FormatValueText(v, row);
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (DisplayWidth(text) <= kMaxCellWidth) return text;
  size_t bytes = 0, chars = 0;
  while (bytes < text.size() && chars < kMaxCellWidth - 1) {
    ++bytes;
    while (bytes < text.size() && (static_cast<unsigned char>(text[bytes]) & 0xC0) == 0x80) ++bytes;
    ++chars;
  }
  return text.substr(0, bytes) + "\xE2\x80\xA6";  // "…"
}

bool RightAligned(TypeId t) {
  return t == TypeId::kInt || t == TypeId::kFloat || t == TypeId::kDuration;
}

void WriteAligned(const Table& table, std::FILE* out) {
  const Schema& schema = *table.schema;
  const auto ncols = static_cast<size_t>(schema.num_fields());
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> width(ncols);
  for (size_t c = 0; c < ncols; ++c)
    width[c] = DisplayWidth(schema.field(static_cast<int>(c)).name);
  for (const Batch& b : table.batches) {
    for (int64_t r = 0; r < b.num_rows(); ++r) {
      std::vector<std::string> row;
      for (size_t c = 0; c < ncols; ++c) {
        row.push_back(TableCell(b.column(static_cast<int>(c)), r));
        width[c] = std::max(width[c], DisplayWidth(row.back()));
      }
      cells.push_back(std::move(row));
    }
  }
  auto pad = [](const std::string& s, size_t w, bool right) {
    const std::string fill(w - DisplayWidth(s), ' ');
    return right ? fill + s : s + fill;
  };
  std::string line;
  for (size_t c = 0; c < ncols; ++c) {
    if (c > 0) line += "  ";
    line += pad(schema.field(static_cast<int>(c)).name, width[c],
                RightAligned(schema.field(static_cast<int>(c)).type));
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  fmt::print(out, "{}\n", line);
  line.clear();
  for (size_t c = 0; c < ncols; ++c) {
    if (c > 0) line += "  ";
    line += std::string(width[c], '-');
  }
  fmt::print(out, "{}\n", line);
  for (const auto& row : cells) {
    line.clear();
    for (size_t c = 0; c < ncols; ++c) {
      if (c > 0) line += "  ";
      line += pad(row[c], width[c], RightAligned(schema.field(static_cast<int>(c)).type));
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print(out, "{}\n", line);
  }
  fmt::print(out, "({} row{})\n", cells.size(), cells.size() == 1 ? "" : "s");
}

}  // namespace

void WriteTable(const Table& table, OutputFormat format, std::FILE* out) {
  std::string buf;
  auto flush = [&buf, out](bool force) {
    if (force || buf.size() > (1u << 20)) {
      std::fwrite(buf.data(), 1, buf.size(), out);
      buf.clear();
    }
  };
  switch (format) {
    case OutputFormat::kTable:
      WriteAligned(table, out);
      return;
    case OutputFormat::kJson: {
      buf += '[';
      bool first = true;
      for (const Batch& b : table.batches) {
        for (int64_t r = 0; r < b.num_rows(); ++r) {
          if (!first) buf += ',';
          first = false;
          buf += '\n';
          AppendJsonRow(&buf, b, r);
          flush(false);
        }
      }
      buf += first ? "]\n" : "\n]\n";
      break;
    }
    case OutputFormat::kNdjson:
      for (const Batch& b : table.batches) {
        for (int64_t r = 0; r < b.num_rows(); ++r) {
          AppendJsonRow(&buf, b, r);
          buf += '\n';
          flush(false);
        }
      }
      break;
    case OutputFormat::kCsv: {
      for (int c = 0; c < table.schema->num_fields(); ++c) {
        if (c > 0) buf += ',';
        buf += CsvQuote(table.schema->field(c).name);
      }
      buf += "\r\n";
      for (const Batch& b : table.batches) {
        for (int64_t r = 0; r < b.num_rows(); ++r) {
          for (int c = 0; c < b.num_columns(); ++c) {
            if (c > 0) buf += ',';
            const Vector& v = b.column(c);
            if (v.IsValid(r)) buf += CsvQuote(FormatValueText(v, r));
          }
          buf += "\r\n";
          flush(false);
        }
      }
      break;
    }
  }
  flush(true);
}

}  // namespace tql

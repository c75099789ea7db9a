#include "runtime/json_reader.h"

#include <simdjson.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "runtime/otlp_reader.h"

namespace tql {

std::string_view JsonFormatName(JsonFormat format) {
  switch (format) {
    case JsonFormat::kAuto:
      return "auto";
    case JsonFormat::kNdjson:
      return "ndjson";
    case JsonFormat::kOtlpTraces:
      return "otlp-traces";
    case JsonFormat::kOtlpLogs:
      return "otlp-logs";
  }
  return "auto";
}

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr size_t kMaxReportedErrors = 5;

// Flattens one JSON object into a row: nested objects become dotted column names.
class RecordFlattener {
 public:
  explicit RecordFlattener(TableBuilder* builder) : builder_(builder) {}

  void AddRecord(simdjson::dom::object record) {
    path_.clear();
    field_ordinal_ = 0;
    AddObject(record);
    builder_->EndRow();
  }

 private:
  void AddObject(simdjson::dom::object object) {
    for (auto field : object) {
      const size_t mark = path_.size();
      if (mark > 0) path_ += '.';
      path_.append(field.key);
      AddValue(field.value);
      path_.resize(mark);
    }
  }

  void AddValue(element value) {
    switch (value.type()) {
      case element_type::OBJECT:
        AddObject(value.get_object().value_unsafe());
        break;
      case element_type::ARRAY:
        builder_->SetDynamic(Column(), simdjson::minify(value));
        break;
      case element_type::STRING:
        builder_->SetString(Column(), value.get_string().value_unsafe());
        break;
      case element_type::INT64:
        builder_->SetInt(Column(), value.get_int64().value_unsafe());
        break;
      case element_type::UINT64:  // above INT64_MAX: kept approximately, as a float
        builder_->SetFloat(Column(), static_cast<double>(value.get_uint64().value_unsafe()));
        break;
      case element_type::DOUBLE:
        builder_->SetFloat(Column(), value.get_double().value_unsafe());
        break;
      case element_type::BOOL:
        builder_->SetBool(Column(), value.get_bool().value_unsafe());
        break;
      case element_type::NULL_VALUE:
        builder_->SetNull(Column());
        break;
    }
  }

  // Records of one file mostly list the same keys in the same order: the n-th value of a
  // record usually lands in the column of the n-th value of the previous record, which a
  // string compare confirms without hashing the name.
  int Column() {
    const size_t n = field_ordinal_++;
    if (n < recent_.size() && recent_[n].first == path_) return recent_[n].second;
    const int column = builder_->Column(path_);
    if (n < recent_.size()) {
      recent_[n] = {path_, column};
    } else {
      recent_.emplace_back(path_, column);
    }
    return column;
  }

  TableBuilder* builder_;
  std::string path_;
  size_t field_ordinal_ = 0;
  std::vector<std::pair<std::string, int>> recent_;
};

std::string DescribeError(simdjson::error_code code) {
  switch (code) {
    case simdjson::UTF8_ERROR:
      return "invalid UTF-8";
    case simdjson::DEPTH_ERROR:
      return "JSON nested too deeply";
    case simdjson::CAPACITY:
      return "record too large";
    case simdjson::NUMBER_ERROR:
      return "malformed or out-of-range number";
    case simdjson::STRING_ERROR:
    case simdjson::UNESCAPED_CHARS:
      return "malformed string";
    default:
      return fmt::format("malformed JSON ({})", simdjson::error_message(code));
  }
}

JsonFormat DetectFormat(element doc) {
  if (!doc.is_object()) return JsonFormat::kNdjson;
  simdjson::dom::object o = doc.get_object().value_unsafe();
  if (!o["resourceSpans"].error()) return JsonFormat::kOtlpTraces;
  if (!o["resourceLogs"].error()) return JsonFormat::kOtlpLogs;
  return JsonFormat::kNdjson;
}

class JsonTableReader {
 public:
  JsonTableReader(const JsonReadOptions& options, JsonReadStats* stats)
      : options_(options), stats_(stats), builder_(options.table), flattener_(&builder_) {}

  Result<Table> Read(const simdjson::padded_string& input) {
    if (auto err = parser_.allocate(1 << 16, static_cast<size_t>(options_.max_depth)); err) {
      return Status::Internal("cannot allocate the JSON parser: {}", simdjson::error_message(err));
    }
    format_ = options_.format;
    std::string_view text(input.data(), input.size());
    std::optional<Status> whole = ReadAsOneDocument(text);
    TQL_RETURN_IF_ERROR(whole ? *whole : ReadLines(text));
    stats_->format = format_ == JsonFormat::kAuto ? JsonFormat::kNdjson : format_;
    stats_->records = builder_.num_rows();
    return builder_.Finish();
  }

 private:
  // A file whose first line is not a whole document may be one pretty-printed document (an
  // OTLP export, one object, or an array of objects). Returns nullopt to read line by line.
  std::optional<Status> ReadAsOneDocument(std::string_view text) {
    const size_t start = text.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) return Status::Ok();  // empty input: no rows
    const size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) return std::nullopt;  // one line: the line reader does it
    auto first = parser_.parse(text.data() + start, nl - start, false);
    if (!first.error()) return std::nullopt;  // NDJSON or OTLP lines
    auto whole = parser_.parse(text.data(), text.size(), false);
    if (whole.error()) return std::nullopt;  // the line reader reports the first bad line
    stats_->lines = 1;
    return AddDocument(whole.value_unsafe(), /*line=*/0);
  }

  Status ReadLines(std::string_view text) {
    int64_t line_number = 0;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      ++line_number;
      std::string_view line = text.substr(pos, end - pos);
      pos = end + 1;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      ++stats_->lines;
      // The padded input continues past the line, so the parser may read beyond its end.
      auto parsed = parser_.parse(line.data(), line.size(), false);
      Status s = parsed.error() ? Status::InvalidInput("line {}: {}", line_number,
                                                       DescribeError(parsed.error()))
                                : AddDocument(parsed.value_unsafe(), line_number);
      if (!s.ok()) {
        if (!options_.skip_bad_lines) return s;
        ++stats_->skipped_lines;
        if (stats_->skipped_errors.size() < kMaxReportedErrors) {
          stats_->skipped_errors.push_back(s.message());
        }
      }
    }
    return Status::Ok();
  }

  Status AddDocument(element doc, int64_t line) {
    if (format_ == JsonFormat::kAuto) format_ = DetectFormat(doc);
    int64_t rows = 0;
    Status s;
    switch (format_) {
      case JsonFormat::kOtlpTraces:
        s = AppendOtlpTraces(doc, &builder_, &rows);
        break;
      case JsonFormat::kOtlpLogs:
        s = AppendOtlpLogs(doc, &builder_, &rows);
        break;
      default:
        s = AddRecords(doc);
        break;
    }
    if (!s.ok() && line > 0) return Status(s.code(), fmt::format("line {}: {}", line, s.message()));
    return s;
  }

  Status AddRecords(element doc) {
    if (doc.is_object()) {
      flattener_.AddRecord(doc.get_object().value_unsafe());
      return Status::Ok();
    }
    if (doc.is_array()) {
      simdjson::dom::array items = doc.get_array().value_unsafe();
      for (element item : items) {
        if (!item.is_object()) return Status::InvalidInput("array element is not a JSON object");
        flattener_.AddRecord(item.get_object().value_unsafe());
      }
      return Status::Ok();
    }
    return Status::InvalidInput("expected a JSON object, got {}",
                                doc.is_string() ? "a string" : "a scalar");
  }

  const JsonReadOptions& options_;
  JsonReadStats* stats_;
  simdjson::dom::parser parser_;
  TableBuilder builder_;
  RecordFlattener flattener_;
  JsonFormat format_ = JsonFormat::kAuto;
};

Result<Table> ReadPadded(const simdjson::padded_string& input, const JsonReadOptions& options,
                         JsonReadStats* stats) {
  JsonReadStats local;
  JsonTableReader reader(options, stats ? stats : &local);
  return reader.Read(input);
}

}  // namespace

Result<Table> ReadJson(std::string_view text, const JsonReadOptions& options,
                       JsonReadStats* stats) {
  simdjson::padded_string input(text);
  return ReadPadded(input, options, stats);
}

Result<Table> ReadJsonFile(const std::string& path, const JsonReadOptions& options,
                           JsonReadStats* stats) {
  auto loaded = simdjson::padded_string::load(path);
  if (loaded.error()) {
    return Status::IoError("cannot read '{}': {}", path, std::strerror(errno));
  }
  Result<Table> table = ReadPadded(loaded.value_unsafe(), options, stats);
  if (!table.ok()) {
    return Status(table.status().code(), fmt::format("{}: {}", path, table.status().message()));
  }
  return table;
}

std::string DefaultSourceName(const std::string& path, JsonFormat format) {
  if (format == JsonFormat::kOtlpTraces) return "spans";
  if (format == JsonFormat::kOtlpLogs) return "logs";
  std::string stem = std::filesystem::path(path).filename().string();
  for (std::string_view ext : {".ndjson", ".jsonl", ".json"}) {
    if (stem.size() > ext.size() && stem.ends_with(ext)) {
      stem.resize(stem.size() - ext.size());
      break;
    }
  }
  const size_t dot = stem.rfind('.');
  if (dot != std::string::npos && dot + 1 < stem.size()) stem = stem.substr(dot + 1);
  return stem;
}

}  // namespace tql

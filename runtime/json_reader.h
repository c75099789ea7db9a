//! Readers of JSON telemetry into tables: NDJSON records (nested objects become dotted
//! columns) and OTLP/JSON trace and log exports, told apart automatically.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/batch.h"
#include "runtime/status.h"
#include "runtime/table_builder.h"

namespace tql {

enum class JsonFormat {
  kAuto,        // detect from the first document
  kNdjson,      // one JSON object per line (a single object, or an array of objects, also reads)
  kOtlpTraces,  // OTLP/JSON ExportTraceServiceRequest(s): resourceSpans → scopeSpans → spans
  kOtlpLogs,    // OTLP/JSON ExportLogsServiceRequest(s): resourceLogs → scopeLogs → logRecords
};

std::string_view JsonFormatName(JsonFormat format);

struct JsonReadOptions {
  JsonFormat format = JsonFormat::kAuto;
  // Skip malformed lines (counted in JsonReadStats) instead of failing on the first one.
  bool skip_bad_lines = false;
  // Deepest nesting of objects and arrays accepted in one record.
  int max_depth = 128;
  TableBuilderOptions table;
};

struct JsonReadStats {
  JsonFormat format = JsonFormat::kAuto;  // the format read
  int64_t lines = 0;                      // non-empty lines (or documents) seen
  int64_t records = 0;                    // rows produced
  int64_t skipped_lines = 0;
  std::vector<std::string> skipped_errors;  // the first few reasons, with line numbers
};

// Reads `text` (copied once into a padded buffer).
Result<Table> ReadJson(std::string_view text, const JsonReadOptions& options = {},
                       JsonReadStats* stats = nullptr);
// Reads a file; I/O errors name the path.
Result<Table> ReadJsonFile(const std::string& path, const JsonReadOptions& options = {},
                           JsonReadStats* stats = nullptr);

// The source name for a file read without one: `spans` for OTLP traces, `logs` for OTLP
// logs, otherwise the file name without directory and .ndjson/.jsonl/.json, after its last
// '.' (`demo/spans.logs.ndjson` → `logs`).
std::string DefaultSourceName(const std::string& path, JsonFormat format);

}  // namespace tql

//! TableBuilder: collects rows of named values and infers one type per column as they arrive
//! (null < bool/int/float/string, int widens to float, any other mix becomes dynamic). The
//! NDJSON and OTLP readers feed it; Finish() cuts the rows into batches of one schema.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/batch.h"
#include "runtime/status.h"

namespace tql {

struct TableBuilderOptions {
  int64_t rows_per_batch = kDefaultBatchRows;
  // Columns with these names become timestamps when every value is an RFC 3339 string or an
  // integer (seconds, milliseconds, microseconds or nanoseconds since the epoch, told apart by
  // magnitude).
  std::vector<std::string> timestamp_columns = {"timestamp"};
  // Columns with these names become durations when every value is an integer (nanoseconds)
  // or a duration literal such as "250ms".
  std::vector<std::string> duration_columns = {"duration"};
  // A string column is dictionary-encoded when it has at most this many distinct values and
  // at most one distinct value per `dictionary_min_repeats` rows. Ids (trace_id, span_id)
  // repeat too rarely, and are given up on early, after `dictionary_probe_size` values.
  int64_t max_dictionary_size = 1 << 16;
  int64_t dictionary_min_repeats = 4;
  int64_t dictionary_probe_size = 1024;
};

class TableBuilder {
 public:
  explicit TableBuilder(TableBuilderOptions options = {});
  ~TableBuilder();
  TableBuilder(const TableBuilder&) = delete;
  TableBuilder& operator=(const TableBuilder&) = delete;

  // The column's handle, creating the column (all null so far) on first use.
  int Column(std::string_view name);

  // Values of the current row. Setting a column twice in one row keeps the last value.
  void SetNull(int column);
  void SetBool(int column, bool value);
  void SetInt(int column, int64_t value);
  void SetFloat(int column, double value);
  // REQUIRES: valid UTF-8 (the readers validate it).
  void SetString(int column, std::string_view value);
  // REQUIRES: `json` is minified, valid JSON text.
  void SetDynamic(int column, std::string_view json);
  void SetTimestamp(int column, int64_t nanos);
  void SetDuration(int column, int64_t nanos);

  // Closes the current row; columns not set in it are null.
  void EndRow() { ++num_rows_; }
  int64_t num_rows() const { return num_rows_; }
  int num_columns() const { return static_cast<int>(columns_.size()); }

  // Columns in order of first appearance. The builder is empty afterwards.
  Result<Table> Finish();

  class ColumnBuilder;

 private:
  ColumnBuilder& Prepare(int column);

  TableBuilderOptions options_;
  std::vector<std::unique_ptr<ColumnBuilder>> columns_;
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, int, NameHash, std::equal_to<>> index_;
  int64_t num_rows_ = 0;
};

// Appends `s` as a JSON string literal (with quotes and escapes) to `out`.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace tql

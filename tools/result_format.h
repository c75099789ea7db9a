//! Printing results: an aligned table for people, and json, ndjson, csv for programs.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/batch.h"

namespace tql {

enum class OutputFormat { kTable, kJson, kNdjson, kCsv };

std::optional<OutputFormat> OutputFormatFromName(std::string_view name);

// Text of one value as the table and csv show it (RFC 3339 timestamps, `1.25s` durations).
// REQUIRES: the row is valid.
std::string FormatValueText(const Vector& v, int64_t row);

// Writes the whole table in `format` to `out`.
void WriteTable(const Table& table, OutputFormat format, std::FILE* out);

}  // namespace tql

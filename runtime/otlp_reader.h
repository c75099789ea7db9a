//! OTLP/JSON → rows: the mapping of OpenTelemetry trace and log exports onto tql's conventional
//! span and log columns (docs/readers.md has the table). Used by json_reader.cc.
#pragma once

#include <simdjson.h>

#include "runtime/status.h"
#include "runtime/table_builder.h"

namespace tql {

// Appends one row per span of an ExportTraceServiceRequest document.
Status AppendOtlpTraces(simdjson::dom::element request, TableBuilder* builder, int64_t* rows);
// Appends one row per log record of an ExportLogsServiceRequest document.
Status AppendOtlpLogs(simdjson::dom::element request, TableBuilder* builder, int64_t* rows);

}  // namespace tql

//! `tql trace`: one request as a tree — an indented waterfall for the terminal or nested JSON —
//! with each span's logs under it in time order.
#pragma once

#include <string>

#include "runtime/batch.h"
#include "runtime/status.h"

namespace tql {

struct TraceViewOptions {
  bool json = false;
  bool color = false;  // ANSI colours (the CLI sets it when stdout is a terminal)
  int width = 120;     // columns of the text view
};

// Renders the spans of one trace (`spans`: rows with trace_id, span_id, parent_id, timestamp,
// duration, service, name, status, ...) and, when given, the logs of the same trace (rows
// with timestamp, span_id, severity, message, ...). An error when `spans` has no rows.
Result<std::string> RenderTrace(const std::string& trace_id, const Table& spans, const Table* logs,
                                const TraceViewOptions& options);

// A duration rounded to three significant digits for reading: `1.25s`, `4.49ms`, `812us`.
std::string FormatDurationShort(int64_t nanos);

}  // namespace tql

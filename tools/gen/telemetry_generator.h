//! Deterministic sample telemetry (NDJSON spans and correlated logs) behind `tql gen`.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace tql::gen {

// 2026-11-24T10:00:00Z in nanoseconds since the Unix epoch.
inline constexpr int64_t kDefaultStartTimeNs = 1'795'514'400LL * 1'000'000'000LL;

struct GeneratorOptions {
  int64_t spans = 10000;  // exact number of span records to write
  uint64_t seed = 1;
  bool logs = false;                            // also write correlated log records
  int64_t start_time_ns = kDefaultStartTimeNs;  // start of the first trace
};

// Receives output in chunks of whole NDJSON lines, roughly 1 MiB each, the last one shorter.
using TextSink = std::function<void(std::string_view chunk)>;

struct GeneratorStats {
  int64_t spans = 0;
  int64_t traces = 0;
  int64_t logs = 0;
};

// Writes `options.spans` span records to `spans` and, when `options.logs`, log records to `logs`.
// The output is a function of `options` alone: the same options give the same bytes on every
// platform and compiler, and the span records do not depend on whether logs are written.
// REQUIRES: `spans` is callable, and so is `logs` when `options.logs`.
GeneratorStats GenerateTelemetry(const GeneratorOptions& options, const TextSink& spans,
                                 const TextSink& logs);

}  // namespace tql::gen

// NDJSON ingest throughput: `tql gen` spans read into batches by the NDJSON reader.
// Reports MB/s (bytes_per_second) and spans/s (items_per_second) on a 1M-span file.
// TQL_BENCH_SPANS overrides the span count.

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "runtime/json_reader.h"
#include "tools/gen/telemetry_generator.h"

namespace tql {
namespace {

struct SampleFile {
  std::string path;
  int64_t bytes = 0;
  int64_t spans = 0;
};

const SampleFile& Sample() {
  static const SampleFile sample = [] {
    SampleFile s;
    const char* env = std::getenv("TQL_BENCH_SPANS");
    s.spans = env ? std::atoll(env) : 1'000'000;
    s.path = (std::filesystem::temp_directory_path() / fmt::format("tql-bench-{}.ndjson", s.spans))
                 .string();
    std::FILE* f = std::fopen(s.path.c_str(), "wb");
    gen::GeneratorOptions options;
    options.spans = s.spans;
    options.seed = 42;
    gen::GenerateTelemetry(
        options, [f](std::string_view chunk) { std::fwrite(chunk.data(), 1, chunk.size(), f); },
        gen::TextSink());
    std::fclose(f);
    s.bytes = static_cast<int64_t>(std::filesystem::file_size(s.path));
    return s;
  }();
  return sample;
}

void BM_NdjsonIngest(benchmark::State& state) {
  const SampleFile& sample = Sample();
  int64_t rows = 0;
  for (auto _ : state) {
    Result<Table> t = ReadJsonFile(sample.path);
    if (!t.ok()) {
      state.SkipWithError(t.status().ToString().c_str());
      return;
    }
    rows = t->num_rows();
    benchmark::DoNotOptimize(rows);
  }
  state.SetBytesProcessed(state.iterations() * sample.bytes);
  state.SetItemsProcessed(state.iterations() * rows);
  state.counters["spans"] = static_cast<double>(rows);
  state.counters["file_MB"] = static_cast<double>(sample.bytes) / 1e6;
}
BENCHMARK(BM_NdjsonIngest)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

void BM_Generate(benchmark::State& state) {
  gen::GeneratorOptions options;
  options.spans = 100'000;
  int64_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    gen::GenerateTelemetry(
        options, [&bytes](std::string_view c) { bytes += static_cast<int64_t>(c.size()); },
        gen::TextSink());
  }
  state.SetBytesProcessed(state.iterations() * bytes);
  state.SetItemsProcessed(state.iterations() * options.spans);
}
BENCHMARK(BM_Generate)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tql

BENCHMARK_MAIN();

// The embedding API's own costs, through libtql.so as a host calls it: compiling a query,
// the fixed cost of one execution (it plans again per execution), and streaming-mode pushes.

#include <benchmark/benchmark.h>

#include <cstring>

#include "tql/tql.h"

extern "C" {
#include "../tests/c_api/arrow_builder.h"
}

namespace {

tql_engine* Engine() {
  static tql_engine* engine = [] {
    tql_engine* e = nullptr;
    tql_engine_new(nullptr, &e, nullptr);
    return e;
  }();
  return engine;
}

// `spans` with `rows` resident rows in batches of 4096.
tql_catalog* Catalog(int64_t rows) {
  tql_catalog* catalog = tql_catalog_new();
  ArrowSchema schema;
  span_schema(&schema);
  for (int64_t first = 0; first < rows; first += 4096) {
    ArrowArray array;
    span_batch(&array, first, std::min<int64_t>(4096, rows - first));
    tql_catalog_add_arrow_array(catalog, "spans", &schema, &array, nullptr);
  }
  tql_catalog_declare(catalog, "live", &schema, nullptr);
  schema.release(&schema);
  return catalog;
}

constexpr const char* kQuery =
    "spans | where duration > 250ms and status >= 500 | summarize n = count(), "
    "p99 = percentile(duration, 99) by service | sort by n desc";

void BM_Compile(benchmark::State& state) {
  tql_catalog* catalog = Catalog(100);
  for (auto _ : state) {
    tql_query* q = nullptr;
    tql_compile(Engine(), catalog, kQuery, std::strlen(kQuery), nullptr, &q, nullptr);
    benchmark::DoNotOptimize(q);
    tql_query_free(q);
  }
  tql_catalog_free(catalog);
}
BENCHMARK(BM_Compile)->Unit(benchmark::kMicrosecond);

// One execution over `range(0)` rows: the fixed cost (planning again, operators, the result
// stream) and then the rows.
void BM_Execute(benchmark::State& state) {
  tql_catalog* catalog = Catalog(state.range(0));
  tql_query* q = nullptr;
  tql_compile(Engine(), catalog, kQuery, std::strlen(kQuery), nullptr, &q, nullptr);
  for (auto _ : state) {
    ArrowArrayStream out;
    tql_query_execute(q, nullptr, &out, nullptr);
    out.release(&out);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  tql_query_free(q);
  tql_catalog_free(catalog);
}
BENCHMARK(BM_Execute)->Arg(100)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);

// Streaming mode: batches of 4096 rows pushed into a summarize.
void BM_Push(benchmark::State& state) {
  tql_catalog* catalog = Catalog(0);
  const char* text = "live | where status >= 500 | summarize n = count() by service";
  tql_query* q = nullptr;
  tql_compile(Engine(), catalog, text, std::strlen(text), nullptr, &q, nullptr);
  tql_push* push = nullptr;
  tql_push_open(q, nullptr, &push, nullptr);
  ArrowSchema schema;
  span_schema(&schema);
  for (auto _ : state) {
    state.PauseTiming();
    ArrowArray array;
    span_batch(&array, 0, 4096);
    state.ResumeTiming();
    tql_push_batch(push, &schema, &array, nullptr);
  }
  state.SetItemsProcessed(state.iterations() * 4096);
  schema.release(&schema);
  tql_push_free(push);
  tql_query_free(q);
  tql_catalog_free(catalog);
}
BENCHMARK(BM_Push)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

// Parse + bind of a typical query (the five-stage example of docs/language.md) against the
// conventional span columns; and parse alone. The target is under 200 us for parse + bind.

#include <benchmark/benchmark.h>

#include "frontend/binder.h"
#include "frontend/parser.h"

namespace tql {
namespace {

constexpr const char* kQuery = R"(let slow = 500ms;
spans
| where service == "checkout" and duration > slow and http.status_code >= 500
| extend route = tolower(http.route)
| summarize count(), p99(duration), dcount(user.id) by bin(timestamp, 1m), route
| where count() > 10
| top 10 by p99(duration) desc)";

Catalog SpansCatalog() {
  Catalog c;
  c.Add("spans", std::make_shared<Schema>(ConventionalColumns()));
  return c;
}

// ANTLR fills its prediction caches (shared by all parsers) on first use: warm them before
// timing, as a long-running host would have.
void WarmUp() {
  static const bool warmed = [] {
    for (int i = 0; i < 200; ++i) ParseQuery(kQuery);
    return true;
  }();
  (void)warmed;
}

void BM_Parse(benchmark::State& state) {
  WarmUp();
  for (auto _ : state) {
    ParseResult r = ParseQuery(kQuery);
    benchmark::DoNotOptimize(r.query);
  }
}
BENCHMARK(BM_Parse)->Unit(benchmark::kMicrosecond);

void BM_ParseAndBind(benchmark::State& state) {
  WarmUp();
  const Catalog catalog = SpansCatalog();
  for (auto _ : state) {
    ParseResult r = ParseQuery(kQuery);
    BindResult b = Bind(&*r.query, catalog);
    if (!b.ok()) state.SkipWithError("the query does not bind");
    benchmark::DoNotOptimize(b.stage_columns);
  }
}
BENCHMARK(BM_ParseAndBind)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tql

BENCHMARK_MAIN();

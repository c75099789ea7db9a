// libFuzzer target: arbitrary bytes as a query, run end to end (parse, bind, plan, execute)
// over a small table of spans and logs with nulls, unicode and dynamic values. Whatever the
// query, the answer is rows or diagnostics, never a crash, a leak or undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "frontend/binder.h"
#include "frontend/parser.h"
#include "planner/executor.h"
#include "planner/logical_plan.h"
#include "runtime/json_reader.h"

namespace {

// The rows of tests/queries/data, the dataset of the golden query tests.
constexpr std::string_view kSpans =
    R"ndjson({"timestamp":"2026-11-24T10:00:00Z","duration":1500000000,"trace_id":"t1","span_id":"a1","name":"GET /api/cart","service":"api-gateway","kind":"server","status":"ok","http":{"method":"GET","route":"/api/cart","status_code":200},"user":{"id":"u1"},"faas":{"coldstart":true},"payload":{"items":[{"sku":"A-1","qty":2},{"sku":"B-2","qty":1}],"total":31.5},"score":0.5,"tag":"x"}
{"timestamp":"2026-11-24T10:00:00.250Z","duration":250000000,"trace_id":"t1","span_id":"a2","parent_id":"a1","name":"cart-get","service":"cart","kind":"server","status":"ok","http":{"method":"GET","route":"/api/cart","status_code":200},"user":{"id":"u1"},"faas":{"coldstart":false},"payload":{"items":[],"total":0},"score":1.25,"tag":5}
{"timestamp":"2026-11-24T10:00:00.300Z","duration":120000000,"trace_id":"t1","span_id":"a3","parent_id":"a2","name":"SELECT carts","service":"cart","kind":"client","status":"ok","db":{"system":"postgresql","statement":"SELECT * FROM carts WHERE id = $1"},"score":-2.0,"tag":true}
{"timestamp":"2026-11-24T10:00:01Z","duration":3000000000,"trace_id":"t2","span_id":"b1","name":"POST /api/checkout","service":"api-gateway","kind":"server","status":"error","status_message":"Upstream request TIMEOUT","http":{"method":"POST","route":"/api/checkout","status_code":504},"user":{"id":"u2"},"faas":{"coldstart":false},"score":10,"tag":"y"}
{"timestamp":"2026-11-24T10:00:01.100Z","duration":2800000000,"trace_id":"t2","span_id":"b2","parent_id":"b1","name":"checkout","service":"checkout","kind":"server","status":"error","status_message":"payment timed out","error":{"type":"TimeoutError"},"http":{"method":"POST","route":"/api/checkout","status_code":500},"user":{"id":"u2"},"payload":{"items":[{"sku":"C-3","qty":5}],"total":99.99},"score":3.5}
{"timestamp":"2026-11-24T10:00:01.200Z","duration":5000000,"trace_id":"t2","span_id":"b3","parent_id":"b2","name":"redis GET","service":"checkout","kind":"client","status":"unset","db":{"system":"redis","statement":"GET cart:u2"},"tag":null}
{"timestamp":"2026-11-24T10:00:02Z","duration":45000000,"trace_id":"t3","span_id":"c1","name":"GET /api/users/{id}","service":"users","kind":"server","status":"ok","http":{"method":"GET","route":"/api/users/{id}","status_code":404},"user":{"id":"ü-Zoë"},"score":0,"tag":"Ünïcode"}
{"timestamp":"2026-11-24T10:00:02.500Z","duration":0,"trace_id":"t4","span_id":"d1","name":"health","service":"api-gateway","kind":"server","status":"ok","http":{"method":"GET","route":"/health","status_code":200},"score":-0.5,"tag":"HEALTH check"}
{"timestamp":"2026-11-24T10:00:03Z","duration":999999999,"trace_id":"t5","span_id":"e1","name":"GET /api/search","service":"search","kind":"server","status":"error","status_message":"index not found","http":{"method":"GET","route":"/api/search","status_code":503},"user":{"id":"u3"},"faas":{"coldstart":true},"payload":{"query":"red shoes","page":2},"score":7.75,"tag":"x"}
{"timestamp":"2026-11-24T10:00:03.001Z","duration":1000000000,"trace_id":"t5","span_id":"e2","parent_id":"e1","name":"search-query","service":"search","kind":"internal","status":"ok","user":{"id":"u3"},"payload":{"query":"Red Shoes","page":null},"score":7.75}
)ndjson";
constexpr std::string_view kLogs =
    R"ndjson({"timestamp":"2026-11-24T10:00:00.100Z","trace_id":"t1","span_id":"a1","severity":"INFO","service":"api-gateway","message":"{\"level\":\"info\",\"msg\":\"request started\",\"status\":200}"}
{"timestamp":"2026-11-24T10:00:01.050Z","trace_id":"t2","span_id":"b1","severity":"ERROR","service":"api-gateway","message":"{\"level\":\"error\",\"msg\":\"upstream timeout\",\"status\":504}"}
{"timestamp":"2026-11-24T10:00:01.150Z","trace_id":"t2","span_id":"b2","severity":"ERROR","service":"checkout","message":"payment provider timed out after 2500 ms"}
{"timestamp":"2026-11-24T10:00:02.000Z","severity":"WARN","service":"users","message":"{\"level\":\"warn\",\"msg\":\"user not found\",\"status\":404}"}
{"timestamp":"2026-11-24T10:00:03.500Z","trace_id":"t5","severity":"DEBUG","service":"search","message":"cache miss for key red-shoes"}
)ndjson";

struct Data {
  tql::Catalog catalog;
  tql::SourceTables tables;
};

const Data& FuzzData() {
  static const Data data = [] {
    Data d;
    tql::JsonReadOptions options;
    options.table.rows_per_batch = 8;  // several batches, so batch boundaries are exercised
    for (const auto& [name, text] : {std::pair{"spans", kSpans}, std::pair{"logs", kLogs}}) {
      tql::Result<tql::Table> t = tql::ReadJson(text, options);
      if (!t.ok()) std::abort();
      d.catalog.Add(name, t->schema);
      d.tables[name] = std::move(t).value();
    }
    return d;
  }();
  return data;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Data& d = FuzzData();
  tql::ParseResult parsed = tql::ParseQuery(text);
  if (!parsed.query) return 0;
  tql::BindOptions bind;
  tql::PlanOptions plan;
  plan.now = 1'795'600'000'000'000'000;
  plan.parameters = {{"n", tql::Value::Int(3)},
                     {"svc", tql::Value::String("cart")},
                     {"min", tql::Value::Duration(1'000'000'000)}};
  for (const auto& [name, value] : plan.parameters) bind.parameter_types[name] = value.type;
  tql::BindResult bound = tql::Bind(&*parsed.query, d.catalog, bind);
  if (!bound.ok()) return 0;
  tql::PlanResult planned = tql::PlanQuery(*parsed.query, bound, d.catalog, plan);
  if (!planned.plan) return 0;
  (void)tql::ExplainPlan(*planned.plan);
  tql::ScanStats stats;
  tql::ExecOptions exec;
  exec.now = plan.now;
  tql::Result<tql::Table> result = tql::ExecutePlan(*planned.plan, d.tables, &stats, exec);
  // The result has the planned columns.
  if (result.ok() && !(*result->schema == *planned.plan->output_schema)) std::abort();
  // Partial aggregation: the one partial state of all the data, merged, gives the single-pass
  // result; a corrupted partial is an error or a result, never a crash.
  tql::Result<std::string> partial = tql::ExecutePartial(*planned.plan, d.tables, &stats, exec);
  if (partial.ok() && result.ok()) {
    tql::Result<tql::Table> merged = tql::MergePartials(*planned.plan, {*partial}, exec);
    if (!merged.ok() || merged->num_rows() != result->num_rows()) std::abort();
    std::string bad = *partial;
    bad[size % bad.size()] = static_cast<char>(bad[size % bad.size()] ^ 0x55);
    (void)tql::MergePartials(*planned.plan, {bad}, exec);
  }
  return 0;
}

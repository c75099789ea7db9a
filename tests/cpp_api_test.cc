// The C++ wrapper (include/tql/tql.hpp), linked against the shared library as a host links
// it: RAII handles, results with diagnostics, callback sources as lambdas, streaming mode.

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tql/tql.hpp"

extern "C" {
#include "c_api/arrow_builder.h"
}

namespace {

using namespace std::chrono_literals;

// The int64 column `name` of a result, over every batch.
std::vector<int64_t> Ints(tql::ResultStream stream, const std::string& name) {
  ArrowSchema schema;
  EXPECT_TRUE(stream.Schema(&schema));
  int column = -1;
  for (int64_t c = 0; c < schema.n_children; ++c) {
    if (name == schema.children[c]->name) column = static_cast<int>(c);
  }
  schema.release(&schema);
  EXPECT_GE(column, 0) << name;
  std::vector<int64_t> out;
  ArrowArray batch;
  while (stream.Next(&batch)) {
    const ArrowArray* a = batch.children[column];
    const auto* values = static_cast<const int64_t*>(a->buffers[1]);
    for (int64_t r = 0; r < batch.length; ++r) out.push_back(values[r + a->offset]);
    batch.release(&batch);
  }
  return out;
}

tql::Engine NewEngine() {
  auto engine = tql::Engine::Create(tql::Options().jit(TQL_JIT_AUTO));
  EXPECT_TRUE(engine.ok()) << engine.error().message();
  return std::move(engine).value();
}

// A catalog with `spans`: 300 rows in three resident batches.
tql::Catalog SpanCatalog() {
  tql::Catalog catalog;
  for (int b = 0; b < 3; ++b) {
    ArrowSchema schema;
    ArrowArray array;
    span_schema(&schema);
    span_batch(&array, b * 100, 100);
    EXPECT_TRUE(catalog.AddArrowArray("spans", schema, &array).ok());
    schema.release(&schema);
  }
  return catalog;
}

TEST(CppApi, CompilesAndRuns) {
  tql::Engine engine = NewEngine();
  tql::Catalog catalog = SpanCatalog();
  EXPECT_EQ(catalog.sources(), std::vector<std::string>{"spans"});
  auto query = engine.Compile(catalog, "spans | where status == 500 | count");
  ASSERT_TRUE(query.ok()) << query.error().message();
  EXPECT_NE(query->explain().find("Scan spans"), std::string_view::npos);
  auto result = query->Execute();
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(Ints(std::move(result).value(), "count"), std::vector<int64_t>{43});
  EXPECT_FALSE(tql::Version().empty());
}

// match over spans a host hands in as Arrow arrays: a trace split across two batches, its
// children arriving before their root.
TEST(CppApi, MatchOverArrowBatches) {
  static const char* const formats[] = {"u", "u", "u", "u"};
  static const char* const names[] = {"trace_id", "span_id", "parent_id", "service"};
  const char* const rows[2][3][4] = {
      {{"t1", "db1", "api1", "db"}, {"t2", "api2", nullptr, "api"}, {"t1", "db2", "api1", "db"}},
      {{"t1", "api1", nullptr, "api"}, {"t2", "db3", "api2", "db"}, {"t3", "db4", "gone", "db"}}};
  tql::Catalog catalog;
  for (const auto& batch : rows) {
    ArrowSchema schema;
    ArrowArray array;
    make_schema(&schema, 4, formats, names);
    ArrowArray* cols[4];
    for (int c = 0; c < 4; ++c) {
      const char* values[3] = {batch[0][c], batch[1][c], batch[2][c]};
      cols[c] = string_column(3, values);
    }
    make_struct(&array, 3, 4, cols);
    ASSERT_TRUE(catalog.AddArrowArray("spans", schema, &array).ok());
    schema.release(&schema);
  }
  tql::Engine engine = NewEngine();
  // db spans whose parent is an api span: db1, db2 (t1) and db3 (t2); db4's parent never came.
  auto query = engine.Compile(
      catalog,
      R"(spans | match { service == "api" } > { service == "db" } | summarize n = count() by trace_id | summarize traces = count(), spans = sum(n))");
  ASSERT_TRUE(query.ok()) << query.error().message();
  EXPECT_NE(query->explain().find("Match {service == \"api\"} > {service == \"db\"}"),
            std::string_view::npos);
  auto result = query->Execute();
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(Ints(std::move(result).value(), "spans"), std::vector<int64_t>{3});
}

TEST(CppApi, ErrorsCarryDiagnostics) {
  tql::Engine engine = NewEngine();
  tql::Catalog catalog = SpanCatalog();
  auto query = engine.Compile(catalog, "spans\n| summarize count() by servce");
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.error().status(), TQL_QUERY_ERROR);
  EXPECT_STREQ(query.error().status_name(), "TQL_QUERY_ERROR");
  ASSERT_EQ(query.error().diagnostics().size(), 1u);
  const tql::Diagnostic& d = query.error().diagnostics()[0];
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 24);
  EXPECT_NE(d.message.find("did you mean 'service'"), std::string::npos);
  EXPECT_NE(query.error().message().find("2:24: error:"), std::string::npos);

  auto bad = tql::Engine::Create(tql::Options().cache_size(0));
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().status(), TQL_INVALID_ARGUMENT);
  EXPECT_FALSE(catalog.AddFile("x", "/nonexistent.ndjson").ok());
}

TEST(CppApi, ParamsWithChrono) {
  tql::Engine engine = NewEngine();
  tql::Catalog catalog = SpanCatalog();
  tql::Params params;
  ASSERT_TRUE(params.Set("min", std::chrono::nanoseconds(900ms)).ok());
  ASSERT_TRUE(params.Set("svc", "db").ok());
  auto query = engine.Compile(catalog, "spans | where duration >= $min and service == $svc | count",
                              &params);
  ASSERT_TRUE(query.ok()) << query.error().message();
  EXPECT_EQ(Ints(std::move(query->Execute()).value(), "count"), std::vector<int64_t>{10});
  tql::Params again;
  ASSERT_TRUE(again.Set("min", std::chrono::nanoseconds(0)).ok());
  tql::Exec exec;
  ASSERT_TRUE(exec.params(again).ok());
  EXPECT_EQ(Ints(std::move(query->Execute(&exec)).value(), "count"), std::vector<int64_t>{100});
}

TEST(CppApi, LambdaSourceSeesPushdown) {
  tql::Engine engine = NewEngine();
  tql::Catalog catalog;
  ArrowSchema schema;
  span_schema(&schema);
  int opens = 0;
  std::string pushed;
  ASSERT_TRUE(catalog
                  .AddSource("spans", schema,
                             [&](const tql::Scan& scan, ArrowArrayStream* out) {
                               ++opens;
                               for (const tql_predicate& p : scan.predicates()) pushed += p.text;
                               make_span_stream(out, 4, 50, -1);
                               return 0;
                             })
                  .ok());
  schema.release(&schema);
  auto query = engine.Compile(catalog, "spans | where status >= 500 | summarize n = count()");
  ASSERT_TRUE(query.ok()) << query.error().message();
  ASSERT_EQ(query->scans().size(), 1u);
  EXPECT_EQ(query->scans()[0].source(), "spans");
  EXPECT_EQ(query->scans()[0].columns(), std::vector<std::string_view>{"status"});
  for (int run = 0; run < 2; ++run) {
    EXPECT_EQ(Ints(std::move(query->Execute()).value(), "n"), std::vector<int64_t>{29});
  }
  EXPECT_EQ(opens, 2);
  EXPECT_EQ(pushed, "status >= 500status >= 500");
}

TEST(CppApi, CancelFromAnotherThread) {
  tql::Engine engine = NewEngine();
  tql::Catalog catalog;
  ArrowSchema schema;
  span_schema(&schema);
  ASSERT_TRUE(catalog
                  .AddSource("spans", schema,
                             [](const tql::Scan&, ArrowArrayStream* out) {
                               make_span_stream(out, 1 << 30, 1000, -1);  // endless
                               return 0;
                             })
                  .ok());
  schema.release(&schema);
  auto query = engine.Compile(catalog, "spans | where service == \"api\" | count");
  ASSERT_TRUE(query.ok());
  tql::Exec exec;
  std::thread canceller([&] {
    std::this_thread::sleep_for(30ms);
    exec.Cancel();
  });
  auto result = query->Execute(&exec);
  canceller.join();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().status(), TQL_CANCELLED);

  tql::Exec limited;
  ASSERT_TRUE(limited.time_limit(20ms).ok());
  result = query->Execute(&limited);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().status(), TQL_LIMIT_EXCEEDED);
}

TEST(CppApi, PushSnapshotsAndMergedStates) {
  tql::Engine engine = NewEngine();
  tql::Catalog catalog;
  ArrowSchema schema;
  span_schema(&schema);
  ASSERT_TRUE(catalog.Declare("live", schema).ok());
  auto query = engine.Compile(catalog, "live | summarize n = count(), total = sum(status)");
  ASSERT_TRUE(query.ok()) << query.error().message();
  std::vector<std::string> states;
  for (int shard = 0; shard < 3; ++shard) {
    auto push = query->Open();
    ASSERT_TRUE(push.ok()) << push.error().message();
    ArrowArray array;
    span_batch(&array, shard * 70, 70);
    ASSERT_TRUE(push->Batch(schema, &array).ok());
    auto snapshot = push->Snapshot();
    ASSERT_TRUE(snapshot.ok());
    EXPECT_EQ(Ints(std::move(snapshot).value(), "n"), std::vector<int64_t>{70});
    auto state = push->ExportState();
    ASSERT_TRUE(state.ok()) << state.error().message();
    states.push_back(std::move(state).value());
  }
  schema.release(&schema);
  auto merged = query->MergeStates({states[0], states[1], states[2]});
  ASSERT_TRUE(merged.ok()) << merged.error().message();
  // 210 rows, 30 of them multiples of 7 (status 500).
  EXPECT_EQ(Ints(std::move(merged).value(), "total"), std::vector<int64_t>{30 * 500 + 180 * 200});
}

TEST(CppApi, OneQueryManyThreads) {
  tql::Engine engine = NewEngine();
  tql::Catalog catalog = SpanCatalog();
  auto query = engine.Compile(catalog, "spans | where duration > 500ms | summarize n = count()");
  ASSERT_TRUE(query.ok());
  std::atomic<int> right{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto r = query->Execute();
        if (r.ok() && Ints(std::move(r).value(), "n") == std::vector<int64_t>{120}) ++right;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(right.load(), 100);
}

}  // namespace

// Golden query tests (tests/queries/*.test), in the spirit of sqllogictest: each case is a
// query over a named dataset and the exact rows (or plan) it must produce.
//
//   query DATASET [title]      the rows, in the order the engine returns them
//   rowsort DATASET [title]    the rows sorted as text (for results without a defined order)
//   plan DATASET [title]       the optimized plan, the pushdown and the rules that fired
//   error DATASET [title]      the diagnostics of a query that must not run
//
// Datasets: `small` (tests/queries/data: hand-written spans and logs with nulls, unicode,
// dynamic values), `traces` (tests/queries/data/traces.ndjson: hand-written traces with
// orphans, a deep chain, a fan-out and a cycle, 8 rows per batch), `gen` (2000 generated spans
// and their logs, seed 42, in batches of 256 rows)
// and `gen200k` (200000 generated spans, seed 42, for high-cardinality group-bys). Rows print as
// tab-separated text under a header of `name:type` columns; null prints as `null`.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#ifdef TQL_HAVE_JIT
#include "codegen/filter_compiler.h"
#endif
#include "frontend/binder.h"
#include "frontend/parser.h"
#include "planner/executor.h"
#include "planner/logical_plan.h"
#include "runtime/json_reader.h"
#include "runtime/value.h"
#include "tests/golden_file.h"
#include "tests/test_util.h"
#include "tools/gen/telemetry_generator.h"

namespace tql {
namespace {

struct Dataset {
  Catalog catalog;
  SourceTables tables;
};

void AddSource(Dataset* d, const std::string& name, Result<Table> table) {
  ASSERT_TRUE(table.ok()) << name << ": " << table.status().message();
  d->catalog.Add(name, table->schema);
  d->tables[name] = std::move(table).value();
}

const Dataset& GetDataset(const std::string& name) {
  static std::map<std::string, Dataset> datasets;
  auto it = datasets.find(name);
  if (it != datasets.end()) return it->second;
  Dataset d;
  if (name == "small") {
    const std::string dir = TQL_SOURCE_DIR "/tests/queries/data/";
    AddSource(&d, "spans", ReadJsonFile(dir + "spans.ndjson"));
    AddSource(&d, "logs", ReadJsonFile(dir + "logs.ndjson"));
  } else if (name == "gen") {
    gen::GeneratorOptions options;
    options.spans = 2000;
    options.seed = 42;
    options.logs = true;
    std::string spans, logs;
    gen::GenerateTelemetry(
        options, [&](std::string_view s) { spans += s; }, [&](std::string_view s) { logs += s; });
    // Small batches so that plans with several batches (and batch skipping) are exercised.
    JsonReadOptions read;
    read.table.rows_per_batch = 256;
    AddSource(&d, "spans", ReadJson(spans, read));
    AddSource(&d, "logs", ReadJson(logs, read));
  } else if (name == "traces") {
    // Hand-written traces in scrambled order, 8 rows per batch so every trace is split across
    // batches: a typical request, a single span, orphans, a deep chain, a wide fan-out, a
    // parent cycle and a span without a trace_id.
    JsonReadOptions read;
    read.table.rows_per_batch = 8;
    AddSource(&d, "spans", ReadJsonFile(TQL_SOURCE_DIR "/tests/queries/data/traces.ndjson", read));
  } else if (name == "gen200k") {
    // Enough rows for 100k+ groups (span_id, and trace_id with user.id).
    gen::GeneratorOptions options;
    options.spans = 200000;
    options.seed = 42;
    std::string spans;
    gen::GenerateTelemetry(
        options, [&](std::string_view s) { spans += s; }, nullptr);
    AddSource(&d, "spans", ReadJson(spans));
  }
  return datasets.emplace(name, std::move(d)).first->second;
}

std::string Escape(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatRows(const Table& t, bool sort_rows) {
  std::vector<std::string> header;
  for (const Field& f : t.schema->fields()) {
    header.push_back(f.name + ":" + std::string(TypeName(f.type)));
  }
  std::vector<std::string> rows;
  Value v;
  for (const Batch& b : t.batches) {
    for (int64_t r = 0; r < b.num_rows(); ++r) {
      std::string line;
      for (int c = 0; c < b.num_columns(); ++c) {
        if (c > 0) line += '\t';
        ReadValue(b.column(c), r, &v);
        // Dynamic values print as their JSON text.
        line += v.null ? "null" : Escape(v.type == TypeId::kDynamic ? v.s : ValueToText(v));
      }
      rows.push_back(std::move(line));
    }
  }
  if (sort_rows) std::sort(rows.begin(), rows.end());
  std::string out;
  for (size_t i = 0; i < header.size(); ++i) out += (i ? "\t" : "") + header[i];
  out += "\n";
  for (const std::string& r : rows) out += r + "\n";
  out += "(" + std::to_string(rows.size()) + " rows)\n";
  return out;
}

#ifdef TQL_HAVE_JIT
JitKernelCompiler& Jit() {
  static std::unique_ptr<JitKernelCompiler> jit = [] {
    Result<std::unique_ptr<JitKernelCompiler>> j = JitKernelCompiler::Create();
    if (!j.ok()) std::abort();
    return std::move(j).value();
  }();
  return *jit;
}

// The JIT optimizes kernels on a background thread: let it finish before the process exits,
// when LLVM's own statics are being destroyed.
class JitQuiesce : public ::testing::Environment {
 public:
  void TearDown() override { Jit().WaitForOptimized(); }
};
[[maybe_unused]] const ::testing::Environment* const kJitQuiesce =
    ::testing::AddGlobalTestEnvironment(new JitQuiesce);
#endif

std::string RunCase(const test::GoldenCase& c) {
  const std::string dataset = c.title.substr(0, c.title.find(' '));
  const Dataset& d = GetDataset(dataset);
  if (d.tables.empty()) return "unknown dataset '" + dataset + "'";
  ParseResult parsed = ParseQuery(c.input);
  if (!parsed.query) return FormatDiagnostics(c.input, parsed.diagnostics);
  BindOptions bind_options;
  PlanOptions plan_options;
  // Fixed parameters and a fixed now() so that results are repeatable.
  plan_options.now = 1'795'600'000'000'000'000;  // 2026-11-25T09:46:40Z
  plan_options.parameters = {{"min", Value::Duration(1'000'000'000)},
                             {"svc", Value::String("cart")},
                             {"n", Value::Int(3)},
                             {"code", Value::Int(500)}};
  for (const auto& [name, value] : plan_options.parameters) {
    bind_options.parameter_types[name] = value.type;
  }
  BindResult bound = Bind(&*parsed.query, d.catalog, bind_options);
  std::string diagnostics = FormatDiagnostics(c.input, bound.diagnostics);
  if (!bound.ok()) return c.kind == "error" ? diagnostics : "unexpected error:\n" + diagnostics;
  PlanResult planned = PlanQuery(*parsed.query, bound, d.catalog, plan_options);
  if (!planned.plan) {
    const std::string e = FormatDiagnostics(c.input, planned.diagnostics);
    return c.kind == "error" ? diagnostics + e : "unexpected error:\n" + diagnostics + e;
  }
  if (c.kind == "plan") {
    std::string out = ExplainPlan(*planned.plan);
    for (const PushdownInfo& p : DescribePushdown(*planned.plan)) {
      out += "pushdown " + p.source + ": [";
      for (size_t i = 0; i < p.columns.size(); ++i) out += (i ? ", " : "") + p.columns[i];
      out += "]";
      for (const std::string& pred : p.predicates) out += "; " + pred;
      out += "\n";
    }
    for (const std::string& r : planned.rules_fired) out += "rule " + r + "\n";
    return out;
  }
  ScanStats stats;
  ExecOptions exec;
  exec.now = plan_options.now;
  Result<Table> result = ExecutePlan(*planned.plan, d.tables, &stats, exec);
#ifdef TQL_HAVE_JIT
  // The same plan with the JIT's kernels: the output must be the same, row for row.
  {
    ExecOptions jit = exec;
    jit.compiler = &Jit();
    ScanStats jit_stats;
    Result<Table> compiled = ExecutePlan(*planned.plan, d.tables, &jit_stats, jit);
    const std::string a = result.ok() ? FormatRows(*result, false) : result.status().message();
    const std::string b =
        compiled.ok() ? FormatRows(*compiled, false) : compiled.status().message();
    if (a != b) return "the JIT and the interpreter disagree\ninterpreter:\n" + a + "jit:\n" + b;
    // Adaptive: the interpreter until a kernel is ready, then the kernel, whenever that is.
    jit.adaptive = true;
    Result<Table> adaptive = ExecutePlan(*planned.plan, d.tables, &jit_stats, jit);
    const std::string d2 =
        adaptive.ok() ? FormatRows(*adaptive, false) : adaptive.status().message();
    if (a != d2) {
      return "adaptive and the interpreter disagree\ninterpreter:\n" + a + "auto:\n" + d2;
    }
  }
#endif
  if (!result.ok()) {
    return c.kind == "error" ? diagnostics + result.status().message()
                             : "unexpected error: " + result.status().message();
  }
  if (c.kind == "error") return "unexpectedly ran:\n" + FormatRows(*result, false);
  std::string out = diagnostics + FormatRows(*result, c.kind == "rowsort");
  if (stats.batches_skipped > 0) {
    out += "skipped " + std::to_string(stats.batches_skipped) + " of " +
           std::to_string(stats.batches_skipped + stats.batches_read) + " batches\n";
  }
  return out;
}

class QueryGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(QueryGolden, Cases) {
  const auto failed = test::CheckGoldenFile(GetParam(), {"query", "rowsort", "plan", "error"},
                                            [](const test::GoldenCase& c) { return RunCase(c); });
  for (const test::GoldenCase& c : failed)
    ADD_FAILURE() << test::DescribeGoldenFailure(GetParam(), c);
}

std::string FileStem(const ::testing::TestParamInfo<std::string>& info) {
  return test::GoldenTestName(info.param);
}

INSTANTIATE_TEST_SUITE_P(Files, QueryGolden,
                         ::testing::ValuesIn(test::ListGoldenFiles(TQL_SOURCE_DIR
                                                                   "/tests/queries")),
                         FileStem);

// A producer may hand over a batch that disagrees with the source's schema in the middle of a
// stream: the query stops with an error naming the batch and the column, never a crash.
TEST(Executor, BatchWithAnotherSchemaMidStreamIsAnError) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"code", TypeId::kInt}});
  auto other = std::make_shared<Schema>(std::vector<Field>{{"code", TypeId::kFloat}});
  Table t;
  t.schema = schema;
  t.batches.emplace_back(schema, std::vector<Vector>{test::Int64s({1, 500})}, 2);
  t.batches.emplace_back(other, std::vector<Vector>{test::Floats({2.5})}, 1);
  Catalog catalog;
  catalog.Add("spans", schema);
  SourceTables tables{{"spans", t}};
  ParseResult parsed = ParseQuery("spans | where code >= 500 | count");
  ASSERT_TRUE(parsed.query);
  BindResult bound = Bind(&*parsed.query, catalog);
  PlanResult planned = PlanQuery(*parsed.query, bound, catalog);
  ASSERT_TRUE(planned.plan);
  ScanStats stats;
  Result<Table> r = ExecutePlan(*planned.plan, tables, &stats);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "batch 2 of source 'spans': column 'code' holds float (1 rows), the source declares "
            "int (1 rows)");
}

// Groups are the same whether a batch holds a key dictionary-encoded, with another
// dictionary, or plain; null keys form one group. Single and fixed-width multi-column keys.
TEST(Executor, GroupsAgreeAcrossEncodingsAndDictionaries) {
  auto schema = std::make_shared<Schema>(
      std::vector<Field>{{"service", TypeId::kString}, {"code", TypeId::kInt}});
  Table t;
  t.schema = schema;
  t.batches.emplace_back(schema,
                         std::vector<Vector>{test::DictStrings({"cart", "users"}, {0, 1, 0, {}}),
                                             test::Int64s({200, 200, 500, 200})},
                         4);
  t.batches.emplace_back(schema,
                         std::vector<Vector>{test::DictStrings({"users", "cart"}, {1, 0, {}}),
                                             test::Int64s({200, 200, {}})},
                         3);
  t.batches.emplace_back(schema,
                         std::vector<Vector>{test::Strings({"cart", std::nullopt, "users"}),
                                             test::Int64s({500, 200, 200})},
                         3);
  Catalog catalog;
  catalog.Add("spans", schema);
  SourceTables tables{{"spans", t}};
  auto run = [&](const std::string& text) {
    ParseResult parsed = ParseQuery(text);
    BindResult bound = Bind(&*parsed.query, catalog);
    PlanResult planned = PlanQuery(*parsed.query, bound, catalog);
    ScanStats stats;
    Result<Table> r = ExecutePlan(*planned.plan, tables, &stats);
    EXPECT_TRUE(r.ok());
    return FormatRows(*r, /*sort_rows=*/true);
  };
  EXPECT_EQ(run("spans | summarize n = count() by service"),
            "service:string\tn:int\ncart\t4\nnull\t3\nusers\t3\n(3 rows)\n");
  EXPECT_EQ(run("spans | summarize n = count() by service, code"),
            "service:string\tcode:int\tn:int\ncart\t200\t2\ncart\t500\t2\nnull\t200\t2\n"
            "null\tnull\t1\nusers\t200\t3\n(5 rows)\n");
}

}  // namespace
}  // namespace tql

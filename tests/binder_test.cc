// Golden binder tests (tests/binder/*.test) against a fixed catalog: `bind` cases print the
// diagnostics (warnings) and the bound query with the columns after each stage; `error` cases
// print the diagnostics. Also: every example of the function registry binds.

#include "frontend/binder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "frontend/function_registry.h"
#include "frontend/parser.h"
#include "tests/golden_file.h"

namespace tql {
namespace {

using T = TypeId;

Catalog TestCatalog() {
  Catalog c;
  c.Add(
      "spans",
      std::make_shared<Schema>(std::vector<Field>{
          {"timestamp", T::kTimestamp},   {"duration", T::kDuration},  {"trace_id", T::kString},
          {"span_id", T::kString},        {"parent_id", T::kString},   {"name", T::kString},
          {"service", T::kString},        {"kind", T::kString},        {"status", T::kString},
          {"status_message", T::kString}, {"http.method", T::kString}, {"http.route", T::kString},
          {"http.status_code", T::kInt},  {"user.id", T::kString},     {"cloud.region", T::kString},
          {"faas.coldstart", T::kBool},   {"db.system", T::kString},   {"db.statement", T::kString},
          {"error.type", T::kString},     {"payload", T::kDynamic},    {"cart.total", T::kFloat}}));
  c.Add("logs", std::make_shared<Schema>(std::vector<Field>{{"timestamp", T::kTimestamp},
                                                            {"trace_id", T::kString},
                                                            {"span_id", T::kString},
                                                            {"severity", T::kString},
                                                            {"service", T::kString},
                                                            {"message", T::kString},
                                                            {"request_id", T::kString}}));
  // A strict source: unknown names are errors.
  c.Add("metrics",
        std::make_shared<Schema>(std::vector<Field>{{"timestamp", T::kTimestamp},
                                                    {"metric", T::kString},
                                                    {"value", T::kFloat},
                                                    {"samples", T::kInt}}),
        /*open=*/false);
  return c;
}

std::string RunCase(const test::GoldenCase& c, const Catalog& catalog) {
  ParseResult parsed = ParseQuery(c.input);
  if (!parsed.query) return "syntax error:\n" + FormatDiagnostics(c.input, parsed.diagnostics);
  BindOptions options;
  options.parameter_types = {{"n", T::kInt}, {"svc", T::kString}, {"min", T::kDuration}};
  BindResult bound = Bind(&*parsed.query, catalog, options);
  std::string out = FormatDiagnostics(c.input, bound.diagnostics);
  if (c.kind == "bind") {
    if (!bound.ok()) return "unexpected error:\n" + out;
    return out + FormatBoundQuery(*parsed.query, bound);
  }
  if (bound.ok()) return "unexpectedly valid:\n" + out + FormatBoundQuery(*parsed.query, bound);
  return out;
}

class BinderGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(BinderGolden, Cases) {
  const Catalog catalog = TestCatalog();
  const auto failed =
      test::CheckGoldenFile(GetParam(), {"bind", "error"},
                            [&](const test::GoldenCase& c) { return RunCase(c, catalog); });
  for (const test::GoldenCase& c : failed)
    ADD_FAILURE() << test::DescribeGoldenFailure(GetParam(), c);
}

std::string FileStem(const ::testing::TestParamInfo<std::string>& info) {
  return test::GoldenTestName(info.param);
}

INSTANTIATE_TEST_SUITE_P(Files, BinderGolden,
                         ::testing::ValuesIn(test::ListGoldenFiles(TQL_SOURCE_DIR "/tests/binder")),
                         FileStem);

// The registry's examples are what docs/functions.md shows users: each must bind cleanly.
TEST(FunctionRegistry, EveryExampleBinds) {
  const Catalog catalog = TestCatalog();
  for (const FunctionInfo& f : AllFunctions()) {
    const std::string example(f.example);
    const std::string query =
        example.starts_with("summarize") ? "spans | " + example : "spans | extend x = " + example;
    ParseResult parsed = ParseQuery(query);
    ASSERT_TRUE(parsed.query) << f.name << ": " << FormatDiagnostics(query, parsed.diagnostics);
    BindResult bound = Bind(&*parsed.query, catalog);
    EXPECT_TRUE(bound.diagnostics.empty())
        << f.name << ": " << FormatDiagnostics(query, bound.diagnostics);
  }
}

TEST(FunctionRegistry, NamesAreUniqueAndLowerCase) {
  std::set<std::string> seen;
  for (const FunctionInfo& f : AllFunctions()) {
    EXPECT_TRUE(seen.insert(std::string(f.name)).second) << f.name;
    for (char c : f.name) EXPECT_FALSE(c >= 'A' && c <= 'Z') << f.name;
    EXPECT_NE(FindFunction(f.name), nullptr);
    EXPECT_FALSE(f.signature.empty());
    EXPECT_FALSE(f.description.empty());
  }
  EXPECT_EQ(FindFunction("COUNT"), FindFunction("count"));
  EXPECT_EQ(FindFunction("no_such"), nullptr);
}

}  // namespace
}  // namespace tql

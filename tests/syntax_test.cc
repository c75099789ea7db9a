// Golden syntax tests (tests/syntax/*.test): `query` cases must parse and print as their
// canonical text (which must parse back to itself); `error` cases must fail with exactly the
// diagnostics given.

#include <gtest/gtest.h>

#include <filesystem>

#include "frontend/parser.h"
#include "tests/golden_file.h"

namespace tql {
namespace {

std::string RunCase(const test::GoldenCase& c) {
  ParseResult r = ParseQuery(c.input);
  if (c.kind == "query") {
    if (!r.query) return "unexpected error:\n" + FormatDiagnostics(c.input, r.diagnostics);
    const std::string canonical = ast::FormatQuery(*r.query);
    ParseResult again = ParseQuery(canonical);
    if (!again.query) {
      return "canonical text does not parse:\n" + FormatDiagnostics(canonical, again.diagnostics);
    }
    if (ast::FormatQuery(*again.query) != canonical) {
      return "canonical text is not stable:\n" + ast::FormatQuery(*again.query);
    }
    return canonical;
  }
  if (r.query) return "unexpectedly valid:\n" + ast::FormatQuery(*r.query);
  return FormatDiagnostics(c.input, r.diagnostics);
}

class SyntaxGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(SyntaxGolden, Cases) {
  const auto failed = test::CheckGoldenFile(GetParam(), {"query", "error"},
                                            [&](const test::GoldenCase& c) { return RunCase(c); });
  for (const test::GoldenCase& c : failed)
    ADD_FAILURE() << test::DescribeGoldenFailure(GetParam(), c);
}

std::string FileStem(const ::testing::TestParamInfo<std::string>& info) {
  return test::GoldenTestName(info.param);
}

INSTANTIATE_TEST_SUITE_P(Files, SyntaxGolden,
                         ::testing::ValuesIn(test::ListGoldenFiles(TQL_SOURCE_DIR "/tests/syntax")),
                         FileStem);

}  // namespace
}  // namespace tql

#include "frontend/parser.h"

#include <gtest/gtest.h>

#include "frontend/binder.h"
#include "frontend/suggest.h"
#include "planner/logical_plan.h"

namespace tql {
namespace {

std::string Errors(std::string_view text) {
  ParseResult r = ParseQuery(text);
  EXPECT_FALSE(r.query.has_value()) << text;
  return FormatDiagnostics(text, r.diagnostics);
}

TEST(Parser, ParsesSourceAndTake) {
  ParseResult r = ParseQuery("spans | take 10 | LIMIT 1_000;");
  ASSERT_TRUE(r.query) << FormatDiagnostics("", r.diagnostics);
  EXPECT_EQ(r.query->pipeline.source.Joined(), "spans");
  ASSERT_EQ(r.query->pipeline.stages.size(), 2u);
  EXPECT_EQ(r.query->pipeline.stages[1].count.value, 1000);
  EXPECT_EQ(ast::FormatQuery(*r.query), "spans\n| take 10\n| take 1000");
}

TEST(Parser, CanonicalTextIsStable) {
  for (std::string_view q :
       {"spans|take 5", "  spans\n  | TAKE 5 // five\n", "/* c */ spans | limit 5"}) {
    ParseResult r = ParseQuery(q);
    ASSERT_TRUE(r.query) << q;
    EXPECT_EQ(ast::FormatQuery(*r.query), "spans\n| take 5");
    ParseResult again = ParseQuery(ast::FormatQuery(*r.query));
    ASSERT_TRUE(again.query);
    EXPECT_EQ(ast::FormatQuery(*again.query), "spans\n| take 5");
  }
  ParseResult quoted = ParseQuery("`my-data` | take 1");
  ASSERT_TRUE(quoted.query);
  EXPECT_EQ(quoted.query->pipeline.source.Joined(), "my-data");
  EXPECT_EQ(ast::FormatQuery(*quoted.query), "`my-data`\n| take 1");
}

TEST(Parser, NoAntlrTextReachesTheUser) {
  for (std::string_view q :
       {"", "|", "spans take 3", "spans | take 3 3", "spans | take -1", "#", "spans | ???"}) {
    const std::string e = Errors(q);
    EXPECT_EQ(e.find("mismatched input"), std::string::npos) << e;
    EXPECT_EQ(e.find("extraneous"), std::string::npos) << e;
    EXPECT_EQ(e.find("<EOF>"), std::string::npos) << e;
    EXPECT_NE(e.find("error: "), std::string::npos) << e;
  }
}

TEST(Parser, HugeIntegerLiteralIsAnError) {
  const std::string e = Errors("spans | take 99999999999999999999999");
  EXPECT_NE(e.find("1:14: error: integer literal is out of range"), std::string::npos) << e;
}

TEST(Parser, InvalidUtf8IsAnErrorWithPosition) {
  const std::string e = Errors("spans | take 1 // \xC3\x28");
  EXPECT_NE(e.find("1:19: error: the query is not valid UTF-8"), std::string::npos) << e;
}

TEST(Parser, ColumnsCountCharactersNotBytes) {
  const std::string e = Errors("/* h\xC3\xA9llo */ spans | take x");
  EXPECT_NE(e.find("1:26: error:"), std::string::npos) << e;
}

TEST(Parser, VeryLongQueriesDoNotCrash) {
  std::string q = "spans";
  for (int i = 0; i < 20000; ++i) q += " | take 1";
  ParseResult r = ParseQuery(q);
  ASSERT_TRUE(r.query);
  EXPECT_EQ(r.query->pipeline.stages.size(), 20000u);
  std::string big(kMaxQueryBytes + 1, ' ');
  EXPECT_FALSE(ParseQuery(big).query);
}

// The parser's fuzz test: token soups and random bytes give a query or diagnostics, never a
// crash, and a parsed query's canonical text parses back to itself.
TEST(Parser, RandomInputsNeverCrash) {
  const std::vector<std::string> pieces = {"spans",
                                           " ",
                                           "|",
                                           "take",
                                           "limit",
                                           "TAKE",
                                           "10",
                                           "1_0",
                                           "`x`",
                                           "`",
                                           ";",
                                           "/*",
                                           "*/",
                                           "//",
                                           "\n",
                                           ".",
                                           "a.b",
                                           "@",
                                           "99999999999999999999",
                                           "\xC3",
                                           "\xA9",
                                           "\0"};
  uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const int n = static_cast<int>(next() % 12);
    for (int k = 0; k < n; ++k) {
      if (round % 4 == 0) {
        text.push_back(static_cast<char>(next() & 0xff));
      } else {
        text += pieces[next() % pieces.size()];
      }
    }
    ParseResult r = ParseQuery(text);
    ASSERT_NE(r.query.has_value(), !r.diagnostics.empty()) << text;
    for (const Diagnostic& d : r.diagnostics) {
      EXPECT_LE(d.range.begin, text.size());
      EXPECT_LE(d.range.end, text.size());
      EXPECT_FALSE(FormatDiagnostic(text, d).empty());
    }
    if (r.query) {
      const std::string canonical = ast::FormatQuery(*r.query);
      ParseResult again = ParseQuery(canonical);
      ASSERT_TRUE(again.query) << canonical;
      EXPECT_EQ(ast::FormatQuery(*again.query), canonical);
    }
  }
}

// Hostile input answers with an error (or a query), never a crash or a stack overflow.
TEST(Parser, TenThousandNestedParentheses) {
  const std::string q = "spans | where " + std::string(10000, '(') + "x" + std::string(10000, ')');
  ParseResult r = ParseQuery(q);
  ASSERT_FALSE(r.query);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_NE(r.diagnostics[0].message.find("nested too deeply"), std::string::npos);
  const std::string braces =
      "spans | match " + std::string(5000, '(') + "{}" + std::string(5000, ')');
  EXPECT_FALSE(ParseQuery(braces).query);
  const std::string brackets =
      "spans | extend a = x" + std::string(3000, '[') + "0" + std::string(3000, ']');
  EXPECT_FALSE(ParseQuery(brackets).query);
}

TEST(Parser, NestingWithinTheLimitParses) {
  const std::string q =
      "spans | where " + std::string(kMaxNesting, '(') + "x == 1" + std::string(kMaxNesting, ')');
  ParseResult r = ParseQuery(q);
  ASSERT_TRUE(r.query) << FormatDiagnostics(q, r.diagnostics);
  EXPECT_EQ(ast::FormatQuery(*r.query), "spans\n| where x == 1");
}

TEST(Parser, LongChainsAreBoundedNotRecursive) {
  // 100,000 prefix operators are a flat list in the grammar; the tree height is capped.
  std::string nots = "spans | where ";
  for (int i = 0; i < 100000; ++i) nots += "not ";
  nots += "x";
  ParseResult r = ParseQuery(nots);
  ASSERT_FALSE(r.query);
  EXPECT_NE(r.diagnostics[0].message.find("too deeply nested"), std::string::npos);
  std::string sum = "spans | extend s = x";
  for (int i = 0; i < 50000; ++i) sum += " + x";
  EXPECT_FALSE(ParseQuery(sum).query);
  // or-chains are n-ary: 20,000 alternatives are fine.
  std::string ors = "spans | where x == 0";
  for (int i = 1; i < 20000; ++i) ors += " or x == " + std::to_string(i);
  ParseResult many = ParseQuery(ors);
  ASSERT_TRUE(many.query);
  EXPECT_EQ(many.query->pipeline.stages[0].predicate->args.size(), 20000u);
}

TEST(Parser, OneMegabyteQuery) {
  std::string q = "spans | where name in (";
  while (q.size() < (1u << 20)) q += "\"abcdefghijklmnopqrstuvwxyz0123456789\", ";
  q += "\"end\")";
  ParseResult r = ParseQuery(q);
  ASSERT_TRUE(r.query);
  EXPECT_GT(r.query->pipeline.stages[0].predicate->args.size(), 20000u);
}

TEST(Parser, TenThousandElementInList) {
  std::string q = "spans | where http.status_code in (";
  for (int i = 0; i < 10000; ++i) q += (i ? ", " : "") + std::to_string(i);
  q += ")";
  ParseResult r = ParseQuery(q);
  ASSERT_TRUE(r.query);
  EXPECT_EQ(r.query->pipeline.stages[0].predicate->args.size(), 10001u);
}

TEST(Parser, UnterminatedThingsAndBadBytes) {
  for (std::string q :
       {std::string("spans | where x == \"abc"), std::string("spans /* open"),
        std::string("spans | where `x"), std::string("spans | take 1") + std::string(1, '\0'),
        std::string("spans | where \xff"), std::string(3, '\0'),
        std::string("spans | where x == 'a\\"), std::string(100000, '"')}) {
    ParseResult r = ParseQuery(q);
    EXPECT_FALSE(r.query) << q.substr(0, 40);
    ASSERT_FALSE(r.diagnostics.empty());
    EXPECT_EQ(r.diagnostics[0].message.find("internal"), std::string::npos)
        << r.diagnostics[0].message;
  }
}

TEST(Binder, UnknownSourceSuggestsTheClosest) {
  Catalog catalog;
  catalog.Add("spans", std::make_shared<Schema>());
  catalog.Add("logs", std::make_shared<Schema>());
  const std::string text = "spnas | take 1";
  ParseResult r = ParseQuery(text);
  ASSERT_TRUE(r.query);
  BindResult b = Bind(&*r.query, catalog);
  EXPECT_FALSE(b.ok());
  EXPECT_EQ(FormatDiagnostics(text, b.diagnostics),
            "1:1: error: unknown source 'spnas'; did you mean 'spans'?\n"
            "  spnas | take 1\n"
            "  ^~~~~\n");
}

TEST(Planner, ExplainShowsOperators) {
  Catalog catalog;
  catalog.Add("spans", std::make_shared<Schema>(std::vector<Field>{
                           {"name", TypeId::kString}, {"duration", TypeId::kDuration}}));
  ParseResult r = ParseQuery("spans | take 3");
  BindResult b = Bind(&*r.query, catalog);
  PlanResult p = PlanQuery(*r.query, b, catalog);
  ASSERT_TRUE(p.plan);
  EXPECT_EQ(ExplainPlan(*p.plan), "Limit 3\n  Scan spans columns=[name, duration] (2 of 2)\n");
}

TEST(Suggest, EditDistance) {
  EXPECT_EQ(EditDistance("severity", "sevrity"), 1);
  EXPECT_EQ(EditDistance("status", "stauts"), 1);
  EXPECT_EQ(EditDistance("abc", "abc"), 0);
  EXPECT_EQ(ClosestName("stauts", {"status", "service"}), "status");
  EXPECT_FALSE(ClosestName("zzz", {"status", "service"}).has_value());
}

}  // namespace
}  // namespace tql

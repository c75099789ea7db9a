// Unit tests of the interpreter's value conversions and text helpers; the golden query tests
// (tests/queries) cover the operators end to end.
#include "runtime/expression.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <random>

#include "runtime/functions.h"
#include "runtime/regex.h"
#include "runtime/value.h"

namespace tql {
namespace {

TEST(Text, CaseMappingCoversLatinGreekCyrillic) {
  EXPECT_EQ(Utf8Lower("ÜNÏCODE Zoë"), "ünïcode zoë");
  EXPECT_EQ(Utf8Upper("straße ünï"), "STRAßE ÜNÏ");  // ß has no one-letter upper case
  EXPECT_EQ(Utf8Lower("ΣΟΦΙΑ"), "σοφια");
  EXPECT_EQ(Utf8Lower("МОСКВА Ёж"), "москва ёж");
  EXPECT_EQ(Utf8Upper("łódź"), "ŁÓDŹ");
  EXPECT_EQ(Utf8Lower("日本語 ABC"), "日本語 abc");
}

TEST(Text, ContainsIgnoreCase) {
  EXPECT_TRUE(ContainsIgnoreCase("Upstream request TIMEOUT", "timeout"));
  EXPECT_FALSE(ContainsIgnoreCase("time out", "timeout"));
  EXPECT_TRUE(ContainsIgnoreCase("user ÜNÏCODE", Utf8Lower("ünï")));
  EXPECT_TRUE(ContainsIgnoreCase("Zoë", "zoë"));
  EXPECT_TRUE(ContainsIgnoreCase("anything", ""));
  EXPECT_FALSE(ContainsIgnoreCase("", "a"));
}

TEST(Text, HasWholeTokens) {
  EXPECT_TRUE(HasToken("GET /api/cart/{id}", "cart", false));
  EXPECT_FALSE(HasToken("cart-get", "car", false));
  EXPECT_TRUE(HasToken("cart-get", "get", false));
  EXPECT_FALSE(HasToken("cart-get", "GET", true));
  EXPECT_TRUE(HasToken("a.b", "b", true));
  EXPECT_FALSE(HasToken("abc", "", true));
}

TEST(Values, CastsFollowTheConversionFunctions) {
  EXPECT_EQ(CastValue(Value::String("42"), TypeId::kInt), Value::Int(42));
  EXPECT_EQ(CastValue(Value::String(" 7 "), TypeId::kInt), Value::Int(7));
  EXPECT_EQ(CastValue(Value::String("2.9"), TypeId::kInt), Value::Int(2));
  EXPECT_TRUE(CastValue(Value::String("x"), TypeId::kInt).null);
  EXPECT_TRUE(CastValue(Value::Float(1e300), TypeId::kInt).null);
  EXPECT_EQ(CastValue(Value::Float(-2.7), TypeId::kInt), Value::Int(-2));
  EXPECT_EQ(CastValue(Value::Int(3), TypeId::kFloat), Value::Float(3));
  EXPECT_EQ(CastValue(Value::String("true"), TypeId::kBool), Value::Bool(true));
  EXPECT_TRUE(CastValue(Value::String("yes"), TypeId::kBool).null);
  EXPECT_EQ(CastValue(Value::String("1.5s"), TypeId::kDuration), Value::Duration(1'500'000'000));
  EXPECT_EQ(CastValue(Value::Duration(1'500'000'000), TypeId::kString), Value::String("1.5s"));
  EXPECT_EQ(CastValue(Value::String("2026-11-24T10:00:00Z"), TypeId::kTimestamp),
            Value::Timestamp(1'795'514'400'000'000'000));
  EXPECT_EQ(CastValue(Value::String("a\"b"), TypeId::kDynamic), Value::Dynamic("\"a\\\"b\""));
  EXPECT_EQ(CastValue(Value::Timestamp(0), TypeId::kString), Value::String("1970-01-01T00:00:00Z"));
}

TEST(Values, DynamicValuesDecodeToScalars) {
  EXPECT_EQ(DecodeDynamic("\"error\""), Value::String("error"));
  EXPECT_EQ(DecodeDynamic("504"), Value::Int(504));
  EXPECT_EQ(DecodeDynamic("2.5"), Value::Float(2.5));
  EXPECT_EQ(DecodeDynamic("true"), Value::Bool(true));
  EXPECT_TRUE(DecodeDynamic("null").null);
  EXPECT_TRUE(DecodeDynamic("not json").null);
  EXPECT_EQ(DecodeDynamic("[1,2]"), Value::Dynamic("[1,2]"));
  EXPECT_EQ(CastValue(Value::Dynamic("\"7\""), TypeId::kInt), Value::Int(7));
  EXPECT_EQ(ValueToText(Value::Dynamic("\"a\"")), "a");
  EXPECT_EQ(ValueToText(Value::Dynamic("{\"a\":1}")), "{\"a\":1}");
}

TEST(Values, CompareOrdersNanLastAndStringsByCodePoint) {
  EXPECT_LT(CompareValues(Value::Float(1), Value::Float(std::nan(""))), 0);
  EXPECT_EQ(CompareValues(Value::Float(std::nan("")), Value::Float(std::nan(""))), 0);
  EXPECT_LT(CompareValues(Value::String("Z"), Value::String("a")), 0);
  EXPECT_LT(CompareValues(Value::String("z"), Value::String("é")), 0);
}

// The hash of a value is part of the language's contract: it must not change between
// versions or machines.
TEST(Values, HashIsStable) {
  EXPECT_EQ(HashValue(Value::String("a")), HashValue(Value::String("a")));
  EXPECT_NE(HashValue(Value::String("a")), HashValue(Value::String("b")));
  EXPECT_NE(HashValue(Value::Int(1)), HashValue(Value::Float(1)));
  EXPECT_EQ(HashValue(Value::Float(0.0)), HashValue(Value::Float(-0.0)));
  EXPECT_EQ(HashValue(Value::Int(42)), HashValue(Value::Int(42)));
  EXPECT_EQ(HashValue(Value::String("checkout")), 3848099274652916065);
  EXPECT_EQ(HashValue(Value::Int(42)), 4528044192672454115);
  EXPECT_EQ(HashValue(Value::Float(1.5)), 4287651733408715052);
}

// The prefilter only skips RE2 where RE2 could not match: every answer equals RE2's.
TEST(Regex, PrefilterAgreesWithRe2) {
  const std::vector<std::string> patterns = {
      "timed? ?out", "(?i)TIMEOUT|refused", "^GET /api/(cart|orders)", "err(or)?[0-9]+",
      "(?i)k",       "payment.*declined",   "[a-z]+@[a-z]+",           "abc|xyz|"};
  const std::vector<std::string> pieces = {"time",
                                           "out",
                                           "TIMEOUT",
                                           "timed out",
                                           "GET /api/cart",
                                           "error42",
                                           "err7",
                                           "\u212a",
                                           "payment was declined",
                                           "refused",
                                           "a@b",
                                           "x",
                                           " ",
                                           "K",
                                           "\xc3\xbc"};
  std::mt19937_64 rng(3);
  for (const std::string& p : patterns) {
    Result<std::shared_ptr<const Regex>> re = Regex::Make(p);
    ASSERT_TRUE(re.ok()) << p;
    RE2 plain(p);
    for (int i = 0; i < 400; ++i) {
      std::string text;
      const int parts = static_cast<int>(rng() % 5);
      for (int k = 0; k < parts; ++k) text += pieces[rng() % pieces.size()];
      EXPECT_EQ((*re)->PartialMatch(text), RE2::PartialMatch(text, plain)) << p << " / " << text;
    }
  }
  EXPECT_FALSE(Regex::Make("[a-z").ok());
  EXPECT_EQ(Regex::Make("[a-z").status().message(), "invalid regular expression: missing ]: [a-z");
}

}  // namespace
}  // namespace tql

#include "runtime/vector.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace tql {
namespace {

using test::ColumnText;

TEST(Vector, CountsNullsFromValidity) {
  Vector v = test::Int64s({1, std::nullopt, 3, std::nullopt});
  EXPECT_EQ(v.null_count(), 2);
  EXPECT_TRUE(v.IsValid(0));
  EXPECT_TRUE(v.IsNull(1));
  EXPECT_EQ(ColumnText(v), (std::vector<std::string>{"1", "null", "3", "null"}));
}

TEST(Vector, DropsValidityWithoutNulls) {
  Vector v = test::Int64s({1, 2, 3});
  EXPECT_EQ(v.null_count(), 0);
  EXPECT_EQ(v.validity_bits(), nullptr);
}

TEST(Vector, SliceAtByteBoundaryShares) {
  std::vector<test::OptInt> values;
  for (int i = 0; i < 20; ++i) values.push_back(i % 3 == 0 ? std::nullopt : test::OptInt(i));
  Vector v = test::Int64s(values);
  Vector s = v.Slice(8, 8);
  EXPECT_EQ(s.int64_values(), v.int64_values() + 8);
  EXPECT_EQ(s.validity_bits(), v.validity_bits() + 1);
  EXPECT_EQ(ColumnText(s),
            (std::vector<std::string>{"8", "null", "10", "11", "null", "13", "14", "null"}));
}

TEST(Vector, SliceAtBitOffsetCopiesOnlyBitmaps) {
  Vector v =
      test::Bools({true, false, std::nullopt, true, true, false, true, std::nullopt, false, true});
  Vector s = v.Slice(3, 6);
  EXPECT_EQ(ColumnText(s),
            (std::vector<std::string>{"true", "true", "false", "true", "null", "false"}));
  EXPECT_EQ(s.null_count(), 1);
}

TEST(Vector, StringSlicesKeepAbsoluteOffsets) {
  Vector v = test::Strings({"a", "bb", std::nullopt, "dddd", ""});
  Vector s = v.Slice(1, 3);
  EXPECT_EQ(ColumnText(s), (std::vector<std::string>{"bb", "null", "dddd"}));
  EXPECT_EQ(s.string_bytes(), v.string_bytes());
}

TEST(Vector, DictionaryDecodes) {
  Vector v = test::DictStrings({"api", "db"}, {1, 0, std::nullopt, 1});
  EXPECT_TRUE(v.is_dictionary());
  EXPECT_EQ(ColumnText(v), (std::vector<std::string>{"db", "api", "null", "db"}));
  Vector d = v.Decoded();
  EXPECT_FALSE(d.is_dictionary());
  EXPECT_EQ(ColumnText(d), ColumnText(v));
  EXPECT_EQ(ColumnText(v.Slice(1, 3)), (std::vector<std::string>{"api", "null", "db"}));
}

TEST(Vector, NullsOfEveryType) {
  for (int t = 0; t < kNumTypes; ++t) {
    Vector v = Vector::Nulls(static_cast<TypeId>(t), 5);
    EXPECT_EQ(v.null_count(), 5);
    for (int64_t i = 0; i < 5; ++i) EXPECT_TRUE(v.IsNull(i));
  }
}

TEST(Batch, MakeReportsShapeErrors) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"a", TypeId::kInt}});
  EXPECT_FALSE(Batch::Make(schema, {test::Strings({"x"})}, 1).ok());
  EXPECT_FALSE(Batch::Make(schema, {test::Int64s({1, 2})}, 1).ok());
  EXPECT_FALSE(Batch::Make(schema, {}, 0).ok());
  EXPECT_TRUE(Batch::Make(schema, {test::Int64s({1})}, 1).ok());
}

TEST(Schema, FingerprintDependsOnNamesAndTypes) {
  Schema a({{"x", TypeId::kInt}, {"y", TypeId::kString}});
  Schema b({{"x", TypeId::kInt}, {"y", TypeId::kString}});
  Schema c({{"x", TypeId::kFloat}, {"y", TypeId::kString}});
  Schema d({{"xy", TypeId::kInt}, {"", TypeId::kString}});
  EXPECT_EQ(a.Fingerprint(), b.Fingerprint());
  EXPECT_NE(a.Fingerprint(), c.Fingerprint());
  EXPECT_NE(a.Fingerprint(), d.Fingerprint());
  EXPECT_EQ(a.IndexOf("y"), 1);
  EXPECT_EQ(a.IndexOf("z"), -1);
}

}  // namespace
}  // namespace tql

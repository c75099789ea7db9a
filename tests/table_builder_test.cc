#include "runtime/table_builder.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace tql {
namespace {

using test::ColumnText;
using Texts = std::vector<std::string>;

TEST(TableBuilder, InfersTypesAndFillsMissingWithNull) {
  TableBuilder b;
  b.SetInt(b.Column("a"), 1);
  b.SetString(b.Column("s"), "x");
  b.EndRow();
  b.SetBool(b.Column("flag"), true);
  b.EndRow();
  b.SetInt(b.Column("a"), 3);
  b.EndRow();
  Result<Table> t = b.Finish();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->schema->ToString(), "a: int, s: string, flag: bool");
  EXPECT_EQ(ColumnText(*t, "a"), (Texts{"1", "null", "3"}));
  EXPECT_EQ(ColumnText(*t, "s"), (Texts{"x", "null", "null"}));
  EXPECT_EQ(ColumnText(*t, "flag"), (Texts{"null", "true", "null"}));
}

TEST(TableBuilder, IntWidensToFloat) {
  TableBuilder b;
  for (int i = 0; i < 3; ++i) {
    i == 1 ? b.SetFloat(b.Column("x"), 2.5) : b.SetInt(b.Column("x"), i);
    b.EndRow();
  }
  Result<Table> t = b.Finish();
  EXPECT_EQ(t->schema->field(0).type, TypeId::kFloat);
  EXPECT_EQ(ColumnText(*t, "x"), (Texts{"0", "2.5", "2"}));
}

TEST(TableBuilder, MixedKindsBecomeDynamicJson) {
  TableBuilder b;
  b.SetString(b.Column("v"), "a\"b");
  b.EndRow();
  b.SetInt(b.Column("v"), 7);
  b.EndRow();
  b.SetNull(b.Column("v"));
  b.EndRow();
  b.SetDynamic(b.Column("v"), "[1,2]");
  b.EndRow();
  b.SetBool(b.Column("v"), false);
  b.EndRow();
  Result<Table> t = b.Finish();
  EXPECT_EQ(t->schema->field(0).type, TypeId::kDynamic);
  EXPECT_EQ(ColumnText(*t, "v"), (Texts{"\"a\\\"b\"", "7", "null", "[1,2]", "false"}));
  EXPECT_TRUE(t->batches[0].column(0).IsNull(2));
}

TEST(TableBuilder, LastValueOfARowWins) {
  TableBuilder b;
  const int c = b.Column("k");
  b.SetString(c, "first");
  b.SetString(c, "second");
  b.EndRow();
  b.SetInt(b.Column("n"), 1);
  b.SetInt(b.Column("n"), 2);
  b.EndRow();
  Result<Table> t = b.Finish();
  EXPECT_EQ(ColumnText(*t, "k"), (Texts{"second", "null"}));
  EXPECT_EQ(ColumnText(*t, "n"), (Texts{"null", "2"}));
}

TEST(TableBuilder, ConventionalTimestampAndDurationColumns) {
  TableBuilder b;
  b.SetString(b.Column("timestamp"), "2026-11-24T10:00:00Z");
  b.SetInt(b.Column("duration"), 1500);
  b.SetString(b.Column("other_time"), "2026-11-24T10:00:00Z");
  b.EndRow();
  b.SetString(b.Column("timestamp"), "2026-11-24T10:00:01.5Z");
  b.SetInt(b.Column("duration"), 7);
  b.EndRow();
  Result<Table> t = b.Finish();
  EXPECT_EQ(t->schema->ToString(), "timestamp: timestamp, duration: duration, other_time: string");
  EXPECT_EQ(ColumnText(*t, "timestamp"), (Texts{"1795514400000000000", "1795514401500000000"}));
}

TEST(TableBuilder, UnparseableTimestampsStayStrings) {
  TableBuilder b;
  b.SetString(b.Column("timestamp"), "2026-11-24T10:00:00Z");
  b.EndRow();
  b.SetString(b.Column("timestamp"), "yesterday");
  b.EndRow();
  Result<Table> t = b.Finish();
  EXPECT_EQ(t->schema->field(0).type, TypeId::kString);
  EXPECT_EQ(ColumnText(*t, "timestamp"), (Texts{"2026-11-24T10:00:00Z", "yesterday"}));
}

TEST(TableBuilder, EpochIntegersInTimestampColumnsByMagnitude) {
  TableBuilder b;
  for (int64_t v : {int64_t{1795514400}, int64_t{1795514400000}, int64_t{1795514400000000},
                    int64_t{1795514400000000000}}) {
    b.SetInt(b.Column("timestamp"), v);
    b.EndRow();
  }
  Result<Table> t = b.Finish();
  EXPECT_EQ(t->schema->field(0).type, TypeId::kTimestamp);
  for (const std::string& s : ColumnText(*t, "timestamp")) EXPECT_EQ(s, "1795514400000000000");
}

TEST(TableBuilder, LowCardinalityStringsAreDictionaryEncoded) {
  TableBuilder b;
  for (int i = 0; i < 100; ++i) {
    b.SetString(b.Column("service"), i % 3 == 0 ? "api" : "db");
    b.SetString(b.Column("id"), std::to_string(i));
    b.EndRow();
  }
  Result<Table> t = b.Finish();
  const Batch& batch = t->batches[0];
  EXPECT_TRUE(batch.column(0).is_dictionary());
  EXPECT_EQ(batch.column(0).dictionary().length(), 2);
  EXPECT_FALSE(batch.column(1).is_dictionary());
  EXPECT_EQ(ColumnText(batch.column(0))[3], "api");
  EXPECT_EQ(ColumnText(batch.column(1))[99], "99");
}

TEST(TableBuilder, SplitsIntoBatchesOfOneSchema) {
  TableBuilderOptions options;
  options.rows_per_batch = 16;
  TableBuilder b(options);
  for (int i = 0; i < 40; ++i) {
    b.SetInt(b.Column("i"), i);
    if (i == 39) b.SetString(b.Column("late"), "x");
    b.EndRow();
  }
  Result<Table> t = b.Finish();
  ASSERT_EQ(t->batches.size(), 3u);
  EXPECT_EQ(t->batches[2].num_rows(), 8);
  EXPECT_EQ(t->batches[0].schema(), t->batches[2].schema());
  EXPECT_EQ(t->num_rows(), 40);
  EXPECT_EQ(ColumnText(*t, "i")[39], "39");
  EXPECT_EQ(ColumnText(*t, "late")[39], "x");
  EXPECT_EQ(t->batches[0].column(1).null_count(), 16);
}

TEST(TableBuilder, EmptyBuilderGivesEmptyTable) {
  TableBuilder b;
  Result<Table> t = b.Finish();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->schema->num_fields(), 0);
  EXPECT_TRUE(t->batches.empty());
}

}  // namespace
}  // namespace tql

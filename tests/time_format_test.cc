#include "runtime/time_format.h"

#include <gtest/gtest.h>

namespace tql {
namespace {

TEST(TimeFormat, ParsesRfc3339WithFractionAndOffset) {
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseTimestamp("2026-11-24T10:00:00Z"), 1795514400LL * kNanosPerSecond);
  EXPECT_EQ(ParseTimestamp("2026-11-24T10:00:00.5Z"), 1795514400LL * kNanosPerSecond + 500'000'000);
  EXPECT_EQ(ParseTimestamp("2026-11-24T10:00:00.123456789Z"),
            1795514400LL * kNanosPerSecond + 123456789);
  EXPECT_EQ(ParseTimestamp("2026-11-24T11:30:00+01:30"), 1795514400LL * kNanosPerSecond);
  EXPECT_EQ(ParseTimestamp("2026-11-24T08:00:00-0200"), 1795514400LL * kNanosPerSecond);
  EXPECT_EQ(ParseTimestamp("2026-11-24"), 1795478400LL * kNanosPerSecond);
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59Z"), -kNanosPerSecond);
}

TEST(TimeFormat, RejectsMalformedTimestamps) {
  for (const char* bad : {"", "2026", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-11-24T25:00:00Z", "2026-11-24T10:00:00.Z", "2026-11-24T10:00:00ZZ",
                          "2026-11-24X10:00:00Z", "9999-01-01T00:00:00Z", "abc"}) {
    EXPECT_FALSE(ParseTimestamp(bad).has_value()) << bad;
  }
  EXPECT_TRUE(ParseTimestamp("2024-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseTimestamp("2023-02-29T00:00:00Z").has_value());
}

TEST(TimeFormat, FormatsTimestampsWithMinimalExactFraction) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(1795514400LL * kNanosPerSecond + 250'000'000),
            "2026-11-24T10:00:00.250Z");
  EXPECT_EQ(FormatTimestamp(1795514400LL * kNanosPerSecond + 1000), "2026-11-24T10:00:00.000001Z");
  EXPECT_EQ(FormatTimestamp(1795514400LL * kNanosPerSecond + 7), "2026-11-24T10:00:00.000000007Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999999Z");
  for (int64_t t : {int64_t{0}, int64_t{-123456789012345}, int64_t{1795514400123456789}}) {
    EXPECT_EQ(ParseTimestamp(FormatTimestamp(t)), t);
  }
}

TEST(TimeFormat, FormatsDurationsLikeGo) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(3), "3ns");
  EXPECT_EQ(FormatDuration(1500), "1.5us");
  EXPECT_EQ(FormatDuration(250 * kNanosPerMilli), "250ms");
  EXPECT_EQ(FormatDuration(1250 * kNanosPerMilli), "1.25s");
  EXPECT_EQ(FormatDuration(90 * kNanosPerSecond), "1m30s");
  EXPECT_EQ(FormatDuration(26 * kNanosPerHour + 3 * kNanosPerMinute + kNanosPerSecond / 2),
            "26h3m0.5s");
  EXPECT_EQ(FormatDuration(-1250 * kNanosPerMilli), "-1.25s");
  EXPECT_EQ(FormatDuration(INT64_MIN), "-2562047h47m16.854775808s");
}

TEST(TimeFormat, ParsesDurationLiterals) {
  EXPECT_EQ(ParseDuration("250ms"), 250 * kNanosPerMilli);
  EXPECT_EQ(ParseDuration("1.5s"), 1500 * kNanosPerMilli);
  EXPECT_EQ(ParseDuration("2m"), 2 * kNanosPerMinute);
  EXPECT_EQ(ParseDuration("1h"), kNanosPerHour);
  EXPECT_EQ(ParseDuration("10us"), 10 * kNanosPerMicro);
  EXPECT_EQ(ParseDuration("3ns"), 3);
  EXPECT_EQ(ParseDuration("1d"), kNanosPerDay);
  EXPECT_EQ(ParseDuration("1_000ms"), kNanosPerSecond);
  EXPECT_EQ(ParseDuration(".5s"), 500 * kNanosPerMilli);
  EXPECT_FALSE(ParseDuration("1x").has_value());
  EXPECT_FALSE(ParseDuration("s").has_value());
  EXPECT_FALSE(ParseDuration("").has_value());
  EXPECT_FALSE(ParseDuration("999999999999d").has_value());  // overflows int64 nanoseconds
}

}  // namespace
}  // namespace tql

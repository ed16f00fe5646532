#include "riposte/core/time.h"

#include <gtest/gtest.h>

namespace riposte {
namespace {

TEST(Time, ParsesRfc3339WithOffsetsAndFractions) {
  auto a = parseRfc3339("2026-01-12T11:16:10.792703+00:00");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->micros, 1768216570792703);
  auto b = parseRfc3339("2017-04-07T22:24:37.251547+0100");  // Suricata, no colon
  ASSERT_TRUE(b);
  EXPECT_EQ(b->offset_minutes, 60);
  EXPECT_EQ(formatRfc3339(*b), "2017-04-07T22:24:37.251547+01:00");
  EXPECT_EQ(formatRfc3339Utc(*b), "2017-04-07T21:24:37.251547Z");
  auto c = parseRfc3339("2024-03-03T10:15:42Z");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->seconds(), 1709460942);
  EXPECT_EQ(formatRfc3339(*c), "2024-03-03T10:15:42+00:00");
  auto d = parseRfc3339("2023-11-14T00:20:42.738197-05:30");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->offset_minutes, -330);
  EXPECT_EQ(formatRfc3339(*d), "2023-11-14T00:20:42.738197-05:30");
}

TEST(Time, RejectsMalformed) {
  EXPECT_FALSE(parseRfc3339("2024-13-03T10:15:42Z"));
  EXPECT_FALSE(parseRfc3339("2024-03-03 10:15"));
  EXPECT_FALSE(parseRfc3339("2024-03-03T10:15:42+01"));
  EXPECT_FALSE(parseRfc3339("2024-03-03T10:15:42Zjunk"));
  EXPECT_FALSE(parseRfc3339(""));
}

TEST(Time, Durations) {
  EXPECT_EQ(parseDuration("4h")->count(), 4LL * 3600 * 1000000);
  EXPECT_EQ(parseDuration("1h30m")->count(), 90LL * 60 * 1000000);
  EXPECT_EQ(parseDuration("500ms")->count(), 500000);
  EXPECT_FALSE(parseDuration("4x").isOk());
  EXPECT_FALSE(parseDuration("").isOk());
  EXPECT_FALSE(parseDuration("h").isOk());
  EXPECT_EQ(formatDuration(std::chrono::hours(4)), "4h");
  EXPECT_EQ(formatDuration(std::chrono::seconds(90)), "1m30s");
}

TEST(Time, SyslogYearInference) {
  const Timestamp jan = *parseRfc3339("2026-01-05T00:00:00Z");
  EXPECT_EQ(inferSyslogYear(12, 31, std::nullopt, jan), 2025);  // December seen in January
  EXPECT_EQ(inferSyslogYear(1, 5, std::nullopt, jan), 2026);
  EXPECT_EQ(inferSyslogYear(1, 7, std::nullopt, jan), 2026);  // within the two days of slack
  EXPECT_EQ(inferSyslogYear(1, 8, std::nullopt, jan), 2025);  // would be in the future
  EXPECT_EQ(inferSyslogYear(12, 1, 2019, jan), 2019);
  EXPECT_EQ(monthFromAbbrev("Feb"), 2u);
  EXPECT_EQ(monthFromAbbrev("dec"), 12u);
  EXPECT_EQ(monthFromAbbrev("Foo"), 0u);
}

TEST(Time, CivilDaysRoundTrip) {
  EXPECT_EQ(daysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(daysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(daysFromCivil(1969, 12, 31), -1);
}

}  // namespace
}  // namespace riposte

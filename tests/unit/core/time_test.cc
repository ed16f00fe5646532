#include "riposte/core/time.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>

#include "riposte/core/time_text.h"

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

// formatRfc3339 writes its digits itself: the text must be what gmtime and printf make of the
// same instant, over the years 0000-9999, both signs of offsets and fractions or none.
TEST(Time, Rfc3339TextIsGmtimeAndPrintfs) {
  std::mt19937_64 rng(11);
  auto reference = [](Timestamp ts, bool utc) {
    const int offset = utc ? 0 : ts.offset_minutes;
    const int64_t local = ts.micros + int64_t{offset} * 60'000'000;
    const int64_t secs = local >= 0 ? local / 1'000'000 : (local - 999'999) / 1'000'000;
    const int64_t frac = local - secs * 1'000'000;
    const time_t t = static_cast<time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char b[80];
    int n = std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                          tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (frac != 0) n += std::snprintf(b + n, sizeof b - n, ".%06lld", static_cast<long long>(frac));
    const int a = offset < 0 ? -offset : offset;
    if (utc) {
      std::snprintf(b + n, sizeof b - n, "Z");
    } else {
      std::snprintf(b + n, sizeof b - n, "%c%02d:%02d", offset < 0 ? '-' : '+', a / 60, a % 60);
    }
    return std::string(b);
  };
  constexpr int64_t kYear0 = -62'167'219'200LL * 1'000'000;  // 0000-01-01T00:00:00Z
  constexpr int64_t kYear9999 = 253'402'300'799LL * 1'000'000;
  for (int i = 0; i < 20000; ++i) {
    Timestamp ts;
    ts.micros = kYear0 + 86'400'000'000LL +
                static_cast<int64_t>(rng() % static_cast<uint64_t>(kYear9999 - kYear0 -
                                                                    2 * 86'400'000'000LL));
    if (i % 3 == 0) ts.micros -= ts.micros % 1'000'000;  // whole seconds
    ts.offset_minutes = static_cast<int16_t>(static_cast<int>(rng() % 1681) - 840);
    ASSERT_EQ(formatRfc3339(ts), reference(ts, false)) << ts.micros;
    ASSERT_EQ(formatRfc3339Utc(ts), reference(ts, true)) << ts.micros;
    std::string out = "x";
    appendRfc3339(out, ts, true);
    ASSERT_EQ(out, "x" + reference(ts, true));
  }
}

}  // namespace
}  // namespace riposte

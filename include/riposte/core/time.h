// Timestamps with their time zone, durations, and the parsers for the time formats of logs.
//
// A Timestamp is an instant (microseconds since the Unix epoch, UTC) plus the UTC offset it was
// written with, so an event keeps the zone its source used when it is printed back.
//
// Thread safety: pure functions and values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "riposte/core/status.h"

namespace riposte {

using Duration = std::chrono::microseconds;

struct Timestamp {
  int64_t micros = 0;          // since 1970-01-01T00:00:00Z
  int16_t offset_minutes = 0;  // the zone the value was written in (UTC+offset)

  static Timestamp now();
  static Timestamp fromSeconds(int64_t s) { return {s * 1'000'000, 0}; }
  int64_t seconds() const { return micros / 1'000'000; }
  bool isSet() const { return micros != 0; }

  Timestamp operator+(Duration d) const { return {micros + d.count(), offset_minutes}; }
  Timestamp operator-(Duration d) const { return {micros - d.count(), offset_minutes}; }
  Duration operator-(Timestamp o) const { return Duration(micros - o.micros); }
  auto operator<=>(const Timestamp& o) const { return micros <=> o.micros; }
  bool operator==(const Timestamp& o) const { return micros == o.micros; }
};

// Days since 1970-01-01 for a proleptic Gregorian date (month 1-12).
int64_t daysFromCivil(int year, unsigned month, unsigned day);

// Month number 1-12 from a three-letter English abbreviation ("Jan"), 0 if none.
unsigned monthFromAbbrev(std::string_view s);

// RFC 3339 / ISO 8601: "2026-01-12T11:16:10.792703+00:00", "...Z", "...+0000" (Suricata),
// with optional fraction. Returns nullopt when the text is not such a time.
std::optional<Timestamp> parseRfc3339(std::string_view s);

// Formats as RFC 3339 in the timestamp's own offset, microseconds when non-zero, else seconds.
std::string formatRfc3339(Timestamp ts);
// Same, always in UTC with a trailing Z.
std::string formatRfc3339Utc(Timestamp ts);

// Parses "4h", "90s", "30d", "500ms", "1h30m", "2w". Errors name the text.
Result<Duration> parseDuration(std::string_view s);
std::string formatDuration(Duration d);

// Year to give a syslog (RFC 3164) timestamp that has none: the explicit year when set,
// otherwise the year of `reference`, or the year before when that would put the date more than
// two days after the reference (logs do not come from the future: the December → January
// roll-over).
int inferSyslogYear(unsigned month, unsigned day, std::optional<int> explicit_year,
                    Timestamp reference);

}  // namespace riposte

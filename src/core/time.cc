#include "riposte/core/time.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "riposte/core/time_text.h"

namespace riposte {

namespace {

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

void civilFromDays(int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yy + (m <= 2));
}

// printf's text, for the years appendRfc3339 does not write (before 0000, after 9999).
std::string format(Timestamp ts, bool utc) {
  const int offset = utc ? 0 : ts.offset_minutes;
  const int64_t local = ts.micros + int64_t{offset} * 60'000'000;
  int64_t secs = local >= 0 ? local / 1'000'000 : (local - 999'999) / 1'000'000;
  const int64_t frac = local - secs * 1'000'000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const int64_t sod = secs - days * 86400;
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civilFromDays(days, y, m, d);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", y, m, d,
                        static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60),
                        static_cast<int>(sod % 60));
  if (frac != 0)
    n += std::snprintf(buf + n, sizeof buf - n, ".%06lld", static_cast<long long>(frac));
  if (utc || offset == 0) {
    if (utc) {
      std::snprintf(buf + n, sizeof buf - n, "Z");
    } else {
      std::snprintf(buf + n, sizeof buf - n, "+00:00");
    }
  } else {
    const int a = offset < 0 ? -offset : offset;
    std::snprintf(buf + n, sizeof buf - n, "%c%02d:%02d", offset < 0 ? '-' : '+', a / 60, a % 60);
  }
  return buf;
}

}  // namespace

Timestamp Timestamp::now() {
  const auto t = std::chrono::system_clock::now().time_since_epoch();
  return {std::chrono::duration_cast<std::chrono::microseconds>(t).count(), 0};
}

int64_t daysFromCivil(int year, unsigned month, unsigned day) {
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return int64_t{era} * 146097 + static_cast<int64_t>(doe) - 719468;
}

unsigned monthFromAbbrev(std::string_view s) {
  if (s.size() < 3) return 0;
  static constexpr std::array<std::string_view, 12> kNames = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const char a = static_cast<char>(s[0] & ~0x20);  // first letter upper-case
  for (unsigned i = 0; i < 12; ++i) {
    if (kNames[i][0] == a && kNames[i][1] == (s[1] | 0x20) && kNames[i][2] == (s[2] | 0x20)) {
      return i + 1;
    }
  }
  return 0;
}

std::optional<Timestamp> parseRfc3339(std::string_view s) {
  int y = 0;
  int mo = 0;
  int d = 0;
  int h = 0;
  int mi = 0;
  int se = 0;
  if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
      !digits(s, 17, 2, se)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  size_t p = 19;
  int64_t frac = 0;
  if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
    ++p;
    int64_t scale = 100000;
    size_t start = p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      if (scale > 0) {
        frac += (s[p] - '0') * scale;
        scale /= 10;
      }
      ++p;
    }
    if (p == start) return std::nullopt;
  }
  int offset = 0;
  if (p < s.size()) {
    const char z = s[p];
    if (z == 'Z' || z == 'z') {
      ++p;
    } else if (z == '+' || z == '-') {
      int oh = 0;
      int om = 0;
      if (!digits(s, p + 1, 2, oh)) return std::nullopt;
      size_t q = p + 3;
      if (q < s.size() && s[q] == ':') ++q;
      if (!digits(s, q, 2, om)) return std::nullopt;
      offset = (oh * 60 + om) * (z == '-' ? -1 : 1);
      p = q + 2;
    }
  }
  if (p != s.size()) return std::nullopt;
  const int64_t days = daysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - int64_t{offset} * 60;
  return Timestamp{secs * 1'000'000 + frac, static_cast<int16_t>(offset)};
}

void appendRfc3339(std::string& out, Timestamp ts, bool utc) {
  const int offset = utc ? 0 : ts.offset_minutes;
  const int64_t local = ts.micros + int64_t{offset} * 60'000'000;
  const int64_t secs = local >= 0 ? local / 1'000'000 : (local - 999'999) / 1'000'000;
  const int64_t frac = local - secs * 1'000'000;
  const int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const int64_t sod = secs - days * 86400;
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civilFromDays(days, y, m, d);
  if (y < 0 || y > 9999) {
    out += format(ts, utc);
    return;
  }
  char b[40];
  auto two = [&](char* p, int64_t v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  size_t n = 0;
  two(b, y / 100);
  two(b + 2, y % 100);
  n += 4;
  b[n++] = '-';
  two(b + n, m);
  n += 2;
  b[n++] = '-';
  two(b + n, d);
  n += 2;
  b[n++] = 'T';
  two(b + n, sod / 3600);
  n += 2;
  b[n++] = ':';
  two(b + n, sod / 60 % 60);
  n += 2;
  b[n++] = ':';
  two(b + n, sod % 60);
  n += 2;
  if (frac != 0) {
    b[n++] = '.';
    int64_t f = frac;
    for (int i = 5; i >= 0; --i) {
      b[n + static_cast<size_t>(i)] = static_cast<char>('0' + f % 10);
      f /= 10;
    }
    n += 6;
  }
  if (utc) {
    b[n++] = 'Z';
  } else {
    const int a = offset < 0 ? -offset : offset;
    b[n++] = offset < 0 ? '-' : '+';
    two(b + n, a / 60);
    n += 2;
    b[n++] = ':';
    two(b + n, a % 60);
    n += 2;
  }
  out.append(b, n);
}

std::string formatRfc3339(Timestamp ts) {
  std::string s;
  appendRfc3339(s, ts, false);
  return s;
}

std::string formatRfc3339Utc(Timestamp ts) {
  std::string s;
  appendRfc3339(s, ts, true);
  return s;
}

Result<Duration> parseDuration(std::string_view s) {
  if (s.empty()) return Status::invalidArgument("empty duration");
  int64_t total = 0;
  size_t p = 0;
  while (p < s.size()) {
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(s.data() + p, s.data() + s.size(), n);
    if (ec != std::errc() || n < 0) {
      return Status::invalidArgument("bad duration '" + std::string(s) +
                                     "' (expected e.g. 90s, 4h, 30d, 500ms)");
    }
    p = static_cast<size_t>(ptr - s.data());
    std::string_view unit;
    size_t u = p;
    while (u < s.size() && ((s[u] >= 'a' && s[u] <= 'z'))) ++u;
    unit = s.substr(p, u - p);
    p = u;
    int64_t mult = 0;
    if (unit == "us")
      mult = 1;
    else if (unit == "ms")
      mult = 1000;
    else if (unit == "s")
      mult = 1'000'000;
    else if (unit == "m")
      mult = 60'000'000;
    else if (unit == "h")
      mult = 3'600'000'000;
    else if (unit == "d")
      mult = 86'400'000'000;
    else if (unit == "w")
      mult = 7 * 86'400'000'000;
    else {
      return Status::invalidArgument("bad duration '" + std::string(s) + "': unit '" +
                                     std::string(unit) + "' is not one of us, ms, s, m, h, d, w");
    }
    total += n * mult;
  }
  return Duration(total);
}

std::string formatDuration(Duration d) {
  int64_t us = d.count();
  if (us == 0) return "0s";
  std::string out;
  const struct {
    int64_t mult;
    const char* unit;
  } kUnits[] = {{86'400'000'000, "d"}, {3'600'000'000, "h"}, {60'000'000, "m"},
                {1'000'000, "s"},      {1000, "ms"},         {1, "us"}};
  for (const auto& u : kUnits) {
    if (us >= u.mult) {
      out += std::to_string(us / u.mult) + u.unit;
      us %= u.mult;
    }
  }
  return out;
}

int inferSyslogYear(unsigned month, unsigned day, std::optional<int> explicit_year,
                    Timestamp reference) {
  if (explicit_year) return *explicit_year;
  const int64_t secs = reference.seconds();
  const int64_t ref_day = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int ref_year = 0;
  unsigned ref_month = 0;
  unsigned ref_mday = 0;
  civilFromDays(ref_day, ref_year, ref_month, ref_mday);  // no gmtime_r per line
  return daysFromCivil(ref_year, month, day) > ref_day + 2 ? ref_year - 1 : ref_year;
}

}  // namespace riposte

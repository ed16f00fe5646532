#include "riposte/ingest/syslog_header.h"

namespace riposte {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Parses "hh:mm:ss" at s[p..p+8).
bool parseClock(std::string_view s, size_t p, int& secs) {
  if (p + 8 > s.size() || s[p + 2] != ':' || s[p + 5] != ':') return false;
  for (size_t i : {0, 1, 3, 4, 6, 7}) {
    if (!isDigit(s[p + i])) return false;
  }
  const int h = (s[p] - '0') * 10 + (s[p + 1] - '0');
  const int m = (s[p + 3] - '0') * 10 + (s[p + 4] - '0');
  const int sec = (s[p + 6] - '0') * 10 + (s[p + 7] - '0');
  if (h > 23 || m > 59 || sec > 60) return false;
  secs = h * 3600 + m * 60 + sec;
  return true;
}

bool parseYear(std::string_view s, size_t p, int& year) {
  if (p + 4 > s.size()) return false;
  year = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (!isDigit(s[p + i])) return false;
    year = year * 10 + (s[p + i] - '0');
  }
  return true;
}

// Parses "Mmm dd" with one or two spaces / one or two digits at s[p]. Sets p past the day.
bool parseMonthDay(std::string_view s, size_t& p, unsigned& month, unsigned& day) {
  if (p + 5 > s.size()) return false;
  month = monthFromAbbrev(s.substr(p, 3));
  if (month == 0 || s[p + 3] != ' ') return false;
  p += 4;
  if (s[p] == ' ') ++p;
  if (p >= s.size() || !isDigit(s[p])) return false;
  day = static_cast<unsigned>(s[p] - '0');
  ++p;
  if (p < s.size() && isDigit(s[p])) {
    day = day * 10 + static_cast<unsigned>(s[p] - '0');
    ++p;
  }
  return day >= 1 && day <= 31;
}

// Reads the next space-delimited token at p; moves p past one following space.
std::string_view token(std::string_view s, size_t& p) {
  const size_t start = p;
  while (p < s.size() && s[p] != ' ') ++p;
  std::string_view t = s.substr(start, p - start);
  if (p < s.size()) ++p;
  return t;
}

// "TAG[PID]: MSG" or "TAG: MSG".
bool parseTag(std::string_view s, size_t p, SyslogHeader& out) {
  const size_t start = p;
  while (p < s.size() && s[p] != '[' && s[p] != ':' && s[p] != ' ') ++p;
  if (p == start || p >= s.size()) return false;
  out.program = s.substr(start, p - start);
  if (s[p] == '[') {
    const size_t close = s.find(']', p);
    if (close == std::string_view::npos) return false;
    out.pid = s.substr(p + 1, close - p - 1);
    p = close + 1;
  }
  if (p >= s.size() || s[p] != ':') return false;
  ++p;
  if (p < s.size() && s[p] == ' ') ++p;
  out.message = s.substr(p);
  return true;
}

bool parse5424(std::string_view s, size_t p, SyslogHeader& out) {
  // "1 TIMESTAMP HOST APP PROCID MSGID SD MSG"
  p += 2;
  const auto ts = token(s, p);
  if (ts != "-") {
    auto t = parseRfc3339(ts);
    if (!t) return false;
    out.timestamp = *t;
  }
  out.timestamp_text = ts;
  out.host = token(s, p);
  out.program = token(s, p);
  out.pid = token(s, p);
  if (out.pid == "-") out.pid = {};
  token(s, p);  // MSGID
  if (p < s.size() && s[p] == '[') {
    // Structured data: one or more [id k="v"...] elements; quotes may escape ] and ".
    while (p < s.size() && s[p] == '[') {
      bool in_quote = false;
      for (++p; p < s.size(); ++p) {
        if (s[p] == '\\') {
          ++p;
        } else if (s[p] == '"') {
          in_quote = !in_quote;
        } else if (s[p] == ']' && !in_quote) {
          ++p;
          break;
        }
      }
    }
    if (p < s.size() && s[p] == ' ') ++p;
  } else {
    token(s, p);  // "-"
  }
  std::string_view msg = s.substr(std::min(p, s.size()));
  if (msg.size() >= 3 && static_cast<unsigned char>(msg[0]) == 0xEF &&
      static_cast<unsigned char>(msg[1]) == 0xBB && static_cast<unsigned char>(msg[2]) == 0xBF) {
    msg.remove_prefix(3);  // UTF-8 BOM
  }
  out.message = msg;
  return !out.program.empty();
}

}  // namespace

bool parseSyslogHeader(std::string_view s, const ParseContext& ctx, SyslogHeader& out) {
  size_t p = 0;
  out = SyslogHeader{};
  if (!s.empty() && s[0] == '<') {
    size_t q = 1;
    int pri = 0;
    while (q < s.size() && q < 5 && isDigit(s[q])) pri = pri * 10 + (s[q++] - '0');
    if (q == 1 || q >= s.size() || s[q] != '>' || pri > 191) return false;
    out.pri = pri;
    p = q + 1;
    if (p + 1 < s.size() && s[p] == '1' && s[p + 1] == ' ') return parse5424(s, p, out);
  }
  if (p >= s.size()) return false;

  if (isDigit(s[p])) {
    int year = 0;
    if (parseYear(s, p, year) && p + 4 < s.size() && s[p + 4] == ' ') {
      // "yyyy Mmm dd hh:mm:ss"
      size_t q = p + 5;
      unsigned month = 0;
      unsigned day = 0;
      int secs = 0;
      if (!parseMonthDay(s, q, month, day) || q >= s.size() || s[q] != ' ' ||
          !parseClock(s, q + 1, secs)) {
        return false;
      }
      out.timestamp = Timestamp::fromSeconds(daysFromCivil(year, month, day) * 86400 + secs);
      out.timestamp_text = s.substr(p, q + 9 - p);
      p = q + 9;
    } else {
      // RFC 3339
      const size_t start = p;
      const auto ts = token(s, p);
      auto t = parseRfc3339(ts);
      if (!t) return false;
      out.timestamp = *t;
      out.timestamp_text = s.substr(start, ts.size());
      p = start + ts.size();
    }
  } else {
    const size_t start = p;
    unsigned month = 0;
    unsigned day = 0;
    if (!parseMonthDay(s, p, month, day) || p >= s.size() || s[p] != ' ') return false;
    ++p;
    int year = 0;
    int secs = 0;
    std::optional<int> explicit_year = ctx.year;
    if (parseYear(s, p, year) && p + 4 < s.size() && s[p + 4] == ' ') {
      explicit_year = year;  // "Mmm dd yyyy hh:mm:ss"
      p += 5;
    }
    if (!parseClock(s, p, secs)) return false;
    p += 8;
    // "Mmm dd hh:mm:ss yyyy"
    if (p + 5 <= s.size() && s[p] == ' ' && parseYear(s, p + 1, year) &&
        (p + 5 == s.size() || s[p + 5] == ' ')) {
      explicit_year = year;
      p += 5;
    }
    // The clock is read only when the line has no year and the reader gave no reference.
    const int y = explicit_year
                      ? *explicit_year
                      : inferSyslogYear(month, day, explicit_year,
                                        ctx.reference.isSet() ? ctx.reference : Timestamp::now());
    // Consecutive lines mostly share their day: its number is computed once per day.
    thread_local struct {
      int year = 0;
      unsigned month = 0;
      unsigned day = 0;
      int64_t days = 0;
    } last;
    if (y != last.year || month != last.month || day != last.day) {
      last.year = y;
      last.month = month;
      last.day = day;
      last.days = daysFromCivil(y, month, day);
    }
    out.timestamp = Timestamp::fromSeconds(last.days * 86400 + secs);
    out.timestamp_text = s.substr(start, p - start);
  }
  if (p >= s.size() || s[p] != ' ') return false;
  ++p;
  out.host = token(s, p);
  if (out.host.empty() || p >= s.size()) return false;
  return parseTag(s, p, out);
}

}  // namespace riposte

// Small allocation-free helpers shared by the line parsers in src/ingest/parsers: digit and
// number scanning, IP fields, percent-decoding, backslash unescaping and the time formats of
// web and kernel logs. Private to the ingest area (not a public header).
//
// Thread safety: pure functions; the ones that write take the caller's buffer.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "riposte/core/event.h"
#include "riposte/core/ip.h"
#include "riposte/core/time.h"
#include "riposte/ingest/parser.h"

namespace riposte::ingest_detail {

inline bool isDigit(char c) { return c >= '0' && c <= '9'; }
inline bool isHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
inline int hexValue(char c) {
  if (isDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

inline bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isDigit(c)) return false;
  }
  return true;
}

// Unsigned decimal; false on empty, non-digit or more than 19 digits.
inline bool parseUint(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (!isDigit(c)) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  out = v;
  return true;
}

// Reads exactly n digits at s[p..p+n).
inline bool fixedDigits(std::string_view s, size_t p, size_t n, int& out) {
  if (p + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[p + i];
    if (!isDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

// A dotted quad in canonical form (no leading zeros, each part 0-255): such text is already
// what canonicalIp() would print, so it can be used as a view without a copy.
inline bool isCanonicalIpv4(std::string_view s) {
  if (s.size() < 7 || s.size() > 15) return false;
  int parts = 0;
  size_t i = 0;
  while (true) {
    const size_t start = i;
    int v = 0;
    while (i < s.size() && isDigit(s[i])) {
      v = v * 10 + (s[i] - '0');
      ++i;
    }
    const size_t n = i - start;
    if (n == 0 || n > 3 || v > 255 || (n > 1 && s[start] == '0')) return false;
    ++parts;
    if (i == s.size()) break;
    if (s[i] != '.' || parts == 4) return false;
    ++i;
  }
  return parts == 4;
}

// Sets an address field in canonical text: a view when the text is already canonical IPv4
// (a copy when `owned`, for text that does not outlive the event), otherwise the canonical
// form in the field's owned buffer. False when `text` is no address.
inline bool setIpField(Event& ev, Field f, std::string_view text, bool owned = false) {
  if (isCanonicalIpv4(text)) {
    if (owned) {
      ev.setOwned(f, text);
    } else {
      ev.set(f, text);
    }
    return true;
  }
  auto ip = IpAddress::parse(text);
  if (!ip) return false;
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(ip->v6 ? AF_INET6 : AF_INET, ip->bytes.data(), buf, sizeof buf) == nullptr) {
    return false;
  }
  ev.setOwned(f, std::string_view(buf));
  return true;
}

// Percent-decodes `in` into `out` (cleared first). Malformed escapes are kept literally.
inline void percentDecode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%' && i + 2 < in.size() && isHex(in[i + 1]) && isHex(in[i + 2])) {
      out.push_back(static_cast<char>(hexValue(in[i + 1]) * 16 + hexValue(in[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
}

// Sets url.original, url.query (both as written) and url.path (percent-decoded) from a request
// target. `owned` copies the values (when `target` does not outlive the event); `scratch` is
// the caller's buffer for decoding.
inline void setUrlFields(Event& ev, std::string_view target, bool owned, std::string& scratch) {
  if (target.empty()) return;
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  if (owned) {
    ev.setOwned(Field::kUrlOriginal, target);
    if (q != std::string_view::npos) ev.setOwned(Field::kUrlQuery, target.substr(q + 1));
  } else {
    ev.set(Field::kUrlOriginal, target);
    if (q != std::string_view::npos) ev.set(Field::kUrlQuery, target.substr(q + 1));
  }
  if (path.find('%') != std::string_view::npos) {
    percentDecode(path, scratch);
    ev.setOwned(Field::kUrlPath, scratch);
  } else if (owned) {
    ev.setOwned(Field::kUrlPath, path);
  } else {
    ev.set(Field::kUrlPath, path);
  }
}

// Lower-case network.transport for the common protocol names, as a literal (no copy); other
// names are lower-cased into the field's buffer.
inline void setTransport(Event& ev, std::string_view proto) {
  static constexpr std::string_view kKnown[] = {"tcp",  "udp", "icmp", "ipv6-icmp",
                                                "sctp", "gre", "esp",  "ah"};
  for (std::string_view k : kKnown) {
    if (k.size() != proto.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < k.size(); ++i) {
      const char c = proto[i];
      if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c) != k[i]) {
        eq = false;
        break;
      }
    }
    if (eq) {
      ev.set(Field::kNetworkTransport, k);
      return;
    }
  }
  char buf[32];
  const size_t n = proto.size() < sizeof buf ? proto.size() : sizeof buf;
  for (size_t i = 0; i < n; ++i) {
    const char c = proto[i];
    buf[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
  }
  ev.setOwned(Field::kNetworkTransport, std::string_view(buf, n));
}

// Undoes the escaping web servers apply inside quoted log fields: nginx `\xXX`, Apache `\"`,
// `\\`, `\n`, `\t`, `\r`, `\xhh`. Unknown escapes are kept as written.
inline void unescapeLogField(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c != '\\' || i + 1 >= in.size()) {
      out.push_back(c);
      continue;
    }
    const char n = in[i + 1];
    switch (n) {
      case '"':
      case '\\':
        out.push_back(n);
        ++i;
        break;
      case 'n':
        out.push_back('\n');
        ++i;
        break;
      case 't':
        out.push_back('\t');
        ++i;
        break;
      case 'r':
        out.push_back('\r');
        ++i;
        break;
      case 'x':
        if (i + 3 < in.size() && isHex(in[i + 2]) && isHex(in[i + 3])) {
          out.push_back(static_cast<char>(hexValue(in[i + 2]) * 16 + hexValue(in[i + 3])));
          i += 3;
        } else {
          out.push_back(c);
        }
        break;
      default: out.push_back(c); break;
    }
  }
}

// Undoes only `\xNN` escapes (Zeek's TSV writer escapes separators and non-printables so;
// other backslashes are literal).
inline void unescapeHex(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\' && i + 3 < in.size() && in[i + 1] == 'x' && isHex(in[i + 2]) &&
        isHex(in[i + 3])) {
      out.push_back(static_cast<char>(hexValue(in[i + 2]) * 16 + hexValue(in[i + 3])));
      i += 3;
    } else {
      out.push_back(in[i]);
    }
  }
}

// Seconds of the day from "hh:mm:ss" at s[p..p+8).
inline bool parseClock(std::string_view s, size_t p, int& secs) {
  int h = 0;
  int m = 0;
  int sec = 0;
  if (p + 8 > s.size() || s[p + 2] != ':' || s[p + 5] != ':') return false;
  if (!fixedDigits(s, p, 2, h) || !fixedDigits(s, p + 3, 2, m) || !fixedDigits(s, p + 6, 2, sec)) {
    return false;
  }
  if (h > 23 || m > 59 || sec > 60) return false;
  secs = h * 3600 + m * 60 + sec;
  return true;
}

// Optional ".ffffff" fraction at s[p]; advances p; returns microseconds.
inline int64_t parseFraction(std::string_view s, size_t& p) {
  if (p >= s.size() || s[p] != '.') return 0;
  ++p;
  int64_t us = 0;
  int n = 0;
  while (p < s.size() && isDigit(s[p])) {
    if (n < 6) {
      us = us * 10 + (s[p] - '0');
      ++n;
    }
    ++p;
  }
  while (n < 6) {
    us *= 10;
    ++n;
  }
  return us;
}

inline Timestamp makeTimestamp(int year, unsigned month, unsigned day, int secs, int64_t micros,
                               int offset_minutes) {
  const int64_t local = daysFromCivil(year, month, day) * 86400 + secs;
  return {(local - int64_t{offset_minutes} * 60) * 1'000'000 + micros,
          static_cast<int16_t>(offset_minutes)};
}

// Common Log Format time "dd/Mon/yyyy:HH:MM:SS ±hhmm" (exactly 26 characters).
inline std::optional<Timestamp> parseClfTime(std::string_view s) {
  if (s.size() != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[20] != ' ') {
    return std::nullopt;
  }
  int day = 0;
  int year = 0;
  int secs = 0;
  int oh = 0;
  int om = 0;
  if (!fixedDigits(s, 0, 2, day) || !fixedDigits(s, 7, 4, year) || !parseClock(s, 12, secs)) {
    return std::nullopt;
  }
  const unsigned month = monthFromAbbrev(s.substr(3, 3));
  if (month == 0 || day < 1 || day > 31) return std::nullopt;
  const char sign = s[21];
  if ((sign != '+' && sign != '-') || !fixedDigits(s, 22, 2, oh) || !fixedDigits(s, 24, 2, om) ||
      om > 59) {
    return std::nullopt;
  }
  int offset = oh * 60 + om;
  if (sign == '-') offset = -offset;
  return makeTimestamp(year, month, static_cast<unsigned>(day), secs, 0, offset);
}

// RFC 3164 "Mmm dd hh:mm:ss" at the start of `s` (day space- or zero-padded); the year comes from
// the context. Sets `consumed` to the characters used (15). Time is taken as UTC.
inline std::optional<Timestamp> parseSyslogTime(std::string_view s, const ParseContext& ctx,
                                                size_t& consumed) {
  if (s.size() < 15 || s[3] != ' ' || s[6] != ' ') return std::nullopt;
  const unsigned month = monthFromAbbrev(s.substr(0, 3));
  if (month == 0) return std::nullopt;
  int day = 0;
  if (s[4] == ' ') {
    if (!isDigit(s[5])) return std::nullopt;
    day = s[5] - '0';
  } else if (!fixedDigits(s, 4, 2, day)) {
    return std::nullopt;
  }
  int secs = 0;
  if (day < 1 || day > 31 || !parseClock(s, 7, secs)) return std::nullopt;
  const Timestamp ref = ctx.reference.isSet() ? ctx.reference : Timestamp::now();
  const int year = inferSyslogYear(month, static_cast<unsigned>(day), ctx.year, ref);
  consumed = 15;
  return makeTimestamp(year, month, static_cast<unsigned>(day), secs, 0, 0);
}

// Finds the closing quote of a quoted field whose content starts at `p`, honouring backslash
// escapes. Returns npos when unterminated; sets `escaped` when a backslash was seen.
inline size_t findClosingQuote(std::string_view s, size_t p, bool& escaped) {
  escaped = false;
  while (p < s.size()) {
    const void* hit = std::memchr(s.data() + p, '"', s.size() - p);
    if (hit == nullptr) return std::string_view::npos;
    const size_t q = static_cast<size_t>(static_cast<const char*>(hit) - s.data());
    // Only the span before the quote can hold the backslash that would escape it.
    const void* bs = std::memchr(s.data() + p, '\\', q - p);
    if (bs == nullptr) return q;
    // Skip the escape pair and continue after it.
    escaped = true;
    p = static_cast<size_t>(static_cast<const char*>(bs) - s.data()) + 2;
  }
  return std::string_view::npos;
}

}  // namespace riposte::ingest_detail

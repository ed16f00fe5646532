#include "riposte/ingest/access_log_parser.h"

#include <cstring>
#include <utility>

#include "ingest/parsers/parse_util.h"

namespace riposte {

using namespace ingest_detail;  // NOLINT(google-build-using-namespace)

namespace {

constexpr std::string_view kZero = "0";

// Next space-delimited token starting at p (p must not point at a space); advances p past the
// token and any following spaces.
std::string_view nextToken(std::string_view s, size_t& p) {
  const size_t start = p;
  while (p < s.size() && s[p] != ' ') ++p;
  const std::string_view t = s.substr(start, p - start);
  while (p < s.size() && s[p] == ' ') ++p;
  return t;
}

bool looksLikeIp(std::string_view t) {
  if (isCanonicalIpv4(t)) return true;
  if (t.empty() || t.size() > 45) return false;
  // Cheap pre-check before inet_pton: only hex digits, dots and colons.
  for (char c : t) {
    if (c != ':' && c != '.' && !isHex(c)) return false;
  }
  return IpAddress::parse(t).has_value();
}

bool isMethodChar(char c) { return (c >= 'A' && c <= 'Z') || c == '-' || c == '_'; }

// Reads a quoted field at s[p] == '"'. On success sets `value` (raw, still escaped), `escaped`,
// and moves p past the closing quote and following spaces.
bool quotedField(std::string_view s, size_t& p, std::string_view& value, bool& escaped) {
  if (p >= s.size() || s[p] != '"') return false;
  const size_t q = findClosingQuote(s, p + 1, escaped);
  if (q == std::string_view::npos) return false;
  value = s.substr(p + 1, q - p - 1);
  p = q + 1;
  while (p < s.size() && s[p] == ' ') ++p;
  return true;
}

// Apache error-log time "Www Mmm dd hh:mm:ss[.ffffff] yyyy" (local time, taken as UTC).
std::optional<Timestamp> parseApacheErrorTime(std::string_view s) {
  // "Thu Oct 13 12:24:49.880562 2022" / "Sun Dec 04 04:47:44 2005"
  if (s.size() < 24 || s[3] != ' ' || s[7] != ' ') return std::nullopt;
  const unsigned month = monthFromAbbrev(s.substr(4, 3));
  if (month == 0) return std::nullopt;
  int day = 0;
  if (s[8] == ' ') {
    if (!isDigit(s[9])) return std::nullopt;
    day = s[9] - '0';
  } else if (!fixedDigits(s, 8, 2, day)) {
    return std::nullopt;
  }
  int secs = 0;
  if (s[10] != ' ' || !parseClock(s, 11, secs)) return std::nullopt;
  size_t p = 19;
  const int64_t us = parseFraction(s, p);
  int year = 0;
  if (p + 5 != s.size() || s[p] != ' ' || !fixedDigits(s, p + 1, 4, year)) return std::nullopt;
  if (day < 1 || day > 31) return std::nullopt;
  return makeTimestamp(year, month, static_cast<unsigned>(day), secs, us, 0);
}

// nginx error-log time "yyyy/mm/dd hh:mm:ss" (local time, taken as UTC).
std::optional<Timestamp> parseNginxErrorTime(std::string_view s) {
  int y = 0;
  int m = 0;
  int d = 0;
  int secs = 0;
  if (s.size() < 19 || s[4] != '/' || s[7] != '/' || s[10] != ' ') return std::nullopt;
  if (!fixedDigits(s, 0, 4, y) || !fixedDigits(s, 5, 2, m) || !fixedDigits(s, 8, 2, d) ||
      !parseClock(s, 11, secs) || m < 1 || m > 12 || d < 1 || d > 31) {
    return std::nullopt;
  }
  return makeTimestamp(y, static_cast<unsigned>(m), static_cast<unsigned>(d), secs, 0, 0);
}

// Sets source.ip (and source.port) from "ip", "ip:port", "[v6]:port" or "v6:port".
bool setClientAddress(std::string_view a, Event& out) {
  if (setIpField(out, Field::kSourceIp, a)) return true;
  size_t colon = a.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = a.substr(0, colon);
  const std::string_view port = a.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!allDigits(port) || !setIpField(out, Field::kSourceIp, host)) return false;
  out.set(Field::kSourcePort, port);
  return true;
}

}  // namespace

AccessLogParser::AccessLogParser(std::string name)
    : name_(std::move(name)), dataset_access_(name_ + ".access"), dataset_error_(name_ + ".error") {
  scratch_.reserve(256);
  decoded_.reserve(256);
}

ParseResult AccessLogParser::parse(std::string_view line, const ParseContext& ctx, Event& out) {
  (void)ctx;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF files
  if (line.empty()) return ParseResult::kUnrecognised;
  if (line.front() == '[') return parseApacheError(line, out);
  if (line.size() > 20 && isDigit(line[0]) && line[4] == '/' && line[7] == '/' && line[10] == ' ') {
    return parseNginxError(line, out);
  }
  return parseAccess(line, out);
}

void AccessLogParser::setTarget(std::string_view target, bool owned, Event& out) {
  setUrlFields(out, target, owned, decoded_);
}

void AccessLogParser::setRequest(std::string_view request, bool escaped, Event& out) {
  if (request.empty() || request == "-") return;
  if (escaped) {
    unescapeLogField(request, scratch_);
    request = scratch_;
  }
  // METHOD SP target [SP HTTP/x.y]
  const size_t sp = request.find(' ');
  const std::string_view method = request.substr(0, sp);
  bool valid = !method.empty() && method.size() <= 32;
  for (char c : method) {
    if (!isMethodChar(c)) {
      valid = false;
      break;
    }
  }
  if (!valid || sp == std::string_view::npos) {
    // Binary junk (TLS hello on a plain port), a bare word, or a truncated request.
    out.setExtra("http.request.invalid", request);
    return;
  }
  std::string_view rest = request.substr(sp + 1);
  std::string_view version;
  const size_t last = rest.rfind(' ');
  if (last != std::string_view::npos && rest.substr(last + 1).starts_with("HTTP/")) {
    version = rest.substr(last + 1 + 5);
    rest = rest.substr(0, last);
  }
  if (escaped) {
    out.setOwned(Field::kHttpMethod, method);
    if (!version.empty()) out.setOwned(Field::kHttpVersion, version);
  } else {
    out.set(Field::kHttpMethod, method);
    if (!version.empty()) out.set(Field::kHttpVersion, version);
  }
  setTarget(rest, escaped, out);
}

std::optional<Timestamp> AccessLogParser::clfTime(std::string_view text) {
  // Lines of one second share the text: compared, not parsed again.
  if (text.size() == sizeof last_time_text_ && last_time_ &&
      std::memcmp(text.data(), last_time_text_, sizeof last_time_text_) == 0) {
    return last_time_;
  }
  const auto ts = parseClfTime(text);
  if (ts && text.size() == sizeof last_time_text_) {
    std::memcpy(last_time_text_, text.data(), sizeof last_time_text_);
    last_time_ = ts;
  }
  return ts;
}

ParseResult AccessLogParser::parseAccess(std::string_view line, Event& out) {
  // [vhost[:port]] client ident user [time] "request" status bytes ["referrer" "agent" ...]
  // " [" ends the head; the first '[' must be it (the head holds no brackets).
  const size_t bracket = line.find('[');
  if (bracket == std::string_view::npos || bracket == 0 || bracket > 512 ||
      line[bracket - 1] != ' ') {
    return ParseResult::kUnrecognised;
  }
  const size_t lb = bracket - 1;
  const std::string_view head = line.substr(0, lb);
  std::string_view tok[4];
  size_t n = 0;
  size_t p = 0;
  while (p < head.size() && n < 4) {
    if (head[p] == ' ') {
      ++p;
      continue;
    }
    tok[n++] = nextToken(head, p);
  }
  if (p < head.size() || n == 0) return ParseResult::kUnrecognised;

  std::string_view vhost;
  size_t ci = 0;  // index of the client token
  if (looksLikeIp(tok[0])) {
    ci = 0;
  } else if (n >= 2 && looksLikeIp(tok[1])) {
    vhost = tok[0];
    ci = 1;
  } else if (n == 3) {
    ci = 0;  // HostnameLookups: a host name in place of the address
  } else {
    return ParseResult::kUnrecognised;
  }
  const size_t after = n - ci - 1;  // ident and/or user tokens
  if (after > 2) return ParseResult::kUnrecognised;

  // Time.
  p = lb + 2;
  const size_t rb = line.find(']', p);
  if (rb == std::string_view::npos) return ParseResult::kUnrecognised;
  const auto ts = clfTime(line.substr(p, rb - p));
  if (!ts) return ParseResult::kUnrecognised;
  p = rb + 1;
  if (p >= line.size() || line[p] != ' ') return ParseResult::kUnrecognised;
  ++p;

  // Request.
  std::string_view request;
  bool req_escaped = false;
  if (!quotedField(line, p, request, req_escaped)) return ParseResult::kUnrecognised;

  // Status and bytes.
  const std::string_view status = nextToken(line, p);
  if (status.size() != 3 || !allDigits(status)) return ParseResult::kUnrecognised;
  std::string_view bytes;
  if (p < line.size() && line[p] != '"') {
    bytes = nextToken(line, p);
    if (bytes != "-" && !allDigits(bytes)) return ParseResult::kUnrecognised;
  }

  // Everything required is there: fill the event.
  out.setKind(EventKind::kHttp);
  out.set(Field::kEventDataset, dataset_access_);
  out.setTimestamp(*ts);
  if (!setIpField(out, Field::kSourceIp, tok[ci])) {
    out.set(Field::kSourceIp, {});
    out.setExtra("source.address", tok[ci]);
  }
  if (!vhost.empty()) {
    const size_t colon = vhost.rfind(':');
    if (colon != std::string_view::npos && allDigits(vhost.substr(colon + 1))) {
      out.set(Field::kUrlDomain, vhost.substr(0, colon));
      out.set(Field::kDestinationPort, vhost.substr(colon + 1));
    } else {
      out.set(Field::kUrlDomain, vhost);
    }
  }
  if (after == 2 && tok[ci + 2] != "-") out.set(Field::kUserName, tok[ci + 2]);
  setRequest(request, req_escaped, out);
  out.set(Field::kHttpStatus, status);
  if (!bytes.empty()) out.set(Field::kHttpBytes, bytes == "-" ? kZero : bytes);

  std::string_view v;
  bool esc = false;
  if (quotedField(line, p, v, esc) && !v.empty() && v != "-") {
    if (esc) {
      unescapeLogField(v, scratch_);
      out.setOwned(Field::kHttpReferrer, scratch_);
    } else {
      out.set(Field::kHttpReferrer, v);
    }
  }
  if (quotedField(line, p, v, esc) && !v.empty() && v != "-") {
    if (esc) {
      unescapeLogField(v, scratch_);
      out.setOwned(Field::kUserAgent, scratch_);
    } else {
      out.set(Field::kUserAgent, v);
    }
  }
  return ParseResult::kParsed;
}

ParseResult AccessLogParser::parseApacheError(std::string_view line, Event& out) {
  // [time] [module:level] [pid N:tid M] (errno)Text: [client ip:port] AHnnnnn: message
  // [time] [level] [client ip] message                                   (Apache 2.2)
  const size_t rb = line.find(']');
  if (rb == std::string_view::npos) return ParseResult::kUnrecognised;
  const auto ts = parseApacheErrorTime(line.substr(1, rb - 1));
  if (!ts) return ParseResult::kUnrecognised;
  size_t p = rb + 1;
  if (p + 2 >= line.size() || line[p] != ' ' || line[p + 1] != '[')
    return ParseResult::kUnrecognised;
  const size_t lb2 = p + 2;
  const size_t rb2 = line.find(']', lb2);
  if (rb2 == std::string_view::npos) return ParseResult::kUnrecognised;
  std::string_view level = line.substr(lb2, rb2 - lb2);
  std::string_view module;
  if (const size_t c = level.find(':'); c != std::string_view::npos) {
    module = level.substr(0, c);
    level = level.substr(c + 1);
  }
  if (level.empty()) return ParseResult::kUnrecognised;
  p = rb2 + 1;
  if (p < line.size() && line[p] == ' ') ++p;
  const std::string_view content = line.substr(p);

  out.setTimestamp(*ts);
  out.set(Field::kEventDataset, dataset_error_);
  out.setExtra("log.level", level);
  if (!module.empty()) out.setExtra("apache.error.module", module);

  // The message is what follows "[client ip:port] " (or the leading "[...]" groups) and the
  // "AHnnnnn: " code.
  bool client = false;
  std::string_view msg = content;
  const size_t cl = content.find("[client ");
  const size_t ce = cl == std::string_view::npos ? cl : content.find(']', cl + 8);
  if (ce != std::string_view::npos) {
    client = setClientAddress(content.substr(cl + 8, ce - cl - 8), out);
    msg = content.substr(ce + 1);
  } else {
    while (msg.starts_with("[")) {
      const size_t e = msg.find(']');
      if (e == std::string_view::npos) break;
      msg.remove_prefix(e + 1);
      while (!msg.empty() && msg.front() == ' ') msg.remove_prefix(1);
    }
  }
  while (!msg.empty() && msg.front() == ' ') msg.remove_prefix(1);
  if (msg.size() > 8 && msg.starts_with("AH") && msg[7] == ':' && allDigits(msg.substr(2, 5))) {
    const std::string_view code = msg.substr(0, 7);
    msg.remove_prefix(8);
    while (!msg.empty() && msg.front() == ' ') msg.remove_prefix(1);
    out.setExtra("error.code", code);
    if (code == "AH01618" && msg.starts_with("user ")) {
      // "user NAME not found: URI"
      const size_t nf = msg.find(" not found: ");
      if (nf != std::string_view::npos) {
        out.set(Field::kUserName, msg.substr(5, nf - 5));
        setTarget(msg.substr(nf + std::string_view(" not found: ").size()), false, out);
        out.set(Field::kEventAction, "http_auth_user_not_found");
        out.set(Field::kEventOutcome, "failure");
      }
    } else if (code == "AH00126" && msg.starts_with("Invalid URI in request ")) {
      // Path-traversal probes (CVE-2021-41773) end up here: "Invalid URI in request GET /…
      // HTTP/1.1"
      std::string_view req = msg.substr(std::string_view("Invalid URI in request ").size());
      while (!req.empty() && req.back() == ' ') req.remove_suffix(1);
      setRequest(req, false, out);
      out.set(Field::kEventAction, "http_invalid_uri");
    } else if (code == "AH01617" && msg.starts_with("user ")) {
      // "user NAME: authentication failure for \"URI\": Password Mismatch"
      constexpr std::string_view kFailure = ": authentication failure for \"";
      const size_t af = msg.find(kFailure);
      if (af != std::string_view::npos) {
        out.set(Field::kUserName, msg.substr(5, af - 5));
        const size_t us = af + kFailure.size();
        const size_t ue = msg.find('"', us);
        if (ue != std::string_view::npos) setTarget(msg.substr(us, ue - us), false, out);
        out.set(Field::kEventAction, "http_auth_password_mismatch");
        out.set(Field::kEventOutcome, "failure");
      }
    }
  }
  out.set(Field::kMessage, msg);
  out.setKind(client ? EventKind::kHttp : EventKind::kGeneric);
  return ParseResult::kParsed;
}

ParseResult AccessLogParser::parseNginxError(std::string_view line, Event& out) {
  // yyyy/mm/dd hh:mm:ss [level] pid#tid: *cid message, client: ip, server: s, request: "..",
  // host: "h"
  const auto ts = parseNginxErrorTime(line.substr(0, 19));
  if (!ts || line.size() < 22 || line[19] != ' ' || line[20] != '[') {
    return ParseResult::kUnrecognised;
  }
  const size_t rb = line.find(']', 21);
  if (rb == std::string_view::npos) return ParseResult::kUnrecognised;
  const std::string_view level = line.substr(21, rb - 21);
  size_t p = rb + 1;
  while (p < line.size() && line[p] == ' ') ++p;
  // pid#tid:
  const size_t colon = line.find(": ", p);
  if (colon == std::string_view::npos) return ParseResult::kUnrecognised;
  p = colon + 2;
  // *cid
  if (p < line.size() && line[p] == '*') {
    while (p < line.size() && line[p] != ' ') ++p;
    while (p < line.size() && line[p] == ' ') ++p;
  }
  std::string_view msg = line.substr(p);
  const size_t cm = msg.find(", client: ");
  std::string_view tail;
  if (cm != std::string_view::npos) {
    tail = msg.substr(cm + 2);
    msg = msg.substr(0, cm);
  }
  out.setTimestamp(*ts);
  out.set(Field::kEventDataset, dataset_error_);
  out.set(Field::kMessage, msg);
  out.setExtra("log.level", level);
  // Basic-auth failures: `user "NAME" was not found in "FILE"`, `user "NAME": password mismatch`.
  if (msg.starts_with("user \"")) {
    const size_t ue = msg.find('"', 6);
    if (ue != std::string_view::npos) {
      const std::string_view rest = msg.substr(ue + 1);
      if (rest.starts_with(" was not found in ")) {
        out.set(Field::kUserName, msg.substr(6, ue - 6));
        out.set(Field::kEventAction, "http_auth_user_not_found");
        out.set(Field::kEventOutcome, "failure");
      } else if (rest.starts_with(": password mismatch")) {
        out.set(Field::kUserName, msg.substr(6, ue - 6));
        out.set(Field::kEventAction, "http_auth_password_mismatch");
        out.set(Field::kEventOutcome, "failure");
      }
    }
  }
  bool client = false;
  // ", "-separated "key: value" pairs; request and host values are quoted.
  size_t q = 0;
  while (q < tail.size()) {
    const size_t kc = tail.find(": ", q);
    if (kc == std::string_view::npos) break;
    const std::string_view key = tail.substr(q, kc - q);
    size_t v = kc + 2;
    std::string_view value;
    bool esc = false;
    if (v < tail.size() && tail[v] == '"') {
      const size_t e = findClosingQuote(tail, v + 1, esc);
      if (e == std::string_view::npos) break;
      value = tail.substr(v + 1, e - v - 1);
      v = e + 1;
    } else {
      const size_t e = tail.find(", ", v);
      value = tail.substr(v, e == std::string_view::npos ? std::string_view::npos : e - v);
      v = e == std::string_view::npos ? tail.size() : e;
    }
    if (key == "client") {
      client = setIpField(out, Field::kSourceIp, value);
    } else if (key == "request") {
      setRequest(value, esc, out);
    } else if (key == "host" && !esc) {
      out.set(Field::kUrlDomain, value);  // the Host header
    } else if (key == "server") {
      out.setExtra("nginx.error.server", value);  // the server block's name ("_" for catch-all)
    }
    if (v + 2 > tail.size() || tail.substr(v, 2) != ", ") break;
    q = v + 2;
  }
  out.setKind(client ? EventKind::kHttp : EventKind::kGeneric);
  return ParseResult::kParsed;
}

}  // namespace riposte

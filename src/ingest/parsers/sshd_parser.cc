#include "riposte/ingest/sshd_parser.h"

#include <charconv>

#include "ingest/field_util.h"
#include "riposte/ingest/syslog_header.h"

namespace riposte {

namespace {

using ingest::allDigits;
using ingest::endsWith;
using ingest::setIp;
using ingest::startsWith;
namespace act = sshd_action;

constexpr std::string_view kFailure = "failure";
constexpr std::string_view kSuccess = "success";

void mark(Event& ev, EventKind kind, std::string_view action, std::string_view outcome = {}) {
  ev.setKind(kind);
  ev.set(Field::kEventAction, action);
  if (!outcome.empty()) ev.set(Field::kEventOutcome, outcome);
}

// Removes a prefix when present. Inlined: a line is tried against dozens of prefixes, most of
// which fail on the first byte.
[[gnu::always_inline]] inline bool eat(std::string_view& s, std::string_view prefix) {
  if (!startsWith(s, prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// Parses "<ip> port <n>" at the start of s (the rest after the port is left in `rest`).
bool ipPort(std::string_view s, Event& ev, std::string_view* rest = nullptr) {
  const size_t sp = s.find(" port ");
  if (sp == std::string_view::npos) return false;
  if (!setIp(ev, Field::kSourceIp, s.substr(0, sp))) return false;
  std::string_view after = s.substr(sp + 6);
  size_t n = 0;
  while (n < after.size() && after[n] >= '0' && after[n] <= '9') ++n;
  if (n == 0) return false;
  ev.set(Field::kSourcePort, after.substr(0, n));
  if (rest != nullptr) *rest = after.substr(n);
  return true;
}

// Parses "<ip>" or "<ip> port <n>" (older OpenSSH omits the port), up to an optional
// terminator such as ':'.
bool ipMaybePort(std::string_view s, Event& ev, std::string_view* rest = nullptr) {
  if (ipPort(s, ev, rest)) return true;
  size_t end = 0;
  while (end < s.size() && s[end] != ' ' && s[end] != ':') ++end;
  // An IPv6 address contains ':'; take the longest prefix that parses.
  size_t e2 = s.find(' ');
  if (e2 == std::string_view::npos) e2 = s.size();
  if (setIp(ev, Field::kSourceIp, s.substr(0, e2))) {
    if (rest != nullptr) *rest = s.substr(e2);
    return true;
  }
  if (setIp(ev, Field::kSourceIp, s.substr(0, end))) {
    if (rest != nullptr) *rest = s.substr(end);
    return true;
  }
  return false;
}

// "<user> from <ip> port <n>..." anchored from the right, since user names are arbitrary.
bool userFromIpPort(std::string_view s, Event& ev, std::string_view* rest = nullptr) {
  size_t pos = s.rfind(" from ");
  while (pos != std::string_view::npos) {
    std::string_view tail = s.substr(pos + 6);
    if (ipMaybePort(tail, ev, rest)) {
      if (pos > 0) ev.set(Field::kUserName, s.substr(0, pos));
      return true;
    }
    if (pos == 0) break;
    pos = s.rfind(" from ", pos - 1);
  }
  // "<user> from" with an empty user name: "for  from 1.2.3.4"
  if (eat(s, "from ")) return ipMaybePort(s, ev, rest);
  return false;
}

// The connection id sshd prints: "[authenticating user U |invalid user U |user U ]<ip> port <n>".
// Returns which qualifier was present ("" when none).
bool connectionId(std::string_view s, Event& ev, std::string_view& qualifier) {
  qualifier = {};
  for (std::string_view q : {"authenticating user ", "invalid user ", "user "}) {
    if (startsWith(s, q)) {
      qualifier = q.substr(0, q.size() - 1);
      s.remove_prefix(q.size());
      // user name runs up to the address; anchor on " <ip> port <n>" from the right.
      size_t pos = s.rfind(" port ");
      while (pos != std::string_view::npos) {
        const size_t ip_start = s.rfind(' ', pos == 0 ? 0 : pos - 1);
        if (ip_start == std::string_view::npos) break;
        if (ipPort(s.substr(ip_start + 1), ev)) {
          ev.set(Field::kUserName, s.substr(0, ip_start));
          return true;
        }
        if (pos == 0) break;
        pos = s.rfind(" port ", pos - 1);
      }
      return false;
    }
  }
  // Bare address, with or without a port (older OpenSSH prints none).
  if (ipPort(s, ev) || setIp(ev, Field::kSourceIp, s)) return true;
  // Unknown qualifier "<word> user U <ip> port <n>" (seen in the wild): take the address.
  const size_t u = s.find(" user ");
  if (u != std::string_view::npos && u < 20) {
    std::string_view rest = s.substr(u + 6);
    const size_t sp = rest.find(' ');
    if (sp != std::string_view::npos && ipPort(rest.substr(sp + 1), ev)) {
      qualifier = s.substr(0, u);
      ev.set(Field::kUserName, rest.substr(0, sp));
      return true;
    }
  }
  return false;
}

// "key=value" inside a pam message: value up to the next space.
std::string_view pamValue(std::string_view msg, std::string_view key) {
  size_t p = 0;
  while ((p = msg.find(key, p)) != std::string_view::npos) {
    if (p == 0 || msg[p - 1] == ' ' || msg[p - 1] == ';') {
      std::string_view v = msg.substr(p + key.size());
      const size_t sp = v.find(' ');
      return sp == std::string_view::npos ? v : v.substr(0, sp);
    }
    p += key.size();
  }
  return {};
}

ParseResult parseAuthResult(std::string_view m, Event& ev, std::string_view action,
                            std::string_view outcome) {
  // "<method> for [invalid user ]<user> from <ip> port <n> ssh2[: info]"
  const size_t f = m.find(" for ");
  if (f == std::string_view::npos) return ParseResult::kUnrecognised;
  ev.setExtra("ssh.method", m.substr(0, f));
  std::string_view rest = m.substr(f + 5);
  if (eat(rest, "invalid user ")) ev.setExtra("ssh.invalid_user", "true");
  if (!userFromIpPort(rest, ev)) return ParseResult::kUnrecognised;
  mark(ev, EventKind::kAuth, action, outcome);
  return ParseResult::kParsed;
}

ParseResult parseRepeated(std::string_view m, Event& ev) {
  // "message repeated N times: [ <message>]"
  uint32_t n = 0;
  auto [ptr, ec] = std::from_chars(m.data(), m.data() + m.size(), n);
  if (ec != std::errc() || n == 0) return ParseResult::kUnrecognised;
  std::string_view rest = m.substr(static_cast<size_t>(ptr - m.data()));
  if (!eat(rest, " times: [")) return ParseResult::kUnrecognised;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && (rest.back() == ']' || rest.back() == ' ')) rest.remove_suffix(1);
  const ParseResult r = SshdParser::parseMessage(rest, ev);
  ev.setRepeat(n);
  return r;
}

}  // namespace

bool SshdParser::isSshdProgram(std::string_view p) {
  return p == "sshd" || p == "sshd-session" || p == "sshd-auth";
}

ParseResult SshdParser::parse(std::string_view line, const ParseContext& ctx, Event& ev) {
  SyslogHeader h;
  if (!parseSyslogHeader(line, ctx, h)) return ParseResult::kUnrecognised;
  if (!isSshdProgram(h.program)) return ParseResult::kSkip;
  ev.setTimestamp(h.timestamp);
  ev.set(Field::kHostName, h.host);
  ev.set(Field::kProcessName, h.program);
  if (!h.pid.empty()) ev.set(Field::kProcessPid, h.pid);
  ev.set(Field::kMessage, h.message);
  ev.set(Field::kEventDataset, "sshd");
  return parseMessage(h.message, ev);
}

ParseResult SshdParser::parseMessage(std::string_view m, Event& ev) {
  while (!m.empty() && (m.back() == ' ' || m.back() == '\r')) m.remove_suffix(1);
  if (eat(m, "message repeated ")) return parseRepeated(m, ev);
  bool preauth = false;
  if (endsWith(m, " [preauth]")) {
    m.remove_suffix(10);
    preauth = true;
  } else if (endsWith(m, " [postauth]")) {
    m.remove_suffix(11);
  }
  if (!eat(m, "error: ")) eat(m, "fatal: ");

  // --- authentication results ---
  if (eat(m, "Failed ")) return parseAuthResult(m, ev, act::kAuthFailed, kFailure);
  if (eat(m, "Accepted ")) return parseAuthResult(m, ev, act::kAuthSuccess, kSuccess);
  if (eat(m, "Partial ") || eat(m, "Postponed ")) {
    return parseAuthResult(m, ev, act::kAuthPartial, {});
  }
  if (eat(m, "Invalid user ")) {
    if (!userFromIpPort(m, ev)) return ParseResult::kUnrecognised;
    mark(ev, EventKind::kAuth, act::kInvalidUser, kFailure);
    return ParseResult::kParsed;
  }
  if (eat(m, "maximum authentication attempts exceeded for ")) {
    eat(m, "invalid user ");
    if (!userFromIpPort(m, ev)) return ParseResult::kUnrecognised;
    mark(ev, EventKind::kAuth, act::kMaxAuthAttempts, kFailure);
    return ParseResult::kParsed;
  }
  if (eat(m, "Disconnecting: Too many authentication failures")) {
    if (eat(m, " for ")) ev.set(Field::kUserName, m);
    mark(ev, EventKind::kAuth, act::kMaxAuthAttempts, kFailure);
    return ParseResult::kParsed;
  }
  if (startsWith(m, "pam_unix(sshd:auth): authentication failure;") ||
      (startsWith(m, "PAM ") && m.find("more authentication failure") != std::string_view::npos)) {
    const std::string_view rhost = pamValue(m, "rhost=");
    const std::string_view user = pamValue(m, "user=");
    if (!user.empty()) ev.set(Field::kUserName, user);
    if (!rhost.empty() && !setIp(ev, Field::kSourceIp, rhost)) ev.setExtra("source.domain", rhost);
    mark(ev, EventKind::kAuth, act::kPamAuthFailure, kFailure);
    return ParseResult::kParsed;
  }
  if (eat(m, "User ")) {
    // "User root from 192.168.1.1 not allowed because not listed in AllowUsers"
    const size_t na = m.find(" not allowed because ");
    if (na == std::string_view::npos) return ParseResult::kUnrecognised;
    if (!userFromIpPort(m.substr(0, na), ev)) return ParseResult::kUnrecognised;
    ev.setExtra("ssh.reason", m.substr(na + 21));
    mark(ev, EventKind::kAuth, act::kNotAllowed, kFailure);
    return ParseResult::kParsed;
  }

  // --- connection ends: "<verb> <id>" ---
  for (std::string_view verb :
       {"Connection closed by ", "Disconnected from ", "Connection reset by "}) {
    if (!eat(m, verb)) continue;
    std::string_view qualifier;
    if (!connectionId(m, ev, qualifier)) return ParseResult::kUnrecognised;
    if (qualifier.empty()) {
      // Closed before authenticating: counts as a failed attempt (as CrowdSec's sshd parser does).
      if (preauth) {
        mark(ev, EventKind::kAuth, act::kConnectionClosed, kFailure);
      } else {
        mark(ev, EventKind::kSsh, act::kConnectionClosed);
      }
    } else if (qualifier == "user") {
      mark(ev, EventKind::kSsh, act::kDisconnected);
    } else {
      // authenticating user / invalid user / unknown qualifier: a failed attempt
      mark(ev, EventKind::kAuth, act::kPreauthClose, kFailure);
    }
    return ParseResult::kParsed;
  }
  if (eat(m, "Disconnecting ")) {
    // "Disconnecting authenticating user root 203.0.113.5 port 51240: Too many authentication
    // failures"
    const size_t colon = m.rfind(": ");
    std::string_view reason =
        colon == std::string_view::npos ? std::string_view{} : m.substr(colon + 2);
    std::string_view id = colon == std::string_view::npos ? m : m.substr(0, colon);
    std::string_view qualifier;
    if (!connectionId(id, ev, qualifier)) return ParseResult::kUnrecognised;
    ev.setExtra("ssh.reason", reason);
    if (reason.find("Too many authentication failures") != std::string_view::npos) {
      mark(ev, EventKind::kAuth, act::kMaxAuthAttempts, kFailure);
    } else {
      mark(ev, EventKind::kSsh, act::kDisconnected);
    }
    return ParseResult::kParsed;
  }
  if (eat(m, "Received disconnect from ")) {
    std::string_view rest;
    if (!ipMaybePort(m, ev, &rest)) return ParseResult::kUnrecognised;
    eat(rest, ":");
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    ev.setExtra("ssh.reason", rest);
    mark(ev, EventKind::kSsh, act::kReceivedDisconnect);
    return ParseResult::kParsed;
  }
  if (eat(m, "Connection from ")) {
    // "Connection from <id> timed out" / "Connection from IP port N on IP port N"
    std::string_view qualifier;
    std::string_view id = m;
    const size_t on = m.find(" on ");
    if (on != std::string_view::npos) id = m.substr(0, on);
    if (endsWith(id, " timed out")) id.remove_suffix(10);
    if (!connectionId(id, ev, qualifier)) return ParseResult::kUnrecognised;
    if (endsWith(m, " timed out")) {
      mark(ev, EventKind::kSsh, act::kAuthTimeout);
    } else {
      mark(ev, EventKind::kSsh, act::kConnectionOpened);
    }
    return ParseResult::kParsed;
  }

  // --- protocol-level probes ---
  if (eat(m, "Did not receive identification string from ")) {
    if (!ipMaybePort(m, ev)) return ParseResult::kUnrecognised;
    mark(ev, EventKind::kSsh, act::kNoIdentification, kFailure);
    return ParseResult::kParsed;
  }
  if (eat(m, "Unable to negotiate with ")) {
    std::string_view rest;
    if (!ipMaybePort(m, ev, &rest)) return ParseResult::kUnrecognised;
    eat(rest, ": ");
    ev.setExtra("ssh.reason", rest);
    mark(ev, EventKind::kSsh, act::kKexFailed, kFailure);
    return ParseResult::kParsed;
  }
  if (eat(m, "Bad protocol version identification ")) {
    if (!userFromIpPort(m, ev)) return ParseResult::kUnrecognised;
    ev.setExtra("ssh.banner", ev.get(Field::kUserName));
    ev.set(Field::kUserName, {});
    mark(ev, EventKind::kSsh, act::kBannerError, kFailure);
    return ParseResult::kParsed;
  }
  if (eat(m, "banner exchange: Connection from ")) {
    if (!ipMaybePort(m, ev)) return ParseResult::kUnrecognised;
    mark(ev, EventKind::kSsh, act::kBannerError, kFailure);
    return ParseResult::kParsed;
  }
  if (eat(m, "kex_exchange_identification: ")) {
    ev.setExtra("ssh.reason", m);
    mark(ev, EventKind::kSsh, act::kKexIdentification, kFailure);
    return ParseResult::kParsed;
  }
  if (eat(m, "Timeout before authentication for ")) {
    if (!ipMaybePort(m, ev)) return ParseResult::kUnrecognised;
    mark(ev, EventKind::kSsh, act::kAuthTimeout, kFailure);
    return ParseResult::kParsed;
  }
  if (eat(m, "ssh_dispatch_run_fatal: Connection from ")) {
    const size_t colon = m.rfind(": ");
    std::string_view qualifier;
    if (colon == std::string_view::npos || !connectionId(m.substr(0, colon), ev, qualifier)) {
      return ParseResult::kUnrecognised;
    }
    ev.setExtra("ssh.reason", m.substr(colon + 2));
    mark(ev, EventKind::kSsh, act::kProtocolError, kFailure);
    return ParseResult::kParsed;
  }
  if (eat(m, "Magic value check failed")) {
    const size_t from = m.find(" from ");
    if (from == std::string_view::npos || !ipMaybePort(m.substr(from + 6), ev)) {
      return ParseResult::kUnrecognised;
    }
    mark(ev, EventKind::kAuth, act::kBadHandshake, kFailure);
    return ParseResult::kParsed;
  }
  if (eat(m, "refused connect from ")) {
    // "refused connect from <host> (<ip>)"
    const size_t open = m.rfind('(');
    if (open == std::string_view::npos || !endsWith(m, ")")) return ParseResult::kUnrecognised;
    if (!setIp(ev, Field::kSourceIp, m.substr(open + 1, m.size() - open - 2))) {
      return ParseResult::kUnrecognised;
    }
    mark(ev, EventKind::kSsh, act::kRefusedConnect, kFailure);
    return ParseResult::kParsed;
  }
  if (eat(m, "reverse mapping checking getaddrinfo for ")) {
    const size_t open = m.find(" [");
    const size_t close = m.find(']', open == std::string_view::npos ? 0 : open);
    if (open == std::string_view::npos || close == std::string_view::npos ||
        !setIp(ev, Field::kSourceIp, m.substr(open + 2, close - open - 2))) {
      return ParseResult::kUnrecognised;
    }
    ev.setExtra("source.domain", m.substr(0, open));
    mark(ev, EventKind::kSsh, act::kReverseMapping);
    return ParseResult::kParsed;
  }
  if (eat(m, "Address ") && m.find("POSSIBLE BREAK-IN ATTEMPT") != std::string_view::npos) {
    const size_t sp = m.find(' ');
    if (!setIp(ev, Field::kSourceIp, m.substr(0, sp))) return ParseResult::kUnrecognised;
    mark(ev, EventKind::kSsh, act::kReverseMapping);
    return ParseResult::kParsed;
  }

  // --- sessions and other recognised lines without an attacker ---
  if (eat(m, "pam_unix(sshd:session): session opened for user ")) {
    ev.set(Field::kUserName, m.substr(0, m.find(' ')));
    mark(ev, EventKind::kAuth, act::kSessionOpened, kSuccess);
    return ParseResult::kParsed;
  }
  if (eat(m, "pam_unix(sshd:session): session closed for user ")) {
    ev.set(Field::kUserName, m.substr(0, m.find(' ')));
    mark(ev, EventKind::kAuth, act::kSessionClosed);
    return ParseResult::kParsed;
  }
  if (eat(m, "input_userauth_request: invalid user ")) {
    ev.set(Field::kUserName, m);
    mark(ev, EventKind::kAuth, act::kInfo);
    return ParseResult::kParsed;
  }
  for (std::string_view info :
       {"pam_unix(sshd:auth): check pass;", "PAM service(sshd) ignoring max retries",
        "Write failed:", "Read error from remote host", "Server listening on", "Received signal",
        "pam_unix(sshd:account)", "Starting session:", "Close session:", "Transferred:",
        "Received SIGHUP", "Connection closed by remote host", "Timeout, client not responding",
        "syslogin_perform_logout", "pam_systemd("}) {
    if (startsWith(m, info)) {
      mark(ev, EventKind::kSsh, act::kInfo);
      return ParseResult::kParsed;
    }
  }
  return ParseResult::kUnrecognised;
}

}  // namespace riposte

#include "riposte/ingest/iptables_parser.h"

#include "ingest/parsers/parse_util.h"

namespace riposte {

using namespace ingest_detail;  // NOLINT(google-build-using-namespace)

namespace {

// Position of the " IN=" token (or "IN=" at p0), or npos.
size_t findIn(std::string_view s, size_t p0) {
  if (s.substr(p0).starts_with("IN=")) return p0;
  const size_t k = s.find(" IN=", p0);
  return k == std::string_view::npos ? k : k + 1;
}

}  // namespace

ParseResult IptablesParser::parse(std::string_view line, const ParseContext& ctx, Event& out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t p = 0;
  // Optional "<PRI>".
  if (!line.empty() && line[0] == '<') {
    size_t q = 1;
    while (q < line.size() && q < 5 && isDigit(line[q])) ++q;
    if (q > 1 && q < line.size() && line[q] == '>') p = q + 1;
  }
  // Optional syslog header: time, host, tag.
  bool header = false;
  const std::string_view rest = line.substr(p);
  size_t used = 0;
  if (auto ts = parseSyslogTime(rest, ctx, used)) {
    out.setTimestamp(*ts);
    header = true;
  } else if (!rest.empty() && isDigit(rest[0])) {
    const size_t sp = rest.find(' ');
    if (auto t3339 = parseRfc3339(rest.substr(0, sp))) {
      out.setTimestamp(*t3339);
      used = sp == std::string_view::npos ? rest.size() : sp;
      header = true;
    }
  }
  if (header) {
    p += used;
    while (p < line.size() && line[p] == ' ') ++p;
    // Host, unless the next token is already the tag ("kernel:").
    const size_t sp = line.find(' ', p);
    const std::string_view host =
        line.substr(p, sp == std::string_view::npos ? line.size() - p : sp - p);
    if (!host.empty() && host.back() != ':' && sp != std::string_view::npos) {
      out.set(Field::kHostName, host);
      p = sp + 1;
    }
    // Tag "kernel:" (or any "prog[pid]:").
    const size_t tsp = line.find(' ', p);
    const std::string_view tag =
        line.substr(p, tsp == std::string_view::npos ? line.size() - p : tsp - p);
    if (!tag.empty() && tag.back() == ':') {
      const std::string_view prog = tag.substr(0, std::min(tag.find('['), tag.size() - 1));
      out.set(Field::kProcessName, prog);
      p = tsp == std::string_view::npos ? line.size() : tsp + 1;
    }
  }
  const size_t in = findIn(line, p);
  if (in == std::string_view::npos) return header ? ParseResult::kSkip : ParseResult::kUnrecognised;

  // Log prefix between the kernel's "[uptime]" stamp and IN=.
  std::string_view prefix = line.substr(p, in - p);
  while (!prefix.empty() && prefix.front() == ' ') prefix.remove_prefix(1);
  // Only a numeric "[ 1234.567890]" is the uptime stamp; "[UFW BLOCK]" is the log prefix.
  if (prefix.starts_with("[")) {
    const size_t rb = prefix.find(']');
    const std::string_view inside = prefix.substr(1, rb == std::string_view::npos ? 0 : rb - 1);
    if (rb != std::string_view::npos &&
        inside.find_first_not_of(" .0123456789") == std::string_view::npos) {
      prefix.remove_prefix(rb + 1);
    }
  }
  while (!prefix.empty() && prefix.front() == ' ') prefix.remove_prefix(1);
  while (!prefix.empty() && prefix.back() == ' ') prefix.remove_suffix(1);
  if (!prefix.empty()) out.set(Field::kRuleName, prefix);

  // key=value tokens (flags such as SYN or DF have no '=').
  std::string_view src;
  std::string_view dst;
  bool saw_proto = false;
  size_t q = in;
  while (q < line.size()) {
    size_t e = line.find(' ', q);
    if (e == std::string_view::npos) e = line.size();
    const std::string_view tok = line.substr(q, e - q);
    q = e + 1;
    const size_t eq = tok.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    const std::string_view k = tok.substr(0, eq);
    const std::string_view v = tok.substr(eq + 1);
    switch (k.size()) {
      case 2:
        if (k == "IN" && !v.empty()) out.setExtra("observer.ingress.interface.name", v);
        break;
      case 3:
        if (k == "SRC") {
          src = v;
        } else if (k == "DST") {
          dst = v;
        } else if (k == "OUT" && !v.empty()) {
          out.setExtra("observer.egress.interface.name", v);
        } else if (k == "SPT" && allDigits(v)) {
          out.set(Field::kSourcePort, v);
        } else if (k == "DPT" && allDigits(v)) {
          out.set(Field::kDestinationPort, v);
        }
        break;
      case 5:
        if (k == "PROTO" && !saw_proto && !v.empty()) {
          // The first PROTO is the packet's; ICMP errors quote the offending packet's later.
          setTransport(out, v);
          saw_proto = true;
        }
        break;
      default: break;
    }
    // ICMP errors quote the offending packet in "[SRC=… DST=…]": stop there.
    if (!tok.empty() && tok.front() == '[') break;
  }
  if (src.empty() || dst.empty()) return ParseResult::kUnrecognised;
  if (!setIpField(out, Field::kSourceIp, src) || !setIpField(out, Field::kDestinationIp, dst)) {
    return ParseResult::kUnrecognised;
  }
  out.setKind(EventKind::kFirewall);
  out.set(Field::kEventDataset, "iptables");
  return ParseResult::kParsed;
}

}  // namespace riposte

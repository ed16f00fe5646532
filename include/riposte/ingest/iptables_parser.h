// IptablesParser: netfilter kernel LOG lines from iptables and nftables (registered as
// "iptables").
//
// Reads `IN=… OUT=… [MAC=…] SRC=… DST=… LEN=… … PROTO=… [SPT=… DPT=…]` wherever it starts in
// the line, after an optional syslog header: `<PRI>`, an RFC 3164 time (`Jun  8 14:34:33`,
// year from ParseContext) or an RFC 3339 one, then the host (→ host.name) and `kernel:`. The
// kernel's `[uptime]` stamp is skipped and the log prefix before `IN=` (`IPTABLES-DROP:`) goes to
// rule.name. Fields: source.ip, destination.ip (canonical), source.port, destination.port,
// network.transport (lower case), extras `observer.ingress.interface.name` (IN) and
// `observer.egress.interface.name` (OUT) when set. Kind kFirewall, event.dataset `iptables`.
//
// A syslog line without netfilter fields is kSkip (another kernel or program message); a line
// that is neither is kUnrecognised, as is one whose SRC/DST are not addresses.
//
// Thread safety: stateless; one instance per thread by convention.
#pragma once

#include <string_view>

#include "riposte/ingest/parser.h"

namespace riposte {

class IptablesParser : public Parser {
 public:
  std::string_view name() const override { return "iptables"; }
  ParseResult parse(std::string_view line, const ParseContext& ctx, Event& out) override;
};

}  // namespace riposte

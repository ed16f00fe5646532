// FirewallTarget: a decision's target as a firewall element — an IPv4 or IPv6 address or CIDR
// range in canonical text (a bare address for /32 and /128, host bits cleared otherwise).
// Shared by the ipset and iptables actions, which key their elements and rules by this text.
//
// Thread safety: value type; free functions are reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "riposte/core/decision.h"
#include "riposte/core/status.h"
#include "riposte/core/target.h"

namespace riposte {

struct FirewallTarget {
  bool v6 = false;
  uint8_t prefix = 32;
  std::string key;  // "192.0.2.1", "10.0.0.0/24", "2001:db8::/64"
};

// An IP or CIDR target as a firewall element; `who` names the action in the error for any other
// target (users, hosts) or text that is not an address.
Result<FirewallTarget> firewallTarget(const Target& t, std::string_view who);
// Canonical element text from what a firewall tool prints ("10.0.0.1/32" → "10.0.0.1").
Result<FirewallTarget> firewallTargetFromText(std::string_view text, std::string_view who);

// Seconds until the decision expires at `now`, at least 1 (a kernel timeout of 0 never expires)
// and at most `cap`.
int64_t remainingSeconds(const Decision& d, Timestamp now, int64_t cap);

}  // namespace riposte

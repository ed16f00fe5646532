#include "riposte/respond/firewall_target.h"

#include <algorithm>

#include "riposte/core/ip.h"

namespace riposte {

Result<FirewallTarget> firewallTargetFromText(std::string_view text, std::string_view who) {
  auto c = Cidr::parse(text);
  if (!c) return c.status().withContext(std::string(who) + " target");
  FirewallTarget f;
  f.v6 = c->base.v6;
  f.prefix = c->prefix;
  const unsigned full = f.v6 ? 128 : 32;
  f.key = c->prefix == full ? c->base.toString() : c->toString();
  return f;
}

Result<FirewallTarget> firewallTarget(const Target& t, std::string_view who) {
  if (t.type != TargetType::kIp && t.type != TargetType::kCidr) {
    return Status::invalidArgument(std::string(who) + " cannot block a " +
                                   std::string(targetTypeName(t.type)) + " target (" + t.value +
                                   ")");
  }
  return firewallTargetFromText(t.value, who);
}

int64_t remainingSeconds(const Decision& d, Timestamp now, int64_t cap) {
  const int64_t us = d.expires.micros - now.micros;
  return std::clamp<int64_t>((us + 999'999) / 1'000'000, 1, cap);
}

}  // namespace riposte

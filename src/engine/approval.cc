#include "riposte/engine/approval.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "riposte/core/ip.h"
#include "riposte/engine/engine.h"
#include "riposte/store/store.h"

namespace riposte {

namespace {

// The risk kind of a target: a range no wider than one subscriber (an IPv4 /32, an IPv6 /64 or
// narrower, as IPv6 widening makes them) counts as a single address.
std::string_view riskKind(const Target& t) {
  if (t.type == TargetType::kCidr) {
    auto cidr = Cidr::parse(t.value);
    if (cidr && (cidr->base.v6 ? cidr->prefix >= 64 : cidr->prefix >= 32)) {
      return targetTypeName(TargetType::kIp);
    }
  }
  return targetTypeName(t.type);
}

}  // namespace

bool needsApproval(const Decision& d, const Config& c) {
  const std::string_view kind = riskKind(d.target);
  return std::find(c.approval_targets.begin(), c.approval_targets.end(), kind) !=
             c.approval_targets.end() ||
         std::find(c.approval_actions.begin(), c.approval_actions.end(), d.action) !=
             c.approval_actions.end();
}

Timestamp approvalDeadline(const Decision& d, const Config& c) {
  return d.created + c.approval_timeout;
}

std::string_view approvalDefault(const Config& c) {
  return c.approval_default_approve ? "approve" : "reject";
}

size_t settleExpiredApprovals(Engine& engine, Store& store, const Config& c, Timestamp now) {
  DecisionFilter f;
  f.state = DecisionState::kPendingApproval;
  f.limit = 100'000;
  auto pending = store.listDecisions(f);
  if (!pending) {
    spdlog::error("listing pending approvals: {}", pending.status().toString());
    return 0;
  }
  const std::string actor = "engine:approval-timeout";
  size_t settled = 0;
  for (const auto& d : *pending) {
    if (approvalDeadline(d, c) > now) continue;
    const std::string waited = formatDuration(c.approval_timeout);
    Result<Decision> r = c.approval_default_approve && d.expires > now
                             ? engine.approveDecision(d.id, actor)
                             : engine.rejectDecision(d.id, actor,
                                                     c.approval_default_approve
                                                         ? "expired before anybody approved it"
                                                         : "nobody answered within " + waited +
                                                               ": rejected by default");
    if (!r) {
      spdlog::warn("approval of {} ({}) not settled: {}", d.id, d.target.value,
                   r.status().toString());
      continue;
    }
    spdlog::warn("approval of {} on {}: nobody answered within {}, {} by default", d.id,
                 d.target.value, waited,
                 r->state == DecisionState::kActive ? "approved" : "rejected");
    ++settled;
  }
  return settled;
}

}  // namespace riposte

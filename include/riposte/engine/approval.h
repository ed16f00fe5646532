// Second confirmation for high-risk decisions (response.approval in the config).
//
// An automatic decision on a target kind listed in approval_targets (by default ranges, user
// accounts and hosts; a range no wider than one subscriber — IPv4 /32, IPv6 /64 or narrower, as
// IPv6 widening makes them — counts as an address) or with an action listed in approval_actions is stored pending approval
// instead of being enforced. A person approves or rejects it (CLI, API, console); when nobody
// answers within approval_timeout of its creation, the default outcome (reject unless
// configured otherwise) is applied by the engine, audited with the actor
// "engine:approval-timeout". The deadline is derived from the stored creation time, so it
// survives a restart. Pending decisions proposed in manual mode follow the same deadline.
//
// Thread safety: pure functions.
#pragma once

#include <string_view>

#include "riposte/core/config.h"
#include "riposte/core/decision.h"

namespace riposte {

class Engine;
class Store;

bool needsApproval(const Decision& d, const Config& c);
// When an unanswered pending decision takes its default course.
Timestamp approvalDeadline(const Decision& d, const Config& c);
// "approve" or "reject".
std::string_view approvalDefault(const Config& c);

// Applies the default outcome to every pending decision in `store` whose deadline is at or
// before `now` (engine thread; serve calls it every few seconds). Returns how many it settled.
size_t settleExpiredApprovals(Engine& engine, Store& store, const Config& c, Timestamp now);

}  // namespace riposte

// Decision: what the engine will do about a target, until when, and why.
//
// Thread safety: value type.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "riposte/core/target.h"
#include "riposte/core/time.h"

namespace riposte {

// kDryRun: decided while the engine was in dry-run mode; recorded, never enforced (no action
// runs for it, it never expires into an undo, approving or restoring never enforces it).
enum class DecisionState { kPendingApproval, kActive, kExpired, kRevoked, kFailed, kDryRun };

std::string_view decisionStateName(DecisionState s);
std::optional<DecisionState> decisionStateFromName(std::string_view name);

struct Decision {
  std::string id;
  std::string action = "block";  // block | alert | monitor | <named profile>
  Target target;
  std::string detector;
  std::string reason;
  std::string finding_id;
  uint32_t events = 0;
  Timestamp first_seen;
  Timestamp last_seen;
  Timestamp created;
  Timestamp expires;
  DecisionState state = DecisionState::kActive;
  std::string origin = "engine";  // who created it: engine | cli:<user> | api:<user>

  // The stable JSON shape printed by `riposte replay` and served by the API.
  std::string toJson() const;
};

}  // namespace riposte

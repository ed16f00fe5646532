// Policy: the step between a finding and a decision.
//
// Checks the allowlist (which always wins), drops findings about a target that already has an
// active decision with the same action (a fallback finding — the anomaly model's — is dropped
// while the target has an active decision of any action), and sets the decision's action and expiry
// (default 4h). Own interface addresses are allowlisted when asked (serve does; replay of other
// machines' logs does not).
//
// Thread safety: one Policy per engine, called from the decision thread only.
#pragma once

#include <optional>
#include <string>

#include "riposte/core/config.h"
#include "riposte/core/decision.h"
#include "riposte/core/finding.h"
#include "riposte/core/ip.h"
#include "riposte/core/string_hash.h"

namespace riposte {

enum class PolicyOutcome { kDecided, kAllowlisted, kAlreadyActive, kNotEnforceable };
std::string_view policyOutcomeName(PolicyOutcome o);

struct PolicyConfig {
  Duration default_duration = std::chrono::hours(4);
  CidrList allowlist;
  bool dry_run = false;

  static Result<PolicyConfig> fromConfig(const Config& c);
};

class Policy {
 public:
  explicit Policy(PolicyConfig cfg) : cfg_(std::move(cfg)) {}

  // Decides on a finding at time `now` (the finding's last event in a replay).
  PolicyOutcome decide(const Finding& f, Timestamp now, Decision& out);

  // Whether a target is allowlisted (checked again by the executor before acting).
  bool isAllowlisted(const Target& t) const;

  // Keeps the policy's view of active decisions in step with the store.
  void noteActive(const Decision& d);
  void noteEnded(const Decision& d);
  // Whether a decision with this action on this target is active at `now` (duplicates).
  bool isActive(std::string_view action, std::string_view target, Timestamp now) const;
  // Decisions active as far as the policy knows (the circuit breaker's count).
  size_t activeCount() const { return active_.size(); }

  // Adds this host's own interface addresses to the allowlist.
  Status allowlistOwnAddresses();

  const PolicyConfig& config() const { return cfg_; }

 private:
  static std::string activeKey(std::string_view action, std::string_view target);

  bool anyActive(std::string_view target, Timestamp now) const;

  PolicyConfig cfg_;
  StringMap<Timestamp> active_;  // action + target -> expiry
  StringSet actions_;            // every action a decision has had
};

}  // namespace riposte

// Policy: the step between a finding and a decision.
//
// Checks the allowlist (which always wins; respond/allowlist.h: configured entries, important
// customers, and in serve this host's addresses and gateways), drops findings about a target that
// already has an active decision with the same action (a fallback finding — the anomaly model's —
// is dropped while the target has an active decision of any action), and sets the decision's
// action and expiry (default 4h).
//
// IPv6 widening: with `ipv6_prefix` below 128 (for every decision, or per decision action), an
// IPv6 address target becomes its enclosing range (a /64 by the usual choice: one subscriber's
// allocation), so an attacker hopping addresses within it stays blocked. A range that would
// touch the allowlist is not widened (the address alone is decided). Duplicates are judged on
// the widened target.
//
// Escalation: with a ladder (e.g. 1h, 4h, 24h, 7d), the n-th decision on the same target and
// action within the look-back gets the n-th step (the last step from then on). Earlier offences
// are counted from the decision history in the store (decisions that were active or expired;
// revoked, failed and never-approved ones do not count); without a store, none. A ladder
// replaces `default_duration`; a finding's own duration (a rule's) is a floor.
//
// Both are said in the decision's reason, so the audit entry carries them.
//
// Thread safety: one Policy per engine, called from the decision thread only — except the
// allowlist (isAllowlisted, allowlistedBy, allowlist, setAllowlist), which any thread may use.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "riposte/core/config.h"
#include "riposte/core/decision.h"
#include "riposte/core/finding.h"
#include "riposte/core/ip.h"
#include "riposte/core/string_hash.h"
#include "riposte/respond/allowlist.h"

namespace riposte {

class Store;

enum class PolicyOutcome { kDecided, kAllowlisted, kAlreadyActive, kNotEnforceable };
std::string_view policyOutcomeName(PolicyOutcome o);

struct PolicyConfig {
  Duration default_duration = std::chrono::hours(4);
  Allowlist allowlist;  // what the policy starts with (see Policy::setAllowlist)
  bool dry_run = false;
  ResponseTuning tuning;                                   // every decision
  std::map<std::string, ResponseTuning> tuning_by_action;  // per decision action

  const ResponseTuning& tuningFor(std::string_view action) const;

  // The allowlist is built by buildAllowlist (allowlist.h) in `env`; its warnings (names that
  // did not resolve) are appended to `warnings`.
  static Result<PolicyConfig> fromConfig(const Config& c, const AllowlistEnvironment& env = {},
                                         std::vector<std::string>* warnings = nullptr);
};

class Policy {
 public:
  explicit Policy(PolicyConfig cfg);

  // Decides on a finding at time `now` (the finding's last event in a replay).
  PolicyOutcome decide(const Finding& f, Timestamp now, Decision& out);

  // Whether a target is allowlisted (checked again by the executor before acting; any thread).
  bool isAllowlisted(const Target& t) const;
  // Why it is ("203.0.113.0/24 (important customer Acme)"), or nullopt when it is not.
  std::optional<std::string> allowlistedBy(const Target& t) const;
  // The allowlist in force, and its replacement (published atomically: readers on other
  // threads see the old one or the new one whole).
  std::shared_ptr<const Allowlist> allowlist() const { return allowlist_.load(); }
  void setAllowlist(std::shared_ptr<const Allowlist> a) { allowlist_.store(std::move(a)); }

  // Keeps the policy's view of active decisions in step with the store.
  void noteActive(const Decision& d);
  void noteEnded(const Decision& d);
  // Whether a decision with this action on this target is active at `now` (duplicates).
  bool isActive(std::string_view action, std::string_view target, Timestamp now) const;
  // Decisions active as far as the policy knows (the circuit breaker's count).
  size_t activeCount() const { return active_.size(); }

  // Where earlier decisions are counted for escalation (not owned; null = none counted).
  void setHistory(Store* store) { history_ = store; }
  // How many decisions with this action on this target were active or expired with a creation
  // time in [now - lookback, now).
  size_t priorOffences(std::string_view action, const Target& t, Timestamp now,
                       Duration lookback) const;

  // Adds this host's own interface addresses to the allowlist in force.
  Status allowlistOwnAddresses();

  const PolicyConfig& config() const { return cfg_; }

 private:
  static std::string activeKey(std::string_view action, std::string_view target);

  bool anyActive(std::string_view target, Timestamp now) const;

  PolicyConfig cfg_;
  std::atomic<std::shared_ptr<const Allowlist>> allowlist_;
  Store* history_ = nullptr;
  StringMap<Timestamp> active_;  // action + target -> expiry
  StringSet actions_;            // every action a decision has had
};

}  // namespace riposte

#include "riposte/respond/policy.h"

#include <algorithm>
#include <cstring>

#include "riposte/core/ids.h"
#include "riposte/store/store.h"

namespace riposte {

std::string_view policyOutcomeName(PolicyOutcome o) {
  switch (o) {
    case PolicyOutcome::kDecided: return "decided";
    case PolicyOutcome::kAllowlisted: return "allowlisted";
    case PolicyOutcome::kAlreadyActive: return "already-active";
    case PolicyOutcome::kNotEnforceable: return "not-enforceable";
  }
  return "unknown";
}

Result<PolicyConfig> PolicyConfig::fromConfig(const Config& c, const AllowlistEnvironment& env,
                                              std::vector<std::string>* warnings) {
  PolicyConfig p;
  p.default_duration = c.default_duration;
  p.dry_run = c.dry_run;
  auto al = buildAllowlist(c, env, warnings);
  if (!al) return al.status();
  p.allowlist = std::move(*al);
  p.tuning = c.tuning;
  p.tuning_by_action = c.tuning_by_action;
  return p;
}

const ResponseTuning& PolicyConfig::tuningFor(std::string_view action) const {
  if (!tuning_by_action.empty()) {
    auto it = tuning_by_action.find(std::string(action));
    if (it != tuning_by_action.end()) return it->second;
  }
  return tuning;
}

size_t Policy::priorOffences(std::string_view action, const Target& t, Timestamp now,
                             Duration lookback) const {
  if (history_ == nullptr) return 0;
  DecisionFilter f;
  f.target = t.value;
  f.limit = 100'000;
  auto list = history_->listDecisions(f);
  if (!list) return 0;  // the store reports its own errors; escalation falls back to step 1
  const Timestamp from = now - lookback;
  size_t n = 0;
  for (const auto& d : *list) {
    if (d.action != action || d.target.type != t.type) continue;
    if (d.state != DecisionState::kActive && d.state != DecisionState::kExpired) continue;
    if (d.created.micros >= from.micros && d.created.micros < now.micros) ++n;
  }
  return n;
}

Policy::Policy(PolicyConfig cfg)
    : cfg_(std::move(cfg)),
      allowlist_(std::make_shared<const Allowlist>(std::move(cfg_.allowlist))) {
  cfg_.allowlist = Allowlist{};  // the one in force is allowlist_
}

bool Policy::isAllowlisted(const Target& t) const { return allowlist_.load()->contains(t); }

std::optional<std::string> Policy::allowlistedBy(const Target& t) const {
  const auto al = allowlist_.load();
  const Allowlist::Item* i = al->match(t);
  if (i == nullptr) return std::nullopt;
  return i->entry + " (" + i->why + ")";
}

PolicyOutcome Policy::decide(const Finding& f, Timestamp now, Decision& out) {
  if (f.entity.value.empty()) return PolicyOutcome::kNotEnforceable;
  if (isAllowlisted(f.entity)) return PolicyOutcome::kAllowlisted;
  const std::string action = f.suggested_action.empty() ? "block" : f.suggested_action;
  const ResponseTuning& tune = cfg_.tuningFor(action);
  Target target = f.entity;
  std::string note;  // what the policy changed, appended to the reason (and so to the audit)
  if (tune.ipv6_prefix < 128 &&
      (target.type == TargetType::kIp || target.type == TargetType::kCidr)) {
    auto c = Cidr::parse(target.value);
    if (c && c->base.v6 && c->prefix > tune.ipv6_prefix) {
      auto wide = Cidr::parse(c->base.toString() + "/" + std::to_string(tune.ipv6_prefix));
      if (wide) {
        const Target widened{TargetType::kCidr, wide->toString()};
        if (isAllowlisted(widened)) {
          note += "; not widened to /" + std::to_string(tune.ipv6_prefix) + ": " + widened.value +
                  " touches the allowlist";
        } else {
          note += "; IPv6 widened to " + widened.value + " from " + target.value;
          target = widened;
        }
      }
    }
  }
  if (f.fallback && anyActive(target.value, now)) return PolicyOutcome::kAlreadyActive;
  const std::string key = activeKey(action, target.value);
  if (auto it = active_.find(key); it != active_.end()) {
    if (it->second > now) return PolicyOutcome::kAlreadyActive;
    active_.erase(it);
  }
  out = Decision{};
  out.id = newId(now);
  Duration duration = f.duration.count() > 0 ? f.duration : cfg_.default_duration;
  if (!tune.escalation.empty()) {
    const size_t prior = priorOffences(action, target, now, tune.escalation_lookback);
    const Duration step = tune.escalation[std::min(prior, tune.escalation.size() - 1)];
    duration = f.duration.count() > 0 ? std::max(step, f.duration) : step;
    note += "; offence " + std::to_string(prior + 1) + " within " +
            formatDuration(tune.escalation_lookback) + ": " + formatDuration(duration);
  }
  out.action = action;
  out.target = target;
  out.detector = f.detector;
  out.reason = note.empty() ? f.reason : f.reason + " [" + note.substr(2) + "]";
  out.finding_id = f.id;
  out.events = f.event_count;
  out.first_seen = f.first_seen;
  out.last_seen = f.last_seen;
  out.created = now;
  out.expires = now + duration;
  out.state = DecisionState::kActive;
  active_[key] = out.expires;
  actions_.insert(action);
  return PolicyOutcome::kDecided;
}

bool Policy::anyActive(std::string_view target, Timestamp now) const {
  for (const auto& a : actions_) {
    auto it = active_.find(activeKey(a, target));
    if (it != active_.end() && it->second > now) return true;
  }
  return false;
}

std::string Policy::activeKey(std::string_view action, std::string_view target) {
  std::string k(action);
  k += '\x1f';
  k += target;
  return k;
}

void Policy::noteActive(const Decision& d) {
  active_[activeKey(d.action, d.target.value)] = d.expires;
  actions_.insert(d.action);
}

bool Policy::isActive(std::string_view action, std::string_view target, Timestamp now) const {
  auto it = active_.find(activeKey(action, target));
  return it != active_.end() && it->second > now;
}

void Policy::noteEnded(const Decision& d) { active_.erase(activeKey(d.action, d.target.value)); }

Status Policy::allowlistOwnAddresses() {
  auto own = interfaceAddresses();
  if (!own) return own.status();
  auto next = std::make_shared<Allowlist>(*allowlist_.load());
  for (const auto& h : *own) {
    next->addRange(Cidr{h.ip, static_cast<uint8_t>(h.ip.v6 ? 128 : 32)},
                   "own address (" + h.iface + ")");
  }
  setAllowlist(std::move(next));
  return Status::ok();
}

}  // namespace riposte

#include "riposte/engine/engine.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

namespace riposte {

namespace {
// How often (in event time) detectors drop stale per-entity state.
constexpr Duration kDetectorExpiryEvery = std::chrono::seconds(60);
}  // namespace

Result<std::unique_ptr<Engine>> Engine::create(const Config& config, const Registries& registries,
                                               Store* store, EngineOptions options) {
  std::unique_ptr<Engine> e(new Engine(config, registries, store, std::move(options)));
  auto pc = PolicyConfig::fromConfig(e->config_);
  if (!pc) return pc.status();
  e->policy_ = std::make_unique<Policy>(std::move(*pc));
  if (e->options_.allowlist_own_addresses && e->config_.allowlist_own_addresses) {
    RIPOSTE_RETURN_IF_ERROR(e->policy_->allowlistOwnAddresses());
  }
  FactoryContext ctx{&e->config_};
  for (const auto& d : e->config_.detectors) {
    auto det = registries.detectors.create(d, ctx);
    if (!det) return det.status();
    e->detectors_.push_back(std::move(*det));
  }
  if (e->options_.run_actions) {
    for (const auto& a : e->config_.actions) {
      auto act = registries.actions.create(a, ctx);
      if (!act) return act.status();
      e->actions_.push_back(std::move(*act));
    }
  }
  Engine* self = e.get();
  e->sink_ = [self](Finding&& f) { self->onFinding(std::move(f)); };
  return e;
}

Engine::~Engine() = default;

Result<Parser*> Engine::parser(const std::string& name) {
  for (auto& [n, p] : parsers_) {
    if (n == name) return p.get();
  }
  ComponentConfig cc;
  cc.name = name;
  cc.type = name;
  cc.path = "parser";
  FactoryContext ctx{&config_};
  auto p = registries_.parsers.create(cc, ctx);
  if (!p) return p.status();
  parsers_.emplace_back(name, std::move(*p));
  return parsers_.back().second.get();
}

void Engine::process(Parser& parser, const ParseContext& ctx, const SourceLine& line) {
  ++stats_.lines;
  if (line.text.find_first_not_of(" \t\r") == std::string_view::npos) {
    ++stats_.skipped;  // blank line
    return;
  }
  event_.clear();
  event_.setRaw(line.text);
  event_.setOrigin(line.file, line.offset);
  switch (parser.parse(line.text, ctx, event_)) {
    case ParseResult::kParsed: ++stats_.parsed; break;
    case ParseResult::kSkip: ++stats_.skipped; return;
    case ParseResult::kUnrecognised:
      ++stats_.unparsed;
      if (stats_.unparsed <= 10) {
        spdlog::debug("{} (byte {}): {} did not recognise the line", line.file, line.offset,
                      parser.name());
      }
      return;
  }
  for (auto& d : detectors_) d->onEvent(event_, sink_);
  const Timestamp now = event_.timestamp();
  if (now - last_detector_expiry_ > kDetectorExpiryEvery) {
    for (auto& d : detectors_) d->expire(now);
    last_detector_expiry_ = now;
  }
}

void Engine::audit(const std::string& kind, const Decision& d, const std::string& reason) {
  if (store_ == nullptr) return;
  AuditEntry a;
  a.actor = d.origin.empty() ? options_.actor : d.origin;
  a.kind = kind;
  a.target = d.target.value;
  a.reason = reason;
  a.details_json = d.toJson();
  if (Status st = store_->appendAudit(a); !st.isOk()) {
    ++stats_.store_errors;
    spdlog::error("audit {} for {}: {}", kind, d.target.value, st.toString());
  }
}

void Engine::onFinding(Finding&& f) {
  ++stats_.findings;
  if (store_ != nullptr) {
    if (Status st = store_->saveFinding(f); !st.isOk()) {
      ++stats_.store_errors;
      spdlog::error("storing finding {}: {}", f.id, st.toString());
    }
  }
  if (f.shadow) {
    ++stats_.shadow;  // evaluated and counted: "would have acted"
    return;
  }
  Decision d;
  const Timestamp now = options_.decide_at_event_time ? f.last_seen : Timestamp::now();
  switch (policy_->decide(f, now, d)) {
    case PolicyOutcome::kAllowlisted: {
      ++stats_.allowlisted;
      Decision refused;
      refused.target = f.entity;
      refused.detector = f.detector;
      refused.finding_id = f.id;
      refused.reason = f.reason;
      refused.origin = options_.actor;
      audit("decision.refused.allowlisted", refused, "target is allowlisted");
      spdlog::info("{} not acted on: allowlisted ({})", f.entity.value, f.detector);
      return;
    }
    case PolicyOutcome::kAlreadyActive: ++stats_.duplicates; return;
    case PolicyOutcome::kNotEnforceable: return;
    case PolicyOutcome::kDecided: break;
  }
  d.origin = options_.actor;
  ++stats_.decisions;
  // Durable before acting.
  if (store_ != nullptr) {
    if (Status st = store_->saveDecision(d); !st.isOk()) {
      ++stats_.store_errors;
      spdlog::error("storing decision for {}: {}", d.target.value, st.toString());
    }
    audit("decision.created", d, d.reason);
  }
  enforce(d);
  if (listener_) listener_(d);
}

void Engine::enforce(const Decision& d) {
  if (actions_.empty()) return;
  // The allowlist is checked again right before anything touches the world.
  if (policy_->isAllowlisted(d.target)) {
    audit("action.refused.allowlisted", d, "target is allowlisted");
    return;
  }
  for (auto& a : actions_) {
    if (config_.dry_run) {
      audit("action.dry_run", d, std::string(a->name()));
      continue;
    }
    Status st = a->apply(d);
    if (st.isOk()) {
      audit("action.applied", d, std::string(a->name()));
    } else {
      ++stats_.action_errors;
      audit("action.failed", d, std::string(a->name()) + ": " + st.toString());
      spdlog::error("action {} on {} failed: {}", a->name(), d.target.value, st.toString());
    }
  }
}

void Engine::tick(Timestamp now) {
  if (store_ == nullptr) return;
  auto expired = store_->expiredDecisions(now);
  if (!expired) {
    ++stats_.store_errors;
    spdlog::error("listing expired decisions: {}", expired.status().toString());
    return;
  }
  for (auto& d : *expired) {
    for (auto& a : actions_) {
      if (config_.dry_run) continue;
      if (Status st = a->undo(d); !st.isOk()) {
        ++stats_.action_errors;
        audit("action.undo_failed", d, std::string(a->name()) + ": " + st.toString());
      }
    }
    d.state = DecisionState::kExpired;
    if (Status st = store_->updateDecisionState(d.id, DecisionState::kExpired); !st.isOk()) {
      ++stats_.store_errors;
      continue;
    }
    policy_->noteEnded(d);
    audit("decision.expired", d, "expired at " + formatRfc3339(d.expires));
    ++stats_.expired;
  }
}

Status Engine::restore() {
  if (store_ == nullptr) return Status::ok();
  DecisionFilter f;
  f.state = DecisionState::kActive;
  f.limit = 10'000'000;
  auto active = store_->listDecisions(f);
  if (!active) return active.status();
  const Timestamp now = Timestamp::now();
  size_t reapplied = 0;
  for (const auto& d : *active) {
    if (d.expires <= now) continue;  // tick() undoes these
    policy_->noteActive(d);
    enforce(d);
    ++reapplied;
  }
  if (reapplied > 0) spdlog::info("re-applied {} active decisions from the store", reapplied);
  return Status::ok();
}

Status Engine::addManualDecision(Decision d, const std::string& actor) {
  if (policy_->isAllowlisted(d.target)) {
    return Status::permissionDenied(d.target.value + " is allowlisted");
  }
  d.origin = actor;
  if (store_ != nullptr) {
    RIPOSTE_RETURN_IF_ERROR(store_->saveDecision(d));
    audit("decision.created", d, d.reason);
  }
  policy_->noteActive(d);
  enforce(d);
  if (listener_) listener_(d);
  return Status::ok();
}

}  // namespace riposte

// Engine: the pipeline from a raw line to a decision and its actions.
//
//   line → Parser → Event → Detectors → Finding → Policy → Decision → Store (+ audit) → Actions
//
// The engine is built from a validated Config and the registries. Sources feed it lines
// (process()); the long-running form calls tick() with the wall clock so decisions expire and
// their actions are undone. A decision and its audit entry are stored before any action runs.
//
// Thread safety: one thread calls process()/tick(); the Store may be shared.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "riposte/core/config.h"
#include "riposte/core/registry.h"
#include "riposte/detect/detector.h"
#include "riposte/ingest/parser.h"
#include "riposte/ingest/source.h"
#include "riposte/respond/action.h"
#include "riposte/respond/policy.h"
#include "riposte/store/store.h"

namespace riposte {

struct EngineOptions {
  bool allowlist_own_addresses = false;  // serve: true; replay of foreign logs: false
  bool run_actions = true;               // replay runs none unless asked
  // Decisions start at the finding's last event (replay of old logs) or at the wall clock (live).
  bool decide_at_event_time = false;
  std::string actor = "engine";
};

struct EngineStats {
  uint64_t lines = 0;
  uint64_t parsed = 0;
  uint64_t skipped = 0;
  uint64_t unparsed = 0;
  uint64_t findings = 0;
  uint64_t shadow = 0;  // findings of shadow-mode rules (never acted on)
  uint64_t decisions = 0;
  uint64_t allowlisted = 0;
  uint64_t duplicates = 0;
  uint64_t action_errors = 0;
  uint64_t store_errors = 0;
  uint64_t expired = 0;
};

class Engine {
 public:
  using DecisionListener = std::function<void(const Decision&)>;

  static Result<std::unique_ptr<Engine>> create(const Config& config, const Registries& registries,
                                                Store* store, EngineOptions options);
  ~Engine();

  // The parser instance for a parser name (created once, from the registry).
  Result<Parser*> parser(const std::string& name);

  // Runs one line through the pipeline.
  void process(Parser& parser, const ParseContext& ctx, const SourceLine& line);

  // Expires decisions whose time has come (undoing their actions) and old detector state.
  void tick(Timestamp now);

  // Re-applies every active decision from the store (after a restart), in bulk.
  Status restore();

  // Records a decision taken outside the detectors (CLI, API), through the same path.
  Status addManualDecision(Decision d, const std::string& actor);

  void setDecisionListener(DecisionListener l) { listener_ = std::move(l); }
  const EngineStats& stats() const { return stats_; }
  const Config& config() const { return config_; }
  Policy& policy() { return *policy_; }

 private:
  Engine(Config config, const Registries& registries, Store* store, EngineOptions options)
      : config_(std::move(config)),
        registries_(registries),
        store_(store),
        options_(std::move(options)) {}

  void onFinding(Finding&& f);
  void enforce(const Decision& d);
  void audit(const std::string& kind, const Decision& d, const std::string& reason);

  Config config_;
  const Registries& registries_;
  Store* store_;
  EngineOptions options_;
  EngineStats stats_;
  std::unique_ptr<Policy> policy_;
  std::vector<DetectorPtr> detectors_;
  std::vector<ActionPtr> actions_;
  std::vector<std::pair<std::string, ParserPtr>> parsers_;
  DecisionListener listener_;
  FindingSink sink_;
  Event event_;
  Timestamp last_detector_expiry_;
};

}  // namespace riposte

// Engine: the pipeline from a raw line to a decision and its actions.
//
//   line → Parser → Event → Detectors → Finding → Policy → Decision → Store (+ audit) → Actions
//
// The engine is built from a validated Config and the registries. Sources feed it lines
// (process()); the long-running form calls tick() with the wall clock so decisions expire and
// their actions are undone. A decision and its audit entry are stored before any action runs.
//
// Actions run on the Executor (off this thread, bounded queue, timeout, retries); their results
// come back through a callback that audits them. When an action fails beyond its retries or its
// effect cannot be verified, or when the circuit breaker trips (too many new blocks per minute,
// too many active blocks), the engine switches to manual mode: new decisions are stored as
// pending-approval and only non-enforcing (alert) actions run; admins are notified through the
// `response.notify` actions. The mode is persisted in the store; leaving manual mode is an
// explicit, audited step (`riposte mode auto`), picked up by tick().
//
// Thread safety: one thread calls process()/tick()/restore(); the Store may be shared; the
// executor's callback runs on its dispatcher thread and touches only atomics and the store.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "riposte/core/config.h"
#include "riposte/core/registry.h"
#include "riposte/core/string_hash.h"
#include "riposte/detect/detector.h"
#include "riposte/ingest/dead_letter.h"
#include "riposte/ingest/parser.h"
#include "riposte/ingest/source.h"
#include "riposte/respond/action.h"
#include "riposte/respond/executor.h"
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
  uint64_t proposed = 0;  // stored pending-approval (manual mode)
  uint64_t actions_applied = 0;
  uint64_t queue_full = 0;
  uint64_t breaker_trips = 0;
  uint64_t truncated = 0;               // lines cut at a source's line limit
  uint64_t dead_lettered = 0;           // entries written to the dead letter file
  uint64_t dead_letter_suppressed = 0;  // left out by its rate limit (counted, not written)
  bool manual_mode = false;
  // Decisions from other nodes (cluster fan-out).
  uint64_t remote_applied = 0;
  uint64_t remote_duplicates = 0;
  uint64_t remote_allowlisted = 0;
  uint64_t remote_expired = 0;
  uint64_t remote_revoked = 0;
};

// What became of a decision or revocation that another node published.
enum class RemoteOutcome {
  kApplied,      // stored here and enforced through the local actions
  kDuplicate,    // an active decision with the same action already covers the target
  kAllowlisted,  // the local allowlist refused it (audited once per decision)
  kExpired,      // already past its expiry
  kRevoked,      // revoked or ended here already: never resurrected
  kUnknown,      // a revocation of a decision this node does not hold
};
std::string_view remoteOutcomeName(RemoteOutcome o);

class Engine {
 public:
  using DecisionListener = std::function<void(const Decision&)>;

  static Result<std::unique_ptr<Engine>> create(const Config& config, const Registries& registries,
                                                Store* store, EngineOptions options);
  ~Engine();

  // The parser instance for a parser name (created once, from the registry).
  Result<Parser*> parser(const std::string& name);

  // Runs one line through the pipeline; returns what the parser made of it (kSkip for a blank
  // line). Unparsed and truncated lines go to the dead letter file when one is configured.
  ParseResult process(Parser& parser, const ParseContext& ctx, const SourceLine& line);

  // Expires decisions whose time has come (undoing their actions) and old detector state.
  void tick(Timestamp now);

  // Re-applies every active decision from the store (after a restart), in bulk.
  Status restore();

  // Records a decision taken outside the detectors (CLI, API), through the same path. A person
  // decided, so it is enforced in manual mode too.
  Status addManualDecision(Decision d, const std::string& actor);

  // Waits until every queued action job has run (end of replay, tests).
  void drain();

  // Manual mode: switch (audited, persisted, admins notified) and query.
  void enterManualMode(const std::string& reason, const std::string& actor);
  Status leaveManualMode(const std::string& actor);
  bool manualMode() const { return manual_.load(); }

  // Cluster: a decision another node (or a CLI on any node) published. It goes through the
  // local policy — the allowlist wins, an active decision on the same target and action makes
  // it a duplicate — then is stored and enforced like a local one (proposed in manual mode
  // unless a person took it). Nothing is published back: the decision listener is not called.
  RemoteOutcome applyRemoteDecision(Decision d, const std::string& from);
  // Cluster: a decision revoked elsewhere; the local copy is marked revoked and its actions
  // undone. `d` needs id, action and target.
  RemoteOutcome applyRemoteRevocation(const Decision& d, const std::string& from);

  void setDecisionListener(DecisionListener l) { listener_ = std::move(l); }
  EngineStats stats() const;
  const Config& config() const { return config_; }
  Policy& policy() { return *policy_; }

 private:
  Engine(Config config, const Registries& registries, Store* store, EngineOptions options)
      : config_(std::move(config)),
        registries_(registries),
        store_(store),
        options_(std::move(options)) {}

  void onFinding(Finding&& f);
  // Queues the decision's actions; `alerts_only` runs only non-enforcing actions.
  void enforce(const Decision& d, bool alerts_only = false);
  void audit(const std::string& kind, const Decision& d, const std::string& reason);
  void onActionResult(const ActionResult& r);
  // True when a new block would exceed a cap (and trips the breaker).
  bool breakerTrips(Timestamp now);
  void syncMode();
  void reconcile();
  void deadLetter(const Parser& parser, const SourceLine& line, std::string_view reason);

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
  std::atomic<bool> manual_{false};
  std::mutex mode_mu_;
  std::atomic<uint64_t> action_errors_{0}, actions_applied_{0};
  std::deque<int64_t> recent_blocks_;  // wall-clock µs of recent enforced decisions
  std::chrono::steady_clock::time_point last_reconcile_ = std::chrono::steady_clock::now();
  std::vector<Action*> enforcing_;
  std::unique_ptr<DeadLetter> dead_letter_;
  StringMap<bool> remote_refused_;  // remote decision ids refused by the allowlist (audit once)
  // Last member: destroyed first, so queued jobs finish while everything they use exists.
  std::unique_ptr<Executor> executor_;
};

}  // namespace riposte

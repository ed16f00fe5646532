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
// Dry-run mode (`riposte mode dry-run`, PUT /api/v1/mode): the engine still decides and records
// every decision (state dry-run, audited `decision.dry_run` and `action.dry_run` per action)
// but runs no action for them, not even alerts. Decisions a person takes are enforced as in
// manual mode; decisions already active stay enforced until they expire. Leaving dry-run forgets
// its decisions in the policy, so the next finding on the same target is decided afresh.
//
// Thread safety: one thread calls process()/tick()/restore(); the Store may be shared; the
// executor's callback runs on its dispatcher thread and touches only atomics and the store.
#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "riposte/core/config.h"
#include "riposte/core/registry.h"
#include "riposte/core/string_hash.h"
#include "riposte/detect/detector.h"
#include "riposte/detect/rules/rule_loader.h"
#include "riposte/engine/correlator.h"
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
  // Every parsed event goes to the store's event log (Store::appendEvents), in batches of
  // `event_log_batch` and at every tick (serve: `store.event_log: true`).
  bool record_events = false;
  size_t event_log_batch = 1000;
  // intel.feeds are fetched on their schedules while the engine runs (serve); replay reads the
  // stored indicators only, so a replay neither waits for nor depends on the network.
  bool fetch_feeds = true;
  // Serve: the allowlist is rebuilt every response.allowlist_refresh (names re-resolved,
  // interface addresses and gateways re-read), off the engine thread.
  bool refresh_allowlist = false;
  // Analysis worker threads (`--threads`): -1 = engine.threads from the configuration, 0 = one
  // per core. Above 1, events are sharded by source address across workers that each have
  // their own detector instances (docs/ARCHITECTURE.md#threading).
  int threads = -1;
};

// Finding → enforced latency of enforcing actions (wall clock from the decision to the action's
// success), in fixed buckets; updated from the executor's thread, read from any thread.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
  void observe(double seconds);
  // Cumulative counts per bound (Prometheus `le`), then +Inf; the sum in seconds.
  std::array<uint64_t, kBounds.size() + 1> cumulative() const;
  double sum() const { return static_cast<double>(sum_micros_.load()) / 1e6; }
  uint64_t count() const { return count_.load(); }

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> sum_micros_{0};
  std::atomic<uint64_t> count_{0};
};

// A rule of a `rules` detector as the API lists it.
struct RuleInfo {
  std::string detector;
  std::string id;
  std::string name;
  std::string description;
  std::string file;
  int line = 0;
  std::string mode;         // enabled | disabled | shadow
  std::string file_mode;    // what the rule file says
  std::string mode_set_by;  // who set a mode that differs from the file (kept in the store)
  Timestamp mode_since;
  int severity = 0;
  std::string action;
  uint64_t matches = 0;
  uint64_t findings = 0;
};

// The last load of the rule files (start-up or reload): its diagnostics with positions. When a
// reload was refused, the rules running are those of the load before it.
struct RuleLoadReport {
  Timestamp time;
  std::string actor;      // engine (start-up), signal:SIGHUP, api:<user>
  bool rejected = false;  // the last reload was refused
  std::string error;      // why it was refused (the first lines of the error)
  std::vector<rules::RuleDiagnostic> diagnostics;  // errors and warnings, with file:line:col
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
  uint64_t dry_run = 0;   // recorded in dry-run mode (state dry-run, nothing enforced)
  uint64_t actions_applied = 0;
  uint64_t queue_full = 0;
  uint64_t breaker_trips = 0;
  uint64_t truncated = 0;               // lines cut at a source's line limit
  uint64_t dead_lettered = 0;           // entries written to the dead letter file
  uint64_t dead_letter_suppressed = 0;  // left out by its rate limit (counted, not written)
  bool manual_mode = false;
  bool dry_run_mode = false;
  // Decisions from other nodes (cluster fan-out).
  uint64_t events_logged = 0;     // written to the store's event log
  uint64_t event_log_errors = 0;  // batches the store refused (counted, logged)
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
  // What happened, for live views (the API's event stream): `type` is finding | decision |
  // mode | incident, `json` an object. Called on the engine thread, or on the executor's thread for
  // a switch to manual mode after an action failure; must be thread-safe and quick.
  using EventHook = std::function<void(std::string_view type, const std::string& json)>;

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

  // A person's changes to a decision (API): audited with `actor`, actions undone or applied.
  // Revoke: an active or pending decision ends now. Extend: a new expiry for an active one.
  // Approve/reject: a pending-approval decision becomes active (enforced) or revoked.
  Result<Decision> revokeDecision(const std::string& id, const std::string& actor,
                                  const std::string& reason);
  Result<Decision> extendDecision(const std::string& id, Timestamp expires,
                                  const std::string& actor);
  Result<Decision> approveDecision(const std::string& id, const std::string& actor);
  Result<Decision> rejectDecision(const std::string& id, const std::string& actor,
                                  const std::string& reason);

  // A person's change of an incident's status (API, CLI): audited `incident.status` with
  // `actor`, streamed. A closed incident is never extended again. notFound for an unknown id.
  Result<Incident> setIncidentStatus(const std::string& id, IncidentStatus status,
                                     const std::string& actor, const std::string& note);
  // The correlator (null when `incidents.enabled` is false).
  const Correlator* correlator() const { return correlator_.get(); }

  // Rules of the `rules` detectors, with their hit counts.
  std::vector<RuleInfo> rules() const;
  // Changes one rule's mode at run time, audited and kept in the store (rule_modes) so that a
  // restart or a reload keeps it; setting a rule back to its file's mode forgets the override.
  // notFound when no rules detector has the id.
  Status setRuleMode(const std::string& rule_id, const std::string& mode, const std::string& actor);
  // Re-creates every detector from the configuration (rule files are read again), then applies
  // the stored rule modes. On any error nothing changes and the error carries the diagnostics.
  // Detector state starts afresh.
  Status reloadDetectors(const std::string& actor);
  // Asks the intel feed collector to run `feed` ("" = every enabled feed) now, on its own
  // threads (returns at once); audited `intel.sync_requested` with the actor. Not found: no such
  // feed; failed precondition: no collector runs here, or the feed is disabled.
  Status requestFeedSync(const std::string& feed, const std::string& actor);
  // Diagnostics of the last load of the rule files (start-up or reload).
  const RuleLoadReport& ruleLoadReport() const { return rule_load_; }

  // Waits until the analysis workers have seen every event handed to them and their findings
  // are decided, then until every queued action job has run (end of replay, tests).
  void drain();
  // Sharded analysis: hands the events batched so far to the workers and decides on the
  // findings they returned (serve calls it after each round of polling). Engine thread.
  void pump();
  // Analysis worker threads in use (1: analysis runs on the calling thread).
  unsigned threads() const;

  // Manual mode: switch (audited, persisted, admins notified) and query. Leaving manual (or
  // dry-run) mode returns to auto.
  void enterManualMode(const std::string& reason, const std::string& actor);
  Status leaveManualMode(const std::string& actor);
  bool manualMode() const { return manual_.load(); }
  // Dry-run mode: switch (audited, persisted) and query.
  Status enterDryRunMode(const std::string& reason, const std::string& actor);
  bool dryRunMode() const { return dry_run_.load(); }
  // Switches to "auto", "manual" or "dry-run" (invalidArgument otherwise); audited with `actor`.
  Status setMode(std::string_view mode, const std::string& reason, const std::string& actor);
  // "auto" | "manual" | "dry-run".
  std::string_view modeName() const;

  // Cluster: a decision another node (or a CLI on any node) published. It goes through the
  // local policy — the allowlist wins, an active decision on the same target and action makes
  // it a duplicate — then is stored and enforced like a local one (proposed in manual mode
  // unless a person took it). Nothing is published back: the decision listener is not called.
  RemoteOutcome applyRemoteDecision(Decision d, const std::string& from);
  // Cluster: a decision revoked elsewhere; the local copy is marked revoked and its actions
  // undone. `d` needs id, action and target.
  RemoteOutcome applyRemoteRevocation(const Decision& d, const std::string& from);

  // Writes the events waiting for the event log (also done by tick() and when a batch fills).
  void flushEventLog();
  void setDecisionListener(DecisionListener l) { listener_ = std::move(l); }
  // Called when a person revokes a decision (API or console), e.g. to tell the other nodes.
  void setRevocationListener(DecisionListener l) { revocation_listener_ = std::move(l); }
  void setEventHook(EventHook h) { hook_ = std::move(h); }
  // Findings per detector (engine thread).
  const std::map<std::string, uint64_t>& findingsByDetector() const { return by_detector_; }
  const LatencyHistogram& actionLatency() const { return latency_; }
  // Jobs waiting in the action queue (any thread).
  size_t actionQueueDepth() const;
  EngineStats stats() const;
  const Config& config() const { return config_; }
  Policy& policy() { return *policy_; }

  // Rebuilds the allowlist from the configuration now (names re-resolved, this host's
  // addresses and gateways re-read where the engine takes them) and publishes it; on an error
  // the allowlist in force stays. serve calls it every response.allowlist_refresh.
  Status refreshAllowlist();

 private:
  Engine(Config config, const Registries& registries, Store* store, EngineOptions options)
      : config_(std::move(config)),
        registries_(registries),
        store_(store),
        options_(std::move(options)) {}

  void onFinding(Finding&& f);
  // The policy's part of a finding; returns the id of the decision taken ("" for none).
  std::string decideOn(const Finding& f);
  // Groups the finding into its target's incident, links the decision, streams the incident.
  void correlate(const Finding& f, const std::string& decision_id);
  // Queues the decision's actions; `alerts_only` runs only non-enforcing actions.
  void enforce(const Decision& d, bool alerts_only = false);
  void audit(const std::string& kind, const Decision& d, const std::string& reason);
  void onActionResult(const ActionResult& r);
  // True when a new block would exceed a cap (and trips the breaker).
  bool breakerTrips(Timestamp now);
  void syncMode();
  // Applies the rule modes kept in the store to the rules detectors (start-up, reload).
  void applyStoredRuleModes();
  // The report of a load: the detectors' warnings, or (refused) the rule files' diagnostics.
  void noteRuleLoad(const std::string& actor, const Status& result);
  void reconcile();
  void deadLetter(const Parser& parser, const SourceLine& line, std::string_view reason);
  void emit(std::string_view type, const std::string& json) const {
    if (hook_) hook_(type, json);
  }
  void emitDecision(const char* kind, const Decision& d) const;
  void emitMode(std::string_view mode, const std::string& reason, const std::string& actor) const;
  // Forgets the policy's record of the decisions taken in dry-run mode (leaving it).
  void forgetDryRunDecisions();
  // Stores and audits a decision taken in dry-run mode; runs no action.
  void recordDryRun(Decision& d, const std::string& reason);
  Result<Decision> findDecision(const std::string& id);
  void auditAs(const std::string& actor, const std::string& kind, const Decision& d,
               const std::string& reason);
  // "target is allowlisted: <entry> (<why>)", for refusals.
  std::string allowlistNote(const Target& t) const;

  Config config_;
  const Registries& registries_;
  Store* store_;
  EngineOptions options_;
  EngineStats stats_;
  std::unique_ptr<Policy> policy_;
  std::unique_ptr<Correlator> correlator_;
  std::vector<DetectorPtr> detectors_;
  std::vector<ActionPtr> actions_;
  std::vector<std::pair<std::string, ParserPtr>> parsers_;
  DecisionListener listener_;
  std::vector<EvidenceEvent> event_log_;
  DecisionListener revocation_listener_;
  EventHook hook_;
  std::map<std::string, uint64_t> by_detector_;
  LatencyHistogram latency_;
  FindingSink sink_;
  Event event_;
  Timestamp last_detector_expiry_;
  std::atomic<bool> manual_{false};
  std::atomic<bool> dry_run_{false};
  std::vector<Decision> dry_run_noted_;  // dry-run decisions the policy counts as active
  std::map<std::string, RuleModeRecord> rule_modes_;  // stored rule modes, by rule id
  RuleLoadReport rule_load_;
  std::mutex mode_mu_;
  std::atomic<uint64_t> action_errors_{0}, actions_applied_{0};
  std::deque<int64_t> recent_blocks_;  // wall-clock µs of recent enforced decisions
  std::chrono::steady_clock::time_point last_reconcile_ = std::chrono::steady_clock::now();
  std::vector<Action*> enforcing_;
  std::unique_ptr<DeadLetter> dead_letter_;
  StringSet dry_run_actions_;          // actions configured with dry_run: true (never called)
  StringMap<bool> allowlist_refused_;  // stored active decisions refused (audit once)
  StringMap<bool> remote_refused_;     // remote decision ids refused by the allowlist (audit once)
  AllowlistEnvironment allowlist_env_;
  std::chrono::steady_clock::time_point last_allowlist_refresh_;
  std::atomic<bool> allowlist_refreshing_{false};
  // Sharded analysis (threads() > 1): workers, their detector instances and returned findings.
  struct Shards;
  std::shared_ptr<Shards> shards_;  // shared_ptr: complete only in engine.cc
  // Last members: destroyed first, so queued jobs and a refresh under way finish while
  // everything they use exists.
  std::unique_ptr<Executor> executor_;
  std::jthread allowlist_refresher_;
};

}  // namespace riposte

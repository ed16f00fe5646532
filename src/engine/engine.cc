#include "riposte/engine/engine.h"

#include "riposte/engine/approval.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <optional>

#include "riposte/detect/intel_detector.h"
#include "riposte/detect/rules/rule_engine.h"
#include "riposte/detect/shared_intel.h"
#include "riposte/engine/shard_pool.h"
#include "riposte/intel/store_updater.h"
#include "riposte/respond/dry_run_action.h"

namespace riposte {

void LatencyHistogram::observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(std::max(0.0, seconds) * 1e6),
                        std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::array<uint64_t, LatencyHistogram::kBounds.size() + 1> LatencyHistogram::cumulative() const {
  std::array<uint64_t, kBounds.size() + 1> out{};
  uint64_t acc = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    acc += buckets_[i].load(std::memory_order_relaxed);
    out[i] = acc;
  }
  return out;
}

namespace {
// How often (in event time) detectors drop stale per-entity state.
constexpr Duration kDetectorExpiryEvery = std::chrono::seconds(60);

bool isSourceIp(const rules::FieldRef& f) {
  return f.id == Field::kSourceIp && !f.original && f.transforms.empty();
}

// True when the detector's per-entity state is keyed by the source address alone (or by a key
// starting with it), so instances on different shards never need each other's state. Events
// without an address all go to shard 0, so a fallback key (user, host) stays whole there.
bool shardable(const Detector& d, const ComponentConfig& cc) {
  if (d.fallback()) return false;
  if (const auto* re = dynamic_cast<const rules::RuleEngine*>(&d)) {
    for (const auto& r : re->ruleSet().rules()) {
      const auto& a = r.aggregation;
      if (!a.key.empty() && !isSourceIp(a.key.front())) return false;
      if (a.ipv6_prefix != 0 && a.ipv6_prefix < 64) return false;  // shards hold whole /64s
    }
    return true;
  }
  if (cc.type == "threshold") {
    return !cc.node["key"] || cc.node["key"].as<std::string>("") == "source.ip";
  }
  return false;  // intel, longterm, anomaly, ...: their state or order spans addresses
}

// The configured detectors in the order they run (fallback ones last). With shards > 1, also
// each shard's own instances of the shardable ones; `twins[i]` are those of `base[i]`.
struct DetectorSet {
  std::vector<DetectorPtr> base;
  std::vector<std::vector<DetectorPtr>> twins;  // per base detector: shards 1..n-1 (or none)
  bool has_fallback = false;
};

Result<DetectorSet> makeDetectors(const Config& config, const Registries& registries,
                                  const FactoryContext& given, unsigned shards) {
  DetectorSet out;
  // One intel store per indicator database for every detector (and shard) built here.
  FactoryContext ctx = given;
  if (!ctx.intel) ctx.intel = std::make_shared<IntelHub>();
  std::vector<std::pair<DetectorPtr, std::vector<DetectorPtr>>> made;
  for (const auto& d : config.detectors) {
    auto det = registries.detectors.create(d, ctx);
    if (!det) return det.status();
    std::vector<DetectorPtr> twins;
    if (shards > 1 && shardable(**det, d)) {
      for (unsigned i = 1; i < shards; ++i) {
        auto twin = registries.detectors.create(d, ctx);
        if (!twin) return twin.status();
        twins.push_back(std::move(*twin));
      }
    }
    if ((*det)->fallback()) out.has_fallback = true;
    made.emplace_back(std::move(*det), std::move(twins));
  }
  // Rules decide first: fallback detectors (the anomaly model) see each event after the others.
  std::stable_partition(made.begin(), made.end(),
                        [](const auto& m) { return !m.first->fallback(); });
  for (auto& [d, t] : made) {
    out.base.push_back(std::move(d));
    out.twins.push_back(std::move(t));
  }
  return out;
}

}  // namespace

// Sharded analysis: the pipeline thread parses, runs the detectors whose state spans addresses
// itself, and hands each event to the worker of its source address, which runs its own
// instances of the others. Findings come back here and are decided on the pipeline thread.
struct Engine::Shards {
  std::vector<std::vector<DetectorPtr>> twins;  // parallel to Engine::detectors_
  std::vector<std::vector<Detector*>> run;      // per shard: the detectors its worker runs
  std::vector<Detector*> inline_detectors;      // run on the pipeline thread
  std::vector<Timestamp> last_expiry;           // per shard, event time (worker's own)
  std::vector<FindingSink> sinks;               // per shard
  std::mutex mu;
  std::vector<Finding> returned;  // guarded by mu
  std::vector<Finding> deciding;  // pipeline thread
  std::atomic<bool> pending{false};
  std::unique_ptr<ShardPool> pool;  // last: its workers stop before the rest is destroyed

  // Takes over `set` (its base detectors go to the engine) and lays out what each shard runs.
  void assign(Engine& e, DetectorSet set) {
    const size_t n = pool ? pool->shards() : run.size();
    e.detectors_ = std::move(set.base);
    twins = std::move(set.twins);
    run.assign(n, {});
    inline_detectors.clear();
    for (size_t i = 0; i < e.detectors_.size(); ++i) {
      if (twins[i].empty()) {
        inline_detectors.push_back(e.detectors_[i].get());
        continue;
      }
      run[0].push_back(e.detectors_[i].get());
      for (size_t s = 1; s < n; ++s) run[s].push_back(twins[i][s - 1].get());
    }
    last_expiry.assign(n, Timestamp{});
  }

  // Worker `shard`: its detectors look at the event; expiry on the shard's own event time.
  void onEvent(size_t shard, const Event& ev) {
    const FindingSink& sink = sinks[shard];
    for (Detector* d : run[shard]) d->onEvent(ev, sink);
    const Timestamp now = ev.timestamp();
    if (now - last_expiry[shard] > kDetectorExpiryEvery) {
      for (Detector* d : run[shard]) d->expire(now);
      last_expiry[shard] = now;
    }
  }

  // Pipeline thread: decides the findings the workers returned, in the order each sent them.
  void decide(Engine& e) {
    if (!pending.load(std::memory_order_acquire)) return;
    {
      std::lock_guard<std::mutex> l(mu);
      deciding.swap(returned);
      pending.store(false, std::memory_order_relaxed);
    }
    for (auto& f : deciding) e.onFinding(std::move(f));
    deciding.clear();
  }

  // Every event handed over handled and its findings decided: the workers are idle, so the
  // pipeline thread may touch their detectors until it submits again.
  void quiesce(Engine& e) {
    pool->drain();
    decide(e);
  }

  // The instances of base detector `i` on the other shards.
  const std::vector<DetectorPtr>& twinsOf(size_t i) const {
    static const std::vector<DetectorPtr> kNone;
    return i < twins.size() ? twins[i] : kNone;
  }
};

Result<std::unique_ptr<Engine>> Engine::create(const Config& config, const Registries& registries,
                                               Store* store, EngineOptions options) {
  std::unique_ptr<Engine> e(new Engine(config, registries, store, std::move(options)));
  // This host's addresses and gateways only where its own traffic is at stake (serve).
  e->allowlist_env_.own_addresses =
      e->options_.allowlist_own_addresses && e->config_.allowlist_own_addresses;
  e->allowlist_env_.gateways = e->options_.allowlist_own_addresses && e->config_.allowlist_gateways;
  std::vector<std::string> warnings;
  auto pc = PolicyConfig::fromConfig(e->config_, e->allowlist_env_, &warnings);
  if (!pc) return pc.status();
  for (const auto& w : warnings) spdlog::warn("allowlist: {}", w);
  e->policy_ = std::make_unique<Policy>(std::move(*pc));
  e->policy_->setHistory(store);  // repeat offenders are counted from the stored decisions
  e->last_allowlist_refresh_ = std::chrono::steady_clock::now();
  if (e->config_.incidents_enabled) {
    CorrelatorOptions co;
    co.gap = e->config_.incident_gap;
    co.max_open = e->config_.incidents_max_open;
    // IPv6 addresses keyed as the policy widens them for blocks (the default action).
    co.ipv6_prefix = e->policy_->config().tuningFor("block").ipv6_prefix;
    e->correlator_ = std::make_unique<Correlator>(co, store);
    if (Status st = e->correlator_->load(); !st.isOk()) {
      spdlog::warn("incidents: {} (open incidents are not continued)", st.toString());
    }
  }
  FactoryContext ctx{&e->config_, store};
  ctx.fetch_feeds = e->options_.fetch_feeds;
  unsigned threads =
      e->options_.threads >= 0 ? static_cast<unsigned>(e->options_.threads) : e->config_.threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  auto set = makeDetectors(e->config_, registries, ctx, threads);
  if (!set) return set.status();
  // Reasons to run the analysis on one thread after all (the fallback detector must see each
  // event after the others have decided on it; nothing to shard).
  const char* one_thread = nullptr;
  if (threads > 1 && set->has_fallback) {
    one_thread =
        "a fallback detector (anomaly) must follow the other detectors' decisions event by event";
  } else if (threads > 1 && std::all_of(set->twins.begin(), set->twins.end(),
                                        [](const auto& t) { return t.empty(); })) {
    one_thread = "no detector keeps its state by source address";
  }
  if (one_thread != nullptr) {
    spdlog::warn("engine.threads: {} requested, analysis runs on one thread: {}", threads,
                 one_thread);
    threads = 1;
    set = makeDetectors(e->config_, registries, ctx, 1);
    if (!set) return set.status();
  }
  if (threads > 1) {
    auto sh = std::make_shared<Shards>();
    sh->sinks.resize(threads);
    for (unsigned i = 0; i < threads; ++i) {
      sh->sinks[i] = [raw = sh.get()](Finding&& f) {
        std::lock_guard<std::mutex> l(raw->mu);
        raw->returned.push_back(std::move(f));
        raw->pending.store(true, std::memory_order_release);
      };
    }
    sh->run.resize(threads);
    sh->assign(*e, std::move(*set));
    ShardPoolOptions po;
    po.shards = threads;
    sh->pool = std::make_unique<ShardPool>(
        po, [raw = sh.get()](size_t shard, const Event& ev) { raw->onEvent(shard, ev); });
    e->shards_ = std::move(sh);
    size_t inline_count = e->shards_->inline_detectors.size();
    spdlog::info(
        "engine: {} analysis threads, events sharded by source address ({} of {} "
        "detector(s) sharded, the others on the pipeline thread)",
        threads, e->detectors_.size() - inline_count, e->detectors_.size());
  } else {
    e->detectors_ = std::move(set->base);
  }
  if (e->options_.run_actions) {
    for (const auto& a : e->config_.actions) {
      auto act = registries.actions.create(a, ctx);
      if (!act) return act.status();
      if (a.node["dry_run"] && a.node["dry_run"].as<bool>(false)) {
        // Built (its options checked) but never called: it only says what it would do.
        e->dry_run_actions_.insert(a.name);
        e->actions_.push_back(std::make_unique<DryRunAction>(std::move(*act)));
        spdlog::warn("action {} is in dry run: it logs and audits what it would do, nothing more",
                     a.name);
        continue;
      }
      e->actions_.push_back(std::move(*act));
    }
  }
  if (!e->config_.dead_letter_path.empty()) {
    DeadLetterOptions dlo;
    dlo.path = e->config_.dead_letter_path;
    dlo.max_bytes = e->config_.dead_letter_max_bytes;
    dlo.keep = e->config_.dead_letter_keep;
    dlo.per_second = e->config_.dead_letter_per_second;
    auto dl = DeadLetter::open(std::move(dlo));
    if (!dl) return dl.status().withContext("engine.dead_letter");
    e->dead_letter_ = std::move(*dl);
  }
  Engine* self = e.get();
  e->sink_ = [self](Finding&& f) { self->onFinding(std::move(f)); };
  ExecutorOptions xo;
  xo.queue_capacity = e->config_.queue_capacity;
  xo.action_timeout = e->config_.action_timeout;
  xo.max_attempts = e->config_.action_attempts;
  xo.backoff_initial = e->config_.retry_backoff;
  std::vector<Action*> raw;
  for (auto& a : e->actions_) {
    raw.push_back(a.get());
    if (a->enforcing()) e->enforcing_.push_back(a.get());
  }
  const Policy* policy = e->policy_.get();
  e->executor_ = std::make_unique<Executor>(
      std::move(raw), xo, [self](const ActionResult& r) { self->onActionResult(r); },
      [policy](const Target& t) { return policy->isAllowlisted(t); });
  e->syncMode();
  e->applyStoredRuleModes();
  e->noteRuleLoad("engine", Status::ok());
  return e;
}

Engine::~Engine() {
  if (shards_) {
    shards_->quiesce(*this);
    shards_->pool.reset();  // workers stopped before the detectors they use go
  }
  flushEventLog();
  executor_.reset();
}

void Engine::flushEventLog() {
  if (event_log_.empty() || store_ == nullptr) return;
  if (Status st = store_->appendEvents(event_log_); st.isOk()) {
    stats_.events_logged += event_log_.size();
  } else {
    ++stats_.event_log_errors;
    if (stats_.event_log_errors <= 10 || stats_.event_log_errors % 1000 == 0) {
      spdlog::error("event log: {} event(s) not written ({} batch(es) so far): {}",
                    event_log_.size(), stats_.event_log_errors, st.toString());
    }
  }
  event_log_.clear();
}

void Engine::drain() {
  if (shards_) shards_->quiesce(*this);
  executor_->drain();
}

void Engine::pump() {
  if (!shards_) return;
  shards_->pool->flush();
  shards_->decide(*this);
}

unsigned Engine::threads() const {
  return shards_ ? static_cast<unsigned>(shards_->pool->shards()) : 1;
}

EngineStats Engine::stats() const {
  EngineStats s = stats_;
  s.action_errors = action_errors_.load();
  s.actions_applied = actions_applied_.load();
  s.queue_full = executor_ ? executor_->queueFull() : 0;
  s.manual_mode = manual_.load();
  s.dry_run_mode = dry_run_.load();
  if (dead_letter_) {
    const auto d = dead_letter_->stats();
    s.dead_lettered = d.written;
    s.dead_letter_suppressed = d.suppressed;
  }
  return s;
}

void Engine::syncMode() {
  if (store_ == nullptr) return;
  auto m = store_->loadMode();
  if (!m) return;
  const std::string_view before = modeName();
  manual_.store(m->manual);
  dry_run_.store(m->dry_run);
  if (before != m->name()) {
    if (m->manual) {
      spdlog::error("MANUAL MODE: decisions are proposed, not enforced ({})", m->reason);
    } else if (m->dry_run) {
      spdlog::warn("DRY-RUN MODE: decisions are recorded, nothing is enforced ({})", m->reason);
    } else {
      spdlog::warn("automatic mode resumed by {}", m->actor);
    }
    emitMode(m->name(), m->reason, m->actor);
  }
}

std::string_view Engine::modeName() const {
  return dry_run_.load() ? "dry-run" : manual_.load() ? "manual" : "auto";
}

void Engine::enterManualMode(const std::string& reason, const std::string& actor) {
  {
    std::lock_guard<std::mutex> l(mode_mu_);
    if (manual_.exchange(true)) return;  // already manual
    dry_run_.store(false);
    if (store_ != nullptr) {
      EngineMode m;
      m.manual = true;
      m.reason = reason;
      m.actor = actor;
      m.since = Timestamp::now();
      if (Status st = store_->saveMode(m); !st.isOk()) {
        spdlog::error("persisting manual mode: {}", st.toString());
      }
      AuditEntry a;
      a.actor = actor;
      a.kind = "mode.manual";
      a.reason = reason;
      a.details_json = nlohmann::json{{"mode", "manual"}, {"reason", reason}}.dump();
      (void)store_->appendAudit(a);
    }
  }
  emitMode("manual", reason, actor);
  spdlog::error(
      "MANUAL MODE: {}; decisions are now proposed (pending-approval), not enforced; "
      "leave with `riposte mode auto`",
      reason);
  if (!config_.notify.empty()) {
    executor_->submitNotify("Riposte switched to manual mode",
                            "Riposte switched to manual mode: " + reason +
                                ". New decisions are proposed, not enforced. Review them and run "
                                "`riposte mode auto` to resume.",
                            config_.notify);
  }
}

Status Engine::leaveManualMode(const std::string& actor) {
  std::lock_guard<std::mutex> l(mode_mu_);
  if (store_ != nullptr) {
    EngineMode m;
    m.manual = false;
    m.reason = "resumed by " + actor;
    m.actor = actor;
    m.since = Timestamp::now();
    RIPOSTE_RETURN_IF_ERROR(store_->saveMode(m));
    AuditEntry a;
    a.actor = actor;
    a.kind = "mode.auto";
    a.reason = m.reason;
    a.details_json = nlohmann::json{{"mode", "auto"}}.dump();
    RIPOSTE_RETURN_IF_ERROR(store_->appendAudit(a));
  }
  const bool was = manual_.exchange(false) | dry_run_.exchange(false);
  recent_blocks_.clear();
  if (was) emitMode("auto", "resumed by " + actor, actor);
  return Status::ok();
}

Status Engine::enterDryRunMode(const std::string& reason, const std::string& actor) {
  {
    std::lock_guard<std::mutex> l(mode_mu_);
    if (dry_run_.load()) return Status::ok();
    if (store_ != nullptr) {
      EngineMode m;
      m.dry_run = true;
      m.reason = reason;
      m.actor = actor;
      m.since = Timestamp::now();
      RIPOSTE_RETURN_IF_ERROR(store_->saveMode(m));
      AuditEntry a;
      a.actor = actor;
      a.kind = "mode.dry_run";
      a.reason = reason;
      a.details_json = nlohmann::json{{"mode", "dry-run"}, {"reason", reason}}.dump();
      RIPOSTE_RETURN_IF_ERROR(store_->appendAudit(a));
    }
    dry_run_.store(true);
    manual_.store(false);
  }
  emitMode("dry-run", reason, actor);
  spdlog::warn("DRY-RUN MODE: {}; decisions are recorded, nothing is enforced", reason);
  return Status::ok();
}

Status Engine::setMode(std::string_view mode, const std::string& reason, const std::string& actor) {
  if (mode == "manual") {
    enterManualMode(reason.empty() ? "switched to manual by " + actor : reason, actor);
    return Status::ok();
  }
  if (mode == "dry-run") {
    return enterDryRunMode(reason.empty() ? "switched to dry-run by " + actor : reason, actor);
  }
  if (mode == "auto") return leaveManualMode(actor);
  return Status::invalidArgument("mode must be auto, manual or dry-run");
}

void Engine::forgetDryRunDecisions() {
  for (const auto& d : dry_run_noted_) policy_->noteEnded(d);
  dry_run_noted_.clear();
}

void Engine::recordDryRun(Decision& d, const std::string& reason) {
  d.state = DecisionState::kDryRun;
  ++stats_.dry_run;
  if (store_ != nullptr) {
    if (Status st = store_->saveDecision(d); !st.isOk()) {
      ++stats_.store_errors;
      spdlog::error("storing decision for {}: {}", d.target.value, st.toString());
    }
    audit("decision.dry_run", d, "dry-run mode, nothing enforced: " + reason);
    for (auto& a : actions_) audit("action.dry_run", d, std::string(a->name()));
  }
  spdlog::info("dry-run: decision {} {} recorded, not enforced", d.action, d.target.value);
  emitDecision("decision.dry_run", d);
}

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

void Engine::deadLetter(const Parser& parser, const SourceLine& line, std::string_view reason) {
  if (!dead_letter_) return;
  std::string why(reason);
  why += parser.name();
  (void)dead_letter_->write(line.source.empty() ? line.file : line.source, line.file, line.offset,
                            why, line.text);
}

ParseResult Engine::process(Parser& parser, const ParseContext& ctx, const SourceLine& line) {
  ++stats_.lines;
  if (line.truncated) {
    ++stats_.truncated;
    deadLetter(parser, line, "truncated at the source's line limit; parsed as cut by ");
  }
  if (line.text.find_first_not_of(" \t\r") == std::string_view::npos) {
    ++stats_.skipped;  // blank line
    return ParseResult::kSkip;
  }
  event_.clear();
  event_.setRaw(line.text);
  event_.setOrigin(line.file, line.offset);
  const ParseResult r = parser.parse(line.text, ctx, event_);
  switch (r) {
    case ParseResult::kParsed: ++stats_.parsed; break;
    case ParseResult::kSkip: ++stats_.skipped; return r;
    case ParseResult::kUnrecognised:
      ++stats_.unparsed;
      if (stats_.unparsed <= 10) {
        spdlog::debug("{} (byte {}): {} did not recognise the line", line.file, line.offset,
                      parser.name());
      }
      if (!line.truncated) deadLetter(parser, line, "unparsed by ");
      return r;
  }
  if (options_.record_events) {
    event_log_.push_back(EvidenceEvent::withFields(event_));
    if (event_log_.size() >= options_.event_log_batch) flushEventLog();
  }
  if (shards_) {
    Shards& sh = *shards_;
    for (Detector* d : sh.inline_detectors) d->onEvent(event_, sink_);
    sh.pool->submit(event_);
    sh.decide(*this);
    const Timestamp now = event_.timestamp();
    if (now - last_detector_expiry_ > kDetectorExpiryEvery) {
      for (Detector* d : sh.inline_detectors) d->expire(now);
      last_detector_expiry_ = now;
    }
    return r;
  }
  for (auto& d : detectors_) d->onEvent(event_, sink_);
  const Timestamp now = event_.timestamp();
  if (now - last_detector_expiry_ > kDetectorExpiryEvery) {
    for (auto& d : detectors_) d->expire(now);
    last_detector_expiry_ = now;
  }
  return r;
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
  const std::string decision_id = decideOn(f);
  if (correlator_) correlate(f, decision_id);
}

void Engine::correlate(const Finding& f, const std::string& decision_id) {
  const Incident* inc = correlator_->add(f, decision_id, Timestamp::now());
  if (inc != nullptr) emit("incident", inc->toJson());
}

Result<Incident> Engine::setIncidentStatus(const std::string& id, IncidentStatus status,
                                           const std::string& actor, const std::string& note) {
  if (!correlator_) return Status::failedPrecondition("incidents are disabled (incidents.enabled)");
  std::string before;
  if (store_ != nullptr) {
    auto cur = store_->getIncident(id);
    if (cur && cur->has_value()) before = std::string(incidentStatusName((*cur)->status));
  }
  auto r = correlator_->setStatus(id, status, actor, note, Timestamp::now());
  if (!r) return r.status();
  if (store_ != nullptr) {
    AuditEntry a;
    a.actor = actor;
    a.kind = "incident.status";
    a.target = r->target.value;
    a.reason = (before.empty() ? std::string() : before + " -> ") +
               std::string(incidentStatusName(status)) + (note.empty() ? "" : ": " + note);
    a.details_json = nlohmann::json{
        {"incident", r->id},
        {"from", before},
        {"to", std::string(incidentStatusName(status))},
        {"note", note}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (Status st = store_->appendAudit(a); !st.isOk()) {
      ++stats_.store_errors;
      spdlog::error("audit incident.status for {}: {}", id, st.toString());
    }
  }
  emit("incident", r->toJson());
  return r;
}

std::string Engine::decideOn(const Finding& f) {
  if (!dry_run_noted_.empty() && !dry_run_.load()) forgetDryRunDecisions();
  ++stats_.findings;
  ++by_detector_[f.detector];
  if (hook_) {
    nlohmann::ordered_json j;
    j["id"] = f.id;
    j["detector"] = f.detector;
    j["entity"] = f.entity.value;
    j["entity_type"] = std::string(targetTypeName(f.entity.type));
    j["severity"] = f.severity;
    j["score"] = f.score;
    j["reason"] = f.reason;
    j["action"] = f.suggested_action;
    j["shadow"] = f.shadow;
    j["events"] = f.event_count;
    j["first_seen"] = formatRfc3339(f.first_seen);
    j["last_seen"] = formatRfc3339(f.last_seen);
    emit("finding", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  // A finding that becomes a decision is stored with it and its audit entry in one transaction
  // (below); any other is stored alone, here.
  auto saveFinding = [&] {
    if (store_ == nullptr) return;
    if (Status st = store_->saveFinding(f); !st.isOk()) {
      ++stats_.store_errors;
      spdlog::error("storing finding {}: {}", f.id, st.toString());
    }
  };
  if (f.shadow) {
    saveFinding();
    ++stats_.shadow;  // evaluated and counted: "would have acted"
    return {};
  }
  Decision d;
  const Timestamp now = options_.decide_at_event_time ? f.last_seen : Timestamp::now();
  const PolicyOutcome outcome = policy_->decide(f, now, d);
  const bool dry_run = dry_run_.load();  // read once: the finding is stored on exactly one path
  if (outcome != PolicyOutcome::kDecided || dry_run) saveFinding();
  switch (outcome) {
    case PolicyOutcome::kAllowlisted: {
      ++stats_.allowlisted;
      Decision refused;
      refused.target = f.entity;
      refused.detector = f.detector;
      refused.finding_id = f.id;
      refused.reason = f.reason;
      refused.origin = options_.actor;
      const std::string why = allowlistNote(f.entity);
      audit("decision.refused.allowlisted", refused, why);
      spdlog::info("{} not acted on: {} ({})", f.entity.value, why, f.detector);
      return {};
    }
    case PolicyOutcome::kAlreadyActive: ++stats_.duplicates; return {};
    case PolicyOutcome::kNotEnforceable: return {};
    case PolicyOutcome::kDecided: break;
  }
  d.origin = options_.actor;
  ++stats_.decisions;
  if (dry_run) {
    dry_run_noted_.push_back(d);  // duplicates stay quiet while in dry-run
    recordDryRun(d, d.reason);
    return d.id;
  }
  const bool high_risk = !actions_.empty() && !config_.dry_run && needsApproval(d, config_);
  const bool propose = high_risk || (!actions_.empty() && !config_.dry_run &&
                                     (manual_.load() || breakerTrips(Timestamp::now())));
  if (propose) d.state = DecisionState::kPendingApproval;
  // Durable before acting: the finding, the decision and its audit entry, in one commit.
  if (store_ != nullptr) {
    AuditEntry a;
    a.actor = d.origin.empty() ? options_.actor : d.origin;
    a.kind = propose ? "decision.proposed" : "decision.created";
    a.target = d.target.value;
    a.reason = high_risk ? "high risk (" + std::string(targetTypeName(d.target.type)) + " " +
                               d.action + "): awaits a second confirmation until " +
                               formatRfc3339(approvalDeadline(d, config_)) + ", then " +
                               std::string(approvalDefault(config_)) + "; " + d.reason
                         : d.reason;
    a.details_json = d.toJson();
    if (Status st = store_->saveDecisionWithAudit(&f, d, a); !st.isOk()) {
      ++stats_.store_errors;
      spdlog::error("storing finding {} and its decision for {}: {}", f.id, d.target.value,
                    st.toString());
    }
  }
  if (propose) {
    ++stats_.proposed;
    if (high_risk) {
      spdlog::warn("decision on {} ({}) is high risk: awaits approval", d.target.value,
                   targetTypeName(d.target.type));
    } else {
      spdlog::warn("manual mode: decision on {} proposed, not enforced", d.target.value);
    }
  }
  enforce(d, propose);
  emitDecision(propose ? "decision.proposed" : "decision.created", d);
  if (listener_) listener_(d);
  return d.id;
}

void Engine::enforce(const Decision& d, bool alerts_only) {
  if (actions_.empty()) return;
  // The allowlist is checked here and again by the executor right before an action runs.
  if (policy_->isAllowlisted(d.target)) {
    audit("action.refused.allowlisted", d, allowlistNote(d.target));
    return;
  }
  if (config_.dry_run) {
    for (auto& a : actions_) audit("action.dry_run", d, std::string(a->name()));
    return;
  }
  if (!alerts_only) {
    if (!executor_->submitApply(d)) {
      audit("action.queue_full", d, "action queue full: nothing enforced");
      if (store_ != nullptr) (void)store_->updateDecisionState(d.id, DecisionState::kFailed);
    }
    return;
  }
  for (auto& a : actions_) {
    if (a->enforcing()) continue;
    if (!executor_->submitApply(d, std::string(a->name()))) {
      audit("action.queue_full", d, std::string(a->name()) + ": action queue full");
    }
  }
}

bool Engine::breakerTrips(Timestamp now) {
  const int64_t minute_ago = now.micros - 60'000'000;
  while (!recent_blocks_.empty() && recent_blocks_.front() < minute_ago) recent_blocks_.pop_front();
  std::string why;
  if (config_.max_blocks_per_minute > 0 && recent_blocks_.size() >= config_.max_blocks_per_minute) {
    why = "circuit breaker: more than " + std::to_string(config_.max_blocks_per_minute) +
          " new blocks in one minute";
  } else if (config_.max_active_blocks > 0 && policy_->activeCount() > config_.max_active_blocks) {
    why = "circuit breaker: more than " + std::to_string(config_.max_active_blocks) +
          " active blocks";
  }
  if (why.empty()) {
    recent_blocks_.push_back(now.micros);
    return false;
  }
  ++stats_.breaker_trips;
  if (store_ != nullptr) {
    AuditEntry a;
    a.actor = options_.actor;
    a.kind = "breaker.tripped";
    a.reason = why;
    a.details_json = nlohmann::json{{"recent_blocks", recent_blocks_.size()},
                                    {"active_blocks", policy_->activeCount()}}
                         .dump();
    (void)store_->appendAudit(a);
  }
  enterManualMode(why, options_.actor);
  return true;
}

void Engine::onActionResult(const ActionResult& r) {
  if (r.duplicate) return;
  if (r.allowlisted) {  // the executor's re-check refused these right before the action ran
    for (const auto& d : r.decisions) {
      audit("action.refused.allowlisted", d, r.action + ": " + allowlistNote(d.target));
    }
    return;
  }
  if (r.op == ActionOp::kNotify) {
    if (store_ == nullptr) return;
    AuditEntry a;
    a.actor = options_.actor;
    a.kind = r.status.isOk() ? "notify.sent" : "notify.failed";
    a.reason = r.action + (r.status.isOk() ? "" : ": " + r.status.toString());
    (void)store_->appendAudit(a);
    if (!r.status.isOk()) spdlog::error("notification through {} failed", r.action);
    return;
  }
  if (r.op == ActionOp::kReconcile) {
    if (!r.status.isOk()) {
      ++action_errors_;
      spdlog::error("reconcile through {} failed: {}", r.action, r.status.toString());
      return;
    }
    if (r.reconcile.readded + r.reconcile.removed > 0 && store_ != nullptr) {
      spdlog::warn("reconcile {}: re-added {}, removed {} (drift repaired)", r.action,
                   r.reconcile.readded, r.reconcile.removed);
      AuditEntry a;
      a.actor = options_.actor;
      a.kind = "action.reconciled";
      a.reason = r.action + ": re-added " + std::to_string(r.reconcile.readded) + ", removed " +
                 std::to_string(r.reconcile.removed);
      (void)store_->appendAudit(a);
    }
    return;
  }
  if (r.status.isOk() && dry_run_actions_.count(r.action) != 0 && !r.decisions.empty() &&
      (r.op == ActionOp::kApply || r.op == ActionOp::kUndo || r.op == ActionOp::kApplyBatch)) {
    // Per-action dry run: what it would have done, marked like the whole-engine dry run.
    if (r.op == ActionOp::kApplyBatch) {
      AuditEntry a;
      a.actor = options_.actor;
      a.kind = "action.dry_run";
      a.reason = r.action + ": would re-apply " + std::to_string(r.decisions.size()) +
                 " decisions (restore)";
      if (store_ != nullptr) (void)store_->appendAudit(a);
    } else {
      const Decision& d = r.decisions.front();
      audit("action.dry_run", d, wouldDo(r.action, d, r.op == ActionOp::kUndo));
    }
    return;
  }
  if (r.op == ActionOp::kApplyBatch) {
    if (r.status.isOk()) {
      actions_applied_ += r.decisions.size();
      if (store_ != nullptr) {
        AuditEntry a;
        a.actor = options_.actor;
        a.kind = "action.restored";
        a.reason = r.action + ": " + std::to_string(r.decisions.size()) + " decisions";
        (void)store_->appendAudit(a);
      }
      return;
    }
    ++action_errors_;
    if (store_ != nullptr) {
      AuditEntry a;
      a.actor = options_.actor;
      a.kind = "action.failed";
      a.reason = r.action + ": batch of " + std::to_string(r.decisions.size()) +
                 " decisions: " + r.status.toString();
      (void)store_->appendAudit(a);
    }
    enterManualMode("action " + r.action + " failed to restore " +
                        std::to_string(r.decisions.size()) + " decisions: " + r.status.toString(),
                    options_.actor);
    return;
  }
  const Decision& d = r.decisions.front();
  if (r.status.isOk()) {
    if (r.op == ActionOp::kApply) {
      ++actions_applied_;
      if (r.enforcing && d.created.isSet()) {
        latency_.observe(static_cast<double>((Timestamp::now() - d.created).count()) / 1e6);
      }
    }
    audit(r.op == ActionOp::kApply ? "action.applied" : "action.undone", d, r.action);
    return;
  }
  ++action_errors_;
  const std::string what = r.action + ": " + r.status.toString() + " (after " +
                           std::to_string(r.attempts) + " attempt(s))";
  spdlog::error("action {} {} on {} failed: {}", r.action, actionOpName(r.op), d.target.value,
                what);
  if (r.op == ActionOp::kUndo) {
    audit("action.undo_failed", d, what);
    enterManualMode("undo through " + what, options_.actor);
    return;
  }
  audit(r.verify_failed ? "action.verify_failed" : "action.failed", d, what);
  // An enforcing action that could not act leaves the decision failed; a failed alert does not
  // change what the decision is (it may be pending approval, or enforced by another action).
  if (r.enforcing && store_ != nullptr) {
    (void)store_->updateDecisionState(d.id, DecisionState::kFailed);
  }
  enterManualMode((r.verify_failed ? "could not verify " : "action failed: ") + what,
                  options_.actor);
}

void Engine::reconcile() {
  // Active decisions were enforced or approved by a person, so this runs in manual mode too:
  // it is how an approval made with `riposte decisions approve` reaches the firewall.
  if (store_ == nullptr || actions_.empty() || config_.dry_run) return;
  DecisionFilter f;
  f.state = DecisionState::kActive;
  f.limit = 10'000'000;
  f.ordered = false;
  auto active = store_->listDecisions(f);
  if (!active) return;
  // New approvals get applied (idempotent for the rest), then each enforcing action repairs drift.
  std::vector<Decision> live;
  const Timestamp now = Timestamp::now();
  for (auto& d : *active) {
    if (d.expires <= now) continue;
    // Stored active on an allowlisted target (by another process, or before the allowlist
    // changed): never enforced, audited once per decision, and reconcile removes its element.
    if (policy_->isAllowlisted(d.target)) {
      if (allowlist_refused_.emplace(d.id, true).second) {
        audit("action.refused.allowlisted", d, allowlistNote(d.target) + " [reconcile]");
      }
      continue;
    }
    live.push_back(std::move(d));
  }
  if (!live.empty()) (void)executor_->submitBatch(live);
  if (!enforcing_.empty()) (void)executor_->submitReconcile(std::move(live));
}

std::string Engine::allowlistNote(const Target& t) const {
  return "target is allowlisted: " + policy_->allowlistedBy(t).value_or("?");
}

Status Engine::refreshAllowlist() {
  std::vector<std::string> warnings;
  auto al = buildAllowlist(config_, allowlist_env_, &warnings);
  if (!al) {
    spdlog::error("allowlist refresh failed, the allowlist in force stays: {}",
                  al.status().toString());
    return al.status();
  }
  for (const auto& w : warnings) spdlog::warn("allowlist: {}", w);
  const auto old = policy_->allowlist();
  std::set<std::string> before, after;
  for (const auto& i : old->items()) before.insert(i.entry);
  for (const auto& i : al->items()) after.insert(i.entry);
  std::vector<std::string> added, removed;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(added));
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(removed));
  if (!added.empty() || !removed.empty()) {
    auto join = [](const std::vector<std::string>& v) {
      std::string out;
      for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
      return out;
    };
    spdlog::info("allowlist refreshed: {} entries; added [{}]; removed [{}]", al->size(),
                 join(added), join(removed));
  }
  policy_->setAllowlist(std::make_shared<const Allowlist>(std::move(*al)));
  return Status::ok();
}

void Engine::tick(Timestamp now) {
  if (shards_) shards_->decide(*this);
  if (options_.refresh_allowlist && config_.allowlist_refresh.count() > 0 &&
      std::chrono::steady_clock::now() - last_allowlist_refresh_ >=
          std::chrono::microseconds(config_.allowlist_refresh.count()) &&
      !allowlist_refreshing_.exchange(true)) {
    // Off the engine thread: resolving a name may wait for a slow DNS server.
    last_allowlist_refresh_ = std::chrono::steady_clock::now();
    if (allowlist_refresher_.joinable()) allowlist_refresher_.join();
    allowlist_refresher_ = std::jthread([this] {
      (void)refreshAllowlist();
      allowlist_refreshing_.store(false);
    });
  }
  if (store_ == nullptr) return;
  flushEventLog();
  syncMode();
  if (correlator_) (void)correlator_->syncStatus(Timestamp::now());  // CLI status changes
  if (!dry_run_noted_.empty() && !dry_run_.load()) forgetDryRunDecisions();
  std::erase_if(dry_run_noted_, [&](const Decision& d) { return d.expires <= now; });
  if (config_.reconcile_interval.count() > 0 &&
      std::chrono::steady_clock::now() - last_reconcile_ >=
          std::chrono::microseconds(config_.reconcile_interval.count())) {
    last_reconcile_ = std::chrono::steady_clock::now();
    reconcile();
  }
  auto expired = store_->expiredDecisions(now);
  if (!expired) {
    ++stats_.store_errors;
    spdlog::error("listing expired decisions: {}", expired.status().toString());
    return;
  }
  for (auto& d : *expired) {
    if (!config_.dry_run && !actions_.empty() && !executor_->submitUndo(d)) {
      audit("action.queue_full", d,
            "undo not queued: action queue full (the kernel timeout "
            "still ends a firewall block)");
    }
    d.state = DecisionState::kExpired;
    if (Status st = store_->updateDecisionState(d.id, DecisionState::kExpired); !st.isOk()) {
      ++stats_.store_errors;
      continue;
    }
    policy_->noteEnded(d);
    audit("decision.expired", d, "expired at " + formatRfc3339(d.expires));
    emitDecision("decision.expired", d);
    ++stats_.expired;
  }
}

Status Engine::restore() {
  if (store_ == nullptr) return Status::ok();
  DecisionFilter f;
  f.state = DecisionState::kActive;
  f.limit = 10'000'000;
  f.ordered = false;  // one batch: the order does not matter
  auto active = store_->listDecisions(f);
  if (!active) return active.status();
  const Timestamp now = Timestamp::now();
  std::vector<Decision> live;
  live.reserve(active->size());
  for (auto& d : *active) {
    if (d.expires <= now) continue;  // tick() undoes these
    policy_->noteActive(d);
    if (policy_->isAllowlisted(d.target)) {
      allowlist_refused_.emplace(d.id, true);
      audit("action.refused.allowlisted", d, allowlistNote(d.target) + " [restore]");
      continue;
    }
    live.push_back(std::move(d));
  }
  // Pending approvals are decisions the policy has made (decide() counts them as it makes
  // them): a finding on the same target — a log line read again after a crash — must not
  // propose a second one.
  DecisionFilter pf;
  pf.state = DecisionState::kPendingApproval;
  pf.limit = 10'000'000;
  pf.ordered = false;
  auto pending = store_->listDecisions(pf);
  if (!pending) return pending.status();
  for (const auto& d : *pending) {
    if (d.expires > now) policy_->noteActive(d);
  }
  const size_t reapplied = live.size();
  if (!live.empty() && !actions_.empty() && !config_.dry_run) {
    // One batch per action: one transaction for the firewall.
    if (!executor_->submitBatch(std::move(live), /*enforcing_only=*/true)) {
      return Status::resourceExhausted("restore: action queue full");
    }
  }
  if (reapplied > 0) spdlog::info("re-applied {} active decisions from the store", reapplied);
  return Status::ok();
}

Status Engine::addManualDecision(Decision d, const std::string& actor) {
  if (policy_->isAllowlisted(d.target)) {
    return Status::permissionDenied(
        d.target.value + " is allowlisted: " + policy_->allowlistedBy(d.target).value_or("?"));
  }
  d.origin = actor;
  if (store_ != nullptr) {
    RIPOSTE_RETURN_IF_ERROR(store_->saveDecision(d));
    audit("decision.created", d, d.reason);
  }
  std::erase_if(dry_run_noted_, [&](const Decision& x) {
    return x.action == d.action && x.target.value == d.target.value;
  });
  policy_->noteActive(d);
  enforce(d);  // a person decided: enforced in manual and dry-run mode too
  emitDecision("decision.created", d);
  if (listener_) listener_(d);
  return Status::ok();
}

size_t Engine::actionQueueDepth() const { return executor_ ? executor_->queued() : 0; }

void Engine::emitDecision(const char* kind, const Decision& d) const {
  if (!hook_) return;
  emit("decision", std::string("{\"kind\":\"") + kind + "\",\"decision\":" + d.toJson() + "}");
}

void Engine::emitMode(std::string_view mode, const std::string& reason,
                      const std::string& actor) const {
  if (!hook_) return;
  emit("mode", nlohmann::json{{"mode", mode}, {"reason", reason}, {"actor", actor}}.dump(
                   -1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void Engine::auditAs(const std::string& actor, const std::string& kind, const Decision& d,
                     const std::string& reason) {
  if (store_ == nullptr) return;
  AuditEntry a;
  a.actor = actor;
  a.kind = kind;
  a.target = d.target.value;
  a.reason = reason;
  a.details_json = d.toJson();
  if (Status st = store_->appendAudit(a); !st.isOk()) {
    ++stats_.store_errors;
    spdlog::error("audit {} for {}: {}", kind, d.target.value, st.toString());
  }
}

Result<Decision> Engine::findDecision(const std::string& id) {
  if (store_ == nullptr) return Status::failedPrecondition("no store");
  auto d = store_->getDecision(id);
  if (!d) return d.status();
  if (!d->has_value()) return Status::notFound("no decision " + id);
  return std::move(**d);
}

Result<Decision> Engine::revokeDecision(const std::string& id, const std::string& actor,
                                        const std::string& reason) {
  auto found = findDecision(id);
  if (!found) return found.status();
  Decision d = std::move(*found);
  if (d.state != DecisionState::kActive && d.state != DecisionState::kPendingApproval) {
    return Status::failedPrecondition("decision " + id + " is " +
                                      std::string(decisionStateName(d.state)) +
                                      ", not active or pending");
  }
  const bool was_active = d.state == DecisionState::kActive;
  RIPOSTE_RETURN_IF_ERROR(store_->updateDecisionState(d.id, DecisionState::kRevoked));
  d.state = DecisionState::kRevoked;
  policy_->noteEnded(d);
  auditAs(actor, "decision.revoked", d, reason.empty() ? "revoked by hand" : reason);
  if (was_active && !actions_.empty() && !config_.dry_run && !executor_->submitUndo(d)) {
    auditAs(actor, "action.queue_full", d, "undo not queued: action queue full");
  }
  emitDecision("decision.revoked", d);
  if (revocation_listener_) revocation_listener_(d);
  return d;
}

Result<Decision> Engine::extendDecision(const std::string& id, Timestamp expires,
                                        const std::string& actor) {
  auto found = findDecision(id);
  if (!found) return found.status();
  Decision d = std::move(*found);
  if (d.state != DecisionState::kActive && d.state != DecisionState::kPendingApproval) {
    return Status::failedPrecondition("decision " + id + " is " +
                                      std::string(decisionStateName(d.state)) +
                                      ", not active or pending");
  }
  if (expires <= Timestamp::now()) {
    return Status::invalidArgument("the new expiry is in the past");
  }
  const Timestamp before = d.expires;
  d.expires = expires;
  RIPOSTE_RETURN_IF_ERROR(store_->saveDecision(d));
  auditAs(actor, "decision.extended", d,
          "expiry " + formatRfc3339(before) + " -> " + formatRfc3339(expires));
  // Enforcing actions carry the expiry (nftables element timeouts): re-applied with the new one.
  if (d.state == DecisionState::kActive && !config_.dry_run) {
    for (Action* a : enforcing_) {
      const std::string name(a->name());
      Decision old = d;
      old.expires = before;
      (void)executor_->submitUndo(old, name);
      if (!executor_->submitApply(d, name)) {
        auditAs(actor, "action.queue_full", d, name + ": action queue full");
      }
    }
  }
  emitDecision("decision.extended", d);
  return d;
}

Result<Decision> Engine::approveDecision(const std::string& id, const std::string& actor) {
  auto found = findDecision(id);
  if (!found) return found.status();
  Decision d = std::move(*found);
  if (d.state != DecisionState::kPendingApproval) {
    return Status::failedPrecondition("decision " + id + " is " +
                                      std::string(decisionStateName(d.state)) +
                                      ", not pending approval");
  }
  if (d.expires <= Timestamp::now()) {
    return Status::failedPrecondition("decision " + id + " has already expired");
  }
  if (policy_->isAllowlisted(d.target)) {
    return Status::permissionDenied(
        d.target.value + " is allowlisted: " + policy_->allowlistedBy(d.target).value_or("?"));
  }
  RIPOSTE_RETURN_IF_ERROR(store_->updateDecisionState(d.id, DecisionState::kActive));
  d.state = DecisionState::kActive;
  policy_->noteActive(d);
  auditAs(actor, "decision.approved", d, "approved by " + actor);
  // Latency of the enforcement counts from the approval.
  Decision job = d;
  job.created = Timestamp::now();
  enforce(job);
  emitDecision("decision.approved", d);
  return d;
}

Result<Decision> Engine::rejectDecision(const std::string& id, const std::string& actor,
                                        const std::string& reason) {
  auto found = findDecision(id);
  if (!found) return found.status();
  Decision d = std::move(*found);
  if (d.state != DecisionState::kPendingApproval) {
    return Status::failedPrecondition("decision " + id + " is " +
                                      std::string(decisionStateName(d.state)) +
                                      ", not pending approval");
  }
  RIPOSTE_RETURN_IF_ERROR(store_->updateDecisionState(d.id, DecisionState::kRevoked));
  d.state = DecisionState::kRevoked;
  policy_->noteEnded(d);
  auditAs(actor, "decision.rejected", d, reason.empty() ? "rejected by " + actor : reason);
  emitDecision("decision.rejected", d);
  return d;
}

std::vector<RuleInfo> Engine::rules() const {
  std::vector<RuleInfo> out;
  if (shards_) shards_->pool->drain();  // the workers' counters are read below
  for (size_t di = 0; di < detectors_.size(); ++di) {
    const auto& det = detectors_[di];
    const auto* re = dynamic_cast<const rules::RuleEngine*>(det.get());
    if (re == nullptr) continue;
    const auto& rs = re->ruleSet().rules();
    for (size_t i = 0; i < rs.size(); ++i) {
      const auto& r = rs[i];
      RuleInfo info;
      info.detector = std::string(re->name());
      info.id = r.id;
      info.name = r.name;
      info.description = r.description;
      info.file = r.file;
      info.line = r.line;
      info.mode = std::string(rules::ruleModeName(r.mode));
      info.file_mode = std::string(rules::ruleModeName(re->fileMode(i)));
      if (auto it = rule_modes_.find(r.id); it != rule_modes_.end()) {
        info.mode_set_by = it->second.actor;
        info.mode_since = it->second.since;
      }
      info.severity = r.severity;
      info.action = r.action;
      info.matches = re->stats(i).matches;
      info.findings = re->stats(i).findings;
      if (shards_) {
        for (const auto& twin : shards_->twinsOf(di)) {
          const auto& t = static_cast<const rules::RuleEngine&>(*twin);
          info.matches += t.stats(i).matches;
          info.findings += t.stats(i).findings;
        }
      }
      out.push_back(std::move(info));
    }
  }
  return out;
}

Status Engine::setRuleMode(const std::string& rule_id, const std::string& mode,
                           const std::string& actor) {
  std::optional<rules::RuleMode> m;
  for (auto x : {rules::RuleMode::kEnabled, rules::RuleMode::kDisabled, rules::RuleMode::kShadow}) {
    if (rules::ruleModeName(x) == mode) m = x;
  }
  if (!m) return Status::invalidArgument("mode must be enabled, disabled or shadow");
  if (shards_) shards_->quiesce(*this);  // the workers' instances change below
  for (size_t di = 0; di < detectors_.size(); ++di) {
    auto& det = detectors_[di];
    auto* re = dynamic_cast<rules::RuleEngine*>(det.get());
    if (re == nullptr) continue;
    const auto& rs = re->ruleSet().rules();
    size_t idx = rs.size();
    for (size_t i = 0; i < rs.size(); ++i) {
      if (rs[i].id == rule_id) idx = i;
    }
    if (idx == rs.size()) continue;
    const bool as_file = re->fileMode(idx) == *m;
    // Kept first: a mode that would not survive a restart is refused rather than half-applied.
    if (store_ != nullptr) {
      if (as_file) {
        RIPOSTE_RETURN_IF_ERROR(store_->deleteRuleMode(rule_id));
      } else {
        RuleModeRecord rec{rule_id, mode, actor, Timestamp::now()};
        RIPOSTE_RETURN_IF_ERROR(store_->saveRuleMode(rec));
      }
    }
    if (as_file) {
      rule_modes_.erase(rule_id);
    } else {
      rule_modes_[rule_id] = RuleModeRecord{rule_id, mode, actor, Timestamp::now()};
    }
    RIPOSTE_RETURN_IF_ERROR(re->setRuleMode(rule_id, *m));
    if (shards_) {
      for (auto& twin : shards_->twins[di]) {
        RIPOSTE_RETURN_IF_ERROR(static_cast<rules::RuleEngine&>(*twin).setRuleMode(rule_id, *m));
      }
    }
    if (store_ != nullptr) {
      AuditEntry a;
      a.actor = actor;
      a.kind = "rule.mode";
      a.target = rule_id;
      a.reason = "rule " + rule_id + " set to " + mode +
                 (as_file ? " (as its file says)" : " (kept across restarts and reloads)");
      a.details_json =
          nlohmann::json{{"rule", rule_id}, {"mode", mode}, {"persisted", !as_file}}.dump();
      (void)store_->appendAudit(a);
    }
    return Status::ok();
  }
  return Status::notFound("no rule '" + rule_id + "'");
}

Status Engine::requestFeedSync(const std::string& feed, const std::string& actor) {
  Status out = Status::failedPrecondition(intel::StoreUpdater::kNoCollector);
  bool taken = false;
  for (auto& det : detectors_) {
    // The intel detector's collector, or the one of the store rules' intel predicates read.
    Status st = out;
    if (auto* intel = dynamic_cast<IntelDetector*>(det.get())) {
      st = intel->requestFeedSync(feed);
    } else if (auto* re = dynamic_cast<rules::RuleEngine*>(det.get());
               re != nullptr && re->intel() && re->intel()->shared()) {
      st = re->intel()->shared()->requestFeedSync(feed);
    } else {
      continue;
    }
    if (st.isOk()) {
      taken = true;
      break;
    }
    if (st.message() != intel::StoreUpdater::kNoCollector) out = st;  // the more telling one
  }
  if (!taken) return out;
  if (store_ != nullptr) {
    AuditEntry a;
    a.actor = actor;
    a.kind = "intel.sync_requested";
    a.target = feed.empty() ? "*" : feed;
    a.reason =
        feed.empty() ? "run of every enabled feed requested" : "run of feed " + feed + " requested";
    a.details_json =
        nlohmann::json{{"feed", feed.empty() ? nlohmann::json(nullptr) : nlohmann::json(feed)}}
            .dump();
    (void)store_->appendAudit(a);
  }
  spdlog::info("intel: {} asked for a run of {}", actor, feed.empty() ? "every feed" : feed);
  return Status::ok();
}

void Engine::applyStoredRuleModes() {
  if (store_ == nullptr) return;
  auto stored = store_->loadRuleModes();
  if (!stored) {
    if (stored.status().code() != StatusCode::kFailedPrecondition) {
      spdlog::error("loading rule modes: {}", stored.status().toString());
    }
    return;
  }
  rule_modes_.clear();
  for (auto& r : *stored) {
    std::optional<rules::RuleMode> m;
    for (auto x :
         {rules::RuleMode::kEnabled, rules::RuleMode::kDisabled, rules::RuleMode::kShadow}) {
      if (rules::ruleModeName(x) == r.mode) m = x;
    }
    bool found = false;
    for (size_t di = 0; di < detectors_.size(); ++di) {
      auto* re = dynamic_cast<rules::RuleEngine*>(detectors_[di].get());
      if (re == nullptr || !m) continue;
      if (re->setRuleMode(r.rule_id, *m).isOk()) found = true;
      if (!shards_) continue;
      for (auto& twin : shards_->twinsOf(di)) {
        (void)static_cast<rules::RuleEngine&>(*twin).setRuleMode(r.rule_id, *m);
      }
    }
    if (found) {
      spdlog::info("rule {}: mode {} (set by {} at {})", r.rule_id, r.mode, r.actor,
                   formatRfc3339Utc(r.since));
    } else {
      spdlog::warn("rule {}: a stored mode {} names no loaded rule (kept for when it returns)",
                   r.rule_id, r.mode);
    }
    const std::string id = r.rule_id;
    rule_modes_[id] = std::move(r);
  }
}

void Engine::noteRuleLoad(const std::string& actor, const Status& result) {
  RuleLoadReport rep;
  rep.time = Timestamp::now();
  rep.actor = actor;
  if (result.isOk()) {
    for (const auto& det : detectors_) {
      const auto* re = dynamic_cast<const rules::RuleEngine*>(det.get());
      if (re == nullptr) continue;
      rep.diagnostics.insert(rep.diagnostics.end(), re->diagnostics().begin(),
                             re->diagnostics().end());
    }
  } else {
    rep.rejected = true;
    rep.error = result.message().substr(0, result.message().find('\n'));
    // The refused files' diagnostics, with their positions (read again: a refused reload only).
    for (const auto& d : config_.detectors) {
      if (d.type != "rules") continue;
      auto loaded = rules::loadRulesFor(d);
      rep.diagnostics.insert(rep.diagnostics.end(), loaded.diagnostics.begin(),
                             loaded.diagnostics.end());
    }
  }
  rule_load_ = std::move(rep);
}

Status Engine::reloadDetectors(const std::string& actor) {
  FactoryContext ctx{&config_};
  ctx.fetch_feeds = options_.fetch_feeds;
  auto set = makeDetectors(config_, registries_, ctx, threads());
  if (!set) {
    noteRuleLoad(actor, set.status());
    return set.status();
  }
  if (shards_ && set->has_fallback) {
    const Status st = Status::failedPrecondition(
        "a fallback detector (anomaly) cannot run with engine.threads above 1; restart instead");
    noteRuleLoad(actor, st);
    return st;
  }
  if (shards_) {
    shards_->quiesce(*this);  // the workers are idle while their detectors are replaced
    shards_->assign(*this, std::move(*set));
  } else {
    detectors_ = std::move(set->base);
  }
  applyStoredRuleModes();
  noteRuleLoad(actor, Status::ok());
  if (store_ != nullptr) {
    AuditEntry a;
    a.actor = actor;
    a.kind = "rules.reloaded";
    a.reason = std::to_string(detectors_.size()) + " detector(s) reloaded";
    (void)store_->appendAudit(a);
  }
  return Status::ok();
}

}  // namespace riposte

namespace riposte {

std::string_view remoteOutcomeName(RemoteOutcome o) {
  switch (o) {
    case RemoteOutcome::kApplied: return "applied";
    case RemoteOutcome::kDuplicate: return "duplicate";
    case RemoteOutcome::kAllowlisted: return "allowlisted";
    case RemoteOutcome::kExpired: return "expired";
    case RemoteOutcome::kRevoked: return "revoked";
    case RemoteOutcome::kUnknown: return "unknown";
  }
  return "unknown";
}

namespace {

// The local copy of a decision (by id), if the store holds one.
std::optional<Decision> storedCopy(Store* store, const Decision& d) {
  if (store == nullptr) return std::nullopt;
  DecisionFilter f;
  f.target = d.target.value;
  f.limit = 100'000;
  auto list = store->listDecisions(f);
  if (!list) return std::nullopt;
  for (auto& x : *list) {
    if (x.id == d.id) return std::move(x);
  }
  return std::nullopt;
}

bool takenByPerson(const Decision& d) {
  return d.origin.rfind("cli:", 0) == 0 || d.origin.rfind("api:", 0) == 0;
}

}  // namespace

RemoteOutcome Engine::applyRemoteDecision(Decision d, const std::string& from) {
  const Timestamp now = Timestamp::now();
  if (d.state != DecisionState::kActive) return RemoteOutcome::kRevoked;
  if (d.expires <= now) {
    ++stats_.remote_expired;
    return RemoteOutcome::kExpired;
  }
  if (policy_->isAllowlisted(d.target)) {
    ++stats_.remote_allowlisted;
    if (remote_refused_.emplace(d.id, true).second) {
      const std::string why = allowlistNote(d.target);
      audit("decision.refused.allowlisted", d, "decision from " + from + ": " + why);
      spdlog::info("{} not acted on: {} (decision from {})", d.target.value, why, from);
    }
    return RemoteOutcome::kAllowlisted;
  }
  if (policy_->isActive(d.action, d.target.value, now)) {
    ++stats_.remote_duplicates;
    return RemoteOutcome::kDuplicate;
  }
  // The same decision may already be here: published by a CLI on this node (stored, not yet
  // enforced), or revoked here before the message arrived (never resurrected).
  const auto local = storedCopy(store_, d);
  if (local && local->state != DecisionState::kActive) return RemoteOutcome::kRevoked;
  if (dry_run_.load() && !takenByPerson(d)) {
    ++stats_.remote_applied;
    if (!local) recordDryRun(d, "from " + from + ": " + d.reason);
    return RemoteOutcome::kApplied;
  }
  const bool propose = !takenByPerson(d) && !actions_.empty() && !config_.dry_run &&
                       (manual_.load() || breakerTrips(now));
  if (propose) d.state = DecisionState::kPendingApproval;
  if (!local && store_ != nullptr) {
    if (Status st = store_->saveDecision(d); !st.isOk()) {
      ++stats_.store_errors;
      spdlog::error("storing decision from {} for {}: {}", from, d.target.value, st.toString());
    }
    audit(propose ? "decision.proposed" : "decision.received", d, "from " + from + ": " + d.reason);
  }
  if (!propose) policy_->noteActive(d);
  ++stats_.remote_applied;
  spdlog::info("decision from {}: {} {} until {}", from, d.action, d.target.value,
               formatRfc3339(d.expires));
  emitDecision(propose ? "decision.proposed" : "decision.created", d);
  enforce(d, propose);
  return RemoteOutcome::kApplied;
}

RemoteOutcome Engine::applyRemoteRevocation(const Decision& d, const std::string& from) {
  auto local = storedCopy(store_, d);
  const bool policy_active = policy_->isActive(d.action, d.target.value, Timestamp::now());
  if (!local) return RemoteOutcome::kUnknown;
  // Revoked in the store by a CLI on this node, but still enforced by this engine: undo it.
  const bool needs_undo = local->state == DecisionState::kActive ||
                          (local->state == DecisionState::kRevoked && policy_active);
  if (!needs_undo) return RemoteOutcome::kRevoked;
  if (local->state == DecisionState::kActive && store_ != nullptr) {
    if (Status st = store_->updateDecisionState(local->id, DecisionState::kRevoked); !st.isOk()) {
      ++stats_.store_errors;
      spdlog::error("revoking {} (from {}): {}", local->id, from, st.toString());
    }
    local->state = DecisionState::kRevoked;
    audit("decision.revoked", *local, "revoked on " + from);
  }
  policy_->noteEnded(*local);
  if (!config_.dry_run && !actions_.empty() && !executor_->submitUndo(*local)) {
    audit("action.queue_full", *local, "undo not queued: action queue full");
  }
  ++stats_.remote_revoked;
  emitDecision("decision.revoked", *local);
  spdlog::info("decision {} on {} revoked (from {})", local->id, local->target.value, from);
  return RemoteOutcome::kApplied;
}

}  // namespace riposte

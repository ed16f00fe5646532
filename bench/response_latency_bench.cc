// Finding → decision → action queued, in-process, through the real path: Engine::onFinding
// (finding stored with its evidence, Policy::decide, decision stored, hash-chained audit entry,
// Executor::submitApply) with a SQLite store (WAL) in a temporary directory on disk. The action
// only counts what it is given, so nothing outside the process is timed; it is enforcing, so
// the executor verifies it and the engine audits its result on the executor's thread (that
// write competes with the next finding's, as it does in `riposte serve`).
//
// A detector registered by the benchmark hands the engine one prepared finding per processed
// line (five sshd evidence events, distinct address each time); each finding is timed alone
// with the steady clock, from the detector's call of the engine's sink to the engine's decision
// listener (called once the action job is queued). Peers in the same run, on a fresh store
// each: the bare SqliteStore::saveDecision of one decision row, and the bare
// SqliteStore::appendAudit of one entry (the two durable writes a decision needs before it is
// acted on; the finding and its evidence are a third).
//
//   build/bench/response_latency_bench --benchmark_counters_tabular=true
//
// Counters (microseconds): p50_us, p99_us, max_us, mean_us over `findings` (or `rows`).
// Arguments of BM_FindingToQueued: findings, escalation ladder (0/1: the policy then counts
// the target's earlier decisions in the store), gap between findings in µs (0 = back to back).
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include "riposte/core/ids.h"
#include "riposte/core/registry.h"
#include "riposte/engine/engine.h"
#include "riposte/store/sqlite_store.h"

namespace riposte {
namespace {

using Clock = std::chrono::steady_clock;

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rp-resp-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void setPercentiles(benchmark::State& state, std::vector<double> us, const char* what) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[static_cast<size_t>(q * static_cast<double>(us.size() - 1))];
  };
  double total = 0;
  for (double x : us) total += x;
  state.counters["p50_us"] = at(0.50);
  state.counters["p99_us"] = at(0.99);
  state.counters["max_us"] = us.back();
  state.counters["mean_us"] = total / static_cast<double>(us.size());
  state.counters[what] = static_cast<double>(us.size());
}

// What the injecting detector and the listener share with the benchmark loop.
struct Probe {
  std::optional<Finding> next;  // handed to the engine by the next processed line
  Clock::time_point found, queued;
};
Probe g_probe;
std::atomic<uint64_t> g_applied{0};

class InjectDetector : public Detector {
 public:
  std::string_view name() const override { return "inject"; }
  void onEvent(const Event&, const FindingSink& sink) override {
    if (!g_probe.next) return;
    Finding f = std::move(*g_probe.next);
    g_probe.next.reset();
    g_probe.found = Clock::now();
    sink(std::move(f));
  }
};

// Enforcing, so the executor verifies it and the engine audits its result; applies nothing.
class CountingAction : public Action {
 public:
  explicit CountingAction(std::string n) : name_(std::move(n)) {}
  std::string_view name() const override { return name_; }
  Status apply(const Decision&) override {
    ++g_applied;
    return Status::ok();
  }
  Status undo(const Decision&) override { return Status::ok(); }
  bool enforcing() const override { return true; }

 private:
  std::string name_;
};

std::string ipFor(int i) {
  return "198.18." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256);
}

std::string sshdLine(const std::string& ip, int n) {
  return "Feb 12 14:10:" + std::to_string(10 + n) +
         " host1 sshd[16378]: Failed password for root from " + ip + " port " +
         std::to_string(53500 + n) + " ssh2";
}

// A threshold detector's finding about `ip`: five failed logins as evidence.
Finding findingFor(Parser& sshd, int i) {
  Finding f;
  const std::string ip = ipFor(i);
  f.id = newId();
  f.detector = "ssh-bruteforce";
  f.entity = {TargetType::kIp, ip};
  f.severity = 7;
  f.score = 1.0;
  f.reason = "5 failed logins within 60s from " + ip;
  f.suggested_action = "block";
  f.event_count = 5;
  f.labels = {"T1110"};
  ParseContext ctx;
  ctx.year = 2026;
  Event ev;
  for (int n = 0; n < 5; ++n) {
    const std::string line = sshdLine(ip, n);
    ev.clear();
    ev.setRaw(line);
    ev.setOrigin("/var/log/auth.log",
                 static_cast<uint64_t>(i) * 600 + static_cast<uint64_t>(n) * 100);
    (void)sshd.parse(line, ctx, ev);
    f.evidence.push_back(EvidenceEvent::withFields(ev));
  }
  f.first_seen = f.evidence.front().timestamp;
  f.last_seen = f.evidence.back().timestamp;
  return f;
}

void BM_FindingToQueued(benchmark::State& state) {
  spdlog::set_level(spdlog::level::warn);
  const int findings = static_cast<int>(state.range(0));
  const bool escalation = state.range(1) != 0;
  const auto gap = std::chrono::microseconds(state.range(2));
  ScratchDir dir;
  Registries reg;
  (void)registerBuiltins(reg);
  (void)reg.detectors.add("inject", "benchmark",
                          [](const ComponentConfig&, const FactoryContext&) -> Result<DetectorPtr> {
                            return DetectorPtr(new InjectDetector);
                          });
  (void)reg.actions.add("counting", "benchmark",
                        [](const ComponentConfig& c, const FactoryContext&) -> Result<ActionPtr> {
                          return ActionPtr(new CountingAction(c.name));
                        });
  std::string yaml =
      "detectors:\n  - name: inject\n    type: inject\n"
      "actions:\n  - name: fw\n    type: counting\n"
      "response:\n  default_duration: 1h\n  max_blocks_per_minute: 0\n  max_active_blocks: 0\n";
  if (escalation) yaml += "  escalation: [1h, 4h, 24h]\n";
  auto cfg = parseConfig(yaml, "bench.yaml", &reg);
  if (!cfg) {
    state.SkipWithError(cfg.status().toString().c_str());
    return;
  }
  auto store = SqliteStore::open((dir.path() / "riposte.db").string());
  if (!store) {
    state.SkipWithError(store.status().toString().c_str());
    return;
  }
  auto engine = Engine::create(*cfg, reg, store->get(), EngineOptions{});
  if (!engine) {
    state.SkipWithError(engine.status().toString().c_str());
    return;
  }
  Engine& e = **engine;
  e.setDecisionListener([](const Decision&) { g_probe.queued = Clock::now(); });
  Parser& sshd = **e.parser("sshd");
  ParseContext ctx;
  ctx.year = 2026;
  const std::string trigger = sshdLine("203.0.113.1", 0);
  const SourceLine line{trigger, "/var/log/auth.log", 0, {}, false};
  g_applied = 0;
  std::vector<double> us;
  us.reserve(static_cast<size_t>(findings));
  for (auto _ : state) {
    us.clear();
    double total = 0;
    for (int i = 0; i < findings; ++i) {
      g_probe.next = findingFor(sshd, i);
      g_probe.queued = {};
      e.process(sshd, ctx, line);
      if (g_probe.queued == Clock::time_point{}) {
        state.SkipWithError("a finding did not become a queued decision");
        return;
      }
      us.push_back(
          std::chrono::duration<double, std::micro>(g_probe.queued - g_probe.found).count());
      total += us.back();
      if (gap.count() > 0) std::this_thread::sleep_for(gap);
    }
    state.SetIterationTime(total / 1e6);
  }
  e.drain();
  setPercentiles(state, us, "findings");
  state.counters["applied"] = static_cast<double>(g_applied.load());
  state.counters["decisions"] = static_cast<double>(e.stats().decisions);
}
BENCHMARK(BM_FindingToQueued)
    ->ArgNames({"findings", "escalation", "gap_us"})
    ->Args({5000, 0, 0})
    ->Args({5000, 0, 500})
    ->Args({5000, 1, 0})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

Decision decisionFor(int i) {
  const Timestamp now = Timestamp::now();
  Decision d;
  d.id = newId(now);
  d.action = "block";
  d.target = {TargetType::kIp, ipFor(i)};
  d.detector = "ssh-bruteforce";
  d.reason = "5 failed logins within 60s from " + d.target.value;
  d.finding_id = newId(now);
  d.events = 5;
  d.first_seen = d.last_seen = d.created = now;
  d.expires = now + std::chrono::hours(1);
  d.origin = "engine";
  return d;
}

// Peer: one decision row, one autocommit INSERT (what saveDecision costs alone).
void BM_BareDecisionInsert(benchmark::State& state) {
  const int rows = static_cast<int>(state.range(0));
  ScratchDir dir;
  auto store = SqliteStore::open((dir.path() / "riposte.db").string());
  if (!store) {
    state.SkipWithError(store.status().toString().c_str());
    return;
  }
  std::vector<double> us;
  for (auto _ : state) {
    us.clear();
    double total = 0;
    for (int i = 0; i < rows; ++i) {
      const Decision d = decisionFor(i);
      const auto t0 = Clock::now();
      (void)(*store)->saveDecision(d);
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      total += us.back();
    }
    state.SetIterationTime(total / 1e6);
  }
  setPercentiles(state, us, "rows");
}
BENCHMARK(BM_BareDecisionInsert)
    ->ArgNames({"rows"})
    ->Arg(5000)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// Peer: one hash-chained audit entry carrying the decision (what audit() costs alone).
void BM_BareAuditAppend(benchmark::State& state) {
  const int rows = static_cast<int>(state.range(0));
  ScratchDir dir;
  auto store = SqliteStore::open((dir.path() / "riposte.db").string());
  if (!store) {
    state.SkipWithError(store.status().toString().c_str());
    return;
  }
  std::vector<double> us;
  for (auto _ : state) {
    us.clear();
    double total = 0;
    for (int i = 0; i < rows; ++i) {
      const Decision d = decisionFor(i);
      AuditEntry a;
      a.actor = "engine";
      a.kind = "decision.created";
      a.target = d.target.value;
      a.reason = d.reason;
      a.details_json = d.toJson();
      const auto t0 = Clock::now();
      (void)(*store)->appendAudit(a);
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      total += us.back();
    }
    state.SetIterationTime(total / 1e6);
  }
  setPercentiles(state, us, "rows");
}
BENCHMARK(BM_BareAuditAppend)
    ->ArgNames({"rows"})
    ->Arg(5000)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace riposte

BENCHMARK_MAIN();

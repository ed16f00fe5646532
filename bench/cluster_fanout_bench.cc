// Cross-node decision propagation over loopback: node A's engine takes a decision, node B's
// engine has applied it (stored, policy, action queued) — through Redis (a redis-server this
// benchmark starts on a free loopback port). Peer measured in the same run: a bare Redis
// PUBLISH → subscriber read on two hiredis connections (the floor any pub/sub fan-out pays).
//
//   build/bench/cluster_fanout_bench --benchmark_counters_tabular=true
//
// Counters: p50_ms, p99_ms, max_ms over `decisions` sequential decisions (each waits for the
// previous one to arrive, so the figure is latency, not throughput).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "riposte/cluster/decision_bus.h"
#include "riposte/core/ids.h"
#include "riposte/core/registry.h"
#include "riposte/engine/engine.h"
#include "riposte/engine/serve.h"
#include "riposte/net/redis_client.h"
#include "support/redis_server.h"

namespace riposte {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kDecisions = 2000;

testing::RedisServer& server() {
  static testing::RedisServer* s = [] {
    auto* x = new testing::RedisServer;
    if (!x->start()) {
      std::fprintf(stderr, "cluster_fanout_bench: %s\n", x->error().c_str());
      std::exit(1);
    }
    return x;
  }();
  return *s;
}

void setPercentiles(benchmark::State& state, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[static_cast<size_t>(q * static_cast<double>(ms.size() - 1))];
  };
  state.counters["p50_ms"] = at(0.50);
  state.counters["p99_ms"] = at(0.99);
  state.counters["max_ms"] = ms.back();
  state.counters["decisions"] = static_cast<double>(ms.size());
}

struct Node {
  testing::TempDir dir;
  Registries reg;
  Config cfg;
  StorePtr store;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<cluster::DecisionBus> bus;

  explicit Node(const std::string& name) {
    (void)registerBuiltins(reg);
    auto c = parseConfig("store:\n  path: " + (dir.path() / "r.db").string() +
                             "\nactions:\n  - name: log\n    type: log\n    path: /dev/null\n"
                             "response:\n  max_blocks_per_minute: 0\n  max_active_blocks: 0\n"
                             "cluster:\n  redis: " +
                             server().url() + "\n  node: " + name + "\n",
                         name, &reg);
    if (!c) {
      std::fprintf(stderr, "%s\n", c.status().toString().c_str());
      std::exit(1);
    }
    cfg = *c;
    store = openStore(cfg, reg).value();
    engine = Engine::create(cfg, reg, store.get(), EngineOptions{}).value();
    bus = std::make_unique<cluster::DecisionBus>(**cluster::DecisionBusOptions::fromConfig(cfg));
    engine->setDecisionListener([this](const Decision& d) { bus->publishDecision(d); });
    bus->start();
  }
};

// Engine A decides → engine B has applied it.
void BM_DecisionPropagation(benchmark::State& state) {
  Node a("bench-a"), b("bench-b");
  while (!a.bus->health().connected || !b.bus->health().connected) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::atomic<uint64_t> applied{0};
  std::atomic<bool> stop{false};
  std::vector<Clock::time_point> applied_at(kDecisions);
  // B's engine thread: delivers what its bus received, as `riposte serve` does.
  std::thread b_engine([&] {
    while (!stop) {
      b.bus->waitForInbound(std::chrono::milliseconds(200));
      b.bus->deliver(*b.engine, b.store.get());
      const uint64_t n = b.engine->stats().remote_applied;
      const auto now = Clock::now();
      for (uint64_t i = applied.load(); i < n && i < kDecisions; ++i) applied_at[i] = now;
      applied = n;
    }
  });
  std::vector<double> ms;
  for (auto _ : state) {
    ms.clear();
    const uint64_t base = applied.load();
    for (int i = 0; i < kDecisions && base + i < kDecisions; ++i) {
      const Timestamp now = Timestamp::now();
      Decision d;
      d.id = newId(now);
      d.target = {TargetType::kIp, "45." + std::to_string(i / 65536 % 256) + "." +
                                       std::to_string(i / 256 % 256) + "." +
                                       std::to_string(i % 256)};
      d.detector = "bench";
      d.first_seen = d.last_seen = d.created = now;
      d.expires = now + std::chrono::hours(1);
      const auto t0 = Clock::now();
      (void)a.engine->addManualDecision(d, "cli:bench");
      while (applied.load() < base + i + 1) std::this_thread::yield();
      ms.push_back(std::chrono::duration<double, std::milli>(applied_at[base + i] - t0).count());
    }
    double total = 0;
    for (double x : ms) total += x;
    state.SetIterationTime(total / 1000.0);
  }
  stop = true;
  b_engine.join();
  if (!ms.empty()) setPercentiles(state, ms);
}
BENCHMARK(BM_DecisionPropagation)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// The peer: PUBLISH on one connection, read on a subscribed one.
void BM_RawPubSubRoundTrip(benchmark::State& state) {
  net::RedisOptions o;
  (void)net::parseRedisUrl(server().url(), o);
  net::RedisClient pub(o), sub(o);
  (void)sub.subscribe({"bench:raw"});
  std::vector<double> ms;
  for (auto _ : state) {
    ms.clear();
    double total = 0;
    for (int i = 0; i < kDecisions; ++i) {
      const auto t0 = Clock::now();
      (void)pub.command({"PUBLISH", "bench:raw", std::string(400, 'x')});
      while (true) {
        auto r = sub.readPush(std::chrono::milliseconds(1000));
        if (!r || r->has_value()) break;
      }
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      total += ms.back();
    }
    state.SetIterationTime(total / 1000.0);
  }
  setPercentiles(state, ms);
}
BENCHMARK(BM_RawPubSubRoundTrip)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace riposte

BENCHMARK_MAIN();

// Cost of an intel predicate in a rule, one core: the same auth events (pre-parsed, 16,384,
// fixed seed, addresses drawn from a pool of 4,096 public IPv4 addresses; 3 in 4 failures)
// through one rule whose selection is `event.outcome: failure` and a test on source.ip that
// never holds, so that the time is the selection's alone (no aggregation):
//  - BM_IntelPredicate: `source.ip: {intel: {min_score: 100}}` against a store of 1,000,000
//    IPv4 addresses and 100,000 /24 CIDRs (1 in 16 pool addresses listed, every score 90: the
//    look-up runs and finds those hits, the score filter drops them).
//  - BM_CidrPredicate (peer): `source.ip: {cidr: [16 ranges]}` (ranges no pool address is in),
//    the rule language's other test on an address.
//  - BM_ExistsFloor (floor): `source.ip: {exists: false}`.
//
//   build/bench/intel_rules_bench
//
// items_per_second is events per second.
#include <benchmark/benchmark.h>

#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "riposte/detect/rules/intel_predicate.h"
#include "riposte/detect/rules/rule_engine.h"
#include "riposte/detect/rules/rule_loader.h"
#include "riposte/intel/builder.h"

namespace {

using namespace riposte;

constexpr size_t kEvents = 16384;

std::string ipText(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

uint32_t publicAddress(std::mt19937& g) {
  for (;;) {
    const uint32_t a = static_cast<uint32_t>(g());
    const uint32_t top = a >> 24;
    if (top == 0 || top == 10 || top == 127 || top >= 224 || top == 192 || top == 172 ||
        top == 100 || top == 169 || top == 198 || top == 203)
      continue;
    return a;
  }
}

struct Fixture {
  std::vector<std::string> pool;
  std::deque<std::string> texts;
  std::vector<Event> events;
  std::shared_ptr<intel::Store> store = std::make_shared<intel::Store>();

  Fixture() {
    std::mt19937 g(42);
    for (int i = 0; i < 4096; ++i) pool.push_back(ipText(publicAddress(g)));
    intel::BuildOptions o;
    o.apply_known_good = false;
    o.now = Timestamp::now();
    intel::SnapshotBuilder b(o);
    auto add = [&](intel::IndicatorType t, std::string v) {
      intel::Indicator ind;
      ind.type = t;
      ind.value = std::move(v);
      ind.source = "bench";
      ind.confidence = 90;
      ind.last_seen = o.now;
      b.add(ind);
    };
    for (int i = 0; i < 1'000'000; ++i) add(intel::IndicatorType::kIpv4, ipText(publicAddress(g)));
    for (int i = 0; i < 100'000; ++i) {
      add(intel::IndicatorType::kCidr4, ipText(publicAddress(g) & 0xffffff00u) + "/24");
    }
    for (size_t i = 0; i < pool.size(); i += 16) add(intel::IndicatorType::kIpv4, pool[i]);
    store->publish(b.build());
    events.resize(kEvents);
    for (size_t i = 0; i < kEvents; ++i) {
      Event& e = events[i];
      e.setKind(EventKind::kAuth);
      e.setTimestamp(Timestamp::fromSeconds(1'700'000'000 + static_cast<int64_t>(i)));
      e.set(Field::kSourceIp, pool[g() % pool.size()]);
      e.set(Field::kEventOutcome, i % 4 == 0 ? "success" : "failure");
    }
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void run(benchmark::State& state, const std::string& test) {
  Fixture& fx = fixture();
  const std::string yaml =
      "rules:\n  - id: r\n    kinds: [auth]\n    match:\n"
      "      event.outcome: failure\n" +
      test + "    aggregate: {type: count, threshold: 1000000, window: 1s}\n";
  auto loaded = rules::loadRuleText(yaml, "bench.yaml");
  if (loaded.hasErrors()) {
    state.SkipWithError(loaded.toJson().c_str());
    return;
  }
  auto view = std::make_shared<rules::IntelView>(fx.store);
  rules::bindIntel(loaded.rules, view);
  rules::RuleEngine engine("rules", std::move(loaded.rules));
  engine.setIntel(view);
  size_t findings = 0;
  for (auto _ : state) {
    for (const Event& e : fx.events) engine.onEvent(e, [&](Finding&&) { ++findings; });
  }
  benchmark::DoNotOptimize(findings);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kEvents));
}

void BM_IntelPredicate(benchmark::State& state) {
  run(state, "      source.ip: {intel: {min_score: 100}}\n");
}
void BM_CidrPredicate(benchmark::State& state) {
  std::string ranges;
  for (int i = 0; i < 16; ++i) {
    ranges += (i == 0 ? "" : ", ") + std::string("224.") + std::to_string(i * 16) + ".0.0/12";
  }
  run(state, "      source.ip: {cidr: [" + ranges + "]}\n");
}
void BM_ExistsFloor(benchmark::State& state) { run(state, "      source.ip: {exists: false}\n"); }

BENCHMARK(BM_IntelPredicate);
BENCHMARK(BM_CidrPredicate);
BENCHMARK(BM_ExistsFloor);

}  // namespace

BENCHMARK_MAIN();

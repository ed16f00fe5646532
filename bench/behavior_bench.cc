// Long-term behaviour stage: nanoseconds per event, and resident memory per tracked entity.
//
// BM_LongTerm_HotSet: auth and flow events over a working set of N addresses already in memory
// (the common case). BM_LongTerm_NewEntities: every event from a new address, until 1,000,000
// are tracked (worst case for memory and the hash table); reports the resident memory it
// added (RSS from /proc/self/statm) per entity and in total. BM_ThresholdPeer: the threshold
// detector on the same events, as the peer measured in the same run. BM_EventsOnly: filling the
// events without any detector (the harness cost, to subtract).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "riposte/behavior/longterm_detector.h"
#include "riposte/detect/threshold_detector.h"
#include "riposte/store/sqlite_store.h"

namespace riposte {
namespace {

int64_t rssBytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

std::string addr(uint32_t i) {
  return "203." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
         std::to_string(i & 255);
}

struct Events {
  std::vector<std::string> ips;
  std::vector<std::string> users{"root", "admin", "alice", "bob", "oracle", "git", "pi", "ubuntu"};
};

void fill(Event& e, const std::string& ip, const std::string& user, int64_t us, uint32_t i) {
  e.clear();
  e.setTimestamp(Timestamp{us, 0});
  e.set(Field::kSourceIp, ip);
  if (i % 4 == 3) {
    e.setKind(EventKind::kFlow);
    e.set(Field::kDestinationIp, "198.51.100.7");
    e.set(Field::kDestinationPort, "443");
  } else {
    e.setKind(EventKind::kAuth);
    e.set(Field::kUserName, user);
    // One address in ten fails (an attacker), the rest log in.
    e.set(Field::kEventOutcome, ip.back() == '0' ? "failure" : "success");
  }
}

void BM_LongTerm_HotSet(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  Events ev;
  for (uint32_t i = 0; i < n; ++i) ev.ips.push_back(addr(i * 2654435761u % (n * 4)));
  LongTermConfig cfg;
  cfg.max_hot_entities = 2'000'000;
  LongTermDetector d(cfg, nullptr);
  const FindingSink sink = [](Finding&&) {};
  Event e;
  int64_t us = 1'740'787'200'000'000;
  uint32_t i = 0;
  for (auto _ : state) {
    const uint32_t k = i % n;
    fill(e, ev.ips[k], ev.users[k & 7], us, i);
    d.onEvent(e, sink);
    us += 10'000;  // 100 events per second of event time
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LongTerm_HotSet)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);

void BM_ThresholdPeer(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  Events ev;
  for (uint32_t i = 0; i < n; ++i) ev.ips.push_back(addr(i * 2654435761u % (n * 4)));
  ThresholdConfig cfg;
  cfg.filter.allowKind(EventKind::kAuth);
  cfg.filter.setOutcome("failure");
  cfg.threshold = 1'000'000;
  cfg.window = std::chrono::seconds(60);
  ThresholdDetector d(cfg);
  const FindingSink sink = [](Finding&&) {};
  Event e;
  int64_t us = 1'740'787'200'000'000;
  uint32_t i = 0;
  for (auto _ : state) {
    const uint32_t k = i % n;
    fill(e, ev.ips[k], ev.users[k & 7], us, i);
    d.onEvent(e, sink);
    us += 10'000;
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ThresholdPeer)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);

// The events alone (filled as above, no detector): the harness cost inside both figures above,
// so a stage's own cost per event is its figure minus this one.
void BM_EventsOnly(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  Events ev;
  for (uint32_t i = 0; i < n; ++i) ev.ips.push_back(addr(i * 2654435761u % (n * 4)));
  Event e;
  int64_t us = 1'740'787'200'000'000;
  uint32_t i = 0;
  for (auto _ : state) {
    const uint32_t k = i % n;
    fill(e, ev.ips[k], ev.users[k & 7], us, i);
    benchmark::DoNotOptimize(e);
    us += 10'000;
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventsOnly)->Arg(1'000)->Arg(100'000)->Arg(1'000'000);

// Every event from a new address until `n` are tracked, all in memory (max_hot above n), or
// with a smaller hot set spilling to an SQLite store (second argument: hot cap, 0 = all).
void BM_LongTerm_NewEntities(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  const auto cap = static_cast<size_t>(state.range(1));
  const std::vector<std::string> users{"root",   "admin", "alice", "bob",
                                       "oracle", "git",   "pi",    "ubuntu"};
  std::vector<std::string> ips;
  ips.reserve(n);
  for (uint32_t i = 0; i < n; ++i) ips.push_back(addr(i));
  const std::string db = "/tmp/riposte-behavior-bench-" + std::to_string(getpid()) + ".db";
  for (auto _ : state) {
    state.PauseTiming();
    std::remove(db.c_str());
    std::unique_ptr<SqliteStore> store;
    if (cap > 0) store = std::move(SqliteStore::open(db).value());
    LongTermConfig cfg;
    cfg.max_hot_entities = cap > 0 ? cap : n + 16;
    const int64_t before = rssBytes();
    {
      LongTermDetector d(cfg, store.get());
      const FindingSink sink = [](Finding&&) {};
      Event e;
      int64_t us = 1'740'787'200'000'000;
      state.ResumeTiming();
      for (uint32_t i = 0; i < n; ++i) {
        e.clear();
        e.setKind(EventKind::kAuth);
        e.setTimestamp(Timestamp{us, 0});
        e.set(Field::kSourceIp, ips[i]);
        e.set(Field::kUserName, users[i & 7]);
        e.set(Field::kEventOutcome, "success");
        d.onEvent(e, sink);
        us += 1'000;
      }
      state.PauseTiming();
      const int64_t after = rssBytes();
      state.counters["entities"] = static_cast<double>(d.hotEntities());
      state.counters["rss_added_MB"] = static_cast<double>(after - before) / 1e6;
      state.counters["bytes_per_entity"] = static_cast<double>(after - before) / n;
      state.counters["rss_total_MB"] = static_cast<double>(after) / 1e6;
    }
    state.ResumeTiming();
  }
  std::remove(db.c_str());
  std::remove((db + "-wal").c_str());
  std::remove((db + "-shm").c_str());
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_LongTerm_NewEntities)
    ->Args({1'000'000, 0})
    ->Args({1'000'000, 100'000})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace riposte

BENCHMARK_MAIN();

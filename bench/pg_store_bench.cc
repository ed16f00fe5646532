// Event log writes: PostgresStore (COPY into the day partition) against SqliteStore (one
// transaction per batch), the same synthetic events, measured in the same run.
//
//   build/bench/pg_store_bench --benchmark_counters_tabular=true
//
// Starts its own PostgreSQL server (initdb in a temporary directory, a free loopback port,
// durable settings: fsync and synchronous_commit on), on the same machine as the benchmark.
// items_per_second is events per second (wall clock). Target (issue 9): PostgreSQL >= 100,000
// events/s. client_us_per_event is CPU time in Riposte's thread, server_us_per_event CPU time in
// the PostgreSQL backend process serving the store: on a loaded machine their sum says what one
// event costs whatever the other processes do (1e6 / sum = events/s on one idle core, serially).
// The SQLite file is in the same temporary directory (WAL, synchronous=NORMAL).
#include <benchmark/benchmark.h>

#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "riposte/store/postgres_store.h"
#include "riposte/store/sqlite_store.h"
#include "support/pg_server.h"

namespace {

using riposte::EvidenceEvent;
using riposte::Timestamp;

// sshd-like lines (~110 bytes) with their ECS fields as JSON (~120 bytes), as the engine stores.
std::vector<EvidenceEvent> makeEvents(size_t n) {
  std::mt19937 g(42);
  std::vector<EvidenceEvent> out(n);
  const Timestamp now = Timestamp::now();
  for (size_t i = 0; i < n; ++i) {
    const std::string ip = "203.0.113." + std::to_string(g() % 250);
    const std::string user = (g() % 2) != 0 ? "root" : "admin" + std::to_string(g() % 100);
    auto& e = out[i];
    e.timestamp = {now.micros + static_cast<int64_t>(i), 0};
    e.source = "/var/log/auth.log";
    e.offset = i * 112;
    e.raw = "Nov 28 07:45:12 host sshd[" + std::to_string(1000 + g() % 9000) +
            "]: Failed password for " + user + " from " + ip + " port " +
            std::to_string(1024 + g() % 60000) + " ssh2";
    e.fields_json = R"({"event.kind":"auth_failure","source.ip":")" + ip + R"(","user.name":")" +
                    user + R"(","process.name":"sshd"})";
  }
  return out;
}

struct PgFixture {
  std::unique_ptr<riposte::testing::PgServer> server;
  std::string dir;
  std::unique_ptr<riposte::PostgresStore> store;
  std::string error;

  PgFixture() {
    riposte::testing::PgServer::Options o;
    o.durable = true;
    server = riposte::testing::PgServer::start(o, &error);
    if (!server) return;
    dir = server->url();
    riposte::PostgresStoreOptions so;
    so.url = server->url();
    so.spill_path = "/tmp/riposte-pg-bench-spill-" + std::to_string(::getpid()) + ".jsonl";
    auto s = riposte::PostgresStore::open(so);
    if (!s) {
      error = s.status().toString();
      return;
    }
    store = std::move(*s);
  }
  ~PgFixture() {
    store.reset();
    std::remove(("/tmp/riposte-pg-bench-spill-" + std::to_string(::getpid()) + ".jsonl").c_str());
  }
};

// CPU seconds (user + system) a process has used, from /proc/PID/stat.
double processCpuSeconds(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double threadCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

PgFixture& pg() {
  static PgFixture f;
  return f;
}

void BM_PostgresAppendEvents(benchmark::State& state) {
  auto& f = pg();
  if (!f.store) {
    state.SkipWithError(("postgres: " + f.error).c_str());
    return;
  }
  const auto events = makeEvents(static_cast<size_t>(state.range(0)));
  // The server process serving this store's connection, to count its CPU time too: on a
  // machine shared with other work, CPU time per event says what the path costs.
  auto pid = f.store->queryForTest("SELECT pg_backend_pid()");
  const std::string backend = pid && !pid->empty() ? (*pid)[0][0] : "";
  const double server0 = processCpuSeconds(backend);
  const double client0 = threadCpuSeconds();
  for (auto _ : state) {
    auto st = f.store->appendEvents(events);
    if (!st.isOk()) {
      state.SkipWithError(st.toString().c_str());
      return;
    }
  }
  const double n = static_cast<double>(state.iterations() * state.range(0));
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["client_us_per_event"] = (threadCpuSeconds() - client0) * 1e6 / n;
  state.counters["server_us_per_event"] = (processCpuSeconds(backend) - server0) * 1e6 / n;
}
BENCHMARK(BM_PostgresAppendEvents)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3);

void BM_SqliteAppendEvents(benchmark::State& state) {
  char tmpl[] = "/tmp/riposte-sqlite-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    state.SkipWithError("mkdtemp");
    return;
  }
  const std::string path = std::string(tmpl) + "/bench.db";
  {
    auto s = riposte::SqliteStore::open(path);
    if (!s) {
      state.SkipWithError(s.status().toString().c_str());
      return;
    }
    const auto events = makeEvents(static_cast<size_t>(state.range(0)));
    const double client0 = threadCpuSeconds();
    for (auto _ : state) {
      auto st = (*s)->appendEvents(events);
      if (!st.isOk()) {
        state.SkipWithError(st.toString().c_str());
        break;
      }
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
    state.counters["client_us_per_event"] =
        (threadCpuSeconds() - client0) * 1e6 /
        static_cast<double>(state.iterations() * state.range(0));
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  ::rmdir(tmpl);
}
BENCHMARK(BM_SqliteAppendEvents)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3);

}  // namespace

BENCHMARK_MAIN();

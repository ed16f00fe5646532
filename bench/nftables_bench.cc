// nftables throughput, measured inside a private network namespace (run as root):
//   1. N elements through `nft -f FILE` (one text batch), and the same N elements through
//      NftablesAction::applyBatch (one libnftables transaction in nft's syntax), side by side, each
//      into a set just created;
//   3. restore of N active decisions from the SQLite store after a restart: Engine::restore()
//      with the nftables action, until the executor has applied the batch.
// Each step prints its wall time and the CPU time it used (user + system, all threads; the
// kernel's netlink work runs in the sending process, so it is included), which a loaded machine
// changes far less than the wall time.
// Usage: build/bench/nftables_bench [N]   (default 100000)
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "riposte/core/registry.h"
#include "riposte/engine/engine.h"
#include "riposte/respond/nftables_action.h"
#include "riposte/store/sqlite_store.h"

extern char** environ;

using namespace riposte;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU seconds (user + system) used so far by this process (or by its waited-for children).
double cpuSeconds(int who = RUSAGE_SELF) {
  rusage u{};
  getrusage(who, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

// Runs a program without a shell; returns its exit status.
int sh(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ipFor(int i) {
  return "10." + std::to_string(100 + i / 65536) + "." + std::to_string((i / 256) % 256) + "." +
         std::to_string(i % 256);
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  const std::string ns = "rp-bench-" + std::to_string(getpid());
  if (sh({"ip", "netns", "add", ns}) != 0) {
    std::fprintf(stderr, "cannot create a network namespace (need root)\n");
    return 1;
  }
  const int fd = open(("/var/run/netns/" + ns).c_str(), O_RDONLY);
  if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "setns failed\n");
    sh({"ip", "netns", "del", ns});
    return 1;
  }
  const Timestamp now = Timestamp::now();
  std::vector<Decision> ds(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    Decision& d = ds[static_cast<size_t>(i)];
    d.id = "bench" + std::to_string(i);
    d.target = {TargetType::kIp, ipFor(i)};
    d.created = now;
    d.expires = now + std::chrono::hours(1);
  }
  {
    // Each batch goes into a set just created, as after a first start: a hash set grows while
    // it is filled, and a set emptied by a flush keeps its grown table, which would favour
    // whichever batch ran second. nft -f runs first here; then the table is deleted and the
    // action creates it afresh.
    auto fresh = [&]() -> std::unique_ptr<NftablesAction> {
      sh({"ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "riposte"});
      auto a = NftablesAction::create("fw", NftablesConfig{});
      if (!a || !(*a)->ensureSetup().isOk()) return nullptr;
      return std::move(*a);
    };
    auto first = fresh();
    if (!first) {
      std::fprintf(stderr, "nftables setup failed\n");
      return 1;
    }
    const std::string file = "/tmp/" + ns + ".nft";
    {
      std::ofstream f(file);
      f << "add element inet riposte blocked4 { ";
      for (int i = 0; i < n; ++i) f << (i ? ", " : "") << ipFor(i) << " timeout 3600s";
      f << " }\n";
    }
    auto t0 = Clock::now();
    double c0 = cpuSeconds(RUSAGE_CHILDREN);
    const int rc = sh({"ip", "netns", "exec", ns, "nft", "-f", file});
    const double nft_s = since(t0);
    const double nft_cpu = cpuSeconds(RUSAGE_CHILDREN) - c0;
    std::filesystem::remove(file);
    first.reset();

    auto a = fresh();
    if (!a) {
      std::fprintf(stderr, "nftables setup failed\n");
      return 1;
    }
    t0 = Clock::now();
    c0 = cpuSeconds();
    Status st = a->applyBatch(ds);
    const double riposte_s = since(t0);
    const double riposte_cpu = cpuSeconds() - c0;
    auto els = a->listElements();
    std::printf("nft -f       %d elements: %.3f s, cpu %.3f s (exit %d)\n", n, nft_s, nft_cpu, rc);
    std::printf("applyBatch   %d elements: %.3f s, cpu %.3f s (%s, %zu in set)\n", n, riposte_s,
                riposte_cpu, st.toString().c_str(), els ? els->size() : 0);
    std::printf("ratio applyBatch / nft -f: %.2f (cpu %.2f)\n", riposte_s / nft_s,
                riposte_cpu / nft_cpu);
    sh({"ip", "netns", "exec", ns, "nft", "flush", "set", "inet", "riposte", "blocked4"});
  }
  {
    // Restore after a restart: N active decisions in the store.
    const std::string db = "/tmp/" + ns + ".db";
    auto store = SqliteStore::open(db);
    if (!store) return 1;
    (void)(*store)->execForTest("BEGIN");
    for (const auto& d : ds) (void)(*store)->saveDecision(d);
    (void)(*store)->execForTest("COMMIT");
    Registries reg;
    (void)registerBuiltins(reg);
    auto cfg = parseConfig("actions:\n  - name: fw\n    type: nftables\n", "bench.yaml", &reg);
    if (!cfg) {
      std::fprintf(stderr, "%s\n", cfg.status().toString().c_str());
      return 1;
    }
    {
      DecisionFilter f;
      f.state = DecisionState::kActive;
      f.limit = 10'000'000;
      f.ordered = false;  // as restore() lists them
      auto t = Clock::now();
      const double c = cpuSeconds();
      auto all = (*store)->listDecisions(f);
      std::printf("  (store listing of %zu active decisions alone: %.3f s, cpu %.3f s)\n",
                  all ? all->size() : 0, since(t), cpuSeconds() - c);
    }
    EngineOptions eo;
    auto t0 = Clock::now();
    const double c0 = cpuSeconds();
    auto e = Engine::create(*cfg, reg, store->get(), eo);
    if (!e) return 1;
    Status st = (*e)->restore();
    const double queued_s = since(t0);
    const double queued_cpu = cpuSeconds() - c0;
    (*e)->drain();
    const double restore_s = since(t0);
    const double restore_cpu = cpuSeconds() - c0;
    auto a = NftablesAction::create("check", NftablesConfig{});
    auto els = (*a)->listElements();
    std::printf(
        "restore      %d active decisions: %.3f s, cpu %.3f s (%s, %zu in set, %llu applied)\n", n,
        restore_s, restore_cpu, st.toString().c_str(), els ? els->size() : 0,
        static_cast<unsigned long long>((*e)->stats().actions_applied));
    std::printf(
        "  (engine start and restore() until the batch is queued: %.3f s, cpu %.3f s; executor "
        "until applied: %.3f s, cpu %.3f s)\n",
        queued_s, queued_cpu, restore_s - queued_s, restore_cpu - queued_cpu);
    e->reset();
    std::filesystem::remove(db);
    std::filesystem::remove(db + "-wal");
    std::filesystem::remove(db + "-shm");
  }
  close(fd);
  sh({"ip", "netns", "del", ns});
  return 0;
}

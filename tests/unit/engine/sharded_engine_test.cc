// Sharded analysis (engine.threads > 1) decides what one thread decides: the same logs replayed
// through engines with 1 and 4 analysis threads give the same decisions, findings and rule
// counters.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>

#include "riposte/core/registry.h"
#include "riposte/engine/engine.h"
#include "riposte/engine/replay.h"
#include "riposte/store/sqlite_store.h"
#include "support/test_support.h"

namespace riposte {
namespace {

using testing::TempDir;

struct ReplayRun {
  std::multiset<std::string> decisions;  // each without its id
  EngineStats stats;
  unsigned threads = 0;
  std::map<std::string, uint64_t> rule_matches;
};

ReplayRun replayWith(const std::string& yaml, int threads, const std::vector<std::string>& files) {
  ReplayRun run;
  Registries reg;
  EXPECT_TRUE(registerBuiltins(reg).isOk());
  auto cfg = parseConfig(yaml, "test.yaml", &reg);
  EXPECT_TRUE(cfg.isOk()) << cfg.status().toString();
  if (!cfg.isOk()) return run;
  auto store = SqliteStore::open(":memory:");
  EXPECT_TRUE(store.isOk());
  EngineOptions eo;
  eo.run_actions = false;
  eo.fetch_feeds = false;
  eo.decide_at_event_time = true;
  eo.actor = "replay";
  eo.threads = threads;
  auto engine = Engine::create(*cfg, reg, store->get(), eo);
  EXPECT_TRUE(engine.isOk()) << engine.status().toString();
  if (!engine.isOk()) return run;
  (*engine)->setDecisionListener([&run](const Decision& d) {
    auto j = nlohmann::json::parse(d.toJson());
    j.erase("id");
    run.decisions.insert(j.dump());
  });
  ReplayOptions ro;
  ro.files = files;
  ro.type = "sshd";
  ro.year = 2025;
  auto summary = replay(**engine, reg, ro);
  EXPECT_TRUE(summary.isOk()) << summary.status().toString();
  run.stats = (*engine)->stats();
  run.threads = (*engine)->threads();
  for (const auto& r : (*engine)->rules()) run.rule_matches[r.id] += r.matches;
  return run;
}

// A seeded sshd log: brute forcers (IPv4 and IPv6, some sharing a /64), slow guessers,
// benign logins, probes, and lines without an address.
std::string generateLog(const std::filesystem::path& path, size_t lines) {
  std::mt19937 rng(42);
  std::ofstream out(path);
  int64_t t = 0;
  for (size_t i = 0; i < lines; ++i) {
    t += rng() % 3;
    const int day = 1 + static_cast<int>(t / 86400 % 28);
    char ts[32];
    std::snprintf(ts, sizeof ts, "Mar %2d %02d:%02d:%02d", day, static_cast<int>(t / 3600 % 24),
                  static_cast<int>(t / 60 % 60), static_cast<int>(t % 60));
    std::string ip;
    const unsigned who = rng() % 100;
    if (who < 30) {
      ip = "203.0.113." + std::to_string(1 + rng() % 40);  // a few busy attackers
    } else if (who < 40) {
      ip = "2001:db8:" + std::to_string(rng() % 3) + "::" + std::to_string(1 + rng() % 6);
    } else {
      ip = "198.51." + std::to_string(rng() % 100) + "." + std::to_string(1 + rng() % 250);
    }
    const unsigned kind = rng() % 10;
    const std::string port = std::to_string(30000 + rng() % 30000);
    std::string msg;
    if (kind < 4) {
      msg = "Failed password for " + std::string(rng() % 2 ? "root" : "invalid user admin") +
            " from " + ip + " port " + port + " ssh2";
    } else if (kind < 6) {
      msg = "Invalid user u" + std::to_string(rng() % 50) + " from " + ip + " port " + port;
    } else if (kind < 7) {
      msg = "Accepted publickey for deploy from " + ip + " port " + port + " ssh2";
    } else if (kind < 8) {
      msg = "Connection closed by authenticating user root " + ip + " port " + port + " [preauth]";
    } else if (kind < 9) {
      msg = "Did not receive identification string from " + ip + " port " + port;
    } else {
      msg = "pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)";
    }
    out << ts << " web1 sshd[" << (1000 + i % 5000) << "]: " << msg << "\n";
  }
  return path.string();
}

void expectSame(const ReplayRun& one, const ReplayRun& four) {
  EXPECT_EQ(one.threads, 1u);
  EXPECT_EQ(four.threads, 4u);
  EXPECT_FALSE(one.decisions.empty());
  EXPECT_EQ(one.decisions, four.decisions);
  EXPECT_EQ(one.stats.lines, four.stats.lines);
  EXPECT_EQ(one.stats.parsed, four.stats.parsed);
  EXPECT_EQ(one.stats.findings, four.stats.findings);
  EXPECT_EQ(one.stats.decisions, four.stats.decisions);
  EXPECT_EQ(one.stats.duplicates, four.stats.duplicates);
  EXPECT_EQ(one.rule_matches, four.rule_matches);
}

TEST(ShardedEngine, BundledRulesSameDecisionsOnOneAndFourThreads) {
  TempDir dir;
  const auto log = generateLog(dir.path() / "auth.log", 60'000);
  const std::string yaml = defaultConfigYaml();
  const ReplayRun one = replayWith(yaml, 1, {log});
  const ReplayRun four = replayWith(yaml, 4, {log});
  expectSame(one, four);
  uint64_t matches = 0;
  for (const auto& [id, n] : four.rule_matches) matches += n;
  EXPECT_GT(matches, 0u) << "rule counters are summed over the shards";
}

// A threshold keyed by user spans addresses: it runs on the pipeline thread beside the sharded
// rules, and still decides as on one thread.
TEST(ShardedEngine, DetectorKeyedByUserRunsBesideTheShards) {
  TempDir dir;
  const auto log = generateLog(dir.path() / "auth.log", 30'000);
  const std::string yaml = R"(
detectors:
  - name: rules
    type: rules
    paths: ["@bundled"]
  - name: per-ip
    type: threshold
    kinds: [auth]
    outcome: failure
    threshold: 8
    window: 60s
  - name: per-user
    type: threshold
    kinds: [auth]
    outcome: failure
    key: user.name
    threshold: 50
    window: 60s
    action: alert
)";
  const ReplayRun one = replayWith(yaml, 1, {log});
  const ReplayRun four = replayWith(yaml, 4, {log});
  expectSame(one, four);
}

TEST(ShardedEngine, LoghubOpenSshSameDecisionsOnOneAndFourThreads) {
  RIPOSTE_REQUIRE_CORPUS(log, "loghub/OpenSSH/OpenSSH_2k.log");
  const std::string yaml = defaultConfigYaml();
  expectSame(replayWith(yaml, 1, {log.string()}), replayWith(yaml, 4, {log.string()}));
}

TEST(ShardedEngine, ThreadsAsAskedUnlessNoDetectorCanBeSharded) {
  TempDir dir;
  const auto log = generateLog(dir.path() / "auth.log", 100);
  EXPECT_EQ(replayWith(defaultConfigYaml(), -1, {log}).threads, 1u);
  EXPECT_EQ(replayWith(defaultConfigYaml(), 2, {log}).threads, 2u);
  // engine.threads, and --threads over it.
  const std::string three = std::string("engine: {threads: 3}\n") + defaultConfigYaml();
  EXPECT_EQ(replayWith(three, -1, {log}).threads, 3u);
  EXPECT_EQ(replayWith(three, 2, {log}).threads, 2u);
  // Only a detector keyed by user: nothing to shard, one thread.
  const std::string by_user = R"(
detectors:
  - name: per-user
    type: threshold
    key: user.name
    threshold: 5
    window: 60s
)";
  EXPECT_EQ(replayWith(by_user, 4, {log}).threads, 1u);
}

}  // namespace
}  // namespace riposte

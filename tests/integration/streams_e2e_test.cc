// Three nodes on one machine, on a real redis-server and PostgreSQL: one ingest node tails an
// sshd log and appends its lines to the event streams, two analysis workers share the
// partitions. One worker is killed (SIGKILL) half-way; the other takes its partitions over,
// re-reads their history, and the final decisions equal those of a single-node replay of the
// same log — including attackers whose failures straddle the kill, which only the re-read
// history lets the survivor count.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "riposte/cluster/event_stream.h"
#include "riposte/net/redis_client.h"
#include "support/pg_server.h"
#include "support/redis_server.h"
#include "support/test_support.h"

namespace riposte {
namespace {

constexpr int kPartitions = 4;

std::string clock(int second) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "Mar  3 %02d:%02d:%02d", 10 + second / 3600, (second / 60) % 60,
                second % 60);
  return buf;
}

std::string failure(int second, const std::string& ip) {
  return clock(second) + " web1 sshd[4242]: Failed password for root from " + ip +
         " port 40000 ssh2\n";
}

std::string accepted(int second, const std::string& ip) {
  return clock(second) + " web1 sshd[4243]: Accepted password for alice from " + ip +
         " port 40001 ssh2\n";
}

std::string attacker(int k) { return "203.0.113." + std::to_string(10 + k); }

std::set<std::string> targets(const std::string& jsonl) {
  std::set<std::string> out;
  static const std::regex re("\"target\":\"([^\"]+)\"");
  for (auto it = std::sregex_iterator(jsonl.begin(), jsonl.end(), re); it != std::sregex_iterator();
       ++it) {
    out.insert((*it)[1].str());
  }
  return out;
}

TEST(StreamsE2E, KilledWorkersPartitionsAreTakenOverAndDecisionsMatchOneNode) {
  RIPOSTE_REQUIRE_REDIS(redis);
  RIPOSTE_REQUIRE_POSTGRES(pg);
  std::string db_error;
  const std::string db_url = pg->createDatabase("streams_e2e", &db_error);
  ASSERT_FALSE(db_url.empty()) << db_error;
  testing::TempDir dir;

  // The log, in two parts. Attackers 0-9 fail six times before the kill, 10-29 three times
  // before and three times after (within five seconds: one burst), 30-39 after; ten benign
  // users fail once and log in.
  std::string before, after;
  for (int k = 0; k < 10; ++k) {
    for (int i = 0; i < 6; ++i) before += failure(100 + 10 * k + i, attacker(k));
  }
  for (int k = 0; k < 10; ++k) {
    const std::string ip = "198.51.100." + std::to_string(k + 1);
    before += failure(300 + 5 * k, ip) + accepted(301 + 5 * k, ip);
  }
  for (int i = 0; i < 3; ++i) {
    for (int k = 10; k < 30; ++k) before += failure(900 + i, attacker(k));
  }
  for (int i = 3; i < 6; ++i) {
    for (int k = 10; k < 30; ++k) after += failure(900 + i, attacker(k));
  }
  for (int k = 30; k < 40; ++k) {
    for (int i = 0; i < 6; ++i) after += failure(1000 + 10 * k + i, attacker(k));
  }
  const auto whole = dir.path() / "whole.log";
  std::ofstream(whole) << before << after;

  // The reference: one node replaying the whole log.
  const auto ref_cfg = dir.path() / "ref.yaml";
  std::ofstream(ref_cfg) << "store:\n  path: " << (dir.path() / "ref.db").string()
                         << "\ndetectors:\n  - name: rules\n    type: rules\n"
                         << "    paths: [\"@bundled\"]\n";
  auto ref =
      testing::runRiposte({"replay", "--config", ref_cfg.string(), "--type", "sshd", "--year",
                           "2025", "--db", (dir.path() / "ref.db").string(), whole.string()});
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  auto ref_list =
      testing::runRiposte({"decisions", "list", "--config", ref_cfg.string(), "--state", "all"});
  ASSERT_EQ(ref_list.exit_code, 0) << ref_list.err;
  const auto expected = targets(ref_list.out);
  ASSERT_EQ(expected.size(), 40u) << ref_list.out;  // every attacker, no benign user

  // The cluster.
  const auto log = dir.path() / "auth.log";
  std::ofstream(log).close();
  auto config = [&](const std::string& node) {
    const auto cfg = dir.path() / (node + ".yaml");
    std::ofstream(cfg) << "store:\n  type: postgres\n  url: \"" << db_url << "\"\n"
                       << "  spill_path: " << (dir.path() / (node + "-spill.jsonl")).string()
                       << "\nsources:\n  - name: auth\n    type: file\n    path: " << log.string()
                       << "\n    parser: sshd\n    start_at: beginning\n    year: 2025\n"
                       << "detectors:\n  - name: rules\n    type: rules\n"
                       << "    paths: [\"@bundled\"]\n"
                       << "cluster:\n  redis: " << redis.url() << "\n  node: " << node
                       << "\n  reconcile_interval: 500ms\n  streams:\n    partitions: "
                       << kPartitions << "\n    lease: 1s\n";
    return cfg;
  };
  const auto cfg_in = config("in");
  const auto cfg_w1 = config("w1");
  const auto cfg_w2 = config("w2");
  testing::BackgroundRiposte w1({"serve", "--config", cfg_w1.string(), "--role", "analyze"});
  testing::BackgroundRiposte w2({"serve", "--config", cfg_w2.string(), "--role", "analyze"});
  testing::BackgroundRiposte in({"serve", "--config", cfg_in.string(), "--role", "ingest"});
  for (auto* s : {&w1, &w2, &in}) {
    ASSERT_TRUE(
        testing::waitFor([&] { return s->err().find("serving") != std::string::npos; }, 20000))
        << s->err();
  }

  cluster::StreamOptions so;
  ASSERT_TRUE(net::parseRedisUrl(redis.url(), so.redis).isOk());
  so.partitions = kPartitions;
  net::RedisClient r(so.redis);
  // Every line appended and acknowledged by the workers.
  auto consumed = [&](int64_t lines) {
    int64_t total = 0;
    for (int p = 0; p < kPartitions; ++p) {
      auto len = r.command({"XLEN", so.streamKey(p)});
      if (!len) return false;
      total += len->integer;
      auto groups = r.command({"XINFO", "GROUPS", so.streamKey(p)});
      if (!groups || groups->elements.empty()) return len->integer == 0;
      const auto& g = groups->elements[0].elements;
      for (size_t i = 0; i + 1 < g.size(); i += 2) {
        if ((g[i].str == "pending" || g[i].str == "lag") && g[i + 1].integer != 0) return false;
      }
    }
    return total == lines;
  };
  const auto lines = [](const std::string& s) {
    return static_cast<int64_t>(std::count(s.begin(), s.end(), '\n'));
  };

  std::ofstream(log, std::ios::app) << before;
  ASSERT_TRUE(testing::waitFor([&] { return consumed(lines(before)); }, 30000))
      << in.err() << w1.err() << w2.err();

  // Kill the worker that owns the partition of the first straddling attacker.
  const int victim_partition = static_cast<int>(cluster::partitionOf(attacker(10), kPartitions));
  auto owner = r.command({"GET", so.leaseKey(victim_partition)});
  ASSERT_TRUE(owner.isOk() && owner->isString()) << "partition " << victim_partition << " unowned";
  const bool kill_w1 = owner->str.rfind("w1:", 0) == 0;
  testing::BackgroundRiposte& victim = kill_w1 ? w1 : w2;
  testing::BackgroundRiposte& survivor = kill_w1 ? w2 : w1;
  EXPECT_EQ(victim.stop(SIGKILL), 128 + SIGKILL);

  std::ofstream(log, std::ios::app) << after;
  ASSERT_TRUE(testing::waitFor([&] { return consumed(lines(before) + lines(after)); }, 30000))
      << survivor.err();
  EXPECT_NE(survivor.err().find("partition " + std::to_string(victim_partition) + " taken"),
            std::string::npos)
      << survivor.err();

  std::set<std::string> got;
  ASSERT_TRUE(testing::waitFor(
      [&] {
        auto list = testing::runRiposte(
            {"decisions", "list", "--config", cfg_w1.string(), "--state", "all"});
        got = targets(list.out);
        return got == expected;
      },
      20000))
      << "distributed run decided " << got.size() << ", one node " << expected.size() << "\n"
      << "survivor:\n"
      << survivor.err() << "\nkilled worker:\n"
      << victim.err();

  EXPECT_EQ(survivor.stop(SIGTERM), 0) << survivor.err();
  EXPECT_EQ(in.stop(SIGTERM), 0) << in.err();
  EXPECT_NE(survivor.err().find("re-read"), std::string::npos);
}

}  // namespace
}  // namespace riposte

namespace riposte {
namespace {

TEST(StreamsE2E, TheThreeNodeExampleConfigurationsAreValid) {
  for (const char* n : {"ingest", "worker-1", "worker-2"}) {
    const std::string path = std::string(RIPOSTE_SOURCE_DIR) + "/examples/cluster/" + n + ".yaml";
    auto r = testing::runRiposte({"config", "check", path});
    EXPECT_EQ(r.exit_code, 0) << path << "\n" << r.err << r.out;
  }
}

}  // namespace
}  // namespace riposte

// Two `riposte serve` processes on one redis-server: node A detects a brute force in its log
// and blocks; node B, which reads no log at all, enforces the same decision through its own
// `log` action. `riposte decisions delete` on A lifts it on both.
#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>

#include "support/redis_server.h"
#include "support/test_support.h"

namespace riposte {
namespace {

void append(const std::filesystem::path& p, const std::string& s) {
  std::ofstream(p, std::ios::app) << s;
}

std::string failure(int i, const std::string& ip) {
  return "Mar  3 10:15:4" + std::to_string(i) + " web1 sshd[12" + std::to_string(i) +
         "]: Failed password for root from " + ip + " port 5124" + std::to_string(i) + " ssh2\n";
}

size_t count(const std::string& text, const std::string& what, const std::string& target) {
  size_t n = 0;
  size_t pos = 0;
  while (true) {
    const size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) break;
    const std::string line = text.substr(pos, eol - pos);
    if (line.find(what) != std::string::npos &&
        line.find("\"" + target + "\"") != std::string::npos)
      ++n;
    pos = eol + 1;
  }
  return n;
}

TEST(ClusterE2E, DecisionOnOneServeIsEnforcedByTheOtherAndRevokedOnBoth) {
  RIPOSTE_REQUIRE_REDIS(redis);
  testing::TempDir dir;
  const auto log = dir.path() / "auth.log";
  append(log, "");
  auto config = [&](const std::string& node, bool with_source) {
    const auto cfg = dir.path() / (node + ".yaml");
    std::ofstream out(cfg);
    out << "store:\n  path: " << (dir.path() / (node + ".db")).string() << "\n";
    if (with_source) {
      out << "sources:\n  - name: auth\n    type: file\n    path: " << log.string()
          << "\n    parser: sshd\n    start_at: end\n    year: 2025\n"
          << "detectors:\n  - name: ssh-bruteforce\n    type: threshold\n"
          << "    kinds: [auth]\n    outcome: failure\n    threshold: 3\n    window: 60s\n";
    }
    out << "actions:\n  - name: log\n    type: log\n    path: "
        << (dir.path() / (node + "-actions.jsonl")).string() << "\n"
        << "cluster:\n  redis: " << redis.url() << "\n  node: " << node
        << "\n  reconcile_interval: 1s\n";
    return cfg;
  };
  const auto cfg_a = config("a", true);
  const auto cfg_b = config("b", false);
  const auto actions_a = dir.path() / "a-actions.jsonl";
  const auto actions_b = dir.path() / "b-actions.jsonl";
  auto check = testing::runRiposte({"config", "check", cfg_a.string()});
  ASSERT_EQ(check.exit_code, 0) << check.err << check.out;

  testing::BackgroundRiposte a({"serve", "--config", cfg_a.string()});
  testing::BackgroundRiposte b({"serve", "--config", cfg_b.string()});
  for (auto* s : {&a, &b}) {
    ASSERT_TRUE(testing::waitFor([&] {
      return s->err().find("cluster: node") != std::string::npos;
    })) << s->err();
  }
  for (int i = 1; i <= 3; ++i) append(log, failure(i, "45.12.0.77"));
  ASSERT_TRUE(testing::waitFor([&] {
    return count(testing::readFile(actions_b), "would-enforce", "45.12.0.77") == 1;
  })) << b.err();
  EXPECT_EQ(count(testing::readFile(actions_a), "would-enforce", "45.12.0.77"), 1u);
  EXPECT_NE(b.err().find("decision from a"), std::string::npos) << b.err();

  // Revoked by hand on A: the CLI publishes it; both running engines undo.
  auto del = testing::runRiposte({"decisions", "delete", "45.12.0.77", "--config", cfg_a.string()});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_EQ(del.err.find("not sent to the cluster"), std::string::npos) << del.err;
  ASSERT_TRUE(testing::waitFor([&] {
    return count(testing::readFile(actions_b), "would-undo", "45.12.0.77") == 1 &&
           count(testing::readFile(actions_a), "would-undo", "45.12.0.77") == 1;
  })) << a.err()
      << "\n---\n"
      << b.err();
  auto list_b =
      testing::runRiposte({"decisions", "list", "--state", "revoked", "--config", cfg_b.string()});
  EXPECT_NE(list_b.out.find("45.12.0.77"), std::string::npos) << list_b.out;

  // A decision added by hand on B reaches A's engine.
  auto add = testing::runRiposte({"decisions", "add", "45.13.0.5", "--config", cfg_b.string()});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  ASSERT_TRUE(testing::waitFor([&] {
    return count(testing::readFile(actions_a), "would-enforce", "45.13.0.5") == 1 &&
           count(testing::readFile(actions_b), "would-enforce", "45.13.0.5") == 1;
  })) << a.err()
      << "\n---\n"
      << b.err();

  EXPECT_EQ(a.stop(SIGTERM), 0) << a.err();
  EXPECT_EQ(b.stop(SIGTERM), 0) << b.err();
  EXPECT_NE(b.err().find("received"), std::string::npos) << b.err();
}

TEST(ClusterE2E, ConfigCheckNamesBadClusterKeys) {
  testing::TempDir dir;
  const auto cfg = dir.path() / "bad.yaml";
  std::ofstream(cfg) << "cluster:\n  redis: tcp://10.0.0.1\n  node: x\n"
                        "intel:\n  cache:\n    type: redis\n";
  auto r = testing::runRiposte({"config", "check", cfg.string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  const std::string all = r.out + r.err;
  EXPECT_NE(all.find("bad.yaml:2:10: cluster.redis"), std::string::npos) << all;
  EXPECT_NE(all.find("intel.cache.url"), std::string::npos) << all;
}

}  // namespace
}  // namespace riposte

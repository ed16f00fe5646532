// Sharded analysis gives the decisions one thread gives: the same logs replayed with
// `--threads 1` and `--threads 4` decide on the same targets, for the same rules, with the same
// evidence counts and times.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "support/test_support.h"

namespace riposte {
namespace {

using testing::runRiposte;
using testing::TempDir;

// Each decision without its id (a fresh ULID per run), as comparable text.
std::multiset<std::string> decisions(const std::string& out) {
  std::multiset<std::string> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    j.erase("id");
    v.insert(j.dump());
  }
  return v;
}

std::string summaryCounts(const std::string& err) {
  // "replay: N lines read, ... M findings, K decisions (...)" without the timing.
  const auto at = err.find("replay: ");
  const auto end = err.find(" in ", at);
  return at == std::string::npos ? std::string() : err.substr(at, end - at);
}

void expectSameDecisions(const std::vector<std::string>& args) {
  std::vector<std::string> one = {"replay", "--threads", "1"};
  std::vector<std::string> four = {"replay", "--threads", "4"};
  one.insert(one.end(), args.begin(), args.end());
  four.insert(four.end(), args.begin(), args.end());
  const auto a = runRiposte(one);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const auto b = runRiposte(four);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto da = decisions(a.out);
  const auto db = decisions(b.out);
  EXPECT_FALSE(da.empty()) << "the log should give decisions: " << a.err;
  EXPECT_EQ(da, db);
  EXPECT_EQ(summaryCounts(a.err), summaryCounts(b.err));
  EXPECT_NE(a.err.find("[threads: 1]"), std::string::npos) << a.err;
  EXPECT_NE(b.err.find("[threads: 4]"), std::string::npos) << b.err;
}

TEST(ReplayThreads, GeneratedAuthLogSameDecisionsOnOneAndFourThreads) {
  TempDir dir;
  const std::string cmd = std::string(RIPOSTE_GEN_BINARY) + " --seed 5 --days 2 --out " +
                          dir.path().string() + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  expectSameDecisions({"--type", "sshd", "--year", "2025", (dir.path() / "auth.log").string()});
}

TEST(ReplayThreads, LoghubOpenSshSameDecisionsOnOneAndFourThreads) {
  RIPOSTE_REQUIRE_CORPUS(log, "loghub/OpenSSH/OpenSSH_2k.log");
  expectSameDecisions({"--type", "sshd", "--year", "2025", log.string()});
}

std::string failure(int i, const std::string& ip) {
  return "Mar  3 10:15:4" + std::to_string(i) + " web1 sshd[12" + std::to_string(i) +
         "]: Failed password for root from " + ip + " port 5124" + std::to_string(i) + " ssh2\n";
}

// serve --threads 2: lines tailed from a file reach the workers, their findings are decided
// while the loop runs (not only at the end), a SIGHUP reload replaces every shard's detectors,
// and a stop drains the workers.
TEST(ServeThreads, ShardedServeDecidesReloadsAndStops) {
  TempDir dir;
  const auto log = dir.path() / "auth.log";
  const auto actions = dir.path() / "actions.jsonl";
  std::ofstream(log).flush();
  const auto cfg = dir.path() / "riposte.yaml";
  std::ofstream(cfg) << "store:\n  path: " << (dir.path() / "r.db").string() << "\n"
                     << "sources:\n  - name: auth\n    type: file\n    path: " << log.string()
                     << "\n    parser: sshd\n    start_at: end\n    year: 2025\n"
                     << "detectors:\n  - name: ssh-bruteforce\n    type: threshold\n"
                     << "    kinds: [auth]\n    outcome: failure\n    threshold: 3\n"
                     << "    window: 60s\n"
                     << "actions:\n  - name: log\n    type: log\n    path: " << actions.string()
                     << "\n";
  testing::BackgroundRiposte serve({"serve", "--threads", "2", "--config", cfg.string()});
  ASSERT_TRUE(testing::waitFor([&] { return serve.err().find("serving") != std::string::npos; }))
      << serve.err();
  EXPECT_NE(serve.err().find("2 analysis threads"), std::string::npos) << serve.err();
  auto decided = [&](const std::string& ip) {
    return testing::readFile(actions).find("\"" + ip + "\"") != std::string::npos;
  };
  const std::vector<std::string> first = {"203.0.113.1", "203.0.113.2", "203.0.113.3",
                                          "2001:db8::7"};
  {
    std::ofstream out(log, std::ios::app);
    for (int i = 1; i <= 3; ++i) {
      for (const auto& ip : first) out << failure(i, ip);
    }
  }
  for (const auto& ip : first) {
    ASSERT_TRUE(testing::waitFor([&] { return decided(ip); })) << ip << "\n" << serve.err();
  }
  serve.signal(SIGHUP);
  ASSERT_TRUE(testing::waitFor([&] {
    return serve.err().find("rules reloaded on SIGHUP") != std::string::npos;
  })) << serve.err();
  {
    std::ofstream out(log, std::ios::app);
    for (int i = 1; i <= 3; ++i) out << failure(i, "198.51.100.9");
    out << failure(1, "198.51.100.10") << failure(2, "198.51.100.10");  // below the threshold
  }
  ASSERT_TRUE(testing::waitFor([&] { return decided("198.51.100.9"); })) << serve.err();
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.err();
  EXPECT_FALSE(decided("198.51.100.10"));
  EXPECT_NE(serve.err().find("stopping"), std::string::npos) << serve.err();
}

}  // namespace
}  // namespace riposte

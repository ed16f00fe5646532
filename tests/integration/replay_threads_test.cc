// Sharded analysis gives the decisions one thread gives: the same logs replayed with
// `--threads 1` and `--threads 4` decide on the same targets, for the same rules, with the same
// evidence counts and times.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
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

}  // namespace
}  // namespace riposte

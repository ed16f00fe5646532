// End-to-end: the long-term behaviour detector through `riposte replay`, on the seeded
// generator's output (riposte-gen) and on the CrowdSec hub's slow brute-force case.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "support/test_support.h"

namespace riposte {
namespace {

using testing::readFile;
using testing::runRiposte;
using testing::TempDir;

constexpr const char* kLongTermOnly = R"(
detectors:
  - name: longterm
    type: longterm
)";

constexpr const char* kRulesAndLongTerm = R"(
detectors:
  - name: rules
    type: rules
    paths: ["@bundled"]
  - name: longterm
    type: longterm
)";

std::string writeConfig(const TempDir& dir, const std::string& name, const char* yaml) {
  const auto p = dir.path() / name;
  std::ofstream(p) << yaml;
  return p.string();
}

struct Decided {
  std::set<std::string> all;
  std::map<std::string, std::set<std::string>> by_detector;
};

Decided decisions(const std::string& out) {
  Decided d;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    const std::string t = j["target"];
    d.all.insert(t);
    d.by_detector[j["detector"].get<std::string>()].insert(t);
  }
  return d;
}

// Generates the two-day workload into `dir` (seeded, so every run sees the same logs).
nlohmann::json generate(const TempDir& dir) {
  const std::string cmd = std::string(RIPOSTE_GEN_BINARY) + " --seed 11 --days 2 --out " +
                          dir.path().string() + " > /dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return nlohmann::json::parse(readFile(dir.path() / "truth.json"));
}

std::set<std::string> asSet(const nlohmann::json& a) {
  std::set<std::string> s;
  for (const auto& x : a) s.insert(x.get<std::string>());
  return s;
}

size_t countIn(const std::set<std::string>& got, const std::set<std::string>& want) {
  size_t n = 0;
  for (const auto& w : want) n += got.count(w);
  return n;
}

// The long-term findings in a store: "entity|reason", in order.
std::multiset<std::string> longTermFindings(const std::string& db) {
  std::multiset<std::string> out;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return out;
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(h,
                     "SELECT entity, reason, event_count, last_seen FROM findings "
                     "WHERE detector = 'longterm'",
                     -1, &s, nullptr);
  while (s != nullptr && sqlite3_step(s) == SQLITE_ROW) {
    out.insert(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))) + "|" +
               reinterpret_cast<const char*>(sqlite3_column_text(s, 1)) + "|" +
               std::to_string(sqlite3_column_int64(s, 2)) + "|" +
               std::to_string(sqlite3_column_int64(s, 3)));
  }
  sqlite3_finalize(s);
  sqlite3_close(h);
  return out;
}

TEST(BehaviorE2E, CrowdsecSlowBruteForceCaseIsCaughtByTheLongTermDetectorAlone) {
  RIPOSTE_REQUIRE_CORPUS(log, "crowdsec-hub/tests/ssh-slow-bf/ssh-slow-bf.log");
  TempDir dir;
  auto r = runRiposte({"replay", "--config", writeConfig(dir, "lt.yaml", kLongTermOnly), "--year",
                       "2026", log.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto d = decisions(r.out);
  EXPECT_EQ(d.by_detector["longterm"], std::set<std::string>{"103.100.210.198"}) << r.out;
  EXPECT_NE(r.out.find("slow brute force from 103.100.210.198: 20 failed attempts"),
            std::string::npos)
      << r.out;
}

TEST(BehaviorE2E, GeneratedWorkloadShortWindowRulesMissWhatTheLongTermDetectorCatches) {
  TempDir dir;
  const auto truth = generate(dir);
  const std::string auth = (dir.path() / "auth.log").string();
  const auto slow = asSet(truth["slow_bruteforce"]);
  const auto distributed = asSet(truth["distributed_bruteforce"]);
  const auto fast = asSet(truth["fast_bruteforce"]);
  const auto benign = asSet(truth["benign"]);
  ASSERT_EQ(slow.size(), 2u);
  ASSERT_GE(distributed.size(), 50u);

  auto rules = runRiposte({"replay", "--year", "2025", auth});  // built-in config: rules only
  ASSERT_EQ(rules.exit_code, 0) << rules.err;
  const auto rd = decisions(rules.out);
  EXPECT_EQ(countIn(rd.all, fast), fast.size());
  EXPECT_EQ(countIn(rd.all, slow), 0u) << "a short-window rule saw the slow brute force";
  EXPECT_EQ(countIn(rd.all, distributed), 0u);

  auto both = runRiposte({"replay", "--config", writeConfig(dir, "both.yaml", kRulesAndLongTerm),
                          "--year", "2025", auth});
  ASSERT_EQ(both.exit_code, 0) << both.err;
  auto bd = decisions(both.out);
  EXPECT_EQ(countIn(bd.by_detector["longterm"], slow), slow.size()) << both.out;
  EXPECT_EQ(countIn(bd.all, distributed), distributed.size());
  EXPECT_EQ(bd.by_detector["longterm"].count("admin"), 1u);  // the account, as an alert
  EXPECT_EQ(countIn(bd.all, fast), fast.size());
  EXPECT_EQ(countIn(bd.all, benign), 0u) << "benign users flagged: " << both.out;
}

TEST(BehaviorE2E, GeneratedScannersThatProbeInSeveralHoursAreCaught) {
  TempDir dir;
  const auto truth = generate(dir);
  const std::string auth = (dir.path() / "auth.log").string();
  // The clock hours in which each scanner probed, from the log itself ("Mar  1 04" prefixes).
  const auto lines = testing::readLines(auth);
  std::map<std::string, std::set<std::string>> hours;
  for (const auto& ip : asSet(truth["scanner"])) {
    for (const auto& l : lines) {
      if (l.find(ip + " port") != std::string::npos) hours[ip].insert(l.substr(0, 9));
    }
  }
  std::set<std::string> spread;
  for (const auto& [ip, h] : hours) {
    ASSERT_GE(h.size(), 1u) << ip;
    if (h.size() >= 2) spread.insert(ip);
  }
  ASSERT_GE(spread.size(), 5u);  // the generator spreads most scanners over hours

  auto both = runRiposte({"replay", "--config", writeConfig(dir, "both.yaml", kRulesAndLongTerm),
                          "--year", "2025", auth});
  ASSERT_EQ(both.exit_code, 0) << both.err;
  auto bd = decisions(both.out);
  EXPECT_EQ(countIn(bd.by_detector["longterm"], spread), spread.size()) << both.out;
  EXPECT_EQ(countIn(bd.all, asSet(truth["benign"])), 0u) << both.out;
  EXPECT_NE(both.out.find("pre-authentication probe(s) in"), std::string::npos) << both.out;
}

TEST(BehaviorE2E, GeneratedFlowsBeaconingHostsAreFoundAndBenignHostsAreNot) {
  TempDir dir;
  const auto truth = generate(dir);
  auto r = runRiposte({"replay", "--config", writeConfig(dir, "lt.yaml", kLongTermOnly),
                       (dir.path() / "flows.ndjson").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto d = decisions(r.out);
  const auto beacons = asSet(truth["beaconing"]);
  ASSERT_FALSE(beacons.empty());
  EXPECT_EQ(countIn(d.all, beacons), beacons.size()) << r.out;
  EXPECT_EQ(countIn(d.all, asSet(truth["benign_flow_hosts"])), 0u) << r.out;
}

TEST(BehaviorE2E, RestartInTheMiddleOfATwoDayReplayGivesTheSameFindings) {
  TempDir dir;
  (void)generate(dir);
  const auto lines = testing::readLines(dir.path() / "auth.log");
  // Split where the second day begins at noon.
  size_t mid = 0;
  while (mid < lines.size() && lines[mid].rfind("Mar  2 12:", 0) != 0) ++mid;
  ASSERT_GT(mid, 100u);
  ASSERT_LT(mid, lines.size() - 100);
  {
    std::ofstream a(dir.path() / "first.log"), b(dir.path() / "second.log");
    for (size_t i = 0; i < lines.size(); ++i) (i < mid ? a : b) << lines[i] << '\n';
  }
  const std::string cfg = writeConfig(dir, "lt.yaml", kLongTermOnly);
  const std::string one = (dir.path() / "one.db").string();
  const std::string two = (dir.path() / "two.db").string();
  auto r = runRiposte({"replay", "--config", cfg, "--year", "2025", "--db", one,
                       (dir.path() / "auth.log").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = runRiposte({"replay", "--config", cfg, "--year", "2025", "--db", two,
                  (dir.path() / "first.log").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto before_restart = longTermFindings(two);
  r = runRiposte({"replay", "--config", cfg, "--year", "2025", "--db", two,
                  (dir.path() / "second.log").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto single = longTermFindings(one);
  EXPECT_GT(single.size(), 50u);
  EXPECT_LT(before_restart.size(), single.size());  // some findings need the second half
  EXPECT_EQ(longTermFindings(two), single);
  // Without the store, the second half alone misses what needed the first half's history.
  TempDir fresh;
  r = runRiposte({"replay", "--config", cfg, "--year", "2025", "--db",
                  (fresh.path() / "fresh.db").string(), (dir.path() / "second.log").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(longTermFindings((fresh.path() / "fresh.db").string()), single);
}

}  // namespace
}  // namespace riposte

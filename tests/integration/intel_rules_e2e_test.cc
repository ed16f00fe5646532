// End-to-end: rules with intel predicates, through `riposte intel load` and `riposte replay`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "support/test_support.h"

namespace riposte {
namespace {

using testing::runRiposte;

// rule id -> targets, from replay's JSON lines.
std::map<std::string, std::set<std::string>> decisions(const std::string& out,
                                                       std::vector<nlohmann::json>* all = nullptr) {
  std::map<std::string, std::set<std::string>> m;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    m[j.value("detector", "")].insert(j.value("target", ""));
    if (all != nullptr) all->push_back(j);
  }
  return m;
}

std::string failures(const std::string& ip, int n, int second) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s += "Mar  3 10:00:" + std::to_string(10 + second + i) + " web1 sshd[" +
         std::to_string(100 + second + i) + "]: Failed password for root from " + ip + " port " +
         std::to_string(5000 + second + i) + " ssh2\n";
  }
  return s;
}

constexpr const char* kRules = R"(
rules:
  - id: listed-failures
    kinds: [auth]
    match:
      event.outcome: failure
      source.ip: {intel: true}
    aggregate: {type: count, threshold: 2, window: 1m}
    action: block
    reason: "{intel}"
  - id: c2-failures
    kinds: [auth]
    match:
      event.outcome: failure
      source.ip: {intel: {source: c2-list, min_score: 1}}
    aggregate: {type: count, threshold: 2, window: 1m}
    action: block
)";

TEST(IntelRulesE2E, RulesReadTheIntelDbWithoutAnIntelDetector) {
  testing::TempDir dir;
  const auto db = dir.path() / "intel.db";
  {
    std::ofstream(dir.path() / "c2.txt") << "# C2\n185.220.101.4\n";
    std::ofstream(dir.path() / "drop.txt") << "45.155.205.0/24\n";
  }
  for (const auto& [file, source] : {std::pair{"c2.txt", "c2-list"}, {"drop.txt", "drop-list"}}) {
    auto load = runRiposte({"intel", "load", (dir.path() / file).string(), "--format", "list",
                            "--source", source, "--db", db.string()});
    ASSERT_EQ(load.exit_code, 0) << load.err << load.out;
  }
  std::ofstream(dir.path() / "rules.yaml") << kRules;
  std::ofstream(dir.path() / "auth.log")
      << failures("185.220.101.4", 2, 0) << failures("45.155.205.77", 2, 10)
      << failures("198.51.100.8", 3, 20);
  const auto cfg = dir.path() / "c.yaml";
  std::ofstream(cfg) << "intel:\n  db: " << db.string()
                     << "\ndetectors:\n  - name: rules\n    type: rules\n    paths: ["
                     << (dir.path() / "rules.yaml").string() << "]\n";
  auto r = runRiposte(
      {"replay", "--config", cfg.string(), "--year", "2025", (dir.path() / "auth.log").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<nlohmann::json> all;
  const auto got = decisions(r.out, &all);
  // The CIDR hit and the address hit; the unlisted address never; the source filter.
  EXPECT_EQ(got.at("listed-failures"), (std::set<std::string>{"185.220.101.4", "45.155.205.77"}))
      << r.out;
  // Only the c2 list's address (when its decision is not merged with the other rule's).
  if (got.count("c2-failures") != 0) {
    EXPECT_EQ(got.at("c2-failures"), std::set<std::string>{"185.220.101.4"}) << r.out;
  }
  bool named = false;
  for (const auto& j : all) {
    if (j.value("target", "") == "45.155.205.77") {
      named = j.value("reason", "").find("matches cidr4 indicator 45.155.205.0/24") !=
              std::string::npos;
      EXPECT_TRUE(named) << j.dump();
    }
  }
  EXPECT_TRUE(named) << r.out;
}

// With an intel detector, the rules read its database (one store for both).
TEST(IntelRulesE2E, RulesShareTheIntelDetectorsDatabase) {
  testing::TempDir dir;
  const auto db = dir.path() / "detector-intel.db";
  std::ofstream(dir.path() / "c2.txt") << "185.220.101.4\n";
  auto load = runRiposte({"intel", "load", (dir.path() / "c2.txt").string(), "--format", "list",
                          "--source", "c2-list", "--db", db.string()});
  ASSERT_EQ(load.exit_code, 0) << load.err << load.out;
  std::ofstream(dir.path() / "rules.yaml") << kRules;
  std::ofstream(dir.path() / "auth.log") << failures("185.220.101.4", 2, 0);
  const auto cfg = dir.path() / "c.yaml";
  // The intel detector reports nothing itself (min_score 100): the findings are the rules'.
  std::ofstream(cfg) << "detectors:\n  - name: intel\n    type: intel\n    min_score: 100\n"
                     << "    db: " << db.string() << "\n  - name: rules\n    type: rules\n"
                     << "    paths: [" << (dir.path() / "rules.yaml").string() << "]\n";
  auto r = runRiposte(
      {"replay", "--config", cfg.string(), "--year", "2025", (dir.path() / "auth.log").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = decisions(r.out);
  ASSERT_EQ(got.count("listed-failures"), 1u) << r.out;
  EXPECT_EQ(got.at("listed-failures"), std::set<std::string>{"185.220.101.4"});
  EXPECT_EQ(got.count("intel"), 0u);
}

// A missing database: the rules load and match nothing; the default ruleset keeps working.
TEST(IntelRulesE2E, NoDatabaseNoHitsNoFailure) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "rules.yaml") << kRules;
  std::ofstream(dir.path() / "auth.log") << failures("185.220.101.4", 2, 0);
  const auto db = dir.path() / "absent.db";
  const auto cfg = dir.path() / "c.yaml";
  std::ofstream(cfg) << "intel:\n  db: " << db.string()
                     << "\ndetectors:\n  - name: rules\n    type: rules\n    paths: ["
                     << (dir.path() / "rules.yaml").string() << "]\n";
  auto r = runRiposte(
      {"replay", "--config", cfg.string(), "--year", "2025", (dir.path() / "auth.log").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(decisions(r.out).empty()) << r.out;
  EXPECT_FALSE(std::filesystem::exists(db));
}

// Real lists from the corpora: FireHOL's Feodo addresses and Spamhaus DROP ranges, each loaded
// under its own source name; the bundled intel rules (min_score 50) see them.
TEST(IntelRulesE2E, CorpusBlocklistsWithTheBundledRules) {
  RIPOSTE_REQUIRE_CORPUS(feodo, "blocklists/firehol/feodo.ipset");
  RIPOSTE_REQUIRE_CORPUS(drop, "blocklists/firehol/spamhaus_drop.netset");
  testing::TempDir dir;
  const auto db = dir.path() / "intel.db";
  for (const auto& [file, source] :
       {std::pair{feodo.string(), "feodo"}, std::pair{drop.string(), "spamhaus-drop"}}) {
    auto load = runRiposte({"intel", "load", file, "--format", "list", "--source", source,
                            "--confidence", "90", "--db", db.string()});
    ASSERT_EQ(load.exit_code, 0) << load.err << load.out;
  }
  // The first entry of each list: an address, and an address inside a range.
  auto first = [](const std::filesystem::path& p) {
    std::istringstream in(testing::readFile(p));
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] != '#') return line;
    }
    return std::string();
  };
  const std::string c2 = first(feodo);
  std::string range = first(drop);
  ASSERT_FALSE(c2.empty());
  ASSERT_NE(range.find('/'), std::string::npos) << range;
  std::string inside = range.substr(0, range.find('/'));
  inside = inside.substr(0, inside.rfind('.') + 1) + "77";  // within any DROP range (≤ /24)
  auto lookup = runRiposte({"intel", "lookup", inside, "--db", db.string()});
  ASSERT_EQ(lookup.exit_code, 0) << inside << lookup.out << lookup.err;
  std::ofstream(dir.path() / "auth.log")
      << failures(c2, 2, 0) << failures(inside, 2, 10) << failures("198.51.100.8", 2, 20);
  const auto cfg = dir.path() / "c.yaml";
  std::ofstream(cfg)
      << "intel:\n  db: " << db.string()
      << "\ndetectors:\n  - name: rules\n    type: rules\n    paths: [\"@bundled\"]\n";
  auto r = runRiposte(
      {"replay", "--config", cfg.string(), "--year", "2025", (dir.path() / "auth.log").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<nlohmann::json> all;
  const auto got = decisions(r.out, &all);
  ASSERT_EQ(got.count("intel-hit-with-failures"), 1u) << r.out;
  EXPECT_EQ(got.at("intel-hit-with-failures"), (std::set<std::string>{c2, inside})) << r.out;
  for (const auto& j : all) {
    if (j.value("target", "") == c2) {
      EXPECT_NE(j.value("reason", "").find("sources: feodo"), std::string::npos) << j.dump();
    }
    if (j.value("target", "") == inside) {
      EXPECT_NE(j.value("reason", "").find("indicator " + range), std::string::npos) << j.dump();
    }
  }
}

}  // namespace
}  // namespace riposte

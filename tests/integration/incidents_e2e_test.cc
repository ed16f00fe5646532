// End-to-end: a real attack log replayed through the riposte binary becomes incidents — one per
// attacker while it keeps going, with its findings, rules and decisions — and the CLI lists,
// shows, acknowledges and closes them.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "riposte/store/sqlite_store.h"
#include "support/test_support.h"

namespace riposte {
namespace {

using testing::runRiposte;

std::vector<nlohmann::json> jsonLines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) v.push_back(nlohmann::json::parse(line));
  }
  return v;
}

class IncidentsE2E : public ::testing::Test {
 protected:
  void writeConfig(const std::string& gap) {
    db_ = (dir_.path() / "r.db").string();
    cfg_ = (dir_.path() / "riposte.yaml").string();
    std::ofstream(cfg_) << "store:\n  path: " << db_
                        << "\ndetectors:\n  - name: rules\n    type: rules\n    paths: "
                           "[\"@bundled\"]\nincidents:\n  gap: "
                        << gap << "\n";
  }
  testing::CommandResult cli(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"--config", cfg_});
    return runRiposte(args);
  }

  testing::TempDir dir_;
  std::string db_, cfg_;
};

TEST_F(IncidentsE2E, OpenSshLogBecomesOneIncidentPerAttackerBurst) {
  RIPOSTE_REQUIRE_CORPUS(log, "loghub/OpenSSH/OpenSSH_2k.log");
  writeConfig("1h");
  auto r = runRiposte({"replay", "--config", cfg_, "--db", db_, "--year", "2017", log.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto decisions = jsonLines(r.out);
  ASSERT_FALSE(decisions.empty()) << r.err;

  auto list = cli({"incidents", "list", "--limit", "10000"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const auto incidents = jsonLines(list.out);
  ASSERT_FALSE(incidents.empty());

  // What the incidents should be, worked out here from the stored findings: per entity, in
  // the order they were found (stored), a new incident whenever a finding starts more than 1 h
  // after the last one's events.
  auto store = SqliteStore::open(db_);
  ASSERT_TRUE(store.isOk()) << store.status().toString();
  FindingQuery fq;
  fq.limit = 100000;
  auto findings = (*store)->listFindings(fq);
  ASSERT_TRUE(findings.isOk());
  std::map<std::string, std::vector<const FindingRecord*>> by_entity;
  for (const auto& f : *findings) {
    if (!f.finding.entity.value.empty()) by_entity[f.finding.entity.value].push_back(&f);
  }
  std::map<std::string, std::vector<size_t>> expected;  // entity -> finding count per incident
  for (auto& [entity, fs] : by_entity) {
    std::stable_sort(fs.begin(), fs.end(), [](const FindingRecord* a, const FindingRecord* b) {
      return a->created < b->created;
    });
    Timestamp last;
    for (const FindingRecord* r : fs) {
      const Finding* f = &r->finding;
      if (expected[entity].empty() || f->first_seen > last + std::chrono::hours(1)) {
        expected[entity].push_back(0);
        last = f->last_seen;
      }
      ++expected[entity].back();
      last = std::max(last, f->last_seen);
    }
  }
  std::map<std::string, std::vector<size_t>> actual;
  std::set<std::string> decision_ids;
  for (const auto& d : decisions) decision_ids.insert(d["id"].get<std::string>());
  size_t linked = 0;
  size_t multi = 0;
  for (const auto& i : incidents) {
    const std::string target = i["target"];
    actual[target].push_back(i["findings"].get<size_t>());
    EXPECT_EQ(i["status"], "open");
    EXPECT_NE(i["title"].get<std::string>().find(" on " + target), std::string::npos) << i;
    for (const auto& d : i["decisions"]) {
      EXPECT_EQ(decision_ids.count(d.get<std::string>()), 1u) << i;
      ++linked;
    }
    // The severity rule: the findings' highest, one step more for two or more rules.
    const int fsev = i["finding_severity"];
    const size_t dets = i["detectors"].size();
    EXPECT_EQ(i["severity"].get<int>(), std::min(10, fsev + (dets >= 2 ? 1 : 0))) << i;
    if (dets >= 2) ++multi;
  }
  for (auto& [t, v] : actual) std::sort(v.begin(), v.end());
  for (auto& [t, v] : expected) std::sort(v.begin(), v.end());
  EXPECT_EQ(actual, expected);
  // Every decision of the replay belongs to exactly one incident.
  EXPECT_EQ(linked, decision_ids.size());
  // Several rules fire on the same attackers in this log (brute force, user enumeration...).
  EXPECT_GT(multi, 0u);

  // The largest incident, shown whole.
  const auto biggest =
      *std::max_element(incidents.begin(), incidents.end(),
                        [](const auto& a, const auto& b) { return a["findings"] < b["findings"]; });
  const std::string id = biggest["id"];
  auto show = cli({"incidents", "show", id});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  const auto shown = nlohmann::json::parse(show.out);
  EXPECT_EQ(shown["finding_items"].size(), biggest["findings"].get<size_t>());
  EXPECT_EQ(shown["decision_items"].size(), biggest["decisions"].size());
  for (const auto& f : shown["finding_items"]) EXPECT_EQ(f["entity"], biggest["target"]);

  // Acknowledge, then close: audited with the CLI user; closed is final.
  auto ack = cli({"incidents", "ack", id, "--note", "looking"});
  ASSERT_EQ(ack.exit_code, 0) << ack.err;
  EXPECT_EQ(nlohmann::json::parse(ack.out)["status"], "acknowledged");
  auto acked = jsonLines(cli({"incidents", "list", "--status", "acknowledged"}).out);
  ASSERT_EQ(acked.size(), 1u);
  EXPECT_EQ(acked[0]["id"], id);
  ASSERT_EQ(cli({"incidents", "close", id}).exit_code, 0);
  auto again = cli({"incidents", "ack", id});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("is closed"), std::string::npos) << again.err;
  auto audit = (*store)->listAudit(0, 1'000'000);
  ASSERT_TRUE(audit.isOk());
  size_t status_entries = 0;
  for (const auto& a : *audit) {
    if (a.kind != "incident.status") continue;
    ++status_entries;
    EXPECT_EQ(a.actor.rfind("cli:", 0), 0u) << a.actor;
  }
  EXPECT_EQ(status_entries, 2u);
  EXPECT_TRUE(verifyAuditChain(*audit).isOk());

  auto bad = cli({"incidents", "list", "--status", "pending"});
  EXPECT_EQ(bad.exit_code, 2);
  auto missing = cli({"incidents", "show", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no incident nope"), std::string::npos) << missing.err;
}

TEST_F(IncidentsE2E, AShortGapSplitsTheSameAttackerIntoMoreIncidents) {
  RIPOSTE_REQUIRE_CORPUS(log, "loghub/OpenSSH/OpenSSH_2k.log");
  size_t counts[2] = {0, 0};
  int n = 0;
  for (const char* gap : {"6h", "1s"}) {
    testing::TempDir d;
    db_ = (d.path() / "r.db").string();
    cfg_ = (d.path() / "riposte.yaml").string();
    std::ofstream(cfg_) << "store:\n  path: " << db_
                        << "\ndetectors:\n  - name: rules\n    type: rules\n    paths: "
                           "[\"@bundled\"]\nincidents:\n  gap: "
                        << gap << "\n";
    auto r = runRiposte({"replay", "--config", cfg_, "--db", db_, "--year", "2017", log.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    counts[n++] = jsonLines(cli({"incidents", "list", "--limit", "10000"}).out).size();
  }
  EXPECT_GT(counts[0], 0u);
  EXPECT_GT(counts[1], counts[0]);
}

}  // namespace
}  // namespace riposte

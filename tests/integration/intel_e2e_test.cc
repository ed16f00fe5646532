// End-to-end: indicators loaded with `riposte intel load` are matched in the pipeline; the
// decision ladder blocks hits at or above block_score and alerts below it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "support/test_support.h"

namespace riposte {
namespace {

using testing::runRiposte;

TEST(IntelE2E, ListedAddressesAreBlockedOrAlertedByScore) {
  testing::TempDir dir;
  const auto list = dir.path() / "c2.txt";
  // Public addresses (indicators are data here; no traffic is sent anywhere).
  std::ofstream(list) << "# botnet C2\n185.220.101.4\n45.155.205.0/24\n";
  const auto db = dir.path() / "intel.db";
  auto load = runRiposte({"intel", "load", list.string(), "--format", "list", "--db", db.string()});
  ASSERT_EQ(load.exit_code, 0) << load.err << load.out;
  auto lookup = runRiposte({"intel", "lookup", "45.155.205.77", "--db", db.string()});
  ASSERT_EQ(lookup.exit_code, 0) << lookup.err;
  const auto lj = nlohmann::json::parse(lookup.out);
  ASSERT_EQ(lj["matches"].size(), 1u) << lookup.out;
  const int score = lj["matches"][0]["score"].get<int>();
  ASSERT_GT(score, 0);

  const auto log = dir.path() / "auth.log";
  std::ofstream(log) << "Mar  3 10:00:00 web1 sshd[1]: Accepted password for bob from "
                        "185.220.101.4 port 5000 ssh2\n"
                        "Mar  3 10:00:01 web1 sshd[2]: Failed password for root from 45.155.205.77 "
                        "port 5001 ssh2\n"
                        "Mar  3 10:00:02 web1 sshd[3]: Failed password for root from 45.155.205.77 "
                        "port 5002 ssh2\n"
                        "Mar  3 10:00:03 web1 sshd[4]: Accepted password for amy from 198.51.100.8 "
                        "port 5003 ssh2\n";
  auto run = [&](int block_score) {
    const auto cfg = dir.path() / ("c" + std::to_string(block_score) + ".yaml");
    std::ofstream(cfg) << "detectors:\n  - name: intel\n    type: intel\n    db: " << db.string()
                       << "\n    block_score: " << block_score << "\n";
    auto r = runRiposte({"replay", "--config", cfg.string(), "--year", "2025", log.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::string> actions;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      EXPECT_EQ(j["detector"], "intel");
      actions[j["target"]] = j["action"];
      EXPECT_NE(j["reason"].get<std::string>().find("score"), std::string::npos);
    }
    return actions;
  };
  auto blocked = run(score);  // at the threshold: block
  EXPECT_EQ(blocked, (std::map<std::string, std::string>{{"185.220.101.4", "block"},
                                                         {"45.155.205.77", "block"}}));
  auto alerted = run(score + 1);  // just above: alert only
  EXPECT_EQ(alerted, (std::map<std::string, std::string>{{"185.220.101.4", "alert"},
                                                         {"45.155.205.77", "alert"}}));
}

}  // namespace
}  // namespace riposte

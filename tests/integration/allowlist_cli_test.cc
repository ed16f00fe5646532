// `riposte allowlist show|check` and the allowlist's reasons in the audit log, through the
// binary: important customers (inline and from a file), a host name resolved by the system
// resolver, a bad entry reported with its position, and a replayed attack from a customer's
// address refused with the customer named in the audit entry.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace riposte {
namespace {

using testing::fixture;
using testing::runRiposte;
using testing::TempDir;

class AllowlistCli : public ::testing::Test {
 protected:
  void SetUp() override {
    customers_ = (dir_.path() / "customers.txt").string();
    std::ofstream(customers_) << "# entry  customer\n203.0.113.0/28  Globex Corp\n";
    cfg_ = (dir_.path() / "riposte.yaml").string();
    std::ofstream(cfg_) << "store:\n  type: sqlite\n  path: " << (dir_.path() / "r.db").string()
                        << "\nresponse:\n"
                           "  allowlist: [192.0.2.0/24, localhost, \"user:deploy\"]\n"
                           "  customers:\n"
                           "    - name: Acme Bank\n"
                           "      allowlist: [198.51.100.0/24, \"host:acme-gw\"]\n"
                           "  customers_file: "
                        << customers_
                        << "\ndetectors:\n  - name: bf\n    type: threshold\n    kinds: [auth]\n"
                           "    outcome: failure\n    threshold: 6\n    window: 60s\n";
  }
  TempDir dir_;
  std::string cfg_, customers_;
};

TEST_F(AllowlistCli, ShowListsEveryEntryWithWhy) {
  auto r = runRiposte({"allowlist", "--config", cfg_, "--no-host", "show", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  std::map<std::string, std::string> why;
  for (const auto& e : j["entries"]) why[e["entry"]] = e["why"];
  EXPECT_EQ(why["192.0.2.0/24"], "response.allowlist");
  EXPECT_EQ(why["127.0.0.1"], "response.allowlist: localhost");  // resolved through /etc/hosts
  EXPECT_EQ(why["host:localhost"], "response.allowlist");
  EXPECT_EQ(why["user:deploy"], "response.allowlist");
  EXPECT_EQ(why["198.51.100.0/24"], "important customer Acme Bank");
  EXPECT_EQ(why["host:acme-gw"], "important customer Acme Bank");
  EXPECT_EQ(why["203.0.113.0/28"], "important customer Globex Corp");
  // --no-host leaves this host's addresses out; without it they are in (loopback at least).
  for (const auto& [entry, reason] : why) {
    EXPECT_FALSE(reason.starts_with("own address") || reason.starts_with("gateway")) << entry;
  }
  auto host = runRiposte({"allowlist", "--config", cfg_, "show", "--json"});
  ASSERT_EQ(host.exit_code, 0) << host.err;
  bool own = false;
  const auto hj = nlohmann::json::parse(host.out);
  for (const auto& e : hj["entries"]) {
    own = own || e["why"].get<std::string>().starts_with("own address");
  }
  EXPECT_TRUE(own) << host.out;
}

TEST_F(AllowlistCli, CheckSaysWhyOrExitsOne) {
  auto r = runRiposte({"allowlist", "--config", cfg_, "--no-host", "check", "203.0.113.9"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("203.0.113.0/28 (important customer Globex Corp)"), std::string::npos)
      << r.out;
  r = runRiposte({"allowlist", "--config", cfg_, "--no-host", "check", "203.0.113.0/24"});
  EXPECT_EQ(r.exit_code, 0) << "a range holding a customer's addresses is refused whole";
  r = runRiposte({"allowlist", "--config", cfg_, "--no-host", "check", "203.0.113.99"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("not allowlisted"), std::string::npos);
  r = runRiposte({"allowlist", "--config", cfg_, "--no-host", "check", "host:ACME-GW"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  r = runRiposte({"allowlist", "--config", cfg_, "--no-host", "check", "nonsense"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(AllowlistCli, ABadEntryIsReportedWithItsPosition) {
  const auto bad = (dir_.path() / "bad.yaml").string();
  std::ofstream(bad) << "response:\n  customers:\n    - name: Typo Ltd\n"
                        "      allowlist: [203.0.113.1, 10.0.0.300]\n";
  auto r = runRiposte({"config", "check", bad});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("response.customers[0].allowlist[1]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(":4:"), std::string::npos) << r.err;  // the line of the entry
  std::ofstream(customers_, std::ios::app) << "\nnot/an/entry Somebody\n";
  r = runRiposte({"allowlist", "--config", cfg_, "--no-host", "show"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(customers_ + ":4"), std::string::npos) << r.err;
}

TEST_F(AllowlistCli, AReplayedAttackFromACustomerIsRefusedAndTheAuditNamesTheCustomer) {
  // The fixture's attacker, 203.0.113.5, is inside Globex Corp's /28.
  auto r = runRiposte({"replay", "--config", cfg_, "--db", (dir_.path() / "r.db").string(),
                       "--year", "2025", fixture("e2e/bruteforce.log").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("1 allowlisted"), std::string::npos) << r.err;
  auto a = runRiposte({"audit", "--config", cfg_, "show", "--kind", "decision.refused"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("203.0.113.0/28 (important customer Globex Corp)"), std::string::npos)
      << a.out;
}

}  // namespace
}  // namespace riposte

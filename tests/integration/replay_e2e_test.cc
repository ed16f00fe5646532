// End-to-end: the riposte binary over real and fixture logs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <zlib.h>
#include <fstream>
#include <set>

#include "support/test_support.h"

namespace riposte {
namespace {

using testing::fixture;
using testing::runRiposte;

std::vector<nlohmann::json> decisions(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) v.push_back(nlohmann::json::parse(line));
  }
  return v;
}

std::set<std::string> targets(const std::vector<nlohmann::json>& ds) {
  std::set<std::string> s;
  for (const auto& d : ds) s.insert(d["target"].get<std::string>());
  return s;
}

TEST(ReplayE2E, CrowdsecSshBruteForceCaseBlocksExactlyTheAttacker) {
  RIPOSTE_REQUIRE_CORPUS(log, "crowdsec-hub/tests/ssh-bf/ssh-bf.log");
  auto r = runRiposte({"replay", log.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ds = decisions(r.out);
  EXPECT_EQ(targets(ds), std::set<std::string>{"35.188.49.176"}) << r.out;
  EXPECT_NE(r.err.find("7 lines read"), std::string::npos) << r.err;
}

TEST(ReplayE2E, CrowdsecSuccessfulLoginsBlockNothing) {
  RIPOSTE_REQUIRE_CORPUS(log, "crowdsec-hub/tests/sshd-success-logs/sshd-success-logs.log");
  auto r = runRiposte({"replay", "--type", "sshd", log.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(decisions(r.out).empty()) << r.out;
  EXPECT_NE(r.err.find("0 decisions"), std::string::npos) << r.err;
}

TEST(ReplayE2E, FixtureBruteForceDecisionHasTheDocumentedShape) {
  auto r = runRiposte({"replay", "--year", "2025", fixture("e2e/bruteforce.log").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ds = decisions(r.out);
  ASSERT_EQ(ds.size(), 1u) << r.out;
  const auto& d = ds[0];
  EXPECT_EQ(d["target"], "203.0.113.5");
  EXPECT_EQ(d["action"], "block");
  EXPECT_EQ(d["detector"], "ssh-bruteforce");
  EXPECT_EQ(d["events"], 6);
  EXPECT_EQ(d["first_seen"], "2025-02-12T14:10:21+00:00");
  EXPECT_EQ(d["last_seen"], "2025-02-12T14:10:24+00:00");
  EXPECT_EQ(d["expires"], "2025-02-12T18:10:24+00:00");  // 4h default
  EXPECT_TRUE(d["reason"].is_string() && !d["reason"].get<std::string>().empty());
  for (const char* key : {"lines read", "parsed", "unparsed", "findings", "decisions", "lines/s"}) {
    EXPECT_NE(r.err.find(key), std::string::npos) << key << " missing from summary: " << r.err;
  }
}

TEST(ReplayE2E, FixtureSuccessOnlyBlocksNothing) {
  auto r = runRiposte({"replay", fixture("e2e/success_only.log").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(decisions(r.out).empty()) << r.out;
}

TEST(ReplayE2E, GzipStdinAndConfiguredAllowlist) {
  testing::TempDir dir;
  const std::string text = testing::readFile(fixture("e2e/bruteforce.log"));
  const auto gz = dir.path() / "auth.log.gz";
  gzFile f = gzopen(gz.c_str(), "wb");
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
  auto r = runRiposte({"replay", gz.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(targets(decisions(r.out)), std::set<std::string>{"203.0.113.5"});

  auto s = runRiposte({"replay", "--type", "sshd", "-"}, text);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(targets(decisions(s.out)), std::set<std::string>{"203.0.113.5"});

  const auto cfg = dir.path() / "allow.yaml";
  std::ofstream(cfg) << "response:\n  allowlist: [203.0.113.0/24]\n"
                        "detectors:\n  - name: bf\n    type: threshold\n    kinds: [auth]\n"
                        "    outcome: failure\n    threshold: 6\n    window: 60s\n";
  auto a = runRiposte({"replay", "--config", cfg.string(), fixture("e2e/bruteforce.log").string()});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_TRUE(decisions(a.out).empty()) << a.out;
  EXPECT_NE(a.err.find("1 allowlisted"), std::string::npos) << a.err;
}

TEST(ReplayE2E, BadInputIsReportedNotFatal) {
  testing::TempDir dir;
  const auto log = dir.path() / "mixed.log";
  std::string text = testing::readFile(fixture("e2e/bruteforce.log"));
  text.insert(text.find('\n') + 1, std::string("\x00\x01\xff garbage\n", 12) +
                                       std::string(2 << 20, 'x') + "\nnot syslog at all\n");
  std::ofstream(log, std::ios::binary) << text;
  auto r = runRiposte({"replay", "--type", "sshd", log.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(targets(decisions(r.out)), std::set<std::string>{"203.0.113.5"});
  EXPECT_NE(r.err.find("3 unparsed"), std::string::npos) << r.err;

  auto missing = runRiposte({"replay", (dir.path() / "nope.log").string()});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("nope.log"), std::string::npos) << missing.err;
  auto badtype = runRiposte({"replay", "--type", "klingon", log.string()});
  EXPECT_EQ(badtype.exit_code, 2);
  EXPECT_NE(badtype.err.find("klingon"), std::string::npos);
}

TEST(ConfigCheckE2E, ErrorsNamePositions) {
  testing::TempDir dir;
  const auto bad = dir.path() / "bad.yaml";
  std::ofstream(bad) << "engine:\n  log_level: info\n  oops: [1, 2\n";
  auto r = runRiposte({"config", "check", bad.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(bad.string() + ":"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("malformed YAML"), std::string::npos) << r.err;

  const auto unknown = dir.path() / "unknown.yaml";
  std::ofstream(unknown) << "store:\n  type: sqlite\n  pth: /tmp/x.db\n";
  r = runRiposte({"config", "check", unknown.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(unknown.string() + ":3:3: store.pth: unknown key"), std::string::npos)
      << r.err;

  r = runRiposte({"config", "check", std::string(RIPOSTE_SOURCE_DIR) + "/examples/riposte.yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("OK"), std::string::npos);
}

TEST(CliE2E, VersionAndHelpOnEveryCommand) {
  auto v = runRiposte({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("riposte ", 0), 0u) << v.out;
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--help"},
                                             {"replay", "--help"},
                                             {"serve", "--help"},
                                             {"config", "check", "--help"},
                                             {"decisions", "list", "--help"},
                                             {"decisions", "add", "--help"},
                                             {"decisions", "delete", "--help"},
                                             {"audit", "verify", "--help"},
                                             {"audit", "show", "--help"}}) {
    auto h = runRiposte(args);
    EXPECT_EQ(h.exit_code, 0) << args[0];
    EXPECT_NE(h.out.find("Usage"), std::string::npos) << args[0] << ": " << h.out;
  }
  auto none = runRiposte({});
  EXPECT_NE(none.exit_code, 0);
}

}  // namespace
}  // namespace riposte

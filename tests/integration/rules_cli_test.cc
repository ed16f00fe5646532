// `riposte rules test` and the Sigma coverage report of `riposte rules lint`, through the binary.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/test_support.h"

namespace riposte {
namespace {

namespace fs = std::filesystem;
using testing::runRiposte;
using testing::TempDir;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

TEST(RulesCli, BundledRuleTestsPass) {
  const auto r = runRiposte({"rules", "test", std::string(RIPOSTE_SOURCE_DIR) + "/rules/tests"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("PASS ssh-bruteforce"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" 0 failed"), std::string::npos) << r.out;
}

TEST(RulesCli, SigmaExampleCorrelationTestPasses) {
  const auto r =
      runRiposte({"rules", "test", std::string(RIPOSTE_SOURCE_DIR) + "/examples/sigma/tests"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("PASS ssh-bruteforce-then-success"), std::string::npos) << r.out;
}

TEST(RulesCli, AFailingCaseNamesMissingAndUnexpectedFindings) {
  TempDir t;
  const fs::path ruleset = t.path() / "ruleset";
  write(ruleset / "r.yaml",
        "rules:\n  - id: failures\n    kinds: [auth]\n    match: {event.outcome: failure}\n"
        "    aggregate: {type: count, threshold: 3, window: 1m}\n");
  std::string log;
  for (int i = 0; i < 3; ++i) {
    log += "Mar  3 10:15:1" + std::to_string(i) +
           " web1 sshd[1]: Failed password for root from 198.51.100.7 port 4000 ssh2\n";
  }
  write(ruleset / "tests/wrong/auth.log", log);
  write(ruleset / "tests/wrong/test.yaml",
        "type: sshd\nyear: 2024\nfindings:\n  - {rule: failures, target: 198.51.100.8}\n");
  write(ruleset / "tests/right/auth.log", log);
  write(ruleset / "tests/right/test.yaml",
        "year: 2024\nfindings:\n  - {rule: failures, target: 198.51.100.7, count: 1}\n");
  const auto r = runRiposte({"rules", "test", (ruleset / "tests").string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("PASS right"), std::string::npos) << r.out;  // parser detected
  EXPECT_NE(r.out.find("FAIL wrong"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("missing: failures -> 198.51.100.8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unexpected: failures -> 198.51.100.7"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 case(s): 1 passed, 1 failed"), std::string::npos) << r.out;
}

TEST(RulesCli, LintPrintsTheSigmaCoverageReport) {
  TempDir t;
  write(t.path() / "sigma/a.yml",
        "title: ok\nid: a\nlogsource: {category: webserver}\n"
        "detection:\n  sel: {cs-method: TRACE}\n  condition: sel\n");
  write(t.path() / "sigma/sub/b.yml",
        "title: wide\nid: b\nlogsource: {category: webserver}\n"
        "detection:\n  sel: {cs-uri-query|wide|contains: x}\n  condition: sel\n");
  write(t.path() / "sigma/sub/c.yml",
        "title: win\nid: c\nlogsource: {product: windows, service: security}\n"
        "detection:\n  sel: {EventID: 4625}\n  condition: sel\n");
  const auto r = runRiposte({"rules", "lint", (t.path() / "sigma").string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Sigma: 3 rule(s): 1 loaded"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("S001 unsupported modifier: 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("modifier wide"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("logsource product=windows service=security"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("b.yml:5:9: warning S001 [b]"), std::string::npos) << r.err;
  // A broken condition is an error with its position.
  write(t.path() / "bad/d.yml",
        "title: bad\nid: d\nlogsource: {category: webserver}\n"
        "detection:\n  sel: {cs-method: TRACE}\n  condition: sel and not (sel\n");
  const auto bad = runRiposte({"rules", "lint", (t.path() / "bad").string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("d.yml:6:30: error S004"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace riposte

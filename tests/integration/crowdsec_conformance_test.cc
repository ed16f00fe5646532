// Conformance against CrowdSec's own scenario tests (crowdsec-hub/tests/<case>/): for every case
// with expectations whose log type Riposte parses, `riposte replay` with the default ruleset must
// decide on exactly the source IPs the case's scenario.assert expects — nothing missing, nothing
// extra. Prints a table; fails on any unexpected failure and on any known failure that passes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "support/test_support.h"

namespace riposte {
namespace {

namespace fs = std::filesystem;
using testing::readFile;
using testing::runRiposte;

// Cases that cannot pass today, each with the reason. A case listed here that passes fails the
// test, so the list stays true.
const std::map<std::string, std::string>& knownFailures() {
  static const std::map<std::string, std::string> m = {};
  return m;
}

// log_type values Riposte reads (by auto-detection): syslog (sshd, iptables), web access and
// error logs, Suricata EVE. Others (containerd/cri wrapping envoy logs) have no parser.
bool supportedLogType(const std::string& t) {
  return t == "syslog" || t == "nginx" || t == "apache2" || t == "suricata-evelogs";
}

std::string yamlScalar(const std::string& yaml, const std::string& key) {
  const std::regex re("(^|\\n)\\s*" + key + ":\\s*\"?([^\"\\n#]*?)\"?\\s*(\\n|$)");
  std::smatch m;
  if (std::regex_search(yaml, m, re)) return m[2].str();
  return "";
}

std::set<std::string> expectedIps(const std::string& assert_text) {
  std::set<std::string> ips;
  const std::regex re(R"re("([^"]+)" in results\[\d+\]\.Overflow\.GetSources\(\))re");
  for (auto it = std::sregex_iterator(assert_text.begin(), assert_text.end(), re);
       it != std::sregex_iterator(); ++it) {
    ips.insert((*it)[1].str());
  }
  return ips;
}

std::set<std::string> decidedTargets(const std::string& out) {
  std::set<std::string> s;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '{') continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("target")) s.insert(j["target"].get<std::string>());
  }
  return s;
}

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : " ") + x;
  return out.empty() ? "-" : out;
}

TEST(CrowdsecConformance, DefaultRulesetDecidesExactlyTheExpectedIps) {
  const auto corpora = testing::corporaDir();
  if (!corpora || !fs::is_directory(*corpora / "crowdsec-hub/tests")) {
    GTEST_SKIP() << "corpora absent: crowdsec-hub/tests not found (set RIPOSTE_CORPORA)";
  }
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(*corpora / "crowdsec-hub/tests")) {
    if (e.is_directory()) cases.push_back(e.path());
  }
  std::sort(cases.begin(), cases.end());

  int run = 0, passed = 0, known = 0;
  std::vector<std::string> unexpected;
  std::printf("%-34s %-44s %-44s %s\n", "case", "expected", "got", "result");
  for (const auto& dir : cases) {
    const std::string name = dir.filename().string();
    const std::string assert_text = readFile(dir / "scenario.assert");
    if (assert_text.empty()) continue;  // parser-only case
    const std::string config = readFile(dir / "config.yaml");
    const std::string log_type = yamlScalar(config, "log_type");
    const std::string log_file = yamlScalar(config, "log_file");
    const std::set<std::string> expected = expectedIps(assert_text);
    if (!supportedLogType(log_type)) {
      std::printf("%-34s %-44s %-44s %s\n", name.c_str(), join(expected).c_str(), "-",
                  ("skipped (log_type " + log_type + " not supported)").c_str());
      continue;
    }
    ++run;
    const auto r = runRiposte({"replay", (dir / log_file).string()});
    const std::set<std::string> got =
        r.exit_code == 0 ? decidedTargets(r.out) : std::set<std::string>{};
    const bool ok = r.exit_code == 0 && got == expected;
    const auto kf = knownFailures().find(name);
    std::string verdict = ok ? "pass" : "FAIL";
    if (kf != knownFailures().end()) {
      ++known;
      verdict += ok ? " (listed as known failure: remove it from the list)"
                    : " (known: " + kf->second + ")";
      if (ok) unexpected.push_back(name + ": passes but is listed as a known failure");
    } else if (!ok) {
      unexpected.push_back(
          name + ": expected {" + join(expected) + "}, got {" + join(got) + "}" +
          (r.exit_code != 0 ? " exit " + std::to_string(r.exit_code) + ": " + r.err : ""));
    }
    if (ok) ++passed;
    std::printf("%-34s %-44s %-44s %s\n", name.c_str(), join(expected).c_str(), join(got).c_str(),
                verdict.c_str());
  }
  std::printf("CrowdSec conformance: %d of %d supported cases pass (%d known failures)\n", passed,
              run, known);
  std::fflush(stdout);
  EXPECT_GT(run, 0);
  for (const auto& u : unexpected) ADD_FAILURE() << u;
}

// Every case directory named in the known-failure list exists (a renamed case would otherwise
// hide there forever).
TEST(CrowdsecConformance, KnownFailuresNameExistingCases) {
  const auto corpora = testing::corporaDir();
  if (!corpora) GTEST_SKIP() << "corpora absent (set RIPOSTE_CORPORA)";
  for (const auto& [name, reason] : knownFailures()) {
    EXPECT_TRUE(fs::is_directory(*corpora / "crowdsec-hub/tests" / name)) << name << ": " << reason;
  }
}

}  // namespace
}  // namespace riposte

// The `riposte intel` commands, driven through CLI11 as the binary will once main() registers
// them (the lead engineer wires addIntelCommands into src/cli/main.cc). The CLI source is compiled
// into this test directly because src/cli is not part of the engine library.
#include "cli/intel_cmd.cc"  // NOLINT(bugprone-suspicious-include)

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "support/test_support.h"

namespace riposte::cli {
namespace {

struct CliRun {
  int code = 0;
  std::string out;
  std::string err;
};

CliRun run(std::vector<std::string> args) {
  CLI::App app("riposte");
  addIntelCommands(app);
  std::vector<const char*> argv{"riposte"};
  for (const auto& a : args) argv.push_back(a.c_str());
  CliRun r;
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    r.code = e.get_exit_code();
  }
  r.out = ::testing::internal::GetCapturedStdout();
  r.err = ::testing::internal::GetCapturedStderr();
  return r;
}

TEST(IntelCli, LoadLookupStats) {
  riposte::testing::TempDir dir;
  const std::string db = (dir.path() / "intel.db").string();
  const std::string list = (dir.path() / "drop.txt").string();
  std::ofstream(list)
      << "; Spamhaus DROP\n45.12.0.0/16 ; SBL1\n45.13.0.0/16 ; SBL2\n10.0.0.0/8 ; SBL3\n";
  const std::string stix = (dir.path() / "bundle.json").string();
  std::ofstream(stix)
      << R"({"type":"bundle","id":"bundle--1","objects":[{"type":"indicator","id":"indicator--1",
    "pattern":"[ipv4-addr:value = '45.12.3.4']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","confidence":90}]})";

  CliRun load =
      run({"intel", "load", list, "--format", "list", "--db", db, "--source", "spamhaus-drop"});
  ASSERT_EQ(load.code, 0) << load.err;
  auto j = nlohmann::json::parse(load.out);
  EXPECT_EQ(j["parse"]["indicators"], 3);
  EXPECT_EQ(j["build"]["rejected_known_good"], 1);  // 10.0.0.0/8
  EXPECT_EQ(j["snapshot"]["indicators"], 2);

  CliRun load2 = run({"intel", "load", stix, "--format", "stix", "--db", db});
  ASSERT_EQ(load2.code, 0) << load2.err;
  EXPECT_EQ(nlohmann::json::parse(load2.out)["source"], "bundle");  // from the file name

  CliRun look = run({"intel", "lookup", "45.12.3.4", "--db", db});
  ASSERT_EQ(look.code, 0) << look.err;
  auto m = nlohmann::json::parse(look.out)["matches"];
  ASSERT_EQ(m.size(), 2u);
  std::set<std::string> values;
  for (const auto& x : m) values.insert(x["value"].get<std::string>());
  EXPECT_EQ(values, (std::set<std::string>{"45.12.3.4", "45.12.0.0/16"}));
  for (const auto& x : m) {
    if (x["value"] == "45.12.0.0/16") {
      EXPECT_EQ(x["sources"][0]["source"], "spamhaus-drop");
      EXPECT_EQ(x["sources"][0]["reference"], "SBL1");
    } else {
      EXPECT_EQ(x["sources"][0]["confidence"], 90);
      EXPECT_EQ(x["sources"][0]["reference"], "indicator--1");
    }
  }

  CliRun miss = run({"intel", "lookup", "46.1.1.1", "--db", db});
  EXPECT_EQ(miss.code, 1);
  EXPECT_TRUE(nlohmann::json::parse(miss.out)["matches"].empty());

  CliRun stats = run({"intel", "stats", "--db", db});
  ASSERT_EQ(stats.code, 0) << stats.err;
  auto s = nlohmann::json::parse(stats.out);
  EXPECT_EQ(s["indicators"], 3);
  EXPECT_EQ(s["per_type"]["cidr4"], 2);
  EXPECT_EQ(s["per_type"]["ipv4"], 1);
  EXPECT_EQ(s["per_source"]["spamhaus-drop"], 2);
  EXPECT_GT(s["memory_bytes"].get<size_t>(), 0u);

  // Reloading a source replaces its indicators; a broken file changes nothing.
  std::ofstream(list, std::ios::trunc) << "45.14.0.0/16\n";
  ASSERT_EQ(
      run({"intel", "load", list, "--format", "list", "--db", db, "--source", "spamhaus-drop"})
          .code,
      0);
  std::ofstream(stix, std::ios::trunc) << R"({"type":"bundle","objects":[{"type":"indic)";
  CliRun broken = run({"intel", "load", stix, "--format", "stix", "--db", db});
  EXPECT_EQ(broken.code, 2);
  EXPECT_NE(broken.err.find("nothing changed"), std::string::npos);
  auto after = nlohmann::json::parse(run({"intel", "stats", "--db", db}).out);
  EXPECT_EQ(after["per_source"]["spamhaus-drop"], 1);
  EXPECT_EQ(after["per_source"]["bundle"], 1);

  CliRun badfmt = run({"intel", "load", list, "--format", "xml", "--db", db});
  EXPECT_EQ(badfmt.code, 2);
  EXPECT_NE(badfmt.err.find("xml"), std::string::npos);
}

}  // namespace
}  // namespace riposte::cli

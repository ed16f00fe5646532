// SigmaHQ's regression cases (shared corpus: rule.yml, info.yml with match_count, Windows
// events converted from EVTX as concatenated JSON objects): read as generic JSON events
// (Sigma passthrough, fields by their Windows names), each case must give its expected number
// of matches. Prints one line per case.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "riposte/detect/rules/rule_engine.h"
#include "riposte/detect/rules/sigma.h"
#include "support/test_support.h"

namespace riposte::rules {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string scalarText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

// Event.System.X -> X, Event.System.X.#attributes.Y -> X_Y (the Sigma convention),
// Event.EventData.X -> X.
void flatten(const json& ev, std::vector<std::pair<std::string, std::string>>& out) {
  const json& e = ev.contains("Event") ? ev["Event"] : ev;
  if (e.contains("System")) {
    for (const auto& [k, v] : e["System"].items()) {
      if (v.is_object()) {
        if (v.contains("#attributes")) {
          for (const auto& [a, x] : v["#attributes"].items())
            out.emplace_back(k + "_" + a, scalarText(x));
        }
      } else {
        out.emplace_back(k, scalarText(v));
      }
    }
  }
  for (const char* section : {"EventData", "UserData"}) {
    if (!e.contains(section) || !e[section].is_object()) continue;
    for (const auto& [k, v] : e[section].items()) {
      if (v.is_object()) {
        for (const auto& [k2, v2] : v.items()) {
          if (!v2.is_object()) out.emplace_back(k2, scalarText(v2));
        }
      } else {
        out.emplace_back(k, scalarText(v));
      }
    }
  }
}

TEST(SigmaRegression, SigmaHqCasesGiveTheirMatchCount) {
  RIPOSTE_REQUIRE_CORPUS(dir, "sigma/regression");
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory()) cases.push_back(e.path());
  }
  std::sort(cases.begin(), cases.end());
  ASSERT_GE(cases.size(), 30u);
  SigmaOptions o;
  o.passthrough = true;
  size_t passed = 0;
  for (const auto& c : cases) {
    const std::string name = c.filename().string();
    const YAML::Node info = YAML::LoadFile((c / "info.yml").string());
    int expected = -1;  // at least one
    if (const YAML::Node t = info["regression_tests_info"]; t && t.IsSequence() && t.size() > 0) {
      if (t[0]["match_count"]) expected = t[0]["match_count"].as<int>();
    }
    auto loaded = loadRuleFiles({(c / "rule.yml").string()}, &o);
    std::string problem;
    size_t matches = 0;
    size_t bare_matches = 0;
    size_t events = 0;
    if (loaded.hasErrors() || loaded.rules.size() != 1) {
      problem = "rule did not load: " + loaded.toJson();
    } else {
      RuleEngine engine("sigma", std::move(loaded.rules));
      for (const auto& f : fs::directory_iterator(c)) {
        if (f.path().extension() != ".json") continue;
        std::ifstream in(f.path());
        while (in >> std::ws && in.peek() != EOF) {
          json ev;
          try {
            in >> ev;
          } catch (const json::exception& ex) {
            problem = std::string("bad JSON: ") + ex.what();
            break;
          }
          std::vector<std::pair<std::string, std::string>> fields;
          flatten(ev, fields);
          Event e;
          e.setKind(EventKind::kGeneric);
          const std::string raw = ev.dump();
          e.setRaw(raw);
          std::deque<std::string> keep;
          for (const auto& [k, v] : fields) {
            e.setExtra(k, v);
            if (k == "Computer") {
              keep.push_back(v);
              e.set(Field::kHostName, keep.back());
            }
          }
          e.setTimestamp(Timestamp::fromSeconds(1'700'000'000 + static_cast<int64_t>(events)));
          ++events;
          engine.onEvent(e, [&](Finding&&) { ++matches; });
          // The same event without its EventData must not match (the rule tests real fields).
          Event bare;
          bare.setKind(EventKind::kGeneric);
          bare.setRaw("{}");
          bare.setTimestamp(e.timestamp());
          if (ev.contains("Event") && ev["Event"].contains("System")) {
            json sys_only = {{"Event", {{"System", ev["Event"]["System"]}}}};
            std::vector<std::pair<std::string, std::string>> sys;
            flatten(sys_only, sys);
            for (const auto& [k, v] : sys) bare.setExtra(k, v);
          }
          bare.set(Field::kHostName, "host");
          engine.onEvent(bare, [&](Finding&&) { ++bare_matches; });
        }
      }
      const bool ok = expected < 0 ? matches >= 1 : matches == static_cast<size_t>(expected);
      if (bare_matches > 0 && problem.empty()) problem = "matched an event without its EventData";
      if (!ok && problem.empty())
        problem = std::to_string(matches) + " match(es), expected " +
                  (expected < 0 ? std::string("at least 1") : std::to_string(expected));
    }
    std::printf("%-4s %-75s events %zu matches %zu\n", problem.empty() ? "PASS" : "FAIL",
                name.c_str(), events, matches);
    EXPECT_TRUE(problem.empty()) << name << ": " << problem;
    passed += problem.empty() ? 1 : 0;
  }
  std::printf("Sigma regression: %zu of %zu cases pass\n", passed, cases.size());
}

}  // namespace
}  // namespace riposte::rules

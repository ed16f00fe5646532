#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "riposte/detect/rules/rule_loader.h"
#include "riposte/detect/rules/rule_test.h"
#include "riposte/detect/rules/sigma.h"

namespace riposte::cli {

namespace {

const char* codeMeaning(const std::string& code) {
  if (code == "S001") return "unsupported modifier";
  if (code == "S002") return "unmapped field";
  if (code == "S003") return "unsupported logsource";
  if (code == "S006") return "undefined placeholder";
  if (code == "S007") return "unsupported correlation feature";
  if (code == "S009") return "unsupported detection feature";
  return "";
}

// The Sigma coverage report: what loaded, and why the rest did not.
void printSigmaCoverage(const rules::SigmaCoverage& c) {
  std::printf("Sigma: %zu rule(s): %zu loaded, %zu loaded as part of a correlation, %zu skipped\n",
              c.rules, c.loaded, c.referenced_only, c.skippedCount());
  for (const auto& [code, features] : c.skipped) {
    size_t n = 0;
    for (const auto& [f, k] : features) n += k;
    std::printf("  %s %s: %zu\n", code.c_str(), codeMeaning(code), n);
    std::vector<std::pair<size_t, std::string>> sorted;
    for (const auto& [f, k] : features) sorted.emplace_back(k, f);
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    for (const auto& [k, f] : sorted) std::printf("    %-60s %zu\n", f.c_str(), k);
  }
}

std::vector<std::string> pathsOrBundled(const std::vector<std::string>& paths) {
  if (!paths.empty()) return paths;
  return {std::filesystem::is_directory("rules") ? std::string("rules")
                                                 : std::string(RIPOSTE_SOURCE_RULES_DIR)};
}

}  // namespace

void addRulesCommands(CLI::App& app, Context& ctx) {
  auto* rules = app.add_subcommand("rules", "Rule tools: lint, list, test");
  rules->require_subcommand(1);

  struct LintOpts {
    std::vector<std::string> paths;
    bool json = false;
    bool quiet = false;
  };
  auto lo = std::make_shared<LintOpts>();
  auto* lint = rules->add_subcommand(
      "lint",
      "Load rule files like a compiler: every error and warning with file:line:col and code");
  lint->add_option("paths", lo->paths,
                   "rule files, directories or globs (default: bundled rules/)");
  lint->add_flag("--json", lo->json, "print the load result as JSON");
  lint->add_flag("--quiet,-q", lo->quiet, "print errors only (not warnings)");
  lint->callback([&ctx, lo] {
    auto r = rules::loadRuleFiles(pathsOrBundled(lo->paths));
    if (lo->json) {
      std::printf("%s\n", r.toJson().c_str());
    } else {
      for (const auto& d : r.diagnostics) {
        if (lo->quiet && d.severity != rules::RuleDiagnostic::Severity::kError) continue;
        std::fprintf(stderr, "%s\n", d.toString().c_str());
      }
      std::printf("%zu rule(s) loaded from %zu file(s); %zu file(s) rejected; %zu error(s)\n",
                  r.rules.size(), r.files_loaded.size(), r.files_rejected.size(), r.errorCount());
      if (r.sigma.rules > 0) printSigmaCoverage(r.sigma);
    }
    if (r.hasErrors()) ctx.exit_code = 2;
  });

  auto lp = std::make_shared<std::vector<std::string>>();
  auto* list = rules->add_subcommand("list", "List the rules as JSON lines");
  list->add_option("paths", *lp, "rule files, directories or globs (default: bundled rules/)");
  list->callback([&ctx, lp] {
    auto r = rules::loadRuleFiles(pathsOrBundled(*lp));
    for (const auto& d : r.diagnostics) std::fprintf(stderr, "%s\n", d.toString().c_str());
    for (const auto& rule : r.rules) {
      nlohmann::ordered_json j;
      j["id"] = rule.id;
      j["name"] = rule.name;
      j["mode"] = std::string(rules::ruleModeName(rule.mode));
      std::vector<std::string> kinds;
      for (auto k : rule.kinds) kinds.emplace_back(eventKindName(k));
      j["kinds"] = kinds;
      j["severity"] = rule.severity;
      j["action"] = rule.action;
      j["labels"] = rule.labels;
      j["format"] = rule.format;
      j["file"] = rule.file;
      j["line"] = rule.line;
      std::printf("%s\n", j.dump().c_str());
    }
    if (r.hasErrors()) ctx.exit_code = 2;
  });

  struct TestOpts {
    std::string dir;
    std::vector<std::string> rules;
  };
  auto to = std::make_shared<TestOpts>();
  auto* test = rules->add_subcommand(
      "test",
      "Run rule tests: each case directory holds test.yaml (rules, parser, expected findings)\n"
      "and its input log (format in docs/rules.md); prints PASS/FAIL per case");
  test->add_option("dir", to->dir, "a directory of cases, or one case directory")->required();
  test->add_option("--rules,-r", to->rules,
                   "rule files or directories for every case (default: each case's 'rules', "
                   "else DIR/..)");
  test->callback([&ctx, to] {
    const auto results = rules::runRuleTests(to->dir, ctx.registries, to->rules);
    size_t passed = 0;
    for (const auto& r : results) {
      std::printf("%s %s (%zu lines, %zu findings)\n", r.passed ? "PASS" : "FAIL", r.name.c_str(),
                  r.lines, r.findings);
      for (const auto& p : r.problems) std::printf("    %s\n", p.c_str());
      passed += r.passed ? 1 : 0;
    }
    std::printf("%zu case(s): %zu passed, %zu failed\n", results.size(), passed,
                results.size() - passed);
    if (results.empty() || passed != results.size()) ctx.exit_code = 1;
  });
}

}  // namespace riposte::cli

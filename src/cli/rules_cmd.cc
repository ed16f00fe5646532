#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "riposte/detect/rules/rule_loader.h"

namespace riposte::cli {

namespace {

std::vector<std::string> pathsOrBundled(const std::vector<std::string>& paths) {
  if (!paths.empty()) return paths;
  return {std::filesystem::is_directory("rules") ? std::string("rules")
                                                 : std::string(RIPOSTE_SOURCE_RULES_DIR)};
}

}  // namespace

void addRulesCommands(CLI::App& app, Context& ctx) {
  auto* rules = app.add_subcommand("rules", "Rule tools: lint, list");
  rules->require_subcommand(1);

  struct LintOpts {
    std::vector<std::string> paths;
    bool json = false;
  };
  auto lo = std::make_shared<LintOpts>();
  auto* lint = rules->add_subcommand(
      "lint",
      "Load rule files like a compiler: every error and warning with file:line:col and code");
  lint->add_option("paths", lo->paths,
                   "rule files, directories or globs (default: bundled rules/)");
  lint->add_flag("--json", lo->json, "print the load result as JSON");
  lint->callback([&ctx, lo] {
    auto r = rules::loadRuleFiles(pathsOrBundled(lo->paths));
    if (lo->json) {
      std::printf("%s\n", r.toJson().c_str());
    } else {
      for (const auto& d : r.diagnostics) std::fprintf(stderr, "%s\n", d.toString().c_str());
      std::printf("%zu rule(s) loaded from %zu file(s); %zu file(s) rejected; %zu error(s)\n",
                  r.rules.size(), r.files_loaded.size(), r.files_rejected.size(), r.errorCount());
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
      j["file"] = rule.file;
      j["line"] = rule.line;
      std::printf("%s\n", j.dump().c_str());
    }
    if (r.hasErrors()) ctx.exit_code = 2;
  });
}

}  // namespace riposte::cli

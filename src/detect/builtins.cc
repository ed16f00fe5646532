// Registers the built-in components of the detect area.
#include <cstdlib>
#include <filesystem>

#include "riposte/core/registry.h"
#include "riposte/detect/rules/rule_engine.h"
#include "riposte/detect/rules/rule_loader.h"
#include "riposte/detect/threshold_detector.h"

namespace riposte {

namespace {

// "@bundled" names the default ruleset shipped in rules/: $RIPOSTE_RULES_DIR, ./rules, or the
// source tree's rules/ this binary was built from.
std::string resolveRulePath(const std::string& p) {
  if (p != "@bundled") return p;
  if (const char* env = std::getenv("RIPOSTE_RULES_DIR"); env != nullptr && *env != '\0')
    return env;
  if (std::filesystem::is_directory("rules")) return "rules";
  return RIPOSTE_BUNDLED_RULES_DIR;
}

std::vector<std::string> rulePaths(const ComponentConfig& c, const ConfigReader& rd) {
  std::vector<std::string> paths = rd.getStringList(c.node, c.path, "paths");
  for (auto& p : paths) p = resolveRulePath(p);
  return paths;
}

}  // namespace

Status registerDetectBuiltins(Registries& r) {
  RIPOSTE_RETURN_IF_ERROR(r.detectors.add(
      "threshold", "N matching events from one key within a sliding window",
      [](const ComponentConfig& c, const FactoryContext&) -> Result<DetectorPtr> {
        std::vector<ConfigDiagnostic> diags;
        ConfigReader rd("", &diags);
        auto cfg = ThresholdConfig::fromConfig(c, rd);
        if (!diags.empty()) return Status::invalidArgument(diags.front().toString());
        return DetectorPtr(std::make_unique<ThresholdDetector>(std::move(cfg)));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        (void)ThresholdConfig::fromConfig(c, rd);
      }));
  RIPOSTE_RETURN_IF_ERROR(r.detectors.add(
      "rules", "Riposte YAML rules (selection, aggregation, outcome) from files or directories",
      [](const ComponentConfig& c, const FactoryContext&) -> Result<DetectorPtr> {
        std::vector<ConfigDiagnostic> diags;
        ConfigReader rd("", &diags);
        auto loaded = rules::loadRuleFiles(rulePaths(c, rd));
        std::string errors;
        for (const auto& d : loaded.diagnostics) {
          if (d.severity == rules::RuleDiagnostic::Severity::kError)
            errors += "\n  " + d.toString();
        }
        if (!errors.empty()) {
          return Status::invalidArgument(c.path + ": rule files rejected:" + errors);
        }
        return DetectorPtr(std::make_unique<rules::RuleEngine>(c.name, std::move(loaded.rules)));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        rd.checkKeys(c.node, c.path, {"name", "type", "paths"});
        const auto paths = rulePaths(c, rd);
        if (paths.empty()) rd.error(c.node, c.path, "a rules detector needs 'paths'");
        auto loaded = rules::loadRuleFiles(paths);
        for (const auto& d : loaded.diagnostics) {
          if (d.severity == rules::RuleDiagnostic::Severity::kError) {
            rd.error(c.node["paths"], c.path + ".paths", d.toString());
          }
        }
      }));
  return Status::ok();
}

}  // namespace riposte

// Registers the built-in components of the detect area.
#include <cstdlib>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "riposte/core/registry.h"
#include "riposte/detect/anomaly_detector.h"
#include "riposte/detect/intel_detector.h"
#include "riposte/detect/rules/intel_predicate.h"
#include "riposte/detect/rules/rule_engine.h"
#include "riposte/detect/rules/rule_loader.h"
#include "riposte/detect/rules/sigma.h"
#include "riposte/detect/shared_intel.h"
#include "riposte/detect/threshold_detector.h"
#include "riposte/intel/cache_refresher.h"
#include "riposte/intel/collector.h"
#include "riposte/intel/commands.h"

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

namespace rules {

LoadResult loadRulesFor(const ComponentConfig& c) {
  std::vector<ConfigDiagnostic> diags;
  ConfigReader rd("", &diags);
  auto sigma = sigmaOptionsFromYaml(c.node["sigma"]);
  if (!sigma) {
    LoadResult bad;
    RuleDiagnostic d;
    d.code = "R005";
    d.file = c.path + ".sigma";
    d.message = sigma.status().message();
    bad.diagnostics.push_back(std::move(d));
    return bad;
  }
  return loadRuleFiles(rulePaths(c, rd), &*sigma);
}

}  // namespace rules

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
      [](const ComponentConfig& c, const FactoryContext& ctx) -> Result<DetectorPtr> {
        auto sigma = rules::sigmaOptionsFromYaml(c.node["sigma"]);
        if (!sigma) return sigma.status().withContext(c.path);
        auto loaded = rules::loadRulesFor(c);
        std::string errors;
        std::vector<rules::RuleDiagnostic> warnings;
        for (auto& d : loaded.diagnostics) {
          if (d.severity == rules::RuleDiagnostic::Severity::kError) {
            errors += "\n  " + d.toString();
          } else {
            warnings.push_back(std::move(d));
          }
        }
        if (!errors.empty()) {
          return Status::invalidArgument(c.path + ": rule files rejected:" + errors);
        }
        // Intel predicates read the engine's shared intel store (shared_intel.h).
        std::shared_ptr<rules::IntelView> view;
        std::string intel_rules;
        for (const auto& r : loaded.rules) {
          if (r.intel) intel_rules += (intel_rules.empty() ? "" : ", ") + r.id;
        }
        if (!intel_rules.empty()) {
          const std::string db = rulesIntelDb(ctx.config);
          auto shared = sharedIntelFor(ctx, db, c.path);
          if (!shared) {
            return Status::invalidArgument(c.path + ": the intel predicates of " + intel_rules +
                                           " need the intel database " + db + ": " +
                                           shared.status().message());
          }
          view = std::make_shared<rules::IntelView>(std::move(*shared));
          rules::bindIntel(loaded.rules, view);
        }
        auto engine = std::make_unique<rules::RuleEngine>(c.name, std::move(loaded.rules),
                                                          std::move(warnings));
        if (view) engine->setIntel(std::move(view));
        return DetectorPtr(std::move(engine));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        rd.checkKeys(c.node, c.path, {"name", "type", "paths", "sigma"});
        const auto paths = rulePaths(c, rd);
        if (paths.empty()) rd.error(c.node, c.path, "a rules detector needs 'paths'");
        auto sigma = rules::sigmaOptionsFromYaml(c.node["sigma"]);
        if (!sigma) {
          rd.error(c.node["sigma"], c.path + ".sigma", sigma.status().message());
          return;
        }
        auto loaded = rules::loadRuleFiles(paths, &*sigma);
        for (const auto& d : loaded.diagnostics) {
          if (d.severity == rules::RuleDiagnostic::Severity::kError) {
            rd.error(c.node["paths"], c.path + ".paths", d.toString());
          }
        }
      }));
  RIPOSTE_RETURN_IF_ERROR(r.detectors.add(
      "intel", "threat-intel matching of addresses, domains and hashes against the indicator db",
      [](const ComponentConfig& c, const FactoryContext& ctx) -> Result<DetectorPtr> {
        std::vector<ConfigDiagnostic> diags;
        ConfigReader rd("", &diags);
        IntelDetectorConfig cfg;
        cfg.name = c.name;
        const std::string db = rd.getString(c.node, c.path, "db", "var/intel.db");
        cfg.block_score = static_cast<int>(rd.getInt(c.node, c.path, "block_score", 70, 0, 100));
        cfg.min_score = static_cast<int>(rd.getInt(c.node, c.path, "min_score", 1, 0, 100));
        cfg.repeat_after = rd.getDuration(c.node, c.path, "repeat_after", cfg.repeat_after);
        if (!diags.empty()) return Status::invalidArgument(diags.front().toString());
        auto shared = sharedIntelFor(ctx, db, c.path);
        if (!shared) return shared.status();
        return DetectorPtr(std::make_unique<IntelDetector>(std::move(cfg), std::move(*shared)));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        rd.checkKeys(c.node, c.path,
                     {"name", "type", "db", "block_score", "min_score", "repeat_after"});
        (void)rd.getString(c.node, c.path, "db", "var/intel.db");
        (void)rd.getInt(c.node, c.path, "block_score", 70, 0, 100);
        (void)rd.getInt(c.node, c.path, "min_score", 1, 0, 100);
        (void)rd.getDuration(c.node, c.path, "repeat_after", std::chrono::minutes(10));
      }));
  RIPOSTE_RETURN_IF_ERROR(r.detectors.add(
      "anomaly",
      "Isolation Forest anomaly score of per-entity windowed features (a model from `riposte "
      "model train`)",
      [](const ComponentConfig& c, const FactoryContext& ctx) -> Result<DetectorPtr> {
        std::vector<ConfigDiagnostic> diags;
        ConfigReader rd("", &diags);
        auto cfg = AnomalyDetectorConfig::fromConfig(c, rd);
        if (!diags.empty()) return Status::invalidArgument(diags.front().toString());
        std::shared_ptr<const ml::Model> model;
        if (cfg.model_path.empty()) {
          spdlog::warn("{}: no model configured; the anomaly detector only computes features{}",
                       c.path, cfg.record ? " and records them" : "");
        } else if (auto m = AnomalyDetector::loadModelFor(cfg); m) {
          model = std::move(*m);
          spdlog::info("{}: model {} loaded ({} trees, trained on {} rows)", c.path, cfg.model_path,
                       model->forest.trees(), model->training.rows);
        } else {
          // The engine keeps running without the model.
          spdlog::error("{}: {}; running WITHOUT the anomaly model (no anomaly findings)", c.path,
                        m.status().message());
        }
        return DetectorPtr(
            std::make_unique<AnomalyDetector>(std::move(cfg), std::move(model), ctx.store));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        (void)AnomalyDetectorConfig::fromConfig(c, rd);
      }));
  return Status::ok();
}

}  // namespace riposte

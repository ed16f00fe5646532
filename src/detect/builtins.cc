// Registers the built-in components of the detect area.
#include "riposte/core/registry.h"
#include "riposte/detect/threshold_detector.h"

namespace riposte {

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
  return Status::ok();
}

}  // namespace riposte

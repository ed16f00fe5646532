// Registers the built-in components of the behaviour area.
#include "riposte/behavior/longterm_detector.h"
#include "riposte/core/registry.h"

namespace riposte {

Status registerBehaviorBuiltins(Registries& r) {
  return r.detectors.add(
      "longterm",
      "long-term behaviour per address, account and flow pair (slow and distributed brute "
      "force, beaconing, departure from baseline), history kept in the store",
      [](const ComponentConfig& c, const FactoryContext& ctx) -> Result<DetectorPtr> {
        std::vector<ConfigDiagnostic> diags;
        ConfigReader rd("", &diags);
        auto cfg = LongTermConfig::fromConfig(c, rd);
        if (!diags.empty()) return Status::invalidArgument(diags.front().toString());
        return DetectorPtr(std::make_unique<LongTermDetector>(
            std::move(cfg), dynamic_cast<BehaviorStore*>(ctx.store)));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        (void)LongTermConfig::fromConfig(c, rd);
      });
}

}  // namespace riposte

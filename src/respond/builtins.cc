// Registers the built-in components of the respond area: actions.
#include <set>

#include "riposte/core/registry.h"
#include "riposte/respond/log_action.h"

namespace riposte {

Status registerRespondBuiltins(Registries& r) {
  RIPOSTE_RETURN_IF_ERROR(r.actions.add(
      "log", "writes what would be enforced as JSON lines (file or '-' for stderr)",
      [](const ComponentConfig& c, const FactoryContext&) -> Result<ActionPtr> {
        const std::string path = c.node["path"] ? c.node["path"].as<std::string>("-") : "-";
        auto a = LogAction::create(c.name, path);
        if (!a) return a.status();
        return ActionPtr(std::move(*a));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        rd.checkKeys(c.node, c.path, {"name", "type", "path"});
        (void)rd.getString(c.node, c.path, "path", "-");
      }));
  return Status::ok();
}

}  // namespace riposte

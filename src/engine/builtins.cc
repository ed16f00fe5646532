// Fills the registries with every built-in component. Each area registers its own components
// in its own function, so adding one touches only that area.
#include "riposte/core/registry.h"

namespace riposte {

Status registerIngestBuiltins(Registries& r);
Status registerDetectBuiltins(Registries& r);
Status registerRespondBuiltins(Registries& r);
Status registerStoreBuiltins(Registries& r);
Status registerBehaviorBuiltins(Registries& r);

Status registerBuiltins(Registries& r) {
  RIPOSTE_RETURN_IF_ERROR(registerIngestBuiltins(r));
  RIPOSTE_RETURN_IF_ERROR(registerDetectBuiltins(r));
  RIPOSTE_RETURN_IF_ERROR(registerRespondBuiltins(r));
  RIPOSTE_RETURN_IF_ERROR(registerStoreBuiltins(r));
  RIPOSTE_RETURN_IF_ERROR(registerBehaviorBuiltins(r));
  return Status::ok();
}

}  // namespace riposte

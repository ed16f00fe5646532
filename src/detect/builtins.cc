// Registers the built-in components of the detect area.
#include "riposte/core/registry.h"

namespace riposte {

Status registerDetectBuiltins(Registries& r) {
  (void)r;
  return Status::ok();
}

} // namespace riposte

// Registers the built-in components of the store area.
#include "riposte/core/registry.h"

namespace riposte {

Status registerStoreBuiltins(Registries& r) {
  (void)r;
  return Status::ok();
}

} // namespace riposte

// Registers the built-in stores.
#include "riposte/core/registry.h"
#include "riposte/store/sqlite_store.h"

namespace riposte {

Status registerStoreBuiltins(Registries& r) {
  RIPOSTE_RETURN_IF_ERROR(r.stores.add(
      "sqlite", "embedded SQLite file (WAL), the default",
      [](const ComponentConfig& c, const FactoryContext&) -> Result<StorePtr> {
        const std::string path = c.node["path"] ? c.node["path"].as<std::string>("") : "";
        auto s = SqliteStore::open(path.empty() ? "var/riposte.db" : path);
        if (!s) return s.status();
        return StorePtr(std::move(*s));
      }));
  return Status::ok();
}

}  // namespace riposte

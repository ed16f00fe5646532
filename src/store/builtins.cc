// Registers the built-in stores.
#include <filesystem>

#include "riposte/core/registry.h"
#include "riposte/store/postgres_store.h"
#include "riposte/store/sqlite_store.h"

namespace riposte {

namespace {

constexpr const char* kServeStoreKey = "__serve_start_unreachable";

PostgresStoreOptions postgresOptions(const ComponentConfig& c, const Config* config) {
  const YAML::Node& n = c.node;
  PostgresStoreOptions o;
  o.url = n["url"] ? n["url"].as<std::string>("") : "";
  if (n["retention_days"]) o.retention_days = n["retention_days"].as<int>(o.retention_days);
  const std::string data_dir = config != nullptr ? config->data_dir : "var";
  o.spill_path = n["spill_path"]
                     ? n["spill_path"].as<std::string>("")
                     : (std::filesystem::path(data_dir) / "postgres-spill.jsonl").string();
  if (n["spill_max_bytes"]) {
    o.spill_max_bytes = n["spill_max_bytes"].as<uint64_t>(o.spill_max_bytes);
  }
  if (n["retry_interval"]) {
    if (auto d = parseDuration(n["retry_interval"].as<std::string>(""))) o.retry_interval = *d;
  }
  if (n["connect_timeout"]) {
    if (auto d = parseDuration(n["connect_timeout"].as<std::string>(""))) {
      o.connect_timeout_s = static_cast<int>(std::max<int64_t>(1, d->count() / 1'000'000));
    }
  }
  return o;
}

}  // namespace

Status registerStoreBuiltins(Registries& r) {
  RIPOSTE_RETURN_IF_ERROR(r.stores.add(
      "sqlite", "embedded SQLite file (WAL), the default",
      [](const ComponentConfig& c, const FactoryContext&) -> Result<StorePtr> {
        const std::string path = c.node["path"] ? c.node["path"].as<std::string>("") : "";
        auto s = SqliteStore::open(path.empty() ? "var/riposte.db" : path);
        if (!s) return s.status();
        return StorePtr(std::move(*s));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        rd.checkKeys(c.node, c.path, {"type", "path", "event_log"});
        (void)rd.getBool(c.node, c.path, "event_log", false);
      }));
  RIPOSTE_RETURN_IF_ERROR(r.stores.add(
      "postgres",
      "PostgreSQL (libpq url): event log partitioned by day, spill journal while unreachable",
      [](const ComponentConfig& c, const FactoryContext& ctx) -> Result<StorePtr> {
        PostgresStoreOptions o = postgresOptions(c, ctx.config);
        // Set by serve (kServeStoreKey), never read from a file: checkKeys refuses it there.
        o.start_unreachable = c.node[kServeStoreKey] && c.node[kServeStoreKey].as<bool>(false);
        auto s = PostgresStore::open(o);
        if (!s) return s.status();
        return StorePtr(std::move(*s));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        rd.checkKeys(c.node, c.path,
                     {"type", "url", "retention_days", "spill_path", "spill_max_bytes",
                      "retry_interval", "connect_timeout", "event_log"});
        (void)rd.getBool(c.node, c.path, "event_log", false);
        const std::string url = rd.getString(c.node, c.path, "url", "", true);
        if (c.node["url"] && url.empty()) {
          rd.error(c.node["url"], c.path + ".url",
                   "is empty (a libpq connection string, e.g. postgresql://user@host/db)");
        }
        (void)rd.getInt(c.node, c.path, "retention_days", 30, 0, 36500);
        (void)rd.getString(c.node, c.path, "spill_path", "");
        (void)rd.getInt(c.node, c.path, "spill_max_bytes", 1ll << 30, 1 << 20, 1ll << 40);
        (void)rd.getDuration(c.node, c.path, "retry_interval", std::chrono::seconds(1));
        (void)rd.getDuration(c.node, c.path, "connect_timeout", std::chrono::seconds(5));
      }));
  return Status::ok();
}

}  // namespace riposte

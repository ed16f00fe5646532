// ConfigHistoryStore: the history of rule-set and configuration loads (table config_history;
// engine/config_history.h records them) — who loaded what, when.
//
// A Store that keeps this history also implements ConfigHistoryStore (SQLite and PostgreSQL);
// callers find it with dynamic_cast, like BehaviorStore.
//
// Thread safety: implementations serialise access internally, like Store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/core/time.h"

namespace riposte {

// One load. `content` holds the files' text (each after a "=== <file>" line) when it differs
// from the previous load of the same kind, with `diff` (unified, per file) against the last
// stored text; both are empty when nothing changed (`changed` false).
struct ConfigHistoryRecord {
  int64_t id = 0;    // assigned by the store, increasing
  std::string kind;  // rules | config
  Timestamp time;
  std::string actor;  // engine | api:<user> | signal:SIGHUP
  std::string hash;   // hex SHA-256 over the files' names and contents
  std::vector<std::string> files;
  bool changed = true;
  std::string content;
  std::string diff;
  std::string summary;  // "12 rule(s) loaded", "rejected: ..."
};

// Newest first; `before_id` continues a page.
struct ConfigHistoryQuery {
  std::optional<std::string> kind;
  int64_t before_id = 0;
  size_t limit = 100;
};

class ConfigHistoryStore {
 public:
  virtual ~ConfigHistoryStore() = default;
  // Appends a load; fills `id` (0 when journaled while the database is unreachable).
  virtual Status saveConfigHistory(ConfigHistoryRecord& r) = 0;
  virtual Result<std::vector<ConfigHistoryRecord>> listConfigHistory(
      const ConfigHistoryQuery& q) = 0;
  virtual Result<std::optional<ConfigHistoryRecord>> getConfigHistory(int64_t id) = 0;
};

}  // namespace riposte

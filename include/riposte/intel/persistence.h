// Persistence of intel indicators in SQLite, so the store survives a restart without refetching
// the feeds: one row per (type, value, source) in table `intel_indicators` of a given database
// (the engine's embedded store, or a file of its own through IntelDb).
//
// saveSnapshot() replaces the table's contents with a snapshot's indicators in one transaction
// (a failure rolls back and leaves the previous rows). loadIndicators() returns them, ready for a
// SnapshotBuilder, which re-scores and re-expires them against the current time.
//
// Thread safety: the free functions use the given connection and are as thread-safe as it is
// (SQLite's default serialized mode). An IntelDb is used by one thread at a time.
#pragma once

#include <string>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/intel/indicator.h"
#include "riposte/intel/snapshot.h"

struct sqlite3;

namespace riposte::intel {

Status ensureIntelSchema(sqlite3* db);
Status saveSnapshot(sqlite3* db, const Snapshot& snapshot);
Status saveIndicators(sqlite3* db, const std::vector<Indicator>& indicators);  // replaces all rows
Result<std::vector<Indicator>> loadIndicators(sqlite3* db);

// An intel database in a file of its own (WAL mode).
class IntelDb {
 public:
  static Result<IntelDb> open(const std::string& path);
  IntelDb(IntelDb&& other) noexcept;
  IntelDb& operator=(IntelDb&& other) noexcept;
  ~IntelDb();

  Status save(const Snapshot& snapshot) { return saveSnapshot(db_, snapshot); }
  Result<std::vector<Indicator>> load() { return loadIndicators(db_); }
  sqlite3* handle() const { return db_; }

 private:
  explicit IntelDb(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace riposte::intel

#include "riposte/intel/persistence.h"

#include <sqlite3.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace riposte::intel {
namespace {

Status sqlError(sqlite3* db, const std::string& what) {
  return Status::ioError("intel db: " + what + ": " + (db ? sqlite3_errmsg(db) : "no connection"));
}

Status exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::ioError(std::string("intel db: ") + msg +
                           " (in: " + std::string(sql).substr(0, 60) + ")");
  }
  return Status::ok();
}

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

void bindTime(sqlite3_stmt* s, int i, Timestamp t) {
  if (t.isSet()) {
    sqlite3_bind_int64(s, i, t.seconds());
  } else {
    sqlite3_bind_null(s, i);
  }
}

Timestamp columnTime(sqlite3_stmt* s, int i) {
  if (sqlite3_column_type(s, i) == SQLITE_NULL) return {};
  return Timestamp::fromSeconds(sqlite3_column_int64(s, i));
}

std::string columnText(sqlite3_stmt* s, int i) {
  const auto* t = sqlite3_column_text(s, i);
  return t ? std::string(reinterpret_cast<const char*>(t),
                         static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

// Writes rows produced by `each` (which calls the given sink per indicator) in one transaction.
template <typename Each>
Status replaceAll(sqlite3* db, Each&& each) {
  RIPOSTE_RETURN_IF_ERROR(ensureIntelSchema(db));
  RIPOSTE_RETURN_IF_ERROR(exec(db, "BEGIN IMMEDIATE"));
  auto fail = [db](Status st) {
    (void)exec(db, "ROLLBACK");
    return st;
  };
  if (Status st = exec(db, "DELETE FROM intel_indicators"); !st.isOk()) return fail(st);
  Stmt ins(db,
           "INSERT OR REPLACE INTO intel_indicators (type, value, source, confidence, first_seen, "
           "last_seen, valid_until, tlp, reference, tags) VALUES (?,?,?,?,?,?,?,?,?,?)");
  if (!ins.ok()) return fail(sqlError(db, "prepare insert"));
  Status err;
  each([&](const Indicator& i) {
    if (!err.isOk()) return;
    sqlite3_stmt* s = ins.get();
    sqlite3_reset(s);
    const std::string_view type = indicatorTypeName(i.type);
    sqlite3_bind_text(s, 1, type.data(), static_cast<int>(type.size()), SQLITE_STATIC);
    sqlite3_bind_text(s, 2, i.value.data(), static_cast<int>(i.value.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, i.source.data(), static_cast<int>(i.source.size()), SQLITE_TRANSIENT);
    if (i.confidence) {
      sqlite3_bind_int(s, 4, *i.confidence);
    } else {
      sqlite3_bind_null(s, 4);
    }
    bindTime(s, 5, i.first_seen);
    bindTime(s, 6, i.last_seen);
    bindTime(s, 7, i.valid_until);
    const std::string_view tlp = tlpName(i.tlp);
    sqlite3_bind_text(s, 8, tlp.data(), static_cast<int>(tlp.size()), SQLITE_STATIC);
    sqlite3_bind_text(s, 9, i.reference.data(), static_cast<int>(i.reference.size()),
                      SQLITE_TRANSIENT);
    if (i.tags.empty()) {
      sqlite3_bind_null(s, 10);
    } else {
      const std::string tags = nlohmann::json(i.tags).dump();
      sqlite3_bind_text(s, 10, tags.data(), static_cast<int>(tags.size()), SQLITE_TRANSIENT);
    }
    if (sqlite3_step(s) != SQLITE_DONE) err = sqlError(db, "insert " + i.value);
  });
  if (!err.isOk()) return fail(err);
  const std::string saved = std::to_string(Timestamp::now().seconds());
  Stmt meta(db, "INSERT OR REPLACE INTO intel_meta (key, value) VALUES ('saved_at', ?)");
  if (!meta.ok()) return fail(sqlError(db, "prepare meta"));
  sqlite3_bind_text(meta.get(), 1, saved.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(meta.get()) != SQLITE_DONE) return fail(sqlError(db, "write meta"));
  return exec(db, "COMMIT");
}

}  // namespace

Status ensureIntelSchema(sqlite3* db) {
  if (db == nullptr) return Status::invalidArgument("intel db: no connection");
  return exec(db,
              "CREATE TABLE IF NOT EXISTS intel_indicators ("
              " type TEXT NOT NULL, value TEXT NOT NULL, source TEXT NOT NULL,"
              " confidence INTEGER, first_seen INTEGER, last_seen INTEGER, valid_until INTEGER,"
              " tlp TEXT, reference TEXT, tags TEXT,"
              " PRIMARY KEY (type, value, source)) WITHOUT ROWID;"
              "CREATE TABLE IF NOT EXISTS intel_meta (key TEXT PRIMARY KEY, value TEXT);");
}

Status saveSnapshot(sqlite3* db, const Snapshot& snapshot) {
  return replaceAll(db, [&](const auto& sink) { snapshot.forEachIndicator(sink); });
}

Status saveIndicators(sqlite3* db, const std::vector<Indicator>& indicators) {
  return replaceAll(db, [&](const auto& sink) {
    for (const auto& i : indicators) sink(i);
  });
}

Result<std::vector<Indicator>> loadIndicators(sqlite3* db) {
  RIPOSTE_RETURN_IF_ERROR(ensureIntelSchema(db));
  Stmt q(db,
         "SELECT type, value, source, confidence, first_seen, last_seen, valid_until, tlp, "
         "reference, tags FROM intel_indicators");
  if (!q.ok()) return sqlError(db, "prepare select");
  std::vector<Indicator> out;
  size_t row = 0;
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    ++row;
    sqlite3_stmt* s = q.get();
    Indicator i;
    const std::string type = columnText(s, 0);
    auto t = indicatorTypeFromName(type);
    if (!t)
      return Status::parseError("intel db: row " + std::to_string(row) + ": unknown type '" + type +
                                "'");
    i.type = *t;
    i.value = columnText(s, 1);
    i.source = columnText(s, 2);
    if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
      i.confidence = static_cast<uint8_t>(std::clamp(sqlite3_column_int(s, 3), 0, 100));
    }
    i.first_seen = columnTime(s, 4);
    i.last_seen = columnTime(s, 5);
    i.valid_until = columnTime(s, 6);
    i.tlp = tlpFromName(columnText(s, 7));
    i.reference = columnText(s, 8);
    if (sqlite3_column_type(s, 9) != SQLITE_NULL) {
      auto tags = nlohmann::json::parse(columnText(s, 9), nullptr, false);
      if (tags.is_discarded() || !tags.is_array()) {
        return Status::parseError("intel db: row " + std::to_string(row) + " (" + i.value +
                                  "): bad tags");
      }
      for (const auto& tag : tags) {
        if (tag.is_string()) i.tags.push_back(tag.get<std::string>());
      }
    }
    out.push_back(std::move(i));
  }
  if (rc != SQLITE_DONE) return sqlError(db, "read indicators");
  return out;
}

Result<IntelDb> IntelDb::open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    Status st = Status::ioError("intel db: cannot open '" + path +
                                "': " + (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return st;
  }
  sqlite3_busy_timeout(db, 5000);
  IntelDb out(db);
  RIPOSTE_RETURN_IF_ERROR(exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  RIPOSTE_RETURN_IF_ERROR(ensureIntelSchema(db));
  return out;
}

IntelDb::IntelDb(IntelDb&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }

IntelDb& IntelDb::operator=(IntelDb&& other) noexcept {
  if (this != &other) {
    sqlite3_close(db_);
    db_ = other.db_;
    other.db_ = nullptr;
  }
  return *this;
}

IntelDb::~IntelDb() { sqlite3_close(db_); }

}  // namespace riposte::intel

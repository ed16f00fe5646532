// The store backends the contract tests run against: SQLite (a file in a temporary directory)
// and PostgreSQL (a fresh database on a server the tests start themselves).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "riposte/store/postgres_store.h"
#include "riposte/store/sqlite_store.h"
#include "support/pg_server.h"
#include "support/test_support.h"

namespace riposte::testing {

using Rows = std::vector<std::vector<std::string>>;

// Owns one database of one backend; open() may be called again to reopen it.
class StoreBackend {
 public:
  explicit StoreBackend(std::string kind) : kind_(std::move(kind)) {}

  // Empty when ready; otherwise why the backend cannot run here (the test skips or fails).
  std::string prepare(bool* skip) {
    *skip = false;
    if (kind_ == "sqlite") {
      path_ = (dir_.path() / "riposte.db").string();
      return "";
    }
    if (!PgServer::binDir()) {
      *skip = true;
      return "postgresql absent: initdb/postgres not found (install postgresql, or set "
             "RIPOSTE_PG_BIN)";
    }
    std::string err;
    PgServer* server = PgServer::shared(&err);
    if (server == nullptr) return "postgres did not start: " + err;
    url_ = server->createDatabase(PgServer::uniqueDatabaseName(), &err);
    if (url_.empty()) return "create database: " + err;
    return "";
  }

  Result<StorePtr> open() {
    if (kind_ == "sqlite") {
      auto s = SqliteStore::open(path_);
      if (!s) return s.status();
      return StorePtr(std::move(*s));
    }
    PostgresStoreOptions o;
    o.url = url_;
    o.spill_path = (dir_.path() / "spill.jsonl").string();
    o.retention_days = 0;
    auto s = PostgresStore::open(o);
    if (!s) return s.status();
    return StorePtr(std::move(*s));
  }

  int latestVersion() const {
    return kind_ == "sqlite" ? SqliteStore::latestSchemaVersion()
                             : PostgresStore::latestSchemaVersion();
  }

  // SQL behind the store's back (tamper tests), in either dialect's common subset.
  static Status exec(Store& s, const std::string& sql) {
    if (auto* q = dynamic_cast<SqliteStore*>(&s)) return q->execForTest(sql);
    return dynamic_cast<PostgresStore&>(s).execForTest(sql);
  }
  static Result<Rows> query(Store& s, const std::string& sql) {
    if (auto* q = dynamic_cast<SqliteStore*>(&s)) return q->queryForTest(sql);
    return dynamic_cast<PostgresStore&>(s).queryForTest(sql);
  }

  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  TempDir dir_;
  std::string path_;
  std::string url_;
};

}  // namespace riposte::testing

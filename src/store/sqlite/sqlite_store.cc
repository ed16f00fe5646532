#include "riposte/store/sqlite_store.h"

#include <sqlite3.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>
#include <variant>

#include <nlohmann/json.hpp>

#include "store/evidence_keys.h"

namespace riposte {

namespace {

// Versioned migrations: index i brings the schema from version i to i+1. Never edit a
// released entry; append a new one.
const std::vector<std::string>& migrations() {
  static const std::vector<std::string> kMigrations = {
      // 1: the first slice
      R"sql(
CREATE TABLE findings (
  id TEXT PRIMARY KEY, detector TEXT NOT NULL, entity_type TEXT NOT NULL, entity TEXT NOT NULL,
  severity INTEGER NOT NULL, score REAL NOT NULL, reason TEXT NOT NULL, action TEXT NOT NULL,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, event_count INTEGER NOT NULL,
  labels TEXT NOT NULL DEFAULT '[]', created INTEGER NOT NULL);
CREATE INDEX findings_entity ON findings(entity);
CREATE TABLE events (
  id INTEGER PRIMARY KEY, finding_id TEXT NOT NULL REFERENCES findings(id), ts INTEGER NOT NULL,
  tz INTEGER NOT NULL, source TEXT NOT NULL, offset INTEGER NOT NULL, raw TEXT NOT NULL,
  fields TEXT NOT NULL);
CREATE INDEX events_finding ON events(finding_id);
CREATE TABLE decisions (
  id TEXT PRIMARY KEY, action TEXT NOT NULL, target_type TEXT NOT NULL, target TEXT NOT NULL,
  detector TEXT NOT NULL, reason TEXT NOT NULL, finding_id TEXT NOT NULL, events INTEGER NOT NULL,
  first_seen INTEGER NOT NULL, first_tz INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  last_tz INTEGER NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL,
  state TEXT NOT NULL, origin TEXT NOT NULL, updated INTEGER NOT NULL);
CREATE INDEX decisions_state_expires ON decisions(state, expires);
CREATE INDEX decisions_target ON decisions(target);
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL,
  target TEXT NOT NULL, reason TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TABLE source_offsets (
  source TEXT NOT NULL, file TEXT NOT NULL, inode INTEGER NOT NULL, offset INTEGER NOT NULL,
  updated INTEGER NOT NULL, PRIMARY KEY (source, file));
)sql",
      // 2: the response slice — the engine's mode (auto | manual), one row.
      R"sql(
CREATE TABLE engine_mode (
  id INTEGER PRIMARY KEY CHECK (id = 1), mode TEXT NOT NULL, reason TEXT NOT NULL,
  actor TEXT NOT NULL, since INTEGER NOT NULL);
INSERT INTO engine_mode(id, mode, reason, actor, since) VALUES (1, 'auto', 'initial', 'engine', 0);
)sql",
      // 3: anomaly detection — per-entity feature vectors of closed windows (training data).
      R"sql(
CREATE TABLE feature_vectors (
  id INTEGER PRIMARY KEY, schema TEXT NOT NULL, schema_version INTEGER NOT NULL,
  entity_field TEXT NOT NULL, entity TEXT NOT NULL, window_start INTEGER NOT NULL,
  window_end INTEGER NOT NULL, events INTEGER NOT NULL, dim INTEGER NOT NULL, vals BLOB NOT NULL);
CREATE INDEX feature_vectors_schema
  ON feature_vectors(schema, schema_version, entity_field, window_end);
)sql",
      // 4: long-term behaviour history — one row per entity, its time buckets as a blob.
      R"sql(
CREATE TABLE behavior_history (
  key TEXT PRIMARY KEY, last_seen INTEGER NOT NULL, data BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX behavior_history_last_seen ON behavior_history(last_seen);
)sql",
      // 5: the event log — every event, appended in batches (appendEvents).
      R"sql(
CREATE TABLE event_log (
  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, tz INTEGER NOT NULL, source TEXT NOT NULL,
  offset INTEGER NOT NULL, raw TEXT NOT NULL, fields TEXT NOT NULL);
CREATE INDEX event_log_ts ON event_log(ts);
)sql",
      // 6: the console — users, sessions, API tokens; findings marked false positive; indexes
      // for the API's newest-first pages.
      R"sql(
CREATE TABLE users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, created INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  csrf TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL);
CREATE INDEX sessions_user ON sessions(user);
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created INTEGER NOT NULL,
  last_used INTEGER NOT NULL DEFAULT 0, revoked INTEGER NOT NULL DEFAULT 0);
ALTER TABLE findings ADD COLUMN false_positive INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN source_ip TEXT;
ALTER TABLE events ADD COLUMN kind TEXT;
UPDATE events SET source_ip = json_extract(fields, '$."source.ip"'),
  kind = json_extract(fields, '$."event.kind"') WHERE fields != '';
CREATE INDEX events_source_ip ON events(source_ip, id);
CREATE INDEX events_ts ON events(ts);
CREATE INDEX decisions_state_id ON decisions(state, id);
CREATE INDEX decisions_state_action ON decisions(state, action);
CREATE INDEX findings_detector_id ON findings(detector, id);
CREATE INDEX audit_kind ON audit(kind);
)sql",
      // 7: rule modes a person set (enabled | disabled | shadow), kept across restarts and
      // rule reloads.
      R"sql(
CREATE TABLE rule_modes (
  rule_id TEXT PRIMARY KEY, mode TEXT NOT NULL, actor TEXT NOT NULL, since INTEGER NOT NULL);
)sql",
      // 8: incidents — findings about one target grouped by the correlator, and their links.
      R"sql(
CREATE TABLE incidents (
  id TEXT PRIMARY KEY, key TEXT NOT NULL, target_type TEXT NOT NULL, target TEXT NOT NULL,
  title TEXT NOT NULL, severity INTEGER NOT NULL, finding_severity INTEGER NOT NULL,
  status TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  created INTEGER NOT NULL, updated INTEGER NOT NULL, finding_count INTEGER NOT NULL,
  detectors TEXT NOT NULL, labels TEXT NOT NULL, decision_ids TEXT NOT NULL,
  status_by TEXT NOT NULL, status_at INTEGER NOT NULL, status_note TEXT NOT NULL);
CREATE INDEX incidents_status_id ON incidents(status, id);
CREATE INDEX incidents_target_id ON incidents(target, id);
CREATE INDEX incidents_status_last_seen ON incidents(status, last_seen);
CREATE TABLE incident_findings (
  seq INTEGER PRIMARY KEY, incident_id TEXT NOT NULL, finding_id TEXT NOT NULL,
  UNIQUE (incident_id, finding_id));
CREATE INDEX incident_findings_finding ON incident_findings(finding_id);
)sql",
      // 9: rule-set and configuration loads — who loaded what, when (content hash, files, the
      // text and a diff against the previous load when it changed).
      R"sql(
CREATE TABLE config_history (
  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, time INTEGER NOT NULL, actor TEXT NOT NULL,
  hash TEXT NOT NULL, files TEXT NOT NULL, changed INTEGER NOT NULL, content TEXT NOT NULL,
  diff TEXT NOT NULL, summary TEXT NOT NULL);
CREATE INDEX config_history_kind_id ON config_history(kind, id);
)sql",
  };
  return kMigrations;
}

// A prepared statement borrowed from the store's cache (prepared once per SQL text), reset and
// unbound when the wrapper goes out of scope. Callers hold the store's mutex.
class Stmt {
 public:
  Stmt(sqlite3* db, std::map<std::string, sqlite3_stmt*>& cache, const std::string& sql) : db_(db) {
    auto it = cache.find(sql);
    if (it != cache.end()) {
      s_ = it->second;
      rc_ = SQLITE_OK;
      return;
    }
    rc_ = sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()),
                             SQLITE_PREPARE_PERSISTENT, &s_, nullptr);
    if (rc_ == SQLITE_OK) cache.emplace(sql, s_);
  }
  ~Stmt() {
    if (s_ != nullptr) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status status() const {
    return rc_ == SQLITE_OK
               ? Status::ok()
               : Status::internal(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
  }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& bindBlob(int i, const void* p, size_t n) {
    sqlite3_bind_blob(s_, i, p, static_cast<int>(n), SQLITE_TRANSIENT);
    return *this;
  }
  std::string_view blob(int col) const {
    const void* p = sqlite3_column_blob(s_, col);
    return p == nullptr ? std::string_view()
                        : std::string_view(static_cast<const char*>(p),
                                           static_cast<size_t>(sqlite3_column_bytes(s_, col)));
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_); }
  // Ready to bind and run again (bindings are overwritten by the next bind calls).
  void reset() { sqlite3_reset(s_); }
  Status run() {
    const int rc = step();
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::ok();
    return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(s_, col);
    return p == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(p),
                                      static_cast<size_t>(sqlite3_column_bytes(s_, col)));
  }
  int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  double f64(int col) const { return sqlite3_column_double(s_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

using Bind = std::variant<std::string, int64_t>;

void bindAll(Stmt& s, const std::vector<Bind>& binds) {
  for (size_t i = 0; i < binds.size(); ++i) {
    const int at = static_cast<int>(i + 1);
    if (const auto* str = std::get_if<std::string>(&binds[i])) {
      s.bind(at, *str);
    } else {
      s.bind(at, std::get<int64_t>(binds[i]));
    }
  }
}

// "a = ? AND b = ?" builder.
struct Where {
  std::string sql;
  std::vector<Bind> binds;
  void add(const std::string& cond, Bind b) {
    sql += (sql.empty() ? "WHERE " : " AND ") + cond;
    binds.push_back(std::move(b));
  }
};

// Escapes LIKE wildcards; used with ESCAPE '\\'.
std::string likeEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

const char* kFindingColumns =
    "id, detector, entity_type, entity, severity, score, reason, action, first_seen, last_seen, "
    "event_count, labels, created, false_positive";

// Columns: seq, time, actor, kind, target, reason, details, prev_hash, hash.
AuditEntry readAudit(const Stmt& s) {
  AuditEntry e;
  e.seq = s.i64(0);
  e.time = {s.i64(1), 0};
  e.actor = s.text(2);
  e.kind = s.text(3);
  e.target = s.text(4);
  e.reason = s.text(5);
  e.details_json = s.text(6);
  e.prev_hash = s.text(7);
  e.hash = s.text(8);
  return e;
}

FindingRecord readFinding(const Stmt& s) {
  FindingRecord r;
  Finding& f = r.finding;
  f.id = s.text(0);
  f.detector = s.text(1);
  f.entity.type = targetTypeFromName(s.text(2)).value_or(TargetType::kIp);
  f.entity.value = s.text(3);
  f.severity = static_cast<int>(s.i64(4));
  f.score = s.f64(5);
  f.reason = s.text(6);
  f.suggested_action = s.text(7);
  f.first_seen = {s.i64(8), 0};
  f.last_seen = {s.i64(9), 0};
  f.event_count = static_cast<uint32_t>(s.i64(10));
  const auto labels = nlohmann::json::parse(s.text(11), nullptr, false);
  if (labels.is_array()) {
    for (const auto& l : labels) {
      if (l.is_string()) f.labels.push_back(l.get<std::string>());
    }
  }
  r.created = {s.i64(12), 0};
  r.false_positive = s.i64(13) != 0;
  return r;
}

const char* kDecisionColumns =
    "id, action, target_type, target, detector, reason, finding_id, events, first_seen, first_tz, "
    "last_seen, last_tz, created, expires, state, origin";

Decision readDecision(const Stmt& s) {
  Decision d;
  d.id = s.text(0);
  d.action = s.text(1);
  d.target.type = targetTypeFromName(s.text(2)).value_or(TargetType::kIp);
  d.target.value = s.text(3);
  d.detector = s.text(4);
  d.reason = s.text(5);
  d.finding_id = s.text(6);
  d.events = static_cast<uint32_t>(s.i64(7));
  d.first_seen = {s.i64(8), static_cast<int16_t>(s.i64(9))};
  d.last_seen = {s.i64(10), static_cast<int16_t>(s.i64(11))};
  d.created = {s.i64(12), 0};
  d.expires = {s.i64(13), 0};
  d.state = decisionStateFromName(s.text(14)).value_or(DecisionState::kFailed);
  d.origin = s.text(15);
  return d;
}

const char* kIncidentColumns =
    "id, key, target_type, target, title, severity, finding_severity, status, first_seen, "
    "last_seen, created, updated, finding_count, detectors, labels, decision_ids, status_by, "
    "status_at, status_note";

// Everything is replaced but the status fields, which follow the newer status change.
const char* kIncidentUpsert =
    "ON CONFLICT (id) DO UPDATE SET key = excluded.key, target_type = excluded.target_type, "
    "target = excluded.target, title = excluded.title, severity = excluded.severity, "
    "finding_severity = excluded.finding_severity, first_seen = excluded.first_seen, "
    "last_seen = excluded.last_seen, created = excluded.created, updated = excluded.updated, "
    "finding_count = excluded.finding_count, detectors = excluded.detectors, labels = "
    "excluded.labels, decision_ids = excluded.decision_ids, "
    "status = CASE WHEN excluded.status_at >= incidents.status_at THEN excluded.status "
    "ELSE incidents.status END, "
    "status_by = CASE WHEN excluded.status_at >= incidents.status_at THEN excluded.status_by "
    "ELSE incidents.status_by END, "
    "status_note = CASE WHEN excluded.status_at >= incidents.status_at THEN excluded.status_note "
    "ELSE incidents.status_note END, "
    "status_at = CASE WHEN excluded.status_at >= incidents.status_at THEN excluded.status_at "
    "ELSE incidents.status_at END";

std::vector<std::string> jsonStrings(const std::string& text) {
  std::vector<std::string> out;
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_array()) {
    for (const auto& v : j) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

Incident readIncident(const Stmt& s) {
  Incident i;
  i.id = s.text(0);
  i.key = s.text(1);
  i.target.type = targetTypeFromName(s.text(2)).value_or(TargetType::kIp);
  i.target.value = s.text(3);
  i.title = s.text(4);
  i.severity = static_cast<int>(s.i64(5));
  i.finding_severity = static_cast<int>(s.i64(6));
  i.status = incidentStatusFromName(s.text(7)).value_or(IncidentStatus::kOpen);
  i.first_seen = {s.i64(8), 0};
  i.last_seen = {s.i64(9), 0};
  i.created = {s.i64(10), 0};
  i.updated = {s.i64(11), 0};
  i.finding_count = static_cast<uint32_t>(s.i64(12));
  i.detectors = jsonStrings(s.text(13));
  i.labels = jsonStrings(s.text(14));
  i.decision_ids = jsonStrings(s.text(15));
  i.status_by = s.text(16);
  i.status_at = {s.i64(17), 0};
  i.status_note = s.text(18);
  return i;
}

}  // namespace

// Runs PASSIVE checkpoints on its own connection when a commit leaves the WAL at kFrames pages
// or more (the WAL hook of the writing connection wakes it; the hook replaces SQLite's
// automatic checkpoint, which would run inside that commit). A checkpoint beside writers that
// keep committing cannot catch up with them, and SQLite rewinds the WAL only once every page
// is in the database file; so when the WAL reaches kMaxFrames, the committing thread
// checkpoints itself, as SQLite's own hook does at kFrames. Writers that pause (the usual case)
// let the thread catch up and the WAL rewind long before that.
class SqliteStore::Checkpointer {
 public:
  static constexpr int kFrames = 1000;
  static constexpr int kMaxFrames = 10000;

  explicit Checkpointer(sqlite3* db) : db_(db), thread_([this] { loop(); }) {}
  ~Checkpointer() {
    {
      std::lock_guard l(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
    sqlite3_close(db_);
  }

  // sqlite3_wal_hook callback: runs on the committing thread, after the commit.
  static int onCommit(void* self, sqlite3* db, const char* name, int frames) {
    if (frames >= kMaxFrames) {
      (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (frames >= kFrames) {
      static_cast<Checkpointer*>(self)->wake();
    }
    return SQLITE_OK;
  }

 private:
  void wake() {
    {
      std::lock_guard l(mu_);
      if (pending_) return;
      pending_ = true;
    }
    cv_.notify_one();
  }

  void loop() {
    std::unique_lock l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return stop_ || pending_; });
      if (stop_) return;
      pending_ = false;
      l.unlock();
      const int rc =
          sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY && !failed_) {
        failed_ = true;  // logged once; SQLite checkpoints when the last connection closes
        spdlog::warn("sqlite store: WAL checkpoint failed: {}", sqlite3_errmsg(db_));
      }
      l.lock();
    }
  }

  sqlite3* db_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false, stop_ = false, failed_ = false;
  std::thread thread_;
};

SqliteStore::SqliteStore(sqlite3* db) : db_(db) {}

int SqliteStore::latestSchemaVersion() { return static_cast<int>(migrations().size()); }

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  if (path != ":memory:") {
    // Zero set-up: the directory of the database file is created when missing.
    const auto parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::ioError("cannot open store " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<SqliteStore> s(new SqliteStore(db));
  RIPOSTE_RETURN_IF_ERROR(s->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                                  "PRAGMA foreign_keys=ON;")
                              .withContext(path));
  RIPOSTE_RETURN_IF_ERROR(s->migrate().withContext(path));
  if (!path.empty() && path != ":memory:") {  // a file: checkpoints off the writers' threads
    sqlite3* ck = nullptr;
    if (sqlite3_open_v2(path.c_str(), &ck, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) ==
        SQLITE_OK) {
      s->checkpointer_ = std::make_unique<Checkpointer>(ck);
      sqlite3_wal_hook(db, &Checkpointer::onCommit, s->checkpointer_.get());
    } else {
      sqlite3_close(ck);  // SQLite's automatic checkpoint stays in place
    }
  }
  return s;
}

SqliteStore::~SqliteStore() {
  if (checkpointer_) {
    sqlite3_wal_hook(db_, nullptr, nullptr);
    checkpointer_.reset();
  }
  for (auto& [_, st] : stmts_) sqlite3_finalize(st);
  sqlite3_close(db_);
}

Status SqliteStore::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    return Status::ioError("sqlite: " + msg);
  }
  return Status::ok();
}

Status SqliteStore::execForTest(const std::string& sql) {
  std::lock_guard lock(mu_);
  return exec(sql);
}

Status SqliteStore::migrate() {
  std::lock_guard lock(mu_);
  RIPOSTE_RETURN_IF_ERROR(
      exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied "
           "INTEGER NOT NULL)"));
  {
    Stmt s(db_, stmts_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    RIPOSTE_RETURN_IF_ERROR(s.status());
    if (s.step() == SQLITE_ROW) version_ = static_cast<int>(s.i64(0));
  }
  const auto& m = migrations();
  if (version_ > static_cast<int>(m.size())) {
    return Status::failedPrecondition("store schema version " + std::to_string(version_) +
                                      " is newer than this build knows (" +
                                      std::to_string(m.size()) + ")");
  }
  for (size_t v = static_cast<size_t>(version_); v < m.size(); ++v) {
    RIPOSTE_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
    Status st = exec(m[v]);
    if (st.isOk()) {
      st = exec("INSERT INTO schema_migrations(version, applied) VALUES (" + std::to_string(v + 1) +
                ", " + std::to_string(Timestamp::now().seconds()) + ")");
    }
    if (!st.isOk()) {
      (void)exec("ROLLBACK");
      return st.withContext("migration " + std::to_string(v + 1));
    }
    RIPOSTE_RETURN_IF_ERROR(exec("COMMIT"));
    version_ = static_cast<int>(v + 1);
  }
  return Status::ok();
}

int SqliteStore::schemaVersion() const {
  std::lock_guard lock(mu_);
  return version_;
}

// Inside a transaction the caller opened, with mu_ held.
Status SqliteStore::insertFinding(const Finding& f) {
  {
    Stmt s(db_, stmts_,
           "INSERT INTO findings(id, detector, entity_type, entity, severity, score, reason, "
           "action, first_seen, last_seen, event_count, labels, created) "
           "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
           "detector = excluded.detector, entity_type = excluded.entity_type, entity = "
           "excluded.entity, severity = excluded.severity, score = excluded.score, reason = "
           "excluded.reason, action = excluded.action, first_seen = excluded.first_seen, "
           "last_seen = excluded.last_seen, event_count = excluded.event_count, labels = "
           "excluded.labels, created = excluded.created");
    RIPOSTE_RETURN_IF_ERROR(s.status());
    s.bind(1, f.id)
        .bind(2, f.detector)
        .bind(3, std::string(targetTypeName(f.entity.type)))
        .bind(4, f.entity.value)
        .bind(5, int64_t{f.severity})
        .bind(6, f.score)
        .bind(7, f.reason)
        .bind(8, f.suggested_action)
        .bind(9, f.first_seen.micros)
        .bind(10, f.last_seen.micros)
        .bind(11, int64_t{f.event_count})
        .bind(12, nlohmann::json(f.labels).dump())
        .bind(13, Timestamp::now().micros);
    RIPOSTE_RETURN_IF_ERROR(s.run());
  }
  {
    // Saving a finding again replaces its evidence.
    Stmt s(db_, stmts_, "DELETE FROM events WHERE finding_id = ?");
    RIPOSTE_RETURN_IF_ERROR(s.status());
    s.bind(1, f.id);
    RIPOSTE_RETURN_IF_ERROR(s.run());
  }
  if (f.evidence.empty()) return Status::ok();
  const EvidenceKeys keys = evidenceKeys(f);
  Stmt s(db_, stmts_,
         "INSERT INTO events(finding_id, ts, tz, source, offset, raw, fields, source_ip, kind) "
         "VALUES (?,?,?,?,?,?,?,?,?)");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  for (const auto& e : f.evidence) {
    s.bind(1, f.id)
        .bind(2, e.timestamp.micros)
        .bind(3, int64_t{e.timestamp.offset_minutes})
        .bind(4, e.source)
        .bind(5, static_cast<int64_t>(e.offset))
        .bind(6, e.raw)
        .bind(7, e.fields_json)
        .bind(8, keys.source_ip)
        .bind(9, keys.kind);
    RIPOSTE_RETURN_IF_ERROR(s.run());
    s.reset();
  }
  return Status::ok();
}

// With mu_ held; an autocommit statement unless the caller opened a transaction.
Status SqliteStore::insertDecision(const Decision& d) {
  Stmt s(db_, stmts_,
         std::string("INSERT OR REPLACE INTO decisions(") + kDecisionColumns +
             ", updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, d.id)
      .bind(2, d.action)
      .bind(3, std::string(targetTypeName(d.target.type)))
      .bind(4, d.target.value)
      .bind(5, d.detector)
      .bind(6, d.reason)
      .bind(7, d.finding_id)
      .bind(8, int64_t{d.events})
      .bind(9, d.first_seen.micros)
      .bind(10, int64_t{d.first_seen.offset_minutes})
      .bind(11, d.last_seen.micros)
      .bind(12, int64_t{d.last_seen.offset_minutes})
      .bind(13, d.created.micros)
      .bind(14, d.expires.micros)
      .bind(15, std::string(decisionStateName(d.state)))
      .bind(16, d.origin)
      .bind(17, Timestamp::now().micros);
  return s.run();
}

// Inside a write transaction the caller opened (BEGIN IMMEDIATE: the chain's last entry cannot
// change under it), with mu_ held.
Status SqliteStore::insertAudit(AuditEntry& e) {
  {
    Stmt last(db_, stmts_, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
    RIPOSTE_RETURN_IF_ERROR(last.status());
    if (last.step() == SQLITE_ROW) {
      e.seq = last.i64(0) + 1;
      e.prev_hash = last.text(1);
    } else {
      e.seq = 1;
      e.prev_hash.clear();
    }
  }
  if (!e.time.isSet()) e.time = Timestamp::now();
  e.hash = auditEntryHash(e);
  Stmt s(db_, stmts_,
         "INSERT INTO audit(seq, time, actor, kind, target, reason, details, prev_hash, hash) "
         "VALUES (?,?,?,?,?,?,?,?,?)");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, e.seq)
      .bind(2, e.time.micros)
      .bind(3, e.actor)
      .bind(4, e.kind)
      .bind(5, e.target)
      .bind(6, e.reason)
      .bind(7, e.details_json)
      .bind(8, e.prev_hash)
      .bind(9, e.hash);
  return s.run();
}

// Runs `body` in one transaction (mu_ held): committed if it succeeds, rolled back if not.
template <typename F>
Status SqliteStore::inTransaction(const char* begin, F&& body) {
  RIPOSTE_RETURN_IF_ERROR(exec(begin));
  if (Status st = body(); !st.isOk()) {
    (void)exec("ROLLBACK");
    return st;
  }
  if (Status st = exec("COMMIT"); !st.isOk()) {
    (void)exec("ROLLBACK");
    return st;
  }
  return Status::ok();
}

Status SqliteStore::saveFinding(const Finding& f) {
  std::lock_guard lock(mu_);
  return inTransaction("BEGIN", [&] { return insertFinding(f); });
}

Status SqliteStore::saveDecision(const Decision& d) {
  std::lock_guard lock(mu_);
  return insertDecision(d);
}

Status SqliteStore::saveDecisionWithAudit(const Finding* finding, const Decision& d,
                                          AuditEntry& entry) {
  std::lock_guard lock(mu_);
  return inTransaction("BEGIN IMMEDIATE", [&]() -> Status {
    if (finding != nullptr) RIPOSTE_RETURN_IF_ERROR(insertFinding(*finding));
    RIPOSTE_RETURN_IF_ERROR(insertDecision(d));
    return insertAudit(entry);
  });
}

Status SqliteStore::updateDecisionState(const std::string& id, DecisionState state) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "UPDATE decisions SET state = ?, updated = ? WHERE id = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, std::string(decisionStateName(state))).bind(2, Timestamp::now().micros).bind(3, id);
  RIPOSTE_RETURN_IF_ERROR(s.run());
  if (sqlite3_changes(db_) == 0) return Status::notFound("decision " + id);
  return Status::ok();
}

Result<EngineMode> SqliteStore::loadMode() {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "SELECT mode, reason, actor, since FROM engine_mode WHERE id = 1");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  EngineMode m;
  if (s.step() == SQLITE_ROW) {
    (void)m.setName(s.text(0));
    m.reason = s.text(1);
    m.actor = s.text(2);
    m.since = {s.i64(3), 0};
  }
  return m;
}

Status SqliteStore::saveMode(const EngineMode& m) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         "INSERT INTO engine_mode(id, mode, reason, actor, since) VALUES (1, ?, ?, ?, ?) "
         "ON CONFLICT(id) DO UPDATE SET mode = excluded.mode, reason = excluded.reason, "
         "actor = excluded.actor, since = excluded.since");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, std::string(m.name())).bind(2, m.reason).bind(3, m.actor).bind(4, m.since.micros);
  return s.run();
}

Result<std::vector<Decision>> SqliteStore::selectDecisions(const std::string& where,
                                                           const std::vector<std::string>& binds,
                                                           size_t limit, bool ordered) {
  Stmt s(db_, stmts_,
         std::string("SELECT ") + kDecisionColumns + " FROM decisions " + where +
             (ordered ? " ORDER BY created, id" : "") + " LIMIT " + std::to_string(limit));
  RIPOSTE_RETURN_IF_ERROR(s.status());
  for (size_t i = 0; i < binds.size(); ++i) s.bind(static_cast<int>(i + 1), binds[i]);
  std::vector<Decision> out;
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(readDecision(s));
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return out;
}

Result<std::vector<Decision>> SqliteStore::listDecisions(const DecisionFilter& filter) {
  std::lock_guard lock(mu_);
  std::string where;
  std::vector<std::string> binds;
  if (filter.state) {
    where += "state = ?";
    binds.emplace_back(decisionStateName(*filter.state));
  }
  if (filter.target) {
    where += std::string(where.empty() ? "" : " AND ") + "target = ?";
    binds.push_back(*filter.target);
  }
  return selectDecisions(where.empty() ? "" : "WHERE " + where, binds, filter.limit,
                         filter.ordered);
}

Result<std::vector<Decision>> SqliteStore::expiredDecisions(Timestamp now) {
  std::lock_guard lock(mu_);
  return selectDecisions("WHERE state = 'active' AND expires <= " + std::to_string(now.micros), {},
                         100000);
}

Result<int64_t> SqliteStore::countFindings() {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "SELECT COUNT(*) FROM findings");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  if (s.step() != SQLITE_ROW) return Status::ioError(sqlite3_errmsg(db_));
  return s.i64(0);
}

Status SqliteStore::appendAudit(AuditEntry& e) {
  std::lock_guard lock(mu_);
  return inTransaction("BEGIN IMMEDIATE", [&] { return insertAudit(e); });
}

Result<std::vector<AuditEntry>> SqliteStore::listAudit(int64_t after_seq, size_t limit) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         "SELECT seq, time, actor, kind, target, reason, details, prev_hash, hash FROM audit "
         "WHERE seq > ? ORDER BY seq LIMIT ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, after_seq).bind(2, static_cast<int64_t>(limit));
  std::vector<AuditEntry> out;
  while (s.step() == SQLITE_ROW) {
    out.push_back(readAudit(s));
  }
  return out;
}

Status SqliteStore::appendEvents(std::span<const EvidenceEvent> events) {
  if (events.empty()) return Status::ok();
  std::lock_guard lock(mu_);
  RIPOSTE_RETURN_IF_ERROR(exec("BEGIN"));
  auto fail = [&](Status s) {
    (void)exec("ROLLBACK");
    return s;
  };
  Stmt s(db_, stmts_,
         "INSERT INTO event_log(ts, tz, source, offset, raw, fields) VALUES (?,?,?,?,?,?)");
  if (!s.status().isOk()) return fail(s.status());
  for (const auto& e : events) {
    s.bind(1, e.timestamp.micros)
        .bind(2, int64_t{e.timestamp.offset_minutes})
        .bind(3, e.source)
        .bind(4, static_cast<int64_t>(e.offset))
        .bind(5, e.raw)
        .bind(6, e.fields_json);
    if (Status st = s.run(); !st.isOk()) return fail(st);
    s.reset();
  }
  return exec("COMMIT");
}

Result<int64_t> SqliteStore::countEvents(Timestamp from, Timestamp to) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "SELECT COUNT(*) FROM event_log WHERE ts >= ? AND ts < ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, from.micros).bind(2, to.micros);
  if (s.step() != SQLITE_ROW) return Status::ioError(sqlite3_errmsg(db_));
  return s.i64(0);
}

Result<std::vector<std::vector<std::string>>> SqliteStore::queryForTest(const std::string& sql) {
  std::lock_guard lock(mu_);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  std::vector<std::vector<std::string>> rows;
  int rc = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      const auto* p = sqlite3_column_text(st, i);
      row.emplace_back(p == nullptr ? "" : reinterpret_cast<const char*>(p));
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return rows;
}

Status SqliteStore::saveOffset(const std::string& source, const std::string& file, uint64_t inode,
                               uint64_t offset) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         "INSERT INTO source_offsets(source, file, inode, offset, updated) VALUES (?,?,?,?,?) "
         "ON CONFLICT(source, file) DO UPDATE SET inode = excluded.inode, offset = "
         "excluded.offset, updated = excluded.updated");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, source)
      .bind(2, file)
      .bind(3, static_cast<int64_t>(inode))
      .bind(4, static_cast<int64_t>(offset))
      .bind(5, Timestamp::now().micros);
  return s.run();
}

Result<std::optional<std::pair<uint64_t, uint64_t>>> SqliteStore::loadOffset(
    const std::string& source, const std::string& file) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "SELECT inode, offset FROM source_offsets WHERE source = ? AND file = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, source).bind(2, file);
  if (s.step() != SQLITE_ROW) return std::optional<std::pair<uint64_t, uint64_t>>{};
  return std::optional<std::pair<uint64_t, uint64_t>>{
      std::make_pair(static_cast<uint64_t>(s.i64(0)), static_cast<uint64_t>(s.i64(1)))};
}

Status SqliteStore::saveFeatureVectors(const std::vector<FeatureVectorRecord>& records) {
  if (records.empty()) return Status::ok();
  std::lock_guard lock(mu_);
  RIPOSTE_RETURN_IF_ERROR(exec("BEGIN"));
  for (const auto& r : records) {
    Stmt s(db_, stmts_,
           "INSERT INTO feature_vectors(schema, schema_version, entity_field, entity, "
           "window_start, window_end, events, dim, vals) VALUES (?,?,?,?,?,?,?,?,?)");
    Status st = s.status();
    if (st.isOk()) {
      s.bind(1, r.schema)
          .bind(2, int64_t{r.schema_version})
          .bind(3, r.entity_field)
          .bind(4, r.entity)
          .bind(5, r.window_start.micros)
          .bind(6, r.window_end.micros)
          .bind(7, int64_t{r.events})
          .bind(8, static_cast<int64_t>(r.values.size()))
          .bindBlob(9, r.values.data(), r.values.size() * sizeof(float));
      st = s.run();
    }
    if (!st.isOk()) {
      (void)exec("ROLLBACK");
      return st;
    }
  }
  return exec("COMMIT");
}

Result<std::vector<FeatureVectorRecord>> SqliteStore::listFeatureVectors(
    const std::string& schema, int schema_version, const std::string& entity_field, size_t limit) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         "SELECT entity, window_start, window_end, events, dim, vals FROM feature_vectors "
         "WHERE schema = ? AND schema_version = ? AND entity_field = ? "
         "ORDER BY window_end DESC, id DESC LIMIT ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, schema)
      .bind(2, int64_t{schema_version})
      .bind(3, entity_field)
      .bind(4, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  std::vector<FeatureVectorRecord> out;
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) {
    FeatureVectorRecord r;
    r.schema = schema;
    r.schema_version = schema_version;
    r.entity_field = entity_field;
    r.entity = s.text(0);
    r.window_start = {s.i64(1), 0};
    r.window_end = {s.i64(2), 0};
    r.events = static_cast<uint32_t>(s.i64(3));
    const auto dim = static_cast<size_t>(s.i64(4));
    const std::string_view b = s.blob(5);
    if (b.size() != dim * sizeof(float)) {
      return Status::ioError("feature vector of " + r.entity + ": " + std::to_string(b.size()) +
                             " bytes for " + std::to_string(dim) + " values");
    }
    r.values.resize(dim);
    if (dim > 0) std::memcpy(r.values.data(), b.data(), b.size());
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return out;
}

// ---- the API's views ----

Result<std::optional<Decision>> SqliteStore::getDecision(const std::string& id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, std::string("SELECT ") + kDecisionColumns + " FROM decisions WHERE id = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, id);
  const int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<Decision>(readDecision(s));
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return std::optional<Decision>();
}

Result<std::vector<Decision>> SqliteStore::queryDecisions(const DecisionQuery& q) {
  std::lock_guard lock(mu_);
  Where w;
  if (q.state) w.add("state = ?", std::string(decisionStateName(*q.state)));
  if (q.target) w.add("target = ?", *q.target);
  if (q.action) w.add("action = ?", *q.action);
  if (q.detector) w.add("detector = ?", *q.detector);
  if (!q.before_id.empty()) w.add("id < ?", q.before_id);
  Stmt s(db_, stmts_,
         std::string("SELECT ") + kDecisionColumns + " FROM decisions " + w.sql +
             " ORDER BY id DESC LIMIT ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  w.binds.emplace_back(static_cast<int64_t>(q.limit));
  bindAll(s, w.binds);
  std::vector<Decision> out;
  out.reserve(std::min<size_t>(q.limit, 1000));
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(readDecision(s));
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return out;
}

Result<std::vector<DecisionCount>> SqliteStore::countDecisions() {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "SELECT action, state, COUNT(*) FROM decisions GROUP BY action, state");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  std::vector<DecisionCount> out;
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) {
    DecisionCount c;
    c.action = s.text(0);
    c.state = decisionStateFromName(s.text(1)).value_or(DecisionState::kFailed);
    c.count = s.i64(2);
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return out;
}

Result<int64_t> SqliteStore::deleteFeatureVectorsBefore(Timestamp before) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "DELETE FROM feature_vectors WHERE window_end < ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, before.micros);
  RIPOSTE_RETURN_IF_ERROR(s.run());
  return static_cast<int64_t>(sqlite3_changes(db_));
}

Status SqliteStore::saveBehavior(const std::vector<BehaviorRecord>& records) {
  if (records.empty()) return Status::ok();
  std::lock_guard lock(mu_);
  RIPOSTE_RETURN_IF_ERROR(exec("BEGIN"));
  for (const auto& r : records) {
    Stmt s(db_, stmts_,
           "INSERT INTO behavior_history(key, last_seen, data) VALUES (?,?,?) "
           "ON CONFLICT(key) DO UPDATE SET last_seen = excluded.last_seen, data = excluded.data");
    Status st = s.status();
    if (st.isOk()) {
      s.bind(1, r.key).bind(2, r.last_seen.micros).bindBlob(3, r.data.data(), r.data.size());
      st = s.run();
    }
    if (!st.isOk()) {
      (void)exec("ROLLBACK");
      return st.withContext("saving behaviour history of " + r.key);
    }
  }
  return exec("COMMIT");
}

Result<std::optional<BehaviorRecord>> SqliteStore::loadBehavior(const std::string& key) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "SELECT last_seen, data FROM behavior_history WHERE key = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, key);
  const int rc = s.step();
  if (rc == SQLITE_DONE) return std::optional<BehaviorRecord>();
  if (rc != SQLITE_ROW) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  BehaviorRecord r;
  r.key = key;
  r.last_seen = {s.i64(0), 0};
  r.data = s.blob(1);
  return std::optional<BehaviorRecord>(std::move(r));
}

Status SqliteStore::forEachBehaviorKey(const std::function<void(std::string_view)>& fn) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "SELECT key FROM behavior_history");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) fn(s.text(0));
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return Status::ok();
}

Result<int64_t> SqliteStore::pruneBehavior(Timestamp cutoff) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "DELETE FROM behavior_history WHERE last_seen < ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, cutoff.micros);
  RIPOSTE_RETURN_IF_ERROR(s.run());
  return static_cast<int64_t>(sqlite3_changes(db_));
}

Result<int64_t> SqliteStore::countDecisionsInState(DecisionState state) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "SELECT COUNT(*) FROM decisions WHERE state = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, std::string(decisionStateName(state)));
  if (s.step() != SQLITE_ROW) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return s.i64(0);
}

Result<std::vector<FindingRecord>> SqliteStore::listFindings(const FindingQuery& q) {
  std::lock_guard lock(mu_);
  Where w;
  if (q.detector) w.add("detector = ?", *q.detector);
  if (q.entity) w.add("entity = ?", *q.entity);
  if (q.false_positive) w.add("false_positive = ?", int64_t{*q.false_positive ? 1 : 0});
  if (!q.before_id.empty()) w.add("id < ?", q.before_id);
  Stmt s(db_, stmts_,
         std::string("SELECT ") + kFindingColumns + " FROM findings " + w.sql +
             " ORDER BY id DESC LIMIT ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  w.binds.emplace_back(static_cast<int64_t>(q.limit));
  bindAll(s, w.binds);
  std::vector<FindingRecord> out;
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(readFinding(s));
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return out;
}

Result<std::optional<FindingRecord>> SqliteStore::getFinding(const std::string& id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, std::string("SELECT ") + kFindingColumns + " FROM findings WHERE id = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, id);
  const int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<FindingRecord>(readFinding(s));
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return std::optional<FindingRecord>();
}

Status SqliteStore::setFindingFalsePositive(const std::string& id, bool false_positive) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "UPDATE findings SET false_positive = ? WHERE id = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, int64_t{false_positive ? 1 : 0}).bind(2, id);
  RIPOSTE_RETURN_IF_ERROR(s.run());
  if (sqlite3_changes(db_) == 0) return Status::notFound("finding " + id);
  return Status::ok();
}

Result<std::vector<StoredEvent>> SqliteStore::searchEvents(const EventQuery& q) {
  std::lock_guard lock(mu_);
  Where w;
  if (q.since) w.add("ts >= ?", q.since->micros);
  if (q.until) w.add("ts < ?", q.until->micros);
  if (q.source_ip) w.add("source_ip = ?", *q.source_ip);
  if (q.kind) w.add("kind = ?", *q.kind);
  if (q.text) w.add("raw LIKE ? ESCAPE '\\'", "%" + likeEscape(*q.text) + "%");
  if (q.finding_id) w.add("finding_id = ?", *q.finding_id);
  if (q.before_id > 0) w.add("id < ?", q.before_id);
  Stmt s(db_, stmts_,
         "SELECT id, finding_id, ts, tz, source, offset, raw, fields FROM events " + w.sql +
             " ORDER BY id DESC LIMIT ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  w.binds.emplace_back(static_cast<int64_t>(q.limit));
  bindAll(s, w.binds);
  std::vector<StoredEvent> out;
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) {
    StoredEvent e;
    e.id = s.i64(0);
    e.finding_id = s.text(1);
    e.event.timestamp = {s.i64(2), static_cast<int16_t>(s.i64(3))};
    e.event.source = s.text(4);
    e.event.offset = static_cast<uint64_t>(s.i64(5));
    e.event.raw = s.text(6);
    e.event.fields_json = s.text(7);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return out;
}

Result<std::vector<AuditEntry>> SqliteStore::queryAudit(const AuditQuery& q) {
  std::lock_guard lock(mu_);
  Where w;
  if (q.kind) {
    if (!q.kind->empty() && q.kind->back() == '.') {
      w.add("kind LIKE ? ESCAPE '\\'", likeEscape(*q.kind) + "%");
    } else {
      w.add("kind = ?", *q.kind);
    }
  }
  if (q.actor) w.add("actor = ?", *q.actor);
  if (q.target) w.add("target = ?", *q.target);
  if (q.before_seq > 0) w.add("seq < ?", q.before_seq);
  Stmt s(db_, stmts_,
         "SELECT seq, time, actor, kind, target, reason, details, prev_hash, hash FROM audit " +
             w.sql + " ORDER BY seq DESC LIMIT ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  w.binds.emplace_back(static_cast<int64_t>(q.limit));
  bindAll(s, w.binds);
  std::vector<AuditEntry> out;
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) {
    out.push_back(readAudit(s));
  }
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return out;
}

// ---- users, sessions, tokens ----

namespace {
UserRecord readUser(const Stmt& s) {
  UserRecord u;
  u.name = s.text(0);
  u.role = s.text(1);
  u.password_hash = s.text(2);
  u.created = {s.i64(3), 0};
  u.disabled = s.i64(4) != 0;
  return u;
}
TokenRecord readToken(const Stmt& s) {
  TokenRecord t;
  t.id = s.text(0);
  t.user = s.text(1);
  t.name = s.text(2);
  t.hash = s.text(3);
  t.created = {s.i64(4), 0};
  t.last_used = {s.i64(5), 0};
  t.revoked = s.i64(6) != 0;
  return t;
}
}  // namespace

Status SqliteStore::createUser(const UserRecord& u) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         "INSERT INTO users(name, role, password_hash, created, disabled) VALUES (?,?,?,?,?) "
         "ON CONFLICT(name) DO NOTHING");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, u.name)
      .bind(2, u.role)
      .bind(3, u.password_hash)
      .bind(4, u.created.micros)
      .bind(5, int64_t{u.disabled ? 1 : 0});
  RIPOSTE_RETURN_IF_ERROR(s.run());
  if (sqlite3_changes(db_) == 0) return Status::alreadyExists("user '" + u.name + "' exists");
  return Status::ok();
}

Status SqliteStore::updateUser(const UserRecord& u) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "UPDATE users SET role = ?, password_hash = ?, disabled = ? WHERE name = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, u.role).bind(2, u.password_hash).bind(3, int64_t{u.disabled ? 1 : 0}).bind(4, u.name);
  RIPOSTE_RETURN_IF_ERROR(s.run());
  if (sqlite3_changes(db_) == 0) return Status::notFound("user '" + u.name + "'");
  return Status::ok();
}

Status SqliteStore::deleteUser(const std::string& name) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "DELETE FROM users WHERE name = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, name);
  RIPOSTE_RETURN_IF_ERROR(s.run());
  if (sqlite3_changes(db_) == 0) return Status::notFound("user '" + name + "'");
  return Status::ok();
}

Result<std::optional<UserRecord>> SqliteStore::getUser(const std::string& name) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         "SELECT name, role, password_hash, created, disabled FROM users WHERE name = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, name);
  const int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<UserRecord>(readUser(s));
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return std::optional<UserRecord>();
}

Result<std::vector<UserRecord>> SqliteStore::listUsers() {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         "SELECT name, role, password_hash, created, disabled FROM users ORDER BY name");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  std::vector<UserRecord> out;
  while (s.step() == SQLITE_ROW) out.push_back(readUser(s));
  return out;
}

Status SqliteStore::saveSession(const SessionRecord& r) {
  std::lock_guard lock(mu_);
  // Expired sessions are dropped as new ones are made.
  {
    Stmt d(db_, stmts_, "DELETE FROM sessions WHERE expires <= ?");
    RIPOSTE_RETURN_IF_ERROR(d.status());
    d.bind(1, Timestamp::now().micros);
    RIPOSTE_RETURN_IF_ERROR(d.run());
  }
  Stmt s(
      db_, stmts_,
      "INSERT OR REPLACE INTO sessions(id_hash, user, csrf, created, expires) VALUES (?,?,?,?,?)");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, r.id_hash)
      .bind(2, r.user)
      .bind(3, r.csrf)
      .bind(4, r.created.micros)
      .bind(5, r.expires.micros);
  return s.run();
}

Result<std::optional<SessionRecord>> SqliteStore::getSession(const std::string& id_hash) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         "SELECT id_hash, user, csrf, created, expires FROM sessions WHERE id_hash = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, id_hash);
  if (s.step() != SQLITE_ROW) return std::optional<SessionRecord>();
  SessionRecord r;
  r.id_hash = s.text(0);
  r.user = s.text(1);
  r.csrf = s.text(2);
  r.created = {s.i64(3), 0};
  r.expires = {s.i64(4), 0};
  return std::optional<SessionRecord>(std::move(r));
}

Status SqliteStore::deleteSession(const std::string& id_hash) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "DELETE FROM sessions WHERE id_hash = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, id_hash);
  return s.run();
}

Status SqliteStore::deleteUserSessions(const std::string& user) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "DELETE FROM sessions WHERE user = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, user);
  return s.run();
}

Status SqliteStore::saveToken(const TokenRecord& t) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         "INSERT INTO api_tokens(id, user, name, hash, created, last_used, revoked) "
         "VALUES (?,?,?,?,?,?,?)");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, t.id)
      .bind(2, t.user)
      .bind(3, t.name)
      .bind(4, t.hash)
      .bind(5, t.created.micros)
      .bind(6, t.last_used.micros)
      .bind(7, int64_t{t.revoked ? 1 : 0});
  return s.run();
}

Result<std::optional<TokenRecord>> SqliteStore::getTokenByHash(const std::string& hash) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         "SELECT id, user, name, hash, created, last_used, revoked FROM api_tokens WHERE hash = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, hash);
  if (s.step() != SQLITE_ROW) return std::optional<TokenRecord>();
  return std::optional<TokenRecord>(readToken(s));
}

Result<std::vector<TokenRecord>> SqliteStore::listTokens() {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         "SELECT id, user, name, hash, created, last_used, revoked FROM api_tokens ORDER BY id");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  std::vector<TokenRecord> out;
  while (s.step() == SQLITE_ROW) out.push_back(readToken(s));
  return out;
}

Status SqliteStore::revokeToken(const std::string& id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "UPDATE api_tokens SET revoked = 1 WHERE id = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, id);
  RIPOSTE_RETURN_IF_ERROR(s.run());
  if (sqlite3_changes(db_) == 0) return Status::notFound("token " + id);
  return Status::ok();
}

Status SqliteStore::touchToken(const std::string& id, Timestamp at) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "UPDATE api_tokens SET last_used = ? WHERE id = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, at.micros).bind(2, id);
  return s.run();
}

Result<std::vector<RuleModeRecord>> SqliteStore::loadRuleModes() {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "SELECT rule_id, mode, actor, since FROM rule_modes ORDER BY rule_id");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  std::vector<RuleModeRecord> out;
  while (s.step() == SQLITE_ROW) {
    out.push_back({s.text(0), s.text(1), s.text(2), Timestamp{s.i64(3), 0}});
  }
  return out;
}

Status SqliteStore::saveRuleMode(const RuleModeRecord& r) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         "INSERT INTO rule_modes(rule_id, mode, actor, since) VALUES (?, ?, ?, ?) "
         "ON CONFLICT(rule_id) DO UPDATE SET mode = excluded.mode, actor = excluded.actor, "
         "since = excluded.since");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, r.rule_id).bind(2, r.mode).bind(3, r.actor).bind(4, r.since.micros);
  return s.run();
}

Status SqliteStore::deleteRuleMode(const std::string& rule_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, "DELETE FROM rule_modes WHERE rule_id = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, rule_id);
  return s.run();
}

Status SqliteStore::saveIncident(const Incident& i) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         std::string("INSERT INTO incidents(") + kIncidentColumns +
             ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) " + kIncidentUpsert);
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, i.id)
      .bind(2, i.key)
      .bind(3, std::string(targetTypeName(i.target.type)))
      .bind(4, i.target.value)
      .bind(5, i.title)
      .bind(6, int64_t{i.severity})
      .bind(7, int64_t{i.finding_severity})
      .bind(8, std::string(incidentStatusName(i.status)))
      .bind(9, i.first_seen.micros)
      .bind(10, i.last_seen.micros)
      .bind(11, i.created.micros)
      .bind(12, i.updated.micros)
      .bind(13, int64_t{i.finding_count})
      .bind(14, nlohmann::json(i.detectors).dump())
      .bind(15, nlohmann::json(i.labels).dump())
      .bind(16, nlohmann::json(i.decision_ids).dump())
      .bind(17, i.status_by)
      .bind(18, i.status_at.micros)
      .bind(19, i.status_note);
  return s.run();
}

Status SqliteStore::linkIncidentFinding(const std::string& incident_id,
                                        const std::string& finding_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         "INSERT OR IGNORE INTO incident_findings(incident_id, finding_id) VALUES (?, ?)");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, incident_id).bind(2, finding_id);
  return s.run();
}

Result<std::optional<Incident>> SqliteStore::getIncident(const std::string& id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_, std::string("SELECT ") + kIncidentColumns + " FROM incidents WHERE id = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, id);
  const int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<Incident>(readIncident(s));
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return std::optional<Incident>();
}

Result<std::vector<Incident>> SqliteStore::listIncidents(const IncidentQuery& q) {
  std::lock_guard lock(mu_);
  Where w;
  if (q.status) w.add("status = ?", std::string(incidentStatusName(*q.status)));
  if (q.target) w.add("target = ?", *q.target);
  if (q.since) w.add("last_seen >= ?", q.since->micros);
  if (!q.before_id.empty()) w.add("id < ?", q.before_id);
  Stmt s(db_, stmts_,
         std::string("SELECT ") + kIncidentColumns + " FROM incidents " + w.sql +
             " ORDER BY id DESC LIMIT ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  w.binds.emplace_back(static_cast<int64_t>(q.limit));
  bindAll(s, w.binds);
  std::vector<Incident> out;
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(readIncident(s));
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return out;
}

Result<std::vector<Incident>> SqliteStore::openIncidents(size_t limit) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         std::string("SELECT ") + kIncidentColumns +
             " FROM incidents WHERE status IN ('open', 'acknowledged') "
             "ORDER BY last_seen DESC LIMIT ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, static_cast<int64_t>(limit));
  std::vector<Incident> out;
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(readIncident(s));
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return out;
}

Result<std::vector<std::string>> SqliteStore::incidentFindings(const std::string& incident_id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         "SELECT finding_id FROM incident_findings WHERE incident_id = ? ORDER BY seq");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, incident_id);
  std::vector<std::string> out;
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(s.text(0));
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return out;
}

// ---- rule-set and configuration history ----

namespace {

const char* kConfigHistoryColumns =
    "id, kind, time, actor, hash, files, changed, content, diff, summary";

std::string filesJson(const std::vector<std::string>& files) {
  return nlohmann::json(files).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> filesFromJson(const std::string& text) {
  std::vector<std::string> out;
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_array()) {
    for (const auto& v : j) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

}  // namespace

Status SqliteStore::saveConfigHistory(ConfigHistoryRecord& r) {
  std::lock_guard lock(mu_);
  if (!r.time.isSet()) r.time = Timestamp::now();
  Stmt s(db_, stmts_,
         "INSERT INTO config_history(kind, time, actor, hash, files, changed, content, diff, "
         "summary) VALUES (?,?,?,?,?,?,?,?,?)");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, r.kind)
      .bind(2, r.time.micros)
      .bind(3, r.actor)
      .bind(4, r.hash)
      .bind(5, filesJson(r.files))
      .bind(6, static_cast<int64_t>(r.changed ? 1 : 0))
      .bind(7, r.content)
      .bind(8, r.diff)
      .bind(9, r.summary);
  RIPOSTE_RETURN_IF_ERROR(s.run());
  r.id = sqlite3_last_insert_rowid(db_);
  return Status::ok();
}

namespace {

template <typename S>
ConfigHistoryRecord readConfigHistory(S& s) {
  ConfigHistoryRecord r;
  r.id = s.i64(0);
  r.kind = s.text(1);
  r.time = {s.i64(2), 0};
  r.actor = s.text(3);
  r.hash = s.text(4);
  r.files = filesFromJson(s.text(5));
  r.changed = s.i64(6) != 0;
  r.content = s.text(7);
  r.diff = s.text(8);
  r.summary = s.text(9);
  return r;
}

}  // namespace

Result<std::vector<ConfigHistoryRecord>> SqliteStore::listConfigHistory(
    const ConfigHistoryQuery& q) {
  std::lock_guard lock(mu_);
  Where w;
  if (q.kind) w.add("kind = ?", *q.kind);
  if (q.before_id > 0) w.add("id < ?", q.before_id);
  Stmt s(db_, stmts_,
         std::string("SELECT ") + kConfigHistoryColumns + " FROM config_history " + w.sql +
             " ORDER BY id DESC LIMIT ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  w.binds.emplace_back(static_cast<int64_t>(q.limit));
  bindAll(s, w.binds);
  std::vector<ConfigHistoryRecord> out;
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(readConfigHistory(s));
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return out;
}

Result<std::optional<ConfigHistoryRecord>> SqliteStore::getConfigHistory(int64_t id) {
  std::lock_guard lock(mu_);
  Stmt s(db_, stmts_,
         std::string("SELECT ") + kConfigHistoryColumns + " FROM config_history WHERE id = ?");
  RIPOSTE_RETURN_IF_ERROR(s.status());
  s.bind(1, id);
  const int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<ConfigHistoryRecord>(readConfigHistory(s));
  if (rc != SQLITE_DONE) return Status::ioError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return std::optional<ConfigHistoryRecord>();
}

}  // namespace riposte

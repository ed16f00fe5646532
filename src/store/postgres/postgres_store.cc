#include "riposte/store/postgres_store.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "store/evidence_keys.h"
#include "store/postgres/pg_journal.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/pg_text.h"

namespace riposte {

namespace {

using Rows = std::vector<std::vector<std::string>>;

constexpr int64_t kMicrosPerDay = 86'400'000'000;
// Advisory lock keys (arbitrary, fixed): migrations, audit appends, partition creation.
constexpr int64_t kLockMigrate = 0x5269706f73746501;
constexpr int64_t kLockAudit = 0x5269706f73746502;
constexpr int64_t kLockPartition = 0x5269706f73746503;

const char* kDecisionColumns =
    "id, action, target_type, target, detector, reason, finding_id, events, first_seen, first_tz, "
    "last_seen, last_tz, created, expires, state, origin";

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

const char* kIncidentColumns =
    "id, key, target_type, target, title, severity, finding_severity, status, first_seen, "
    "last_seen, created, updated, finding_count, detectors, labels, decision_ids, status_by, "
    "status_at, status_note";

// Prepared once per connection.
const std::vector<std::pair<const char*, std::string>>& preparedStatements() {
  static const std::vector<std::pair<const char*, std::string>> kStatements = {
      {"finding_upsert",
       "INSERT INTO findings(id, detector, entity_type, entity, severity, score, reason, action, "
       "first_seen, last_seen, event_count, labels, created) VALUES "
       "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT (id) DO UPDATE SET "
       "detector = excluded.detector, entity_type = excluded.entity_type, entity = "
       "excluded.entity, severity = excluded.severity, score = excluded.score, reason = "
       "excluded.reason, action = excluded.action, first_seen = excluded.first_seen, last_seen = "
       "excluded.last_seen, event_count = excluded.event_count, labels = excluded.labels, "
       "created = excluded.created"},
      {"evidence_clear", "DELETE FROM events WHERE finding_id = $1"},
      {"evidence_insert",
       "INSERT INTO events(finding_id, ts, tz, source, byte_offset, raw, fields) VALUES "
       "($1,$2,$3,$4,$5,$6,$7)"},
      {"decision_upsert",
       std::string("INSERT INTO decisions(") + kDecisionColumns +
           ", updated) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) "
           "ON CONFLICT (id) DO UPDATE SET action = excluded.action, target_type = "
           "excluded.target_type, target = excluded.target, detector = excluded.detector, reason "
           "= excluded.reason, finding_id = excluded.finding_id, events = excluded.events, "
           "first_seen = excluded.first_seen, first_tz = excluded.first_tz, last_seen = "
           "excluded.last_seen, last_tz = excluded.last_tz, created = excluded.created, expires "
           "= excluded.expires, state = excluded.state, origin = excluded.origin, updated = "
           "excluded.updated"},
      {"decision_state", "UPDATE decisions SET state = $1, updated = $2 WHERE id = $3"},
      {"mode_save",
       "INSERT INTO engine_mode(id, mode, reason, actor, since) VALUES (1, $1, $2, $3, $4) "
       "ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, reason = excluded.reason, actor = "
       "excluded.actor, since = excluded.since"},
      {"mode_load", "SELECT mode, reason, actor, since FROM engine_mode WHERE id = 1"},
      {"offset_save",
       "INSERT INTO source_offsets(source, file, inode, byte_offset, updated) VALUES "
       "($1,$2,$3,$4,$5) ON CONFLICT (source, file) DO UPDATE SET inode = excluded.inode, "
       "byte_offset = excluded.byte_offset, updated = excluded.updated"},
      {"offset_load",
       "SELECT inode, byte_offset FROM source_offsets WHERE source = $1 AND file = $2"},
      {"audit_lock", "SELECT pg_advisory_xact_lock(" + std::to_string(kLockAudit) + ")"},
      {"audit_last", "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"},
      {"audit_insert",
       "INSERT INTO audit(seq, time, actor, kind, target, reason, details, prev_hash, hash) "
       "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"},
      {"audit_exists",
       "SELECT 1 FROM audit WHERE time = $1 AND actor = $2 AND kind = $3 AND target = $4 AND "
       "reason = $5 AND details = $6 LIMIT 1"},
      {"audit_list",
       "SELECT seq, time, actor, kind, target, reason, details, prev_hash, hash FROM audit "
       "WHERE seq > $1 ORDER BY seq LIMIT $2"},
      {"evidence_insert_keys",
       "INSERT INTO events(finding_id, ts, tz, source, byte_offset, raw, fields, source_ip, kind) "
       "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"},
      {"finding_fp", "UPDATE findings SET false_positive = $1 WHERE id = $2"},
      {"user_create",
       "INSERT INTO users(name, role, password_hash, created, disabled) VALUES ($1,$2,$3,$4,$5) "
       "ON CONFLICT (name) DO NOTHING"},
      {"user_update",
       "UPDATE users SET role = $1, password_hash = $2, disabled = $3 WHERE name = $4"},
      {"user_delete", "DELETE FROM users WHERE name = $1"},
      {"sessions_expire", "DELETE FROM sessions WHERE expires <= $1"},
      {"session_save",
       "INSERT INTO sessions(id_hash, username, csrf, created, expires) VALUES ($1,$2,$3,$4,$5) "
       "ON CONFLICT (id_hash) DO UPDATE SET username = excluded.username, csrf = excluded.csrf, "
       "created = excluded.created, expires = excluded.expires"},
      {"session_delete", "DELETE FROM sessions WHERE id_hash = $1"},
      {"sessions_delete_user", "DELETE FROM sessions WHERE username = $1"},
      {"token_save",
       "INSERT INTO api_tokens(id, username, name, hash, created, last_used, revoked) VALUES "
       "($1,$2,$3,$4,$5,$6,$7)"},
      {"token_revoke", "UPDATE api_tokens SET revoked = TRUE WHERE id = $1"},
      {"token_touch", "UPDATE api_tokens SET last_used = $1 WHERE id = $2"},
      {"rule_mode_save",
       "INSERT INTO rule_modes(rule_id, mode, actor, since) VALUES ($1, $2, $3, $4) "
       "ON CONFLICT (rule_id) DO UPDATE SET mode = excluded.mode, actor = excluded.actor, "
       "since = excluded.since"},
      {"rule_mode_delete", "DELETE FROM rule_modes WHERE rule_id = $1"},
      {"rule_modes_load", "SELECT rule_id, mode, actor, since FROM rule_modes ORDER BY rule_id"},
      {"incident_upsert",
       std::string("INSERT INTO incidents(") + kIncidentColumns +
           ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19) " +
           kIncidentUpsert},
      {"incident_link",
       "INSERT INTO incident_findings(incident_id, finding_id) VALUES ($1, $2) "
       "ON CONFLICT (incident_id, finding_id) DO NOTHING"},
      {"config_history_insert",
       "INSERT INTO config_history(kind, time, actor, hash, files, changed, content, diff, "
       "summary) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id"},
      {"feature_vector_insert",
       "INSERT INTO feature_vectors(schema, schema_version, entity_field, entity, window_start, "
       "window_end, events, dim, vals) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,decode($9, 'hex'))"},
      {"feature_vectors_delete", "DELETE FROM feature_vectors WHERE window_end < $1"},
      {"behavior_upsert",
       "INSERT INTO behavior_history(key, last_seen, data) VALUES ($1, $2, decode($3, 'hex')) "
       "ON CONFLICT (key) DO UPDATE SET last_seen = excluded.last_seen, data = excluded.data"},
      {"behavior_prune", "DELETE FROM behavior_history WHERE last_seen < $1"},
      {"findings_count", "SELECT COUNT(*) FROM findings"},
      {"events_count", "SELECT COUNT(*) FROM event_log WHERE ts >= $1 AND ts < $2"},
  };
  return kStatements;
}

Decision readDecision(const pqxx::row& r) {
  Decision d;
  d.id = r[0].as<std::string>();
  d.action = r[1].as<std::string>();
  d.target.type = targetTypeFromName(r[2].as<std::string>()).value_or(TargetType::kIp);
  d.target.value = r[3].as<std::string>();
  d.detector = r[4].as<std::string>();
  d.reason = r[5].as<std::string>();
  d.finding_id = r[6].as<std::string>();
  d.events = static_cast<uint32_t>(r[7].as<int64_t>());
  d.first_seen = {r[8].as<int64_t>(), static_cast<int16_t>(r[9].as<int>())};
  d.last_seen = {r[10].as<int64_t>(), static_cast<int16_t>(r[11].as<int>())};
  d.created = {r[12].as<int64_t>(), 0};
  d.expires = {r[13].as<int64_t>(), 0};
  d.state = decisionStateFromName(r[14].as<std::string>()).value_or(DecisionState::kFailed);
  d.origin = r[15].as<std::string>();
  return d;
}

// Columns: seq, time, actor, kind, target, reason, details, prev_hash, hash.
AuditEntry readAudit(const pqxx::row& r) {
  AuditEntry e;
  e.seq = r[0].as<int64_t>();
  e.time = {r[1].as<int64_t>(), 0};
  e.actor = r[2].as<std::string>();
  e.kind = r[3].as<std::string>();
  e.target = r[4].as<std::string>();
  e.reason = r[5].as<std::string>();
  e.details_json = r[6].as<std::string>();
  e.prev_hash = r[7].as<std::string>();
  e.hash = r[8].as<std::string>();
  return e;
}

const char* kFindingColumns =
    "id, detector, entity_type, entity, severity, score, reason, action, first_seen, last_seen, "
    "event_count, labels, created, false_positive";

FindingRecord readFinding(const pqxx::row& r) {
  FindingRecord out;
  Finding& f = out.finding;
  f.id = r[0].as<std::string>();
  f.detector = r[1].as<std::string>();
  f.entity.type = targetTypeFromName(r[2].as<std::string>()).value_or(TargetType::kIp);
  f.entity.value = r[3].as<std::string>();
  f.severity = r[4].as<int>();
  f.score = r[5].as<double>();
  f.reason = r[6].as<std::string>();
  f.suggested_action = r[7].as<std::string>();
  f.first_seen = {r[8].as<int64_t>(), 0};
  f.last_seen = {r[9].as<int64_t>(), 0};
  f.event_count = static_cast<uint32_t>(r[10].as<int64_t>());
  const auto labels = nlohmann::json::parse(r[11].as<std::string>(), nullptr, false);
  if (labels.is_array()) {
    for (const auto& l : labels) {
      if (l.is_string()) f.labels.push_back(l.get<std::string>());
    }
  }
  out.created = {r[12].as<int64_t>(), 0};
  out.false_positive = r[13].as<bool>();
  return out;
}

const char* kUserColumns = "name, role, password_hash, created, disabled";
UserRecord readUser(const pqxx::row& r) {
  UserRecord u;
  u.name = r[0].as<std::string>();
  u.role = r[1].as<std::string>();
  u.password_hash = r[2].as<std::string>();
  u.created = {r[3].as<int64_t>(), 0};
  u.disabled = r[4].as<bool>();
  return u;
}

const char* kTokenColumns = "id, username, name, hash, created, last_used, revoked";
TokenRecord readToken(const pqxx::row& r) {
  TokenRecord t;
  t.id = r[0].as<std::string>();
  t.user = r[1].as<std::string>();
  t.name = r[2].as<std::string>();
  t.hash = r[3].as<std::string>();
  t.created = {r[4].as<int64_t>(), 0};
  t.last_used = {r[5].as<int64_t>(), 0};
  t.revoked = r[6].as<bool>();
  return t;
}

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

Incident readIncident(const pqxx::row& r) {
  Incident i;
  i.id = r[0].as<std::string>();
  i.key = r[1].as<std::string>();
  i.target.type = targetTypeFromName(r[2].as<std::string>()).value_or(TargetType::kIp);
  i.target.value = r[3].as<std::string>();
  i.title = r[4].as<std::string>();
  i.severity = r[5].as<int>();
  i.finding_severity = r[6].as<int>();
  i.status = incidentStatusFromName(r[7].as<std::string>()).value_or(IncidentStatus::kOpen);
  i.first_seen = {r[8].as<int64_t>(), 0};
  i.last_seen = {r[9].as<int64_t>(), 0};
  i.created = {r[10].as<int64_t>(), 0};
  i.updated = {r[11].as<int64_t>(), 0};
  i.finding_count = static_cast<uint32_t>(r[12].as<int64_t>());
  i.detectors = jsonStrings(r[13].as<std::string>());
  i.labels = jsonStrings(r[14].as<std::string>());
  i.decision_ids = jsonStrings(r[15].as<std::string>());
  i.status_by = r[16].as<std::string>();
  i.status_at = {r[17].as<int64_t>(), 0};
  i.status_note = r[18].as<std::string>();
  return i;
}

std::string jsonText(const std::vector<std::string>& v) {
  return nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A WHERE clause built from optional filters, with positional parameters ($1, $2, ...).
struct PgWhere {
  std::string sql;
  std::vector<std::string> params;
  void add(const std::string& column_op, std::string value) {
    params.push_back(std::move(value));
    sql += (params.size() == 1 ? " WHERE " : " AND ") + column_op + " $" +
           std::to_string(params.size());
  }
  // Appends an expression whose only parameter is written as `$?`.
  void addExpr(const std::string& expr, std::string value) {
    params.push_back(std::move(value));
    std::string e = expr;
    e.replace(e.find("$?"), 2, "$" + std::to_string(params.size()));
    sql += (params.size() == 1 ? " WHERE " : " AND ") + e;
  }
};

// Connection-level failures (server down, restarting, network) put the store in degraded mode;
// anything else (a constraint, bad SQL) is an ordinary error for the caller.
bool isConnectionError(const std::exception& e, const pqxx::connection* conn) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) return true;
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) return true;
  if (const auto* s = dynamic_cast<const pqxx::sql_error*>(&e); s != nullptr) {
    const std::string& st = s->sqlstate();
    // 08xxx connection exception; 57P01-57P03 admin/crash shutdown, cannot connect now.
    if (st.rfind("08", 0) == 0 || st.rfind("57P", 0) == 0) return true;
  }
  return conn == nullptr || !conn->is_open();
}

std::string withConnectTimeout(const std::string& url, int seconds) {
  if (url.find("connect_timeout") != std::string::npos || seconds <= 0) return url;
  const std::string kv = "connect_timeout=" + std::to_string(seconds);
  if (url.find("://") != std::string::npos) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + kv;
  }
  return url + (url.empty() ? "" : " ") + kv;
}

// UTC day number (days since 1970-01-01) of a time in microseconds.
int64_t dayOf(int64_t micros) {
  return micros >= 0 ? micros / kMicrosPerDay : -((-micros + kMicrosPerDay - 1) / kMicrosPerDay);
}

std::string partitionName(int64_t day) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  char buf[32];
  std::snprintf(buf, sizeof buf, "event_log_%04d%02u%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

// Day number of a partition name, or nullopt for a table that is not a day partition.
std::optional<int64_t> partitionDay(const std::string& name) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  if (name.size() != 18 || std::sscanf(name.c_str(), "event_log_%4d%2u%2u", &y, &m, &d) != 3) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                        std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd}.time_since_epoch().count();
}

}  // namespace

class PostgresStore::Impl {
 public:
  explicit Impl(PostgresStoreOptions o)
      : opts_(std::move(o)), url_(withConnectTimeout(opts_.url, opts_.connect_timeout_s)) {}

  ~Impl() {
    {
      std::lock_guard l(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (recovery_.joinable()) recovery_.join();
  }

  Status open() {
    std::unique_lock l(mu_);
    std::string unreachable;
    try {
      conn_ = connect();
      RIPOSTE_RETURN_IF_ERROR(migrate(*conn_, version_));
      migrated_ = true;
      prepare(*conn_);
      loadAuditHead();
      (void)applyRetentionLocked(Timestamp::now());
    } catch (const std::exception& e) {
      if (!opts_.start_unreachable || !isConnectionError(e, conn_.get())) {
        return Status::unavailable(std::string("postgres: ") + e.what());
      }
      unreachable = e.what();
      conn_.reset();
    }
    // Only once the database answered (or the caller accepts starting without it): a failed
    // open leaves no journal file behind.
    RIPOSTE_RETURN_IF_ERROR(journal_.open(opts_.spill_path, opts_.spill_max_bytes));
    if (!unreachable.empty()) {
      // Started without the database: everything is journaled until the background thread
      // connects, migrates and replays. The audit chain's head is unknown until then; the
      // replay chains each entry against the real head.
      enterDegraded(unreachable);
      spdlog::error(
          "postgres store: unreachable at start ({} write(s) already journaled); "
          "connecting every {} ms",
          journal_.pending(),
          std::chrono::duration_cast<std::chrono::milliseconds>(opts_.retry_interval).count());
    } else if (journal_.pending() > 0) {
      spdlog::warn("postgres store: replaying {} write(s) left in the spill journal {}",
                   journal_.pending(), opts_.spill_path);
      degraded_ = true;
      reason_ = "replaying the spill journal";
      drain(l);
    }
    recovery_ = std::thread([this] { recoveryLoop(); });
    return Status::ok();
  }

  // ---- writes: sent directly, or journaled while the database is unreachable ----

  // Runs `op` now or journals it. `affected` (optional) receives the rows changed by the last
  // statement when run directly, -1 when journaled.
  // `returned` (optional) receives the first column of the last statement's first row (an
  // INSERT ... RETURNING id), 0 when journaled.
  Status write(pg::Op&& op, int64_t* affected = nullptr, int64_t* returned = nullptr) {
    std::unique_lock l(mu_);
    return writeLocked(std::move(op), affected, returned);
  }

  Status writeLocked(pg::Op&& op, int64_t* affected, int64_t* returned = nullptr) {
    if (returned != nullptr) *returned = 0;
    if (!degraded_ && !conn_) enterDegraded("no connection");
    if (!degraded_) {
      try {
        const int64_t n = execute(op, returned);
        if (affected != nullptr) *affected = n;
        return Status::ok();
      } catch (const std::exception& e) {
        if (!isConnectionError(e, conn_.get())) {
          return Status::ioError(std::string("postgres: ") + e.what());
        }
        enterDegraded(e.what());
      }
    }
    if (affected != nullptr) *affected = -1;
    if (op.kind == pg::Op::Kind::kAudit) chainProvisionally(op.audit);
    Status st = journal_.append(op);
    if (!st.isOk()) {
      ++rejected_;
      if (rejected_ == 1 || rejected_ % 1000 == 0) {
        spdlog::error("postgres store: write refused ({} so far): {}", rejected_, st.toString());
      }
      return st;
    }
    if (op.kind == pg::Op::Kind::kAudit) {
      last_seq_ = op.audit.seq;
      last_hash_ = op.audit.hash;
    }
    return Status::ok();
  }

  // Appends `e` to the chain; `calls` (a decision, its finding) run first in the same
  // transaction, so either all of them are stored or none.
  Status appendAudit(AuditEntry& e, std::vector<pg::Call> calls = {}) {
    pg::sanitizeInPlace(e.actor);
    pg::sanitizeInPlace(e.kind);
    pg::sanitizeInPlace(e.target);
    pg::sanitizeInPlace(e.reason);
    pg::sanitizeInPlace(e.details_json);
    if (!e.time.isSet()) e.time = Timestamp::now();
    pg::Op op;
    op.kind = pg::Op::Kind::kAudit;
    op.sync = true;
    op.audit = e;
    op.calls = std::move(calls);
    std::unique_lock l(mu_);
    RIPOSTE_RETURN_IF_ERROR(writeLocked(std::move(op), nullptr));
    e.seq = last_seq_;
    e.prev_hash = last_prev_hash_;
    e.hash = last_hash_;
    return Status::ok();
  }

  Status appendEvents(std::span<const EvidenceEvent> events) {
    if (events.empty()) return Status::ok();
    std::unique_lock l(mu_);
    if (!degraded_ && !conn_) enterDegraded("no connection");
    if (!degraded_) {
      try {
        copyEvents(events);
        return Status::ok();
      } catch (const std::exception& e) {
        if (!isConnectionError(e, conn_.get())) {
          return Status::ioError(std::string("postgres: event log: ") + e.what());
        }
        enterDegraded(e.what());
      }
    }
    pg::Op op;
    op.kind = pg::Op::Kind::kEvents;
    op.events.reserve(events.size());
    for (const auto& e : events) {
      op.events.push_back({e.timestamp.micros, e.timestamp.offset_minutes, pg::sanitized(e.source),
                           static_cast<int64_t>(e.offset), pg::sanitized(e.raw),
                           pg::sanitized(e.fields_json)});
    }
    return writeLocked(std::move(op), nullptr);
  }

  // ---- reads: only while connected ----

  template <typename F>
  auto read(F&& f) -> decltype(f(std::declval<pqxx::work&>())) {
    std::unique_lock l(mu_);
    if (degraded_) {
      return Status::unavailable("postgres store degraded (" + reason_ +
                                 "); reads resume when the database is back");
    }
    try {
      pqxx::work w(*conn_);
      auto out = f(w);
      w.commit();
      return out;
    } catch (const std::exception& e) {
      if (isConnectionError(e, conn_.get())) {
        enterDegraded(e.what());
        return Status::unavailable(std::string("postgres: ") + e.what());
      }
      return Status::ioError(std::string("postgres: ") + e.what());
    }
  }

  StoreHealth health() const {
    std::lock_guard l(mu_);
    StoreHealth h;
    h.degraded = degraded_;
    h.reason = reason_;
    h.pending_writes = journal_.pending();
    h.pending_bytes = journal_.pendingBytes();
    h.rejected_writes = rejected_;
    h.replayed_writes = replayed_;
    return h;
  }

  bool waitHealthy(Duration timeout) {
    std::unique_lock l(mu_);
    cv_.notify_all();
    return healthy_cv_.wait_for(l, timeout, [&] { return !degraded_; });
  }

  Result<int> applyRetention(Timestamp now) {
    std::lock_guard l(mu_);
    if (degraded_) return Status::unavailable("postgres store degraded (" + reason_ + ")");
    try {
      return applyRetentionLocked(now);
    } catch (const std::exception& e) {
      if (isConnectionError(e, conn_.get())) enterDegraded(e.what());
      return Status::ioError(std::string("postgres: retention: ") + e.what());
    }
  }

  Result<std::vector<std::string>> partitions() {
    return read([&](pqxx::work& w) -> Result<std::vector<std::string>> {
      std::vector<std::string> out;
      for (const auto& [day, name] : listPartitions(w)) out.push_back(name);
      return out;
    });
  }

  Result<Rows> query(const std::string& sql) {
    return read([&](pqxx::work& w) -> Result<Rows> {
      Rows rows;
      for (const auto& r : w.exec(sql)) {
        std::vector<std::string> row;
        for (const auto& f : r) row.push_back(f.is_null() ? "" : f.as<std::string>());
        rows.push_back(std::move(row));
      }
      return rows;
    });
  }

  int version() const {
    std::lock_guard l(mu_);
    return version_;
  }

 private:
  std::unique_ptr<pqxx::connection> connect() {
    auto c = std::make_unique<pqxx::connection>(url_);
    c->set_client_encoding("UTF8");
    pqxx::nontransaction n(*c);
    n.exec("SET client_min_messages = warning");  // no NOTICEs on stderr
    return c;
  }

  void prepare(pqxx::connection& c) {
    for (const auto& [name, sql] : preparedStatements()) c.prepare(name, sql);
  }

  // Applies the pending migrations; `version` follows the database's schema version.
  static Status migrate(pqxx::connection& c, int& version) {
    const auto& m = pg::migrations();
    pqxx::nontransaction n(c);
    // Session lock: two nodes starting together apply each migration once.
    n.exec("SELECT pg_advisory_lock(" + std::to_string(kLockMigrate) + ")");
    struct Unlock {
      pqxx::nontransaction& n;
      ~Unlock() {
        try {
          n.exec("SELECT pg_advisory_unlock(" + std::to_string(kLockMigrate) + ")");
        } catch (const std::exception&) {
          // The lock ends with the session anyway.
        }
      }
    } unlock{n};
    n.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied "
        "BIGINT NOT NULL)");
    version = n.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0].as<int>();
    if (version > static_cast<int>(m.size())) {
      return Status::failedPrecondition("store schema version " + std::to_string(version) +
                                        " is newer than this build knows (" +
                                        std::to_string(m.size()) + ")");
    }
    for (size_t v = static_cast<size_t>(version); v < m.size(); ++v) {
      try {
        n.exec("BEGIN");
        n.exec(m[v]);
        n.exec("INSERT INTO schema_migrations(version, applied) VALUES (" + std::to_string(v + 1) +
               ", " + std::to_string(Timestamp::now().seconds()) + ")");
        n.exec("COMMIT");
      } catch (const pqxx::sql_error& e) {
        try {
          n.exec("ROLLBACK");
        } catch (const std::exception&) {
          // Connection gone: the transaction is rolled back by the server.
        }
        return Status::ioError("postgres: migration " + std::to_string(v + 1) + ": " + e.what());
      }
      version = static_cast<int>(v + 1);
      spdlog::info("postgres store: applied migration {}", version);
    }
    return Status::ok();
  }

  void loadAuditHead() {
    pqxx::work w(*conn_);
    auto r = w.exec_prepared("audit_last");
    w.commit();
    if (r.empty()) {
      last_seq_ = 0;
      last_hash_.clear();
    } else {
      last_seq_ = r[0][0].as<int64_t>();
      last_hash_ = r[0][1].as<std::string>();
    }
  }

  // Runs one op in one transaction. Throws pqxx exceptions.
  int64_t execute(const pg::Op& op, int64_t* returned = nullptr) {
    switch (op.kind) {
      case pg::Op::Kind::kSql: {
        pqxx::work w(*conn_);
        int64_t n = 0;
        for (const auto& c : op.calls) {
          const auto r = w.exec_prepared(c.name, pqxx::prepare::make_dynamic_params(c.params));
          n = static_cast<int64_t>(r.affected_rows());
          if (returned != nullptr && !r.empty() && r.columns() > 0)
            *returned = r[0][0].as<int64_t>();
        }
        w.commit();
        return n;
      }
      case pg::Op::Kind::kAudit: {
        AuditEntry e = op.audit;
        pqxx::work w(*conn_);
        w.exec_prepared("audit_lock");
        if (op.replay) {
          // The outcome of an earlier attempt may be unknown (commit in doubt): never twice.
          // The entry's calls were in its transaction, so they are there too.
          auto dup = w.exec_prepared("audit_exists", e.time.micros, e.actor, e.kind, e.target,
                                     e.reason, e.details_json);
          if (!dup.empty()) return 0;
        }
        for (const auto& c : op.calls) {
          w.exec_prepared(c.name, pqxx::prepare::make_dynamic_params(c.params));
        }
        auto last = w.exec_prepared("audit_last");
        if (last.empty()) {
          e.seq = 1;
          e.prev_hash.clear();
        } else {
          e.seq = last[0][0].as<int64_t>() + 1;
          e.prev_hash = last[0][1].as<std::string>();
        }
        e.hash = auditEntryHash(e);
        w.exec_prepared("audit_insert", e.seq, e.time.micros, e.actor, e.kind, e.target, e.reason,
                        e.details_json, e.prev_hash, e.hash);
        w.commit();
        last_seq_ = e.seq;
        last_prev_hash_ = e.prev_hash;
        last_hash_ = e.hash;
        return 1;
      }
      case pg::Op::Kind::kEvents: {
        std::vector<EvidenceEvent> evs;
        evs.reserve(op.events.size());
        for (const auto& r : op.events) {
          evs.push_back({Timestamp{r.ts, static_cast<int16_t>(r.tz)}, r.source,
                         static_cast<uint64_t>(r.offset), r.raw, r.fields});
        }
        copyEvents(evs);
        return static_cast<int64_t>(evs.size());
      }
    }
    return 0;
  }

  // While degraded, the audit entry gets the seq and hash it will have if no other node writes
  // first; the replay chains it against the database's real head.
  void chainProvisionally(AuditEntry& e) {
    last_prev_hash_ = last_hash_;
    e.seq = last_seq_ + 1;
    e.prev_hash = last_hash_;
    e.hash = auditEntryHash(e);
  }

  // COPY into the day partitions (created on demand). Events whose day is already past the
  // retention window are not kept (they would be dropped at once).
  void copyEvents(std::span<const EvidenceEvent> events) {
    const int64_t today = dayOf(Timestamp::now().micros);
    const int64_t oldest = opts_.retention_days > 0 ? today - opts_.retention_days : INT64_MIN;
    std::set<int64_t> days;
    for (const auto& e : events) {
      const int64_t d = dayOf(e.timestamp.micros);
      if (d >= oldest && known_days_.count(d) == 0) days.insert(d);
    }
    if (!days.empty()) ensurePartitions(days);
    pqxx::work w(*conn_);
    static const std::vector<std::string> kColumns = {"ts",          "tz",  "source",
                                                      "byte_offset", "raw", "fields"};
    pqxx::stream_to copy(w, "event_log", kColumns);
    std::string s1;
    std::string s2;
    std::string s3;
    uint64_t skipped = 0;
    for (const auto& e : events) {
      if (dayOf(e.timestamp.micros) < oldest) {
        ++skipped;
        continue;
      }
      copy << std::tie(e.timestamp.micros, e.timestamp.offset_minutes, pg::clean(e.source, s1),
                       e.offset, pg::clean(e.raw, s2), pg::clean(e.fields_json, s3));
    }
    copy.complete();
    w.commit();
    if (skipped > 0) {
      spdlog::debug("postgres store: {} event(s) older than the {}-day retention not kept", skipped,
                    opts_.retention_days);
    }
  }

  void ensurePartitions(const std::set<int64_t>& days) {
    {
      pqxx::work w(*conn_);
      w.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kLockPartition) + ")");
      for (int64_t d : days) {
        w.exec("CREATE TABLE IF NOT EXISTS " + partitionName(d) + " PARTITION OF event_log FOR " +
               "VALUES FROM (" + std::to_string(d * kMicrosPerDay) + ") TO (" +
               std::to_string((d + 1) * kMicrosPerDay) + ")");
      }
      w.commit();
    }
    known_days_.insert(days.begin(), days.end());
    (void)applyRetentionLocked(Timestamp::now());
  }

  std::vector<std::pair<int64_t, std::string>> listPartitions(pqxx::transaction_base& t) {
    std::vector<std::pair<int64_t, std::string>> out;
    for (const auto& r :
         t.exec("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'event_log'::regclass")) {
      const auto name = r[0].as<std::string>();
      if (auto d = partitionDay(name)) out.emplace_back(*d, name);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  int applyRetentionLocked(Timestamp now) {
    pqxx::work w(*conn_);
    w.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kLockPartition) + ")");
    const auto parts = listPartitions(w);
    known_days_.clear();
    int dropped = 0;
    const int64_t oldest = dayOf(now.micros) - opts_.retention_days;
    for (const auto& [day, name] : parts) {
      if (opts_.retention_days > 0 && day < oldest) {
        w.exec("DROP TABLE " + name);
        ++dropped;
      } else {
        known_days_.insert(day);
      }
    }
    w.commit();
    if (dropped > 0) {
      spdlog::info("postgres store: retention dropped {} event log partition(s)", dropped);
    }
    return dropped;
  }

  // ---- degraded mode ----

  void enterDegraded(const std::string& why) {
    conn_.reset();
    known_days_.clear();
    if (!degraded_) {
      spdlog::error(
          "postgres store DEGRADED: {}; writes go to the spill journal {} until the database "
          "is back",
          why, opts_.spill_path);
    }
    degraded_ = true;
    reason_ = why;
    while (!reason_.empty() && (reason_.back() == '\n' || reason_.back() == ' '))
      reason_.pop_back();
    cv_.notify_all();
  }

  void recoveryLoop() {
    std::unique_lock l(mu_);
    while (!stopping_) {
      cv_.wait_for(l, opts_.retry_interval, [&] { return stopping_; });
      if (stopping_ || !degraded_) continue;
      if (!conn_) {
        // Connect without the lock: callers keep writing to the journal meanwhile.
        l.unlock();
        std::unique_ptr<pqxx::connection> c;
        std::string err;
        int version = 0;
        const bool migrate_first = !migrated_;
        bool migration_failed = false;
        try {
          c = connect();
          // Opened before the database ever answered: its schema is brought up to date first.
          if (migrate_first) {
            if (Status st = migrate(*c, version); !st.isOk()) {
              err = st.message();
              migration_failed = true;
              c.reset();
            }
          }
          if (c) prepare(*c);
        } catch (const std::exception& e) {
          err = e.what();
          c.reset();
        }
        l.lock();
        if (!c) {
          while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
          if (migration_failed && err != reason_) spdlog::error("postgres store: {}", err);
          reason_ = err;
          continue;
        }
        if (migrate_first) {
          migrated_ = true;
          version_ = version;
          spdlog::info("postgres store: connected, schema version {}", version_);
        }
        conn_ = std::move(c);
        spdlog::info("postgres store: connection back, replaying {} write(s)", journal_.pending());
      }
      drain(l);
    }
  }

  // Replays the journal in order, a chunk at a time, letting callers in between chunks (their
  // writes go to the end of the journal until it is empty). Leaves degraded mode when done.
  void drain(std::unique_lock<std::mutex>& l) {
    try {
      loadAuditHead();
      while (conn_ && !stopping_) {
        bool more = true;
        for (int i = 0; i < 256 && more; ++i) {
          auto next = journal_.peek();
          if (!next) {
            spdlog::error("postgres store: {}; entry skipped", next.status().toString());
            journal_.skip();
            continue;
          }
          if (!next->has_value()) {
            more = false;
            break;
          }
          pg::Op& op = **next;
          op.replay = true;
          try {
            execute(op);
            ++replayed_;
          } catch (const std::exception& e) {
            if (isConnectionError(e, conn_.get())) throw;
            // A write the database refuses now would block the journal forever: report it.
            spdlog::error("postgres store: replayed write refused, skipped: {}", e.what());
          }
          journal_.skip();
        }
        journal_.savePosition();
        if (!more || journal_.pending() == 0) break;
        l.unlock();
        std::this_thread::yield();
        l.lock();
      }
      if (conn_ && journal_.pending() == 0) {
        journal_.reset();
        loadAuditHead();
        degraded_ = false;
        reason_.clear();
        spdlog::warn("postgres store recovered: {} write(s) caught up", replayed_);
        healthy_cv_.notify_all();
      }
    } catch (const std::exception& e) {
      journal_.savePosition();
      conn_.reset();
      known_days_.clear();
      reason_ = e.what();
    }
  }

  PostgresStoreOptions opts_;
  std::string url_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable healthy_cv_;
  std::unique_ptr<pqxx::connection> conn_;
  pg::Journal journal_;
  int version_ = 0;
  bool migrated_ = false;  // the schema is up to date (false until the database first answers)
  int64_t last_seq_ = 0;
  std::string last_prev_hash_;
  std::string last_hash_;
  std::set<int64_t> known_days_;
  bool degraded_ = false;
  bool stopping_ = false;
  std::string reason_;
  uint64_t rejected_ = 0;
  uint64_t replayed_ = 0;
  std::thread recovery_;
};

// ---- PostgresStore ----

PostgresStore::PostgresStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresStore::~PostgresStore() = default;

int PostgresStore::latestSchemaVersion() { return static_cast<int>(pg::migrations().size()); }

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const PostgresStoreOptions& options) {
  if (options.url.empty()) return Status::invalidArgument("postgres store: url is empty");
  auto impl = std::make_unique<Impl>(options);
  RIPOSTE_RETURN_IF_ERROR(impl->open());
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(impl)));
}

int PostgresStore::schemaVersion() const { return impl_->version(); }

namespace {

// The finding's row and its evidence events, replacing any stored before.
void findingCalls(const Finding& f, std::vector<pg::Call>& calls) {
  calls.push_back(
      {"finding_upsert",
       {pg::sanitized(f.id), pg::sanitized(f.detector), std::string(targetTypeName(f.entity.type)),
        pg::sanitized(f.entity.value), std::to_string(f.severity), pg::numberText(f.score),
        pg::sanitized(f.reason), pg::sanitized(f.suggested_action),
        std::to_string(f.first_seen.micros), std::to_string(f.last_seen.micros),
        std::to_string(f.event_count),
        nlohmann::json(f.labels).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
        std::to_string(Timestamp::now().micros)}});
  calls.push_back({"evidence_clear", {pg::sanitized(f.id)}});
  const EvidenceKeys keys = evidenceKeys(f);
  for (const auto& e : f.evidence) {
    calls.push_back({"evidence_insert_keys",
                     {pg::sanitized(f.id), std::to_string(e.timestamp.micros),
                      std::to_string(e.timestamp.offset_minutes), pg::sanitized(e.source),
                      std::to_string(e.offset), pg::sanitized(e.raw), pg::sanitized(e.fields_json),
                      pg::sanitized(keys.source_ip), pg::sanitized(keys.kind)}});
  }
}

pg::Call decisionCall(const Decision& d) {
  return {
      "decision_upsert",
      {pg::sanitized(d.id), pg::sanitized(d.action), std::string(targetTypeName(d.target.type)),
       pg::sanitized(d.target.value), pg::sanitized(d.detector), pg::sanitized(d.reason),
       pg::sanitized(d.finding_id), std::to_string(d.events), std::to_string(d.first_seen.micros),
       std::to_string(d.first_seen.offset_minutes), std::to_string(d.last_seen.micros),
       std::to_string(d.last_seen.offset_minutes), std::to_string(d.created.micros),
       std::to_string(d.expires.micros), std::string(decisionStateName(d.state)),
       pg::sanitized(d.origin), std::to_string(Timestamp::now().micros)}};
}

}  // namespace

Status PostgresStore::saveFinding(const Finding& f) {
  pg::Op op;
  findingCalls(f, op.calls);
  return impl_->write(std::move(op));
}

Status PostgresStore::saveDecision(const Decision& d) {
  pg::Op op;
  op.sync = true;
  op.calls.push_back(decisionCall(d));
  return impl_->write(std::move(op));
}

// One transaction: the finding with its evidence, the decision, then the audit entry (chained
// under the audit lock). While the database is unreachable the three are one journal entry,
// replayed as one transaction.
Status PostgresStore::saveDecisionWithAudit(const Finding* finding, const Decision& d,
                                            AuditEntry& entry) {
  std::vector<pg::Call> calls;
  if (finding != nullptr) findingCalls(*finding, calls);
  calls.push_back(decisionCall(d));
  return impl_->appendAudit(entry, std::move(calls));
}

Status PostgresStore::updateDecisionState(const std::string& id, DecisionState state) {
  pg::Op op;
  op.sync = true;
  op.calls.push_back({"decision_state",
                      {std::string(decisionStateName(state)),
                       std::to_string(Timestamp::now().micros), pg::sanitized(id)}});
  int64_t affected = 0;
  RIPOSTE_RETURN_IF_ERROR(impl_->write(std::move(op), &affected));
  if (affected == 0) return Status::notFound("decision " + id);
  return Status::ok();
}

Result<std::vector<Decision>> PostgresStore::listDecisions(const DecisionFilter& filter) {
  return impl_->read([&](pqxx::work& w) -> Result<std::vector<Decision>> {
    std::string sql = std::string("SELECT ") + kDecisionColumns + " FROM decisions";
    std::vector<std::string> params;
    if (filter.state) {
      params.emplace_back(decisionStateName(*filter.state));
      sql += " WHERE state = $1";
    }
    if (filter.target) {
      params.push_back(*filter.target);
      sql += std::string(params.size() == 1 ? " WHERE" : " AND") + " target = $" +
             std::to_string(params.size());
    }
    if (filter.ordered) sql += " ORDER BY created, id";
    sql += " LIMIT " + std::to_string(filter.limit);
    std::vector<Decision> out;
    for (const auto& r : w.exec_params(sql, pqxx::prepare::make_dynamic_params(params))) {
      out.push_back(readDecision(r));
    }
    return out;
  });
}

Result<std::vector<Decision>> PostgresStore::expiredDecisions(Timestamp now) {
  return impl_->read([&](pqxx::work& w) -> Result<std::vector<Decision>> {
    std::vector<Decision> out;
    for (const auto& r :
         w.exec_params(std::string("SELECT ") + kDecisionColumns +
                           " FROM decisions WHERE state = 'active' AND expires <= $1 "
                           "ORDER BY created, id LIMIT 100000",
                       now.micros)) {
      out.push_back(readDecision(r));
    }
    return out;
  });
}

Result<int64_t> PostgresStore::countFindings() {
  return impl_->read([](pqxx::work& w) -> Result<int64_t> {
    return w.exec_prepared("findings_count")[0][0].as<int64_t>();
  });
}

Status PostgresStore::appendAudit(AuditEntry& entry) { return impl_->appendAudit(entry); }

Result<std::vector<AuditEntry>> PostgresStore::listAudit(int64_t after_seq, size_t limit) {
  return impl_->read([&](pqxx::work& w) -> Result<std::vector<AuditEntry>> {
    std::vector<AuditEntry> out;
    for (const auto& r : w.exec_prepared("audit_list", after_seq, static_cast<int64_t>(limit))) {
      out.push_back(readAudit(r));
    }
    return out;
  });
}

Result<EngineMode> PostgresStore::loadMode() {
  return impl_->read([](pqxx::work& w) -> Result<EngineMode> {
    EngineMode m;
    auto r = w.exec_prepared("mode_load");
    if (!r.empty()) {
      (void)m.setName(r[0][0].as<std::string>());
      m.reason = r[0][1].as<std::string>();
      m.actor = r[0][2].as<std::string>();
      m.since = {r[0][3].as<int64_t>(), 0};
    }
    return m;
  });
}

Status PostgresStore::saveMode(const EngineMode& m) {
  pg::Op op;
  op.sync = true;
  op.calls.push_back({"mode_save",
                      {std::string(m.name()), pg::sanitized(m.reason), pg::sanitized(m.actor),
                       std::to_string(m.since.micros)}});
  return impl_->write(std::move(op));
}

Status PostgresStore::appendEvents(std::span<const EvidenceEvent> events) {
  return impl_->appendEvents(events);
}

Result<int64_t> PostgresStore::countEvents(Timestamp from, Timestamp to) {
  return impl_->read([&](pqxx::work& w) -> Result<int64_t> {
    return w.exec_prepared("events_count", from.micros, to.micros)[0][0].as<int64_t>();
  });
}

StoreHealth PostgresStore::health() const { return impl_->health(); }

Status PostgresStore::saveOffset(const std::string& source, const std::string& file, uint64_t inode,
                                 uint64_t offset) {
  pg::Op op;
  op.calls.push_back({"offset_save",
                      {pg::sanitized(source), pg::sanitized(file), std::to_string(inode),
                       std::to_string(offset), std::to_string(Timestamp::now().micros)}});
  return impl_->write(std::move(op));
}

Result<std::optional<std::pair<uint64_t, uint64_t>>> PostgresStore::loadOffset(
    const std::string& source, const std::string& file) {
  using Out = std::optional<std::pair<uint64_t, uint64_t>>;
  return impl_->read([&](pqxx::work& w) -> Result<Out> {
    auto r = w.exec_prepared("offset_load", pg::sanitized(source), pg::sanitized(file));
    if (r.empty()) return Out{};
    return Out{std::make_pair(static_cast<uint64_t>(r[0][0].as<int64_t>()),
                              static_cast<uint64_t>(r[0][1].as<int64_t>()))};
  });
}

// ---- the API's views ----

Result<std::optional<Decision>> PostgresStore::getDecision(const std::string& id) {
  return impl_->read([&](pqxx::work& w) -> Result<std::optional<Decision>> {
    auto r =
        w.exec_params(std::string("SELECT ") + kDecisionColumns + " FROM decisions WHERE id = $1",
                      pg::sanitized(id));
    if (r.empty()) return std::optional<Decision>();
    return std::optional<Decision>(readDecision(r[0]));
  });
}

Result<std::vector<Decision>> PostgresStore::queryDecisions(const DecisionQuery& q) {
  return impl_->read([&](pqxx::work& w) -> Result<std::vector<Decision>> {
    PgWhere where;
    if (q.state) where.add("state =", std::string(decisionStateName(*q.state)));
    if (q.target) where.add("target =", pg::sanitized(*q.target));
    if (q.action) where.add("action =", pg::sanitized(*q.action));
    if (q.detector) where.add("detector =", pg::sanitized(*q.detector));
    if (!q.before_id.empty()) where.add("id <", pg::sanitized(q.before_id));
    std::vector<Decision> out;
    for (const auto& r :
         w.exec_params(std::string("SELECT ") + kDecisionColumns + " FROM decisions" + where.sql +
                           " ORDER BY id DESC LIMIT " + std::to_string(q.limit),
                       pqxx::prepare::make_dynamic_params(where.params))) {
      out.push_back(readDecision(r));
    }
    return out;
  });
}

Result<std::vector<DecisionCount>> PostgresStore::countDecisions() {
  return impl_->read([](pqxx::work& w) -> Result<std::vector<DecisionCount>> {
    std::vector<DecisionCount> out;
    for (const auto& r :
         w.exec("SELECT action, state, COUNT(*) FROM decisions GROUP BY action, state")) {
      DecisionCount c;
      c.action = r[0].as<std::string>();
      c.state = decisionStateFromName(r[1].as<std::string>()).value_or(DecisionState::kFailed);
      c.count = r[2].as<int64_t>();
      out.push_back(std::move(c));
    }
    return out;
  });
}

Result<int64_t> PostgresStore::countDecisionsInState(DecisionState state) {
  return impl_->read([&](pqxx::work& w) -> Result<int64_t> {
    return w
        .exec_params("SELECT COUNT(*) FROM decisions WHERE state = $1",
                     std::string(decisionStateName(state)))[0][0]
        .as<int64_t>();
  });
}

Result<std::vector<FindingRecord>> PostgresStore::listFindings(const FindingQuery& q) {
  return impl_->read([&](pqxx::work& w) -> Result<std::vector<FindingRecord>> {
    PgWhere where;
    if (q.detector) where.add("detector =", pg::sanitized(*q.detector));
    if (q.entity) where.add("entity =", pg::sanitized(*q.entity));
    if (q.false_positive) where.add("false_positive =", *q.false_positive ? "true" : "false");
    if (!q.before_id.empty()) where.add("id <", pg::sanitized(q.before_id));
    std::vector<FindingRecord> out;
    for (const auto& r :
         w.exec_params(std::string("SELECT ") + kFindingColumns + " FROM findings" + where.sql +
                           " ORDER BY id DESC LIMIT " + std::to_string(q.limit),
                       pqxx::prepare::make_dynamic_params(where.params))) {
      out.push_back(readFinding(r));
    }
    return out;
  });
}

Result<std::optional<FindingRecord>> PostgresStore::getFinding(const std::string& id) {
  return impl_->read([&](pqxx::work& w) -> Result<std::optional<FindingRecord>> {
    auto r =
        w.exec_params(std::string("SELECT ") + kFindingColumns + " FROM findings WHERE id = $1",
                      pg::sanitized(id));
    if (r.empty()) return std::optional<FindingRecord>();
    return std::optional<FindingRecord>(readFinding(r[0]));
  });
}

Status PostgresStore::setFindingFalsePositive(const std::string& id, bool false_positive) {
  pg::Op op;
  op.calls.push_back({"finding_fp", {false_positive ? "true" : "false", pg::sanitized(id)}});
  int64_t affected = 0;
  RIPOSTE_RETURN_IF_ERROR(impl_->write(std::move(op), &affected));
  if (affected == 0) return Status::notFound("finding " + id);
  return Status::ok();
}

Result<std::vector<StoredEvent>> PostgresStore::searchEvents(const EventQuery& q) {
  return impl_->read([&](pqxx::work& w) -> Result<std::vector<StoredEvent>> {
    PgWhere where;
    if (q.since) where.add("ts >=", std::to_string(q.since->micros));
    if (q.until) where.add("ts <", std::to_string(q.until->micros));
    if (q.source_ip) where.add("source_ip =", pg::sanitized(*q.source_ip));
    if (q.kind) where.add("kind =", pg::sanitized(*q.kind));
    if (q.text) where.addExpr("strpos(raw, $?) > 0", pg::sanitized(*q.text));
    if (q.finding_id) where.add("finding_id =", pg::sanitized(*q.finding_id));
    if (q.before_id > 0) where.add("id <", std::to_string(q.before_id));
    std::vector<StoredEvent> out;
    for (const auto& r : w.exec_params(
             "SELECT id, finding_id, ts, tz, source, byte_offset, raw, fields FROM events" +
                 where.sql + " ORDER BY id DESC LIMIT " + std::to_string(q.limit),
             pqxx::prepare::make_dynamic_params(where.params))) {
      StoredEvent e;
      e.id = r[0].as<int64_t>();
      e.finding_id = r[1].as<std::string>();
      e.event.timestamp = {r[2].as<int64_t>(), static_cast<int16_t>(r[3].as<int>())};
      e.event.source = r[4].as<std::string>();
      e.event.offset = static_cast<uint64_t>(r[5].as<int64_t>());
      e.event.raw = r[6].as<std::string>();
      e.event.fields_json = r[7].as<std::string>();
      out.push_back(std::move(e));
    }
    return out;
  });
}

Result<std::vector<AuditEntry>> PostgresStore::queryAudit(const AuditQuery& q) {
  return impl_->read([&](pqxx::work& w) -> Result<std::vector<AuditEntry>> {
    PgWhere where;
    if (q.kind) {
      if (!q.kind->empty() && q.kind->back() == '.') {
        where.addExpr("starts_with(kind, $?)", pg::sanitized(*q.kind));
      } else {
        where.add("kind =", pg::sanitized(*q.kind));
      }
    }
    if (q.actor) where.add("actor =", pg::sanitized(*q.actor));
    if (q.target) where.add("target =", pg::sanitized(*q.target));
    if (q.before_seq > 0) where.add("seq <", std::to_string(q.before_seq));
    std::vector<AuditEntry> out;
    for (const auto& r : w.exec_params(
             "SELECT seq, time, actor, kind, target, reason, details, prev_hash, hash FROM audit" +
                 where.sql + " ORDER BY seq DESC LIMIT " + std::to_string(q.limit),
             pqxx::prepare::make_dynamic_params(where.params))) {
      out.push_back(readAudit(r));
    }
    return out;
  });
}

// ---- users, sessions, tokens ----

Status PostgresStore::createUser(const UserRecord& u) {
  pg::Op op;
  op.sync = true;
  op.calls.push_back({"user_create",
                      {pg::sanitized(u.name), pg::sanitized(u.role), pg::sanitized(u.password_hash),
                       std::to_string(u.created.micros), u.disabled ? "true" : "false"}});
  int64_t affected = 0;
  RIPOSTE_RETURN_IF_ERROR(impl_->write(std::move(op), &affected));
  if (affected == 0) return Status::alreadyExists("user '" + u.name + "' exists");
  return Status::ok();
}

Status PostgresStore::updateUser(const UserRecord& u) {
  pg::Op op;
  op.sync = true;
  op.calls.push_back({"user_update",
                      {pg::sanitized(u.role), pg::sanitized(u.password_hash),
                       u.disabled ? "true" : "false", pg::sanitized(u.name)}});
  int64_t affected = 0;
  RIPOSTE_RETURN_IF_ERROR(impl_->write(std::move(op), &affected));
  if (affected == 0) return Status::notFound("user '" + u.name + "'");
  return Status::ok();
}

Status PostgresStore::deleteUser(const std::string& name) {
  pg::Op op;
  op.sync = true;
  op.calls.push_back({"user_delete", {pg::sanitized(name)}});
  int64_t affected = 0;
  RIPOSTE_RETURN_IF_ERROR(impl_->write(std::move(op), &affected));
  if (affected == 0) return Status::notFound("user '" + name + "'");
  return Status::ok();
}

Result<std::optional<UserRecord>> PostgresStore::getUser(const std::string& name) {
  return impl_->read([&](pqxx::work& w) -> Result<std::optional<UserRecord>> {
    auto r = w.exec_params(std::string("SELECT ") + kUserColumns + " FROM users WHERE name = $1",
                           pg::sanitized(name));
    if (r.empty()) return std::optional<UserRecord>();
    return std::optional<UserRecord>(readUser(r[0]));
  });
}

Result<std::vector<UserRecord>> PostgresStore::listUsers() {
  return impl_->read([](pqxx::work& w) -> Result<std::vector<UserRecord>> {
    std::vector<UserRecord> out;
    for (const auto& r :
         w.exec(std::string("SELECT ") + kUserColumns + " FROM users ORDER BY name")) {
      out.push_back(readUser(r));
    }
    return out;
  });
}

Status PostgresStore::saveSession(const SessionRecord& r) {
  pg::Op op;
  // Expired sessions are dropped as new ones are made.
  op.calls.push_back({"sessions_expire", {std::to_string(Timestamp::now().micros)}});
  op.calls.push_back({"session_save",
                      {pg::sanitized(r.id_hash), pg::sanitized(r.user), pg::sanitized(r.csrf),
                       std::to_string(r.created.micros), std::to_string(r.expires.micros)}});
  return impl_->write(std::move(op));
}

Result<std::optional<SessionRecord>> PostgresStore::getSession(const std::string& id_hash) {
  return impl_->read([&](pqxx::work& w) -> Result<std::optional<SessionRecord>> {
    auto r = w.exec_params(
        "SELECT id_hash, username, csrf, created, expires FROM sessions WHERE id_hash = $1",
        pg::sanitized(id_hash));
    if (r.empty()) return std::optional<SessionRecord>();
    SessionRecord s;
    s.id_hash = r[0][0].as<std::string>();
    s.user = r[0][1].as<std::string>();
    s.csrf = r[0][2].as<std::string>();
    s.created = {r[0][3].as<int64_t>(), 0};
    s.expires = {r[0][4].as<int64_t>(), 0};
    return std::optional<SessionRecord>(std::move(s));
  });
}

Status PostgresStore::deleteSession(const std::string& id_hash) {
  pg::Op op;
  op.calls.push_back({"session_delete", {pg::sanitized(id_hash)}});
  return impl_->write(std::move(op));
}

Status PostgresStore::deleteUserSessions(const std::string& user) {
  pg::Op op;
  op.calls.push_back({"sessions_delete_user", {pg::sanitized(user)}});
  return impl_->write(std::move(op));
}

Status PostgresStore::saveToken(const TokenRecord& t) {
  pg::Op op;
  op.sync = true;
  op.calls.push_back({"token_save",
                      {pg::sanitized(t.id), pg::sanitized(t.user), pg::sanitized(t.name),
                       pg::sanitized(t.hash), std::to_string(t.created.micros),
                       std::to_string(t.last_used.micros), t.revoked ? "true" : "false"}});
  return impl_->write(std::move(op));
}

Result<std::optional<TokenRecord>> PostgresStore::getTokenByHash(const std::string& hash) {
  return impl_->read([&](pqxx::work& w) -> Result<std::optional<TokenRecord>> {
    auto r =
        w.exec_params(std::string("SELECT ") + kTokenColumns + " FROM api_tokens WHERE hash = $1",
                      pg::sanitized(hash));
    if (r.empty()) return std::optional<TokenRecord>();
    return std::optional<TokenRecord>(readToken(r[0]));
  });
}

Result<std::vector<TokenRecord>> PostgresStore::listTokens() {
  return impl_->read([](pqxx::work& w) -> Result<std::vector<TokenRecord>> {
    std::vector<TokenRecord> out;
    for (const auto& r :
         w.exec(std::string("SELECT ") + kTokenColumns + " FROM api_tokens ORDER BY id")) {
      out.push_back(readToken(r));
    }
    return out;
  });
}

Status PostgresStore::revokeToken(const std::string& id) {
  pg::Op op;
  op.sync = true;
  op.calls.push_back({"token_revoke", {pg::sanitized(id)}});
  int64_t affected = 0;
  RIPOSTE_RETURN_IF_ERROR(impl_->write(std::move(op), &affected));
  if (affected == 0) return Status::notFound("token " + id);
  return Status::ok();
}

Status PostgresStore::touchToken(const std::string& id, Timestamp at) {
  pg::Op op;
  op.calls.push_back({"token_touch", {std::to_string(at.micros), pg::sanitized(id)}});
  return impl_->write(std::move(op));
}

Result<std::vector<RuleModeRecord>> PostgresStore::loadRuleModes() {
  return impl_->read([](pqxx::work& w) -> Result<std::vector<RuleModeRecord>> {
    std::vector<RuleModeRecord> out;
    for (const auto& r : w.exec_prepared("rule_modes_load")) {
      out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                     Timestamp{r[3].as<int64_t>(), 0}});
    }
    return out;
  });
}

Status PostgresStore::saveRuleMode(const RuleModeRecord& r) {
  pg::Op op;
  op.sync = true;
  op.calls.push_back({"rule_mode_save",
                      {pg::sanitized(r.rule_id), pg::sanitized(r.mode), pg::sanitized(r.actor),
                       std::to_string(r.since.micros)}});
  return impl_->write(std::move(op));
}

Status PostgresStore::deleteRuleMode(const std::string& rule_id) {
  pg::Op op;
  op.sync = true;
  op.calls.push_back({"rule_mode_delete", {pg::sanitized(rule_id)}});
  return impl_->write(std::move(op));
}

Status PostgresStore::saveIncident(const Incident& i) {
  pg::Op op;
  op.calls.push_back(
      {"incident_upsert",
       {pg::sanitized(i.id), pg::sanitized(i.key), std::string(targetTypeName(i.target.type)),
        pg::sanitized(i.target.value), pg::sanitized(i.title), std::to_string(i.severity),
        std::to_string(i.finding_severity), std::string(incidentStatusName(i.status)),
        std::to_string(i.first_seen.micros), std::to_string(i.last_seen.micros),
        std::to_string(i.created.micros), std::to_string(i.updated.micros),
        std::to_string(i.finding_count), jsonText(i.detectors), jsonText(i.labels),
        jsonText(i.decision_ids), pg::sanitized(i.status_by), std::to_string(i.status_at.micros),
        pg::sanitized(i.status_note)}});
  return impl_->write(std::move(op));
}

Status PostgresStore::linkIncidentFinding(const std::string& incident_id,
                                          const std::string& finding_id) {
  pg::Op op;
  op.calls.push_back({"incident_link", {pg::sanitized(incident_id), pg::sanitized(finding_id)}});
  return impl_->write(std::move(op));
}

Result<std::optional<Incident>> PostgresStore::getIncident(const std::string& id) {
  return impl_->read([&](pqxx::work& w) -> Result<std::optional<Incident>> {
    auto r =
        w.exec_params(std::string("SELECT ") + kIncidentColumns + " FROM incidents WHERE id = $1",
                      pg::sanitized(id));
    if (r.empty()) return std::optional<Incident>();
    return std::optional<Incident>(readIncident(r[0]));
  });
}

Result<std::vector<Incident>> PostgresStore::listIncidents(const IncidentQuery& q) {
  return impl_->read([&](pqxx::work& w) -> Result<std::vector<Incident>> {
    PgWhere where;
    if (q.status) where.add("status =", std::string(incidentStatusName(*q.status)));
    if (q.target) where.add("target =", pg::sanitized(*q.target));
    if (q.since) where.add("last_seen >=", std::to_string(q.since->micros));
    if (!q.before_id.empty()) where.add("id <", pg::sanitized(q.before_id));
    std::vector<Incident> out;
    for (const auto& r :
         w.exec_params(std::string("SELECT ") + kIncidentColumns + " FROM incidents" + where.sql +
                           " ORDER BY id DESC LIMIT " + std::to_string(q.limit),
                       pqxx::prepare::make_dynamic_params(where.params))) {
      out.push_back(readIncident(r));
    }
    return out;
  });
}

Result<std::vector<Incident>> PostgresStore::openIncidents(size_t limit) {
  return impl_->read([&](pqxx::work& w) -> Result<std::vector<Incident>> {
    std::vector<Incident> out;
    for (const auto& r :
         w.exec_params(std::string("SELECT ") + kIncidentColumns +
                           " FROM incidents WHERE status IN ('open', 'acknowledged') "
                           "ORDER BY last_seen DESC LIMIT $1",
                       static_cast<int64_t>(limit))) {
      out.push_back(readIncident(r));
    }
    return out;
  });
}

Result<std::vector<std::string>> PostgresStore::incidentFindings(const std::string& incident_id) {
  return impl_->read([&](pqxx::work& w) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    for (const auto& r : w.exec_params(
             "SELECT finding_id FROM incident_findings WHERE incident_id = $1 ORDER BY seq",
             pg::sanitized(incident_id))) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  });
}

Result<int> PostgresStore::applyRetention(Timestamp now) { return impl_->applyRetention(now); }

Result<std::vector<std::string>> PostgresStore::eventPartitions() { return impl_->partitions(); }

bool PostgresStore::waitHealthy(Duration timeout) { return impl_->waitHealthy(timeout); }

Status PostgresStore::execForTest(const std::string& sql) {
  auto r = impl_->query(sql);
  return r.status();
}

Result<std::vector<std::vector<std::string>>> PostgresStore::queryForTest(const std::string& sql) {
  return impl_->query(sql);
}

// ---- rule-set and configuration history ----

namespace {

const char* kConfigHistoryColumns =
    "id, kind, time, actor, hash, files, changed, content, diff, summary";

ConfigHistoryRecord readConfigHistory(const pqxx::row& r) {
  ConfigHistoryRecord c;
  c.id = r[0].as<int64_t>();
  c.kind = r[1].as<std::string>();
  c.time = {r[2].as<int64_t>(), 0};
  c.actor = r[3].as<std::string>();
  c.hash = r[4].as<std::string>();
  c.files = jsonStrings(r[5].as<std::string>());
  c.changed = r[6].as<bool>();
  c.content = r[7].as<std::string>();
  c.diff = r[8].as<std::string>();
  c.summary = r[9].as<std::string>();
  return c;
}

std::string hexOf(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string bytesOfHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return out;
}

}  // namespace

Status PostgresStore::saveConfigHistory(ConfigHistoryRecord& r) {
  if (!r.time.isSet()) r.time = Timestamp::now();
  pg::Op op;
  op.sync = true;
  op.calls.push_back({"config_history_insert",
                      {pg::sanitized(r.kind), std::to_string(r.time.micros), pg::sanitized(r.actor),
                       pg::sanitized(r.hash), jsonText(r.files), r.changed ? "true" : "false",
                       pg::sanitized(r.content), pg::sanitized(r.diff), pg::sanitized(r.summary)}});
  int64_t id = 0;
  RIPOSTE_RETURN_IF_ERROR(impl_->write(std::move(op), nullptr, &id));
  r.id = id;
  return Status::ok();
}

Result<std::vector<ConfigHistoryRecord>> PostgresStore::listConfigHistory(
    const ConfigHistoryQuery& q) {
  return impl_->read([&](pqxx::work& w) -> Result<std::vector<ConfigHistoryRecord>> {
    PgWhere where;
    if (q.kind) where.add("kind =", pg::sanitized(*q.kind));
    if (q.before_id > 0) where.add("id <", std::to_string(q.before_id));
    std::vector<ConfigHistoryRecord> out;
    for (const auto& r :
         w.exec_params(std::string("SELECT ") + kConfigHistoryColumns + " FROM config_history" +
                           where.sql + " ORDER BY id DESC LIMIT " + std::to_string(q.limit),
                       pqxx::prepare::make_dynamic_params(where.params))) {
      out.push_back(readConfigHistory(r));
    }
    return out;
  });
}

Result<std::optional<ConfigHistoryRecord>> PostgresStore::getConfigHistory(int64_t id) {
  return impl_->read([&](pqxx::work& w) -> Result<std::optional<ConfigHistoryRecord>> {
    auto r = w.exec_params(
        std::string("SELECT ") + kConfigHistoryColumns + " FROM config_history WHERE id = $1", id);
    if (r.empty()) return std::optional<ConfigHistoryRecord>();
    return std::optional<ConfigHistoryRecord>(readConfigHistory(r[0]));
  });
}

// ---- feature vectors and the long-term behaviour history ----

Status PostgresStore::saveFeatureVectors(const std::vector<FeatureVectorRecord>& records) {
  if (records.empty()) return Status::ok();
  pg::Op op;
  op.calls.reserve(records.size());
  for (const auto& r : records) {
    op.calls.push_back({"feature_vector_insert",
                        {pg::sanitized(r.schema), std::to_string(r.schema_version),
                         pg::sanitized(r.entity_field), pg::sanitized(r.entity),
                         std::to_string(r.window_start.micros), std::to_string(r.window_end.micros),
                         std::to_string(r.events), std::to_string(r.values.size()),
                         hexOf({reinterpret_cast<const char*>(r.values.data()),
                                r.values.size() * sizeof(float)})}});
  }
  return impl_->write(std::move(op));
}

Result<std::vector<FeatureVectorRecord>> PostgresStore::listFeatureVectors(
    const std::string& schema, int schema_version, const std::string& entity_field, size_t limit) {
  return impl_->read([&](pqxx::work& w) -> Result<std::vector<FeatureVectorRecord>> {
    std::vector<FeatureVectorRecord> out;
    const auto rows = w.exec_params(
        "SELECT entity, window_start, window_end, events, dim, encode(vals, 'hex') FROM "
        "feature_vectors WHERE schema = $1 AND schema_version = $2 AND entity_field = $3 "
        "ORDER BY window_end DESC, id DESC LIMIT $4",
        pg::sanitized(schema), schema_version, pg::sanitized(entity_field),
        static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    for (const auto& row : rows) {
      FeatureVectorRecord r;
      r.schema = schema;
      r.schema_version = schema_version;
      r.entity_field = entity_field;
      r.entity = row[0].as<std::string>();
      r.window_start = {row[1].as<int64_t>(), 0};
      r.window_end = {row[2].as<int64_t>(), 0};
      r.events = static_cast<uint32_t>(row[3].as<int64_t>());
      const auto dim = static_cast<size_t>(row[4].as<int64_t>());
      const std::string b = bytesOfHex(row[5].as<std::string>());
      if (b.size() != dim * sizeof(float)) {
        return Status::ioError("feature vector of " + r.entity + ": " + std::to_string(b.size()) +
                               " bytes for " + std::to_string(dim) + " values");
      }
      r.values.resize(dim);
      if (dim > 0) std::memcpy(r.values.data(), b.data(), b.size());
      out.push_back(std::move(r));
    }
    return out;
  });
}

Result<int64_t> PostgresStore::deleteFeatureVectorsBefore(Timestamp before) {
  pg::Op op;
  op.calls.push_back({"feature_vectors_delete", {std::to_string(before.micros)}});
  int64_t affected = 0;
  RIPOSTE_RETURN_IF_ERROR(impl_->write(std::move(op), &affected));
  return std::max<int64_t>(affected, 0);  // journaled: counted when replayed, not here
}

Status PostgresStore::saveBehavior(const std::vector<BehaviorRecord>& records) {
  if (records.empty()) return Status::ok();
  pg::Op op;
  op.calls.reserve(records.size());
  for (const auto& r : records) {
    op.calls.push_back({"behavior_upsert",
                        {pg::sanitized(r.key), std::to_string(r.last_seen.micros), hexOf(r.data)}});
  }
  return impl_->write(std::move(op));
}

Result<std::optional<BehaviorRecord>> PostgresStore::loadBehavior(const std::string& key) {
  return impl_->read([&](pqxx::work& w) -> Result<std::optional<BehaviorRecord>> {
    auto r =
        w.exec_params("SELECT last_seen, encode(data, 'hex') FROM behavior_history WHERE key = $1",
                      pg::sanitized(key));
    if (r.empty()) return std::optional<BehaviorRecord>();
    BehaviorRecord b;
    b.key = key;
    b.last_seen = {r[0][0].as<int64_t>(), 0};
    b.data = bytesOfHex(r[0][1].as<std::string>());
    return std::optional<BehaviorRecord>(std::move(b));
  });
}

Status PostgresStore::forEachBehaviorKey(const std::function<void(std::string_view)>& fn) {
  auto r = impl_->read([&](pqxx::work& w) -> Result<int64_t> {
    int64_t n = 0;
    for (const auto& row : w.exec("SELECT key FROM behavior_history")) {
      fn(std::string_view(row[0].c_str(), row[0].size()));
      ++n;
    }
    return n;
  });
  return r.status();
}

Result<int64_t> PostgresStore::pruneBehavior(Timestamp cutoff) {
  pg::Op op;
  op.calls.push_back({"behavior_prune", {std::to_string(cutoff.micros)}});
  int64_t affected = 0;
  RIPOSTE_RETURN_IF_ERROR(impl_->write(std::move(op), &affected));
  return std::max<int64_t>(affected, 0);
}

}  // namespace riposte

#include "store/postgres/pg_migrations.h"

namespace riposte::pg {

const std::vector<std::string>& migrations() {
  static const std::vector<std::string> kMigrations = {
      // 1: what SQLite has at its version 2 — findings with evidence, decisions, the
      // append-only hash-chained audit log, source offsets, the engine's mode. Times are
      // microseconds since the epoch (BIGINT), as in SQLite.
      R"sql(
CREATE TABLE findings (
  id TEXT PRIMARY KEY, detector TEXT NOT NULL, entity_type TEXT NOT NULL, entity TEXT NOT NULL,
  severity INTEGER NOT NULL, score DOUBLE PRECISION NOT NULL, reason TEXT NOT NULL,
  action TEXT NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL,
  event_count BIGINT NOT NULL, labels TEXT NOT NULL DEFAULT '[]', created BIGINT NOT NULL);
CREATE INDEX findings_entity ON findings(entity);
CREATE TABLE events (
  id BIGSERIAL PRIMARY KEY, finding_id TEXT NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
  ts BIGINT NOT NULL, tz INTEGER NOT NULL, source TEXT NOT NULL, byte_offset BIGINT NOT NULL,
  raw TEXT NOT NULL, fields TEXT NOT NULL);
CREATE INDEX events_finding ON events(finding_id);
CREATE TABLE decisions (
  id TEXT PRIMARY KEY, action TEXT NOT NULL, target_type TEXT NOT NULL, target TEXT NOT NULL,
  detector TEXT NOT NULL, reason TEXT NOT NULL, finding_id TEXT NOT NULL, events BIGINT NOT NULL,
  first_seen BIGINT NOT NULL, first_tz INTEGER NOT NULL, last_seen BIGINT NOT NULL,
  last_tz INTEGER NOT NULL, created BIGINT NOT NULL, expires BIGINT NOT NULL,
  state TEXT NOT NULL, origin TEXT NOT NULL, updated BIGINT NOT NULL);
CREATE INDEX decisions_state_expires ON decisions(state, expires);
CREATE INDEX decisions_target ON decisions(target);
CREATE TABLE audit (
  seq BIGINT PRIMARY KEY, time BIGINT NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL,
  target TEXT NOT NULL, reason TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE INDEX audit_time ON audit(time);
CREATE FUNCTION riposte_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit log is append-only';
END $$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION riposte_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION riposte_audit_append_only();
CREATE TABLE source_offsets (
  source TEXT NOT NULL, file TEXT NOT NULL, inode BIGINT NOT NULL, byte_offset BIGINT NOT NULL,
  updated BIGINT NOT NULL, PRIMARY KEY (source, file));
CREATE TABLE engine_mode (
  id INTEGER PRIMARY KEY CHECK (id = 1), mode TEXT NOT NULL, reason TEXT NOT NULL,
  actor TEXT NOT NULL, since BIGINT NOT NULL);
INSERT INTO engine_mode(id, mode, reason, actor, since) VALUES (1, 'auto', 'initial', 'engine', 0);
)sql",
      // 2: the event log, partitioned by UTC day on ts (partitions event_log_YYYYMMDD are
      // created on demand and dropped by retention). BRIN keeps time-range scans cheap without
      // slowing COPY the way a b-tree would.
      R"sql(
CREATE TABLE event_log (
  ts BIGINT NOT NULL, tz SMALLINT NOT NULL, source TEXT NOT NULL, byte_offset BIGINT NOT NULL,
  raw TEXT NOT NULL, fields TEXT NOT NULL) PARTITION BY RANGE (ts);
CREATE INDEX event_log_ts ON event_log USING brin (ts);
)sql",
      // 3: the console (SQLite 6) — users, sessions, API tokens; findings marked false
      // positive; searchable evidence columns; indexes for the API's newest-first pages.
      R"sql(
CREATE TABLE users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, created BIGINT NOT NULL,
  disabled BOOLEAN NOT NULL DEFAULT FALSE);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  csrf TEXT NOT NULL, created BIGINT NOT NULL, expires BIGINT NOT NULL);
CREATE INDEX sessions_user ON sessions(username);
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created BIGINT NOT NULL,
  last_used BIGINT NOT NULL DEFAULT 0, revoked BOOLEAN NOT NULL DEFAULT FALSE);
ALTER TABLE findings ADD COLUMN false_positive BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE events ADD COLUMN source_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN kind TEXT NOT NULL DEFAULT '';
CREATE INDEX events_source_ip ON events(source_ip, id);
CREATE INDEX events_ts ON events(ts);
CREATE INDEX decisions_state_id ON decisions(state, id);
CREATE INDEX findings_detector_id ON findings(detector, id);
CREATE INDEX audit_kind ON audit(kind);
)sql",
      // 4: rule modes a person set (SQLite 7), kept across restarts and rule reloads.
      R"sql(
CREATE TABLE rule_modes (
  rule_id TEXT PRIMARY KEY, mode TEXT NOT NULL, actor TEXT NOT NULL, since BIGINT NOT NULL);
)sql",
      // 5: incidents (SQLite 8) — findings about one target grouped by the correlator, and
      // their links.
      R"sql(
CREATE TABLE incidents (
  id TEXT PRIMARY KEY, key TEXT NOT NULL, target_type TEXT NOT NULL, target TEXT NOT NULL,
  title TEXT NOT NULL, severity INTEGER NOT NULL, finding_severity INTEGER NOT NULL,
  status TEXT NOT NULL, first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL,
  created BIGINT NOT NULL, updated BIGINT NOT NULL, finding_count BIGINT NOT NULL,
  detectors TEXT NOT NULL, labels TEXT NOT NULL, decision_ids TEXT NOT NULL,
  status_by TEXT NOT NULL, status_at BIGINT NOT NULL, status_note TEXT NOT NULL);
CREATE INDEX incidents_status_id ON incidents(status, id);
CREATE INDEX incidents_target_id ON incidents(target, id);
CREATE INDEX incidents_status_last_seen ON incidents(status, last_seen);
CREATE TABLE incident_findings (
  seq BIGSERIAL PRIMARY KEY, incident_id TEXT NOT NULL, finding_id TEXT NOT NULL,
  UNIQUE (incident_id, finding_id));
CREATE INDEX incident_findings_finding ON incident_findings(finding_id);
)sql",
      // 6: rule-set and configuration loads (SQLite 9) — who loaded what, when.
      R"sql(
CREATE TABLE config_history (
  id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, time BIGINT NOT NULL, actor TEXT NOT NULL,
  hash TEXT NOT NULL, files TEXT NOT NULL, changed BOOLEAN NOT NULL, content TEXT NOT NULL,
  diff TEXT NOT NULL, summary TEXT NOT NULL);
CREATE INDEX config_history_kind_id ON config_history(kind, id);
)sql",
      // 7: anomaly training data and the long-term behaviour history (SQLite 3 and 4): feature
      // vectors as raw float32 bytes, one opaque record per entity.
      R"sql(
CREATE TABLE feature_vectors (
  id BIGSERIAL PRIMARY KEY, schema TEXT NOT NULL, schema_version INTEGER NOT NULL,
  entity_field TEXT NOT NULL, entity TEXT NOT NULL, window_start BIGINT NOT NULL,
  window_end BIGINT NOT NULL, events BIGINT NOT NULL, dim INTEGER NOT NULL, vals BYTEA NOT NULL);
CREATE INDEX feature_vectors_schema
  ON feature_vectors(schema, schema_version, entity_field, window_end);
CREATE INDEX feature_vectors_window_end ON feature_vectors(window_end);
CREATE TABLE behavior_history (
  key TEXT PRIMARY KEY, last_seen BIGINT NOT NULL, data BYTEA NOT NULL);
CREATE INDEX behavior_history_last_seen ON behavior_history(last_seen);
)sql",
  };
  return kMigrations;
}

}  // namespace riposte::pg

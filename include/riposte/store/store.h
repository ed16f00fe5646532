// Store: durable state — evidence events, findings, decisions, the audit chain, source offsets,
// and the event log (every event, written in batches).
//
// Implementations: SQLite (embedded default, WAL) and PostgreSQL (docs/storage.md). Every write
// that matters for safety (a decision and its audit entry) is durable when the call returns —
// for PostgreSQL while the database is unreachable, durable in the local spill journal, replayed
// in order when it returns (health() reports the degraded state). Schema migrations are
// versioned and applied by open().
//
// Thread safety: implementations serialise access internally; callers may share one Store.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/core/decision.h"
#include "riposte/core/finding.h"
#include "riposte/core/incident.h"
#include "riposte/core/status.h"

namespace riposte {

struct AuditEntry {
  int64_t seq = 0;  // assigned by the store, 1-based, gap-free
  Timestamp time;
  std::string actor;  // engine | cli:<user> | api:<user>
  std::string kind;   // decision.created, decision.expired, action.applied, ...
  std::string target;
  std::string reason;
  std::string details_json;  // evidence and context
  std::string prev_hash;     // hex SHA-256 of the previous entry ("" for the first)
  std::string hash;          // hex SHA-256 over prev_hash and this entry's fields
};

struct DecisionFilter {
  std::optional<DecisionState> state;
  std::optional<std::string> target;
  size_t limit = 1000;
  // Oldest first (by created, then id); false when the caller needs no order (a restart's
  // restore of every active decision), which spares the store a sort.
  bool ordered = true;
};

// A page of decisions for the API: newest first (by id, which is time-ordered); `before_id`
// continues after the last id of the previous page.
struct DecisionQuery {
  std::optional<DecisionState> state;
  std::optional<std::string> target;
  std::optional<std::string> action;
  std::optional<std::string> detector;
  std::string before_id;
  size_t limit = 100;
};

struct DecisionCount {
  std::string action;
  DecisionState state = DecisionState::kActive;
  int64_t count = 0;
};

// A stored finding (without its evidence events) and what a person said about it.
struct FindingRecord {
  Finding finding;  // evidence left empty
  bool false_positive = false;
  Timestamp created;
};

struct FindingQuery {
  std::optional<std::string> detector;
  std::optional<std::string> entity;
  std::optional<bool> false_positive;
  std::string before_id;
  size_t limit = 100;
};

// An evidence event as stored with its finding.
struct StoredEvent {
  int64_t id = 0;
  std::string finding_id;
  EvidenceEvent event;
};

// Search of the stored evidence events: newest first; `before_id` continues a page.
struct EventQuery {
  std::optional<Timestamp> since, until;
  std::optional<std::string> source_ip;  // source.ip field
  std::optional<std::string> kind;       // event.kind field (auth, web, ...)
  std::optional<std::string> text;       // substring of the raw line
  std::optional<std::string> finding_id;
  int64_t before_id = 0;  // 0 = from the newest
  size_t limit = 100;
};

struct AuditQuery {
  std::optional<std::string> kind;  // exact, or a prefix ending in '.' ("decision.")
  std::optional<std::string> actor;
  std::optional<std::string> target;
  int64_t before_seq = 0;  // 0 = from the newest; entries come newest first
  size_t limit = 100;
};

// Console and API users. The password is stored only as an argon2id hash string.
struct UserRecord {
  std::string name;
  std::string role;  // viewer | analyst | admin | ingest
  std::string password_hash;
  Timestamp created;
  bool disabled = false;
};

// A console session; the cookie value is never stored, only its SHA-256.
struct SessionRecord {
  std::string id_hash;
  std::string user;
  std::string csrf;
  Timestamp created;
  Timestamp expires;
};

// A machine token; the secret is shown once and stored as its SHA-256.
struct TokenRecord {
  std::string id;  // public id, for listing and revoking
  std::string user;
  std::string name;
  std::string hash;
  Timestamp created;
  Timestamp last_used;
  bool revoked = false;
};

// A page of incidents for the API: newest first (by id, which is time-ordered); `before_id`
// continues after the last id of the previous page. `since`: last seen at or after.
struct IncidentQuery {
  std::optional<IncidentStatus> status;
  std::optional<std::string> target;  // the incident's target value
  std::optional<Timestamp> since;
  std::string before_id;
  size_t limit = 100;
};

// Whether the engine enforces decisions (auto), only proposes them (manual: stored as
// pending-approval, nothing enforced, alerts still sent) or only records them (dry-run: stored
// in state dry-run, no action runs, not even alerts). Persisted so a restart keeps it. At most
// one of `manual` and `dry_run` is set.
struct EngineMode {
  bool manual = false;
  bool dry_run = false;
  std::string reason;
  std::string actor = "engine";
  Timestamp since;

  // "auto" | "manual" | "dry-run" (the stored and served name).
  std::string_view name() const { return dry_run ? "dry-run" : manual ? "manual" : "auto"; }
  // Sets both flags from a name; false (nothing changed) for an unknown name.
  bool setName(std::string_view n);
};

// A rule's mode as a person set it (API), kept across restarts and rule reloads: it wins over
// the mode written in the rule file until it is set back to that mode (then it is deleted).
struct RuleModeRecord {
  std::string rule_id;
  std::string mode;  // enabled | disabled | shadow
  std::string actor;
  Timestamp since;
};

// One entity's feature vector over a closed window, recorded by the anomaly detector so a model
// can be trained on what the engine saw (`riposte model train --from-store`).
struct FeatureVectorRecord {
  std::string schema;  // feature schema name and version (see ml/feature_schema.h)
  int schema_version = 0;
  std::string entity_field;  // source.ip, user.name
  std::string entity;
  Timestamp window_start;
  Timestamp window_end;
  uint32_t events = 0;
  std::vector<float> values;
};

// Whether the store is writing through to its database, and what it holds back if not.
struct StoreHealth {
  bool degraded = false;         // the database is unreachable; writes go to the spill journal
  std::string reason;            // why (the last connection error), empty when healthy
  uint64_t pending_writes = 0;   // accepted, not yet in the database
  uint64_t pending_bytes = 0;    // size of the spill journal
  uint64_t rejected_writes = 0;  // refused because the journal was full (since open)
  uint64_t replayed_writes = 0;  // caught up after an outage (since open)
};

class Store {
 public:
  virtual ~Store() = default;

  virtual int schemaVersion() const = 0;

  // Stores a finding with its evidence events.
  virtual Status saveFinding(const Finding& f) = 0;
  virtual Status saveDecision(const Decision& d) = 0;
  virtual Status updateDecisionState(const std::string& id, DecisionState state) = 0;
  virtual Result<std::vector<Decision>> listDecisions(const DecisionFilter& filter) = 0;
  // Active decisions whose expiry is at or before `now`.
  virtual Result<std::vector<Decision>> expiredDecisions(Timestamp now) = 0;
  virtual Result<int64_t> countFindings() = 0;

  // Appends to the hash chain; fills seq, prev_hash and hash.
  virtual Status appendAudit(AuditEntry& entry) = 0;

  // What the engine stores before it acts on a finding: the finding with its evidence (when
  // `finding` is not null), the decision, and the decision's audit entry (seq, prev_hash and
  // hash filled), all durable when the call returns. SQLite and PostgreSQL write the three in
  // one transaction (all or nothing; PostgreSQL journals them as one entry while the database
  // is unreachable, replayed as one transaction). The default calls saveFinding, saveDecision
  // and appendAudit in that order and stops at the first error.
  virtual Status saveDecisionWithAudit(const Finding* finding, const Decision& d,
                                       AuditEntry& entry);
  virtual Result<std::vector<AuditEntry>> listAudit(int64_t after_seq, size_t limit) = 0;

  // The engine's mode; leaving manual mode is an explicit, audited step by a person.
  virtual Result<EngineMode> loadMode() = 0;
  virtual Status saveMode(const EngineMode& m) = 0;

  // The event log: appends a batch of events in one transaction (PostgreSQL: one COPY into the
  // day partitions). Whole batch or nothing.
  virtual Status appendEvents(std::span<const EvidenceEvent> events) = 0;
  // Events in the log with from <= time < to.
  virtual Result<int64_t> countEvents(Timestamp from, Timestamp to) = 0;

  // Stores without a remote database are never degraded.
  virtual StoreHealth health() const { return {}; }
  bool degraded() const { return health().degraded; }
  // The API's views and the console's accounts. A store that does not implement them answers
  // failedPrecondition; the SQLite store implements all of them.
  virtual Result<std::optional<Decision>> getDecision(const std::string& id);
  virtual Result<std::vector<Decision>> queryDecisions(const DecisionQuery& q);
  virtual Result<std::vector<DecisionCount>> countDecisions();
  virtual Result<int64_t> countDecisionsInState(DecisionState state);
  virtual Result<std::vector<FindingRecord>> listFindings(const FindingQuery& q);
  virtual Result<std::optional<FindingRecord>> getFinding(const std::string& id);
  virtual Status setFindingFalsePositive(const std::string& id, bool false_positive);
  virtual Result<std::vector<StoredEvent>> searchEvents(const EventQuery& q);
  virtual Result<std::vector<AuditEntry>> queryAudit(const AuditQuery& q);

  virtual Status createUser(const UserRecord& u);  // alreadyExists when the name is taken
  virtual Status updateUser(const UserRecord& u);  // notFound when absent
  virtual Status deleteUser(const std::string& name);
  virtual Result<std::optional<UserRecord>> getUser(const std::string& name);
  virtual Result<std::vector<UserRecord>> listUsers();
  virtual Status saveSession(const SessionRecord& s);
  virtual Result<std::optional<SessionRecord>> getSession(const std::string& id_hash);
  virtual Status deleteSession(const std::string& id_hash);
  virtual Status deleteUserSessions(const std::string& user);
  virtual Status saveToken(const TokenRecord& t);
  virtual Result<std::optional<TokenRecord>> getTokenByHash(const std::string& hash);
  virtual Result<std::vector<TokenRecord>> listTokens();
  virtual Status revokeToken(const std::string& id);  // notFound when absent
  virtual Status touchToken(const std::string& id, Timestamp at);

  // Incidents (engine/correlator.h): saveIncident inserts or replaces the row, except that the
  // status fields of the newer status change (by status_at) are kept — an engine extending its
  // copy never undoes a person's change made meanwhile; a finding is linked once (linking it
  // again is not an error). A store that does not keep them answers
  // failedPrecondition.
  virtual Status saveIncident(const Incident& i);
  virtual Status linkIncidentFinding(const std::string& incident_id, const std::string& finding_id);
  virtual Result<std::optional<Incident>> getIncident(const std::string& id);
  virtual Result<std::vector<Incident>> listIncidents(const IncidentQuery& q);
  // Incidents not closed, newest last seen first (the correlator's start-up).
  virtual Result<std::vector<Incident>> openIncidents(size_t limit);
  // The ids of an incident's findings, oldest link first.
  virtual Result<std::vector<std::string>> incidentFindings(const std::string& incident_id);

  // Rule modes set by a person (table rule_modes), by rule id.
  virtual Result<std::vector<RuleModeRecord>> loadRuleModes();
  virtual Status saveRuleMode(const RuleModeRecord& r);       // insert or replace
  virtual Status deleteRuleMode(const std::string& rule_id);  // absent: ok

  // Read offsets of tailed files, so a restart neither skips nor repeats lines.
  virtual Status saveOffset(const std::string& source, const std::string& file, uint64_t inode,
                            uint64_t offset) = 0;
  virtual Result<std::optional<std::pair<uint64_t, uint64_t>>> loadOffset(
      const std::string& source, const std::string& file) = 0;

  // Per-entity feature vectors (anomaly detection). A store that does not keep them says so.
  virtual Status saveFeatureVectors(const std::vector<FeatureVectorRecord>& records) {
    (void)records;
    return Status::failedPrecondition("this store does not keep feature vectors");
  }
  // The newest `limit` vectors of a schema and entity field, newest first.
  virtual Result<std::vector<FeatureVectorRecord>> listFeatureVectors(
      const std::string& schema, int schema_version, const std::string& entity_field,
      size_t limit) {
    (void)schema, (void)schema_version, (void)entity_field, (void)limit;
    return Status::failedPrecondition("this store does not keep feature vectors");
  }
  // Deletes vectors whose window ended before `before`; returns how many.
  virtual Result<int64_t> deleteFeatureVectorsBefore(Timestamp before) {
    (void)before;
    return Status::failedPrecondition("this store does not keep feature vectors");
  }
};

using StorePtr = std::unique_ptr<Store>;

// Hash of an audit entry as chained: SHA-256 hex over prev_hash and the entry's fields.
std::string auditEntryHash(const AuditEntry& e);

// Walks the chain; returns OK or an error naming the first entry that was edited, removed or
// reordered.
Status verifyAuditChain(const std::vector<AuditEntry>& entries);

}  // namespace riposte

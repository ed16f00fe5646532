// PostgresStore: the Store on PostgreSQL (libpqxx), for production and several nodes.
//
// open() connects, applies every migration newer than the database's schema version (each in
// its own transaction, under an advisory lock so two nodes starting together do not race) and
// replays what a previous run left in the spill journal. Same tables as SqliteStore plus the
// event log, partitioned by day (`event_log_YYYYMMDD`, created on demand, dropped after
// `retention_days`) and written with COPY. The audit table is append-only (triggers refuse
// UPDATE, DELETE and TRUNCATE) and hash-chained with the same hash as SqliteStore.
//
// Degraded operation: when the database is unreachable (down, restarting, network), writes are
// accepted into a spill journal on local disk (bounded by `spill_max_bytes`), health() reports
// degraded, and a background thread reconnects and replays the journal in order; only then are
// new writes sent directly again. Reads fail with kUnavailable while degraded. A journal left
// by a crash is replayed by the next open().
//
// Thread safety: all methods lock an internal mutex around one connection with prepared
// statements; one PostgresStore may be shared.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "riposte/core/time.h"
#include "riposte/store/behavior_store.h"
#include "riposte/store/config_history_store.h"
#include "riposte/store/store.h"

namespace riposte {

struct PostgresStoreOptions {
  std::string url;          // libpq connection string or URI
  int retention_days = 30;  // event log partitions older than this are dropped; 0 = keep all
  // Journal of writes accepted while the database is unreachable.
  std::string spill_path = "var/postgres-spill.jsonl";
  uint64_t spill_max_bytes = 1ull << 30;
  Duration retry_interval = std::chrono::seconds(1);
  int connect_timeout_s = 5;
  // When the database is unreachable at open: false — open fails with the connection error;
  // true — open succeeds degraded (writes journaled, reads unavailable) and the background
  // thread connects, applies the migrations and replays the journal once it answers (serve
  // sets it through the store's factory; commands that open the store once do not).
  bool start_unreachable = false;
};

class PostgresStore : public Store, public BehaviorStore, public ConfigHistoryStore {
 public:
  static Result<std::unique_ptr<PostgresStore>> open(const PostgresStoreOptions& options);
  ~PostgresStore() override;

  int schemaVersion() const override;
  // The newest schema version this build knows.
  static int latestSchemaVersion();

  Status saveFinding(const Finding& f) override;
  Status saveDecision(const Decision& d) override;
  Status updateDecisionState(const std::string& id, DecisionState state) override;
  Result<std::vector<Decision>> listDecisions(const DecisionFilter& filter) override;
  Result<std::vector<Decision>> expiredDecisions(Timestamp now) override;
  Result<int64_t> countFindings() override;
  Status appendAudit(AuditEntry& entry) override;
  // One transaction (one journal entry while the database is unreachable): all or nothing.
  Status saveDecisionWithAudit(const Finding* finding, const Decision& d,
                               AuditEntry& entry) override;
  Result<std::vector<AuditEntry>> listAudit(int64_t after_seq, size_t limit) override;
  Result<EngineMode> loadMode() override;
  Status saveMode(const EngineMode& m) override;
  Status appendEvents(std::span<const EvidenceEvent> events) override;
  Result<int64_t> countEvents(Timestamp from, Timestamp to) override;
  StoreHealth health() const override;
  // The API's views and the console's accounts (as SqliteStore). Account writes go through
  // the spill journal like every write while the database is unreachable; reads then answer
  // unavailable.
  Result<std::optional<Decision>> getDecision(const std::string& id) override;
  Result<std::vector<Decision>> queryDecisions(const DecisionQuery& q) override;
  Result<std::vector<DecisionCount>> countDecisions() override;
  Result<int64_t> countDecisionsInState(DecisionState state) override;
  Result<std::vector<FindingRecord>> listFindings(const FindingQuery& q) override;
  Result<std::optional<FindingRecord>> getFinding(const std::string& id) override;
  Status setFindingFalsePositive(const std::string& id, bool false_positive) override;
  Result<std::vector<StoredEvent>> searchEvents(const EventQuery& q) override;
  Result<std::vector<AuditEntry>> queryAudit(const AuditQuery& q) override;
  Status createUser(const UserRecord& u) override;
  Status updateUser(const UserRecord& u) override;
  Status deleteUser(const std::string& name) override;
  Result<std::optional<UserRecord>> getUser(const std::string& name) override;
  Result<std::vector<UserRecord>> listUsers() override;
  Status saveSession(const SessionRecord& s) override;
  Result<std::optional<SessionRecord>> getSession(const std::string& id_hash) override;
  Status deleteSession(const std::string& id_hash) override;
  Status deleteUserSessions(const std::string& user) override;
  Status saveToken(const TokenRecord& t) override;
  Result<std::optional<TokenRecord>> getTokenByHash(const std::string& hash) override;
  Result<std::vector<TokenRecord>> listTokens() override;
  Status revokeToken(const std::string& id) override;
  Status touchToken(const std::string& id, Timestamp at) override;
  Result<std::vector<RuleModeRecord>> loadRuleModes() override;
  Status saveRuleMode(const RuleModeRecord& r) override;
  Status deleteRuleMode(const std::string& rule_id) override;
  Status saveIncident(const Incident& i) override;
  Status linkIncidentFinding(const std::string& incident_id,
                             const std::string& finding_id) override;
  Result<std::optional<Incident>> getIncident(const std::string& id) override;
  Result<std::vector<Incident>> listIncidents(const IncidentQuery& q) override;
  Result<std::vector<Incident>> openIncidents(size_t limit) override;
  Result<std::vector<std::string>> incidentFindings(const std::string& incident_id) override;
  // The rule and configuration history (ConfigHistoryStore), as SqliteStore.
  Status saveConfigHistory(ConfigHistoryRecord& r) override;
  Result<std::vector<ConfigHistoryRecord>> listConfigHistory(const ConfigHistoryQuery& q) override;
  Result<std::optional<ConfigHistoryRecord>> getConfigHistory(int64_t id) override;

  // Feature vectors (anomaly training data) and the long-term behaviour history, as SQLite.
  Status saveFeatureVectors(const std::vector<FeatureVectorRecord>& records) override;
  Result<std::vector<FeatureVectorRecord>> listFeatureVectors(const std::string& schema,
                                                              int schema_version,
                                                              const std::string& entity_field,
                                                              size_t limit) override;
  Result<int64_t> deleteFeatureVectorsBefore(Timestamp before) override;
  Status saveBehavior(const std::vector<BehaviorRecord>& records) override;
  Result<std::optional<BehaviorRecord>> loadBehavior(const std::string& key) override;
  Status forEachBehaviorKey(const std::function<void(std::string_view)>& fn) override;
  Result<int64_t> pruneBehavior(Timestamp cutoff) override;

  Status saveOffset(const std::string& source, const std::string& file, uint64_t inode,
                    uint64_t offset) override;
  Result<std::optional<std::pair<uint64_t, uint64_t>>> loadOffset(const std::string& source,
                                                                  const std::string& file) override;

  // Drops event log partitions whose whole day is older than retention_days before `now`.
  // Runs at open and whenever a new day partition is created. Returns how many were dropped.
  Result<int> applyRetention(Timestamp now);
  // Names of the event log's partitions, oldest first.
  Result<std::vector<std::string>> eventPartitions();

  // Blocks until the spill journal is replayed and the store is healthy, or `timeout` passes.
  bool waitHealthy(Duration timeout);

  // Direct SQL for tests (e.g. to tamper with the audit table behind the store's back).
  Status execForTest(const std::string& sql);
  Result<std::vector<std::vector<std::string>>> queryForTest(const std::string& sql);

  class Impl;

 private:
  explicit PostgresStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace riposte

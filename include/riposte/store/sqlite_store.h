// SqliteStore: the embedded default Store — one file, WAL mode, versioned migrations. It also
// keeps the long-term behaviour history (BehaviorStore, table behavior_history) and the rule
// and configuration history (ConfigHistoryStore, table config_history).
//
// open() creates the file if needed and applies every migration newer than the file's
// schema version inside a transaction. The audit table is append-only: triggers refuse UPDATE
// and DELETE, and each entry is hash-chained to the previous one.
//
// WAL checkpoints (copying committed pages into the database file, with its fsyncs) run on a
// thread of the store's own, on a second connection, once the WAL holds 1,000 pages (SQLite's
// own default threshold), instead of inside whichever commit crosses it; only a commit that
// finds 10,000 pages in the WAL (writers that never pause) checkpoints itself, so the WAL stays
// bounded. What a commit guarantees is unchanged (WAL, synchronous=NORMAL: in the WAL when the
// call returns).
//
// Thread safety: all methods lock an internal mutex; one SqliteStore may be shared.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "riposte/store/behavior_store.h"
#include "riposte/store/config_history_store.h"
#include "riposte/store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace riposte {

class SqliteStore : public Store, public BehaviorStore, public ConfigHistoryStore {
 public:
  // `path` may be ":memory:".
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path);
  ~SqliteStore() override;

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
  // The finding, the decision and the audit entry in one transaction (one commit).
  Status saveDecisionWithAudit(const Finding* finding, const Decision& d,
                               AuditEntry& entry) override;
  Result<std::vector<AuditEntry>> listAudit(int64_t after_seq, size_t limit) override;
  Status saveOffset(const std::string& source, const std::string& file, uint64_t inode,
                    uint64_t offset) override;
  Result<std::optional<std::pair<uint64_t, uint64_t>>> loadOffset(const std::string& source,
                                                                  const std::string& file) override;

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
  Status appendEvents(std::span<const EvidenceEvent> events) override;
  Result<int64_t> countEvents(Timestamp from, Timestamp to) override;

  Result<EngineMode> loadMode() override;
  Status saveMode(const EngineMode& m) override;

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
  Status saveConfigHistory(ConfigHistoryRecord& r) override;
  Result<std::vector<ConfigHistoryRecord>> listConfigHistory(const ConfigHistoryQuery& q) override;
  Result<std::optional<ConfigHistoryRecord>> getConfigHistory(int64_t id) override;

  // Direct SQL for tests (e.g. to tamper with the audit table behind the store's back).
  Status execForTest(const std::string& sql);
  // Rows of a query as text, for tests.
  Result<std::vector<std::vector<std::string>>> queryForTest(const std::string& sql);

 private:
  class Checkpointer;

  explicit SqliteStore(sqlite3* db);
  Status migrate();
  Status exec(const std::string& sql);
  // The writes behind saveFinding, saveDecision and appendAudit, without a transaction of their
  // own (the caller holds mu_ and opens it).
  Status insertFinding(const Finding& f);
  Status insertDecision(const Decision& d);
  Status insertAudit(AuditEntry& e);
  template <typename F>
  Status inTransaction(const char* begin, F&& body);
  Result<std::vector<Decision>> selectDecisions(const std::string& where,
                                                const std::vector<std::string>& binds, size_t limit,
                                                bool ordered = true);

  mutable std::mutex mu_;
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> stmts_;  // prepared once per SQL text
  int version_ = 0;
  std::unique_ptr<Checkpointer> checkpointer_;  // file databases only; stopped before db_ closes
};

}  // namespace riposte

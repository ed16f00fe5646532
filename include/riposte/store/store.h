// Store: durable state — evidence events, findings, decisions, the audit chain, source offsets.
//
// Implementations: SQLite (embedded default, WAL). Every write that matters for safety (a
// decision and its audit entry) is durable when the call returns. Schema migrations are
// versioned and applied by open().
//
// Thread safety: implementations serialise access internally; callers may share one Store.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "riposte/core/decision.h"
#include "riposte/core/finding.h"
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

// Whether the engine enforces decisions (auto) or only proposes them (manual: stored as
// pending-approval, nothing enforced, alerts still sent). Persisted so a restart keeps it.
struct EngineMode {
  bool manual = false;
  std::string reason;
  std::string actor = "engine";
  Timestamp since;
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
  virtual Result<std::vector<AuditEntry>> listAudit(int64_t after_seq, size_t limit) = 0;

  // The engine's mode; leaving manual mode is an explicit, audited step by a person.
  virtual Result<EngineMode> loadMode() = 0;
  virtual Status saveMode(const EngineMode& m) = 0;

  // The API's views and the console's accounts. A store that does not implement them answers
  // failedPrecondition; the SQLite store implements all of them.
  virtual Result<std::optional<Decision>> getDecision(const std::string& id);
  virtual Result<std::vector<Decision>> queryDecisions(const DecisionQuery& q);
  virtual Result<std::vector<DecisionCount>> countDecisions();
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

  // Read offsets of tailed files, so a restart neither skips nor repeats lines.
  virtual Status saveOffset(const std::string& source, const std::string& file, uint64_t inode,
                            uint64_t offset) = 0;
  virtual Result<std::optional<std::pair<uint64_t, uint64_t>>> loadOffset(
      const std::string& source, const std::string& file) = 0;
};

using StorePtr = std::unique_ptr<Store>;

// Hash of an audit entry as chained: SHA-256 hex over prev_hash and the entry's fields.
std::string auditEntryHash(const AuditEntry& e);

// Walks the chain; returns OK or an error naming the first entry that was edited, removed or
// reordered.
Status verifyAuditChain(const std::vector<AuditEntry>& entries);

}  // namespace riposte

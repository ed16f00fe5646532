// The spill journal: writes accepted while PostgreSQL is unreachable, one JSON line each, in
// order, on local disk. Replayed (peek, run, skip) when the database is back; the position
// replayed so far is kept beside it (`<path>.pos`) so a crash during the replay resumes where
// it stopped. Bounded by a maximum size; an append past it is refused.
//
// Thread safety: none; PostgresStore calls it under its mutex.
#pragma once

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/store/store.h"

namespace riposte::pg {

// One prepared statement call: name and text parameters.
struct Call {
  std::string name;
  std::vector<std::string> params;
};

struct EventRow {
  int64_t ts = 0;
  int tz = 0;
  std::string source;
  int64_t offset = 0;
  std::string raw;
  std::string fields;
};

// One write as the database receives it: prepared statement calls in one transaction, an audit
// append (chained against the database's head when it runs; its `calls`, when any, run first in
// the same transaction: a decision with its finding and entry, all or nothing) or an event
// batch (COPY).
struct Op {
  enum class Kind { kSql, kAudit, kEvents };
  Kind kind = Kind::kSql;
  std::vector<Call> calls;
  AuditEntry audit;
  std::vector<EventRow> events;
  bool sync = false;    // fdatasync the journal after appending (decisions, audit, mode)
  bool replay = false;  // set when run from the journal
};

std::string encodeOp(const Op& op);
Result<Op> decodeOp(const std::string& line);

class Journal {
 public:
  Journal() = default;
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  Status open(const std::string& path, uint64_t max_bytes);
  Status append(const Op& op);
  // The next op to replay: nullopt when none; an error for an unreadable entry (skip it).
  Result<std::optional<Op>> peek();
  void skip();          // past the op peek() returned
  void savePosition();  // persist how far the replay got
  void reset();         // everything replayed: empty the file
  uint64_t pending() const { return pending_; }
  uint64_t pendingBytes() const { return size_ - read_; }

 private:
  std::string path_;
  uint64_t max_bytes_ = 0;
  int fd_ = -1;
  std::ifstream in_;
  uint64_t size_ = 0;  // bytes in the file
  uint64_t read_ = 0;  // replayed up to here
  uint64_t next_ = 0;  // end of the entry peek() returned
  uint64_t pending_ = 0;
};

}  // namespace riposte::pg

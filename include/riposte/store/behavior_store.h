// BehaviorStore: the cold tier of the long-term behaviour history — one opaque record per
// entity (its hourly buckets, serialised by the behaviour module), upserted in batches, read
// back by key, and deleted once the entity's last activity is past the retention.
//
// A Store that can keep this history also implements BehaviorStore (the SQLite store does);
// the behaviour module finds it with dynamic_cast and keeps history in memory only when the
// store does not. Kept apart from Store so other stores need not implement it.
//
// Thread safety: implementations serialise access internally, like Store.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/core/time.h"

namespace riposte {

struct BehaviorRecord {
  std::string key;  // "ip:198.51.100.7", "user:root", "pair:192.0.2.5>203.0.113.9:443"
  Timestamp last_seen;
  std::string data;  // opaque, versioned by the behaviour module
};

class BehaviorStore {
 public:
  virtual ~BehaviorStore() = default;
  // Upserts the records in one transaction.
  virtual Status saveBehavior(const std::vector<BehaviorRecord>& records) = 0;
  // The record for `key`, or nullopt.
  virtual Result<std::optional<BehaviorRecord>> loadBehavior(const std::string& key) = 0;
  // Calls `fn` with every stored key (to prime the module's filter of keys on disk).
  virtual Status forEachBehaviorKey(const std::function<void(std::string_view)>& fn) = 0;
  // Deletes records whose last_seen is before `cutoff`; returns how many.
  virtual Result<int64_t> pruneBehavior(Timestamp cutoff) = 0;
};

}  // namespace riposte

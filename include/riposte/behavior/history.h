// Long-term behaviour history: per-entity activity in hourly buckets, kept for weeks.
//
// An entity is an address ("ip:198.51.100.7"), an account ("user:root") or a flow pair
// ("pair:10.0.0.5>203.0.113.9:443"). Its History holds one compact Bucket per hour in which it
// was active (not the events), running totals over the retained buckets, a 64-bit sketch of the
// distinct peers it dealt with, and, for accounts and flow pairs, a small Extra (the sources that
// failed against the account; the last intervals between connections of the pair).
//
// HistoryTable keeps the hot entities in memory up to a cap; beyond it the least recently seen
// are written to the Store (one transaction per batch) and dropped from memory, and read back
// when they show up again. A Bloom filter of the keys on disk keeps a never-seen entity from
// costing a store lookup. Buckets older than the retention are dropped when an entity is touched
// and by sweep(), which also deletes entities from the store whose last activity is past the
// retention. checkpoint() writes every changed entity, so a restart loses nothing written.
// Without a store (null) the cap forgets the least recently seen entities.
//
// Thread safety: none; one HistoryTable per detector instance (per shard). The Store locks
// internally.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/core/string_hash.h"
#include "riposte/core/time.h"
#include "riposte/store/behavior_store.h"

namespace riposte::behavior {

// Hours since the Unix epoch (UTC) of a timestamp.
inline uint32_t hourOf(Timestamp t) { return static_cast<uint32_t>(t.micros / 3'600'000'000LL); }
Timestamp hourStart(uint32_t hour);

// One hour of an entity's activity. Counters saturate at 65535.
struct Bucket {
  uint32_t hour = 0;       // hours since the epoch
  uint16_t failures = 0;   // failed authentications and failed protocol attempts
  uint16_t successes = 0;  // successful authentications
  uint16_t other = 0;      // other events: connections, requests, neutral protocol events
  uint16_t new_peers = 0;  // peers (users for an address, sources for an account) first seen
  uint32_t total() const { return uint32_t{failures} + successes + other; }
};
static_assert(sizeof(Bucket) == 12);

// A source that tried an account (entities "user:…").
struct PeerEntry {
  uint64_t hash = 0;
  uint32_t failures = 0;
  uint32_t successes = 0;
  uint32_t first_hour = 0;
  bool reported = false;  // a finding was made about this source for this account
  std::string value;
};

inline constexpr size_t kIntervalRing = 32;

struct HistoryExtra {
  std::vector<PeerEntry> peers;  // capped (oldest kept; later sources are only counted)
  // Derived (rebuilt on decode): the peers' hashes in the same order, for a fast scan, and
  // how many peers failed and never succeeded.
  std::vector<uint64_t> peer_hashes;
  uint32_t failing_peers = 0;
  uint32_t peers_dropped = 0;  // sources not kept because the list was full
  // Hashes of sources reported while the list was full (memory only; bounded).
  std::unordered_set<uint64_t> reported_unkept;
  // Flow pairs: milliseconds between consecutive connections, the last kIntervalRing of them.
  std::array<uint32_t, kIntervalRing> intervals{};
  uint8_t n_intervals = 0;
  uint8_t pos = 0;
  uint32_t intervals_seen = 0;
};

// What a detector remembers about having reported an entity (kept with the history, so a
// restart does not report again).
enum class FindingKind : uint8_t { kSlowBruteForce = 0, kDistributed, kBeaconing, kBaseline };
inline constexpr size_t kFindingKinds = 4;

struct History {
  std::vector<Bucket> buckets;  // oldest first; only hours with activity
  int64_t last_us = 0;          // last event time
  uint32_t failures = 0;        // totals over the retained buckets
  uint32_t successes = 0;
  uint32_t other = 0;
  uint64_t peer_sketch = 0;                           // linear-counting bitmap of distinct peers
  uint32_t baseline_trigger = UINT32_MAX;             // events in the current hour that depart
  std::array<uint32_t, kFindingKinds> quiet_until{};  // hour before which a kind stays quiet
  std::unique_ptr<HistoryExtra> extra;
  bool dirty = false;

  uint32_t records() const { return failures + successes + other; }
  HistoryExtra& ensureExtra() {
    if (!extra) extra = std::make_unique<HistoryExtra>();
    return *extra;
  }
  // Estimated number of distinct peers (linear counting over the 64-bit sketch).
  uint32_t distinctPeers() const;
  // Sets the peer's sketch bit; true when it was not set (a new peer, as far as the sketch can
  // tell).
  bool notePeer(uint64_t peer_hash);
  // The bucket for `hour` (created in order when missing).
  Bucket& bucket(uint32_t hour);
  // Drops buckets before `first_hour`, keeping the totals in step.
  void trim(uint32_t first_hour);
};

// Versioned binary form for the store.
std::string encodeHistory(const History& h);
Status decodeHistory(std::string_view data, History& out);

struct HistoryTableOptions {
  std::string prefix;  // store key prefix of this table's entities ("ip:", "user:", "pair:")
  Duration retention = std::chrono::hours(24 * 30);
  size_t max_hot = 250'000;  // entities kept in memory
  bool prune_store = true;   // sweep() also deletes expired rows (of every table)
};

struct HistoryTableStats {
  uint64_t loaded = 0;     // read back from the store
  uint64_t evicted = 0;    // written out and dropped from memory
  uint64_t forgotten = 0;  // dropped without a store to keep them
  uint64_t store_errors = 0;
  uint64_t pruned = 0;  // whole entities past the retention
};

class HistoryTable {
 public:
  HistoryTable(BehaviorStore* store, HistoryTableOptions options);
  ~HistoryTable() = default;

  // The entity's history, read back from the store when it was evicted, or new. The reference
  // is valid until the next call to get(), sweep() or checkpoint().
  History& get(std::string_view key, Timestamp now);
  // The entity's history if it is known (memory or store), without creating it.
  History* find(std::string_view key);

  // Writes every changed entity to the store.
  Status checkpoint();
  // Drops expired buckets and entities (memory and store).
  void sweep(Timestamp now);

  size_t hotSize() const { return hot_.size(); }
  const HistoryTableStats& stats() const { return stats_; }
  uint32_t retentionHours() const { return retention_hours_; }
  bool persistent() const { return store_ != nullptr; }

 private:
  void evictSome();
  bool loadFromStore(std::string_view key, History& out);
  std::string storeKey(std::string_view key) const { return opt_.prefix + std::string(key); }
  void bloomAdd(std::string_view key);
  bool bloomMayContain(std::string_view key) const;

  BehaviorStore* store_;
  HistoryTableOptions opt_;
  uint32_t retention_hours_;
  StringMap<History> hot_;
  std::vector<uint64_t> bloom_;
  std::vector<int64_t> scratch_;
  std::string key_buf_;
  HistoryTableStats stats_;
};

}  // namespace riposte::behavior

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
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/core/time.h"
#include "riposte/store/behavior_store.h"

namespace riposte::behavior {

__extension__ typedef unsigned __int128 HashWord;  // 128-bit product for hashKey()

// The 64-bit hash of an entity key or peer value, used for the tables, the peer lists and the
// sketches (a short-key hash: two loads and a 128-bit multiply for keys up to 16 bytes). Stored
// in records (PeerEntry::hash); records of format version 1 are rehashed when read.
inline uint64_t hashKey(std::string_view s) {
  auto load64 = [](const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  };
  auto load32 = [](const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return uint64_t{v};
  };
  auto mum = [](uint64_t a, uint64_t b) {
    const HashWord r = static_cast<HashWord>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
  };
  constexpr uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL,
                     k2 = 0x8ebc6af09c88c6e3ULL;
  const char* p = s.data();
  size_t n = s.size();
  uint64_t seed = k0 ^ n;
  uint64_t a = 0, b = 0;
  if (n <= 16) {
    if (n >= 8) {
      a = load64(p);
      b = load64(p + n - 8);
    } else if (n >= 4) {
      a = load32(p);
      b = load32(p + n - 4);
    } else if (n > 0) {
      a = (uint64_t{static_cast<uint8_t>(p[0])} << 16) |
          (uint64_t{static_cast<uint8_t>(p[n >> 1])} << 8) | static_cast<uint8_t>(p[n - 1]);
    }
  } else {
    const char* end = p + n;
    while (end - p > 16) {
      seed = mum(load64(p) ^ k1, load64(p + 8) ^ seed);
      p += 16;
    }
    a = load64(end - 16);
    b = load64(end - 8);
  }
  return mum(k1 ^ n, mum(a ^ k1, b ^ seed) ^ k2);
}

// a == b, without a library call for the short keys the tables hold.
inline bool sameKey(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n >= 8 && n <= 16) {
    uint64_t x0, x1, y0, y1;
    std::memcpy(&x0, a.data(), 8);
    std::memcpy(&y0, b.data(), 8);
    std::memcpy(&x1, a.data() + n - 8, 8);
    std::memcpy(&y1, b.data() + n - 8, 8);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  return std::memcmp(a.data(), b.data(), n) == 0;
}

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
  uint16_t probes = 0;     // of the failures: pre-authentication probes (no user name given)
  uint16_t reserved = 0;
  uint32_t total() const { return uint32_t{failures} + successes + other; }
};
static_assert(sizeof(Bucket) == 16);

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
  // Derived (rebuilt on decode): the peers' hashes in the same order, an open-addressing index
  // over them once there are more than a few (peer position + 1, 0 = free), and how many peers
  // failed and never succeeded.
  std::vector<uint64_t> peer_hashes;
  std::vector<uint32_t> peer_index;
  uint32_t failing_peers = 0;
  uint32_t peers_dropped = 0;  // sources not kept because the list was full
  // Hashes of sources reported while the list was full (memory only; bounded).
  std::unordered_set<uint64_t> reported_unkept;
  // Flow pairs: milliseconds between consecutive connections, the last kIntervalRing of them.
  std::array<uint32_t, kIntervalRing> intervals{};
  uint8_t n_intervals = 0;
  uint8_t pos = 0;
  uint32_t intervals_seen = 0;

  // The peer with this hash and value, or null.
  PeerEntry* findPeer(uint64_t hash, std::string_view value);
  // Appends a peer (not already listed) and indexes it.
  PeerEntry& addPeer(PeerEntry p);
  // Rebuilds peer_hashes, peer_index and failing_peers from peers.
  void rebuildPeerIndex();
};

// What a detector remembers about having reported an entity (kept with the history, so a
// restart does not report again).
enum class FindingKind : uint8_t {
  kSlowBruteForce = 0,
  kDistributed,
  kBeaconing,
  kBaseline,
  kScanner
};
inline constexpr size_t kFindingKinds = 5;

struct History {
  std::vector<Bucket> buckets;  // oldest first; only hours with activity
  // The newest bucket's hour and total, kept here too so the per-event path decides without
  // reading the bucket array (0 when there is no bucket). Kept by bucket(), trim(), decode and
  // the detector's counting.
  uint32_t newest_hour = 0;
  uint32_t newest_total = 0;
  int64_t last_us = 0;    // last event time
  uint32_t failures = 0;  // totals over the retained buckets
  uint32_t successes = 0;
  uint32_t other = 0;
  uint32_t probes = 0;                                // of the failures: pre-authentication probes
  uint64_t peer_sketch = 0;                           // linear-counting bitmap of distinct peers
  uint32_t baseline_trigger = UINT32_MAX;             // events in the current hour that depart
  std::array<uint32_t, kFindingKinds> quiet_until{};  // hour before which a kind stays quiet
  std::unique_ptr<HistoryExtra> extra;
  bool dirty = false;
  // The store could not be read when this entity came back (a database outage): this history
  // stays in memory for the run and never replaces the stored one.
  bool unloaded = false;

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
  Bucket& bucket(uint32_t hour) {
    if (!buckets.empty() && newest_hour == hour) return buckets.back();
    return bucketSlow(hour);
  }
  // Whether `hour` is after the newest bucket (the first event of a new active hour).
  bool isNewHour(uint32_t hour) const { return buckets.empty() || newest_hour < hour; }
  // Drops buckets before `first_hour`, keeping the totals in step.
  void trim(uint32_t first_hour);

 private:
  Bucket& bucketSlow(uint32_t hour);
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
  // is valid until the next call to get(), find(), sweep() or checkpoint(). `hash` must be
  // hashKey(key) (callers that use the hash for more than the lookup compute it once).
  History& get(std::string_view key, uint64_t hash, Timestamp now);
  History& get(std::string_view key, Timestamp now) { return get(key, hashKey(key), now); }
  // The entity's history if it is known (memory or store), without creating it.
  History* find(std::string_view key);

  // Writes every changed entity to the store.
  Status checkpoint();
  // Drops expired buckets and entities (memory and store).
  void sweep(Timestamp now);

  size_t hotSize() const { return entries_.size(); }
  const HistoryTableStats& stats() const { return stats_; }
  uint32_t retentionHours() const { return retention_hours_; }
  bool persistent() const { return store_ != nullptr; }

 private:
  // The hot entities: a dense array of entries and an open-addressing index over it (linear
  // probing, power-of-two size, at most 5/8 full). A slot holds the entry's position + 1 (0 =
  // free) and the high half of its hash, so a probe rarely touches an entry it does not want.
  struct Entry {
    std::string key;
    uint64_t hash = 0;
    History h;
  };
  struct Slot {
    uint32_t pos = 0;  // position in entries_ + 1; 0 = free
    uint32_t tag = 0;  // hash >> 32
  };
  Entry* lookup(std::string_view key, uint64_t hash);
  History& insert(std::string_view key, uint64_t hash, History h);
  void rebuildIndex(size_t min_slots);
  // Removes the entries for which `drop(entry)` is true (keeping the order of the rest).
  template <typename Pred>
  void removeIf(Pred drop);
  void evictSome();
  bool loadFromStore(std::string_view key, uint64_t hash, History& out);
  std::string storeKey(std::string_view key) const { return opt_.prefix + std::string(key); }
  void bloomAdd(uint64_t hash);
  bool bloomMayContain(uint64_t hash) const;

  BehaviorStore* store_;
  HistoryTableOptions opt_;
  uint32_t retention_hours_;
  std::vector<Entry> entries_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::vector<uint64_t> bloom_;
  std::vector<int64_t> scratch_;
  std::string key_buf_;
  HistoryTableStats stats_;
};

}  // namespace riposte::behavior

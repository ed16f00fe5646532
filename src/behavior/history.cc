#include "riposte/behavior/history.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace riposte::behavior {

namespace {

// Version 2 added the probe count per bucket and the scanner's quiet period; version 1
// records (written before) are still read.
constexpr uint8_t kEncodingVersion = 2;
constexpr size_t kV1FindingKinds = 4;
constexpr size_t kBloomBits = size_t{1} << 24;  // 2 MiB; ~0.5 % false positives at 1M keys

uint16_t sat16(uint32_t v) { return v > 0xFFFF ? uint16_t{0xFFFF} : static_cast<uint16_t>(v); }

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  template <typename T>
  void put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out_.append(b, sizeof(T));
  }
  void bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }

 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool get(T& v) {
    if (in_.size() < sizeof(T)) return false;
    std::memcpy(&v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool bytes(void* p, size_t n) {
    if (in_.size() < n) return false;
    std::memcpy(p, in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

Timestamp hourStart(uint32_t hour) { return {static_cast<int64_t>(hour) * 3'600'000'000LL, 0}; }

uint32_t History::distinctPeers() const {
  const int set = std::popcount(peer_sketch);
  if (set == 0) return 0;
  if (set >= 64) return 300;  // saturated: "many"
  const double zeros = 64.0 - set;
  return static_cast<uint32_t>(std::lround(-64.0 * std::log(zeros / 64.0)));
}

bool History::notePeer(uint64_t peer_hash) {
  // The bit comes from the high bits: std::hash of short strings varies most there.
  const uint64_t bit = uint64_t{1} << ((peer_hash * 0x9E3779B97F4A7C15ULL) >> 58);
  const bool fresh = (peer_sketch & bit) == 0;
  peer_sketch |= bit;
  return fresh;
}

Bucket& History::bucketSlow(uint32_t hour) {
  if (buckets.empty() || buckets.back().hour < hour) {
    buckets.push_back(Bucket{hour});
    newest_hour = hour;
    newest_total = 0;
    return buckets.back();
  }
  // An event older than the newest bucket (out-of-order input): find or insert in order.
  auto it = std::lower_bound(buckets.begin(), buckets.end(), hour,
                             [](const Bucket& b, uint32_t h) { return b.hour < h; });
  if (it != buckets.end() && it->hour == hour) return *it;
  return *buckets.insert(it, Bucket{hour});
}

void History::trim(uint32_t first_hour) {
  size_t n = 0;
  while (n < buckets.size() && buckets[n].hour < first_hour) {
    failures -= buckets[n].failures;
    successes -= buckets[n].successes;
    other -= buckets[n].other;
    probes -= buckets[n].probes;
    ++n;
  }
  if (n == 0) return;
  buckets.erase(buckets.begin(), buckets.begin() + static_cast<ptrdiff_t>(n));
  if (buckets.empty()) newest_hour = newest_total = 0;
  dirty = true;
}

PeerEntry* HistoryExtra::findPeer(uint64_t hash, std::string_view value) {
  if (peer_index.empty()) {
    for (size_t i = 0; i < peer_hashes.size(); ++i) {
      if (peer_hashes[i] == hash && sameKey(peers[i].value, value)) return &peers[i];
    }
    return nullptr;
  }
  const size_t mask = peer_index.size() - 1;
  for (size_t s = hash & mask;; s = (s + 1) & mask) {
    const uint32_t pos = peer_index[s];
    if (pos == 0) return nullptr;
    if (peer_hashes[pos - 1] == hash && sameKey(peers[pos - 1].value, value)) {
      return &peers[pos - 1];
    }
  }
}

namespace {
// Below this many peers a scan of the hashes is as fast as an index.
constexpr size_t kPeerScanMax = 8;

void indexPeer(std::vector<uint32_t>& index, uint64_t hash, uint32_t pos) {
  const size_t mask = index.size() - 1;
  size_t s = hash & mask;
  while (index[s] != 0) s = (s + 1) & mask;
  index[s] = pos + 1;
}
}  // namespace

PeerEntry& HistoryExtra::addPeer(PeerEntry p) {
  peer_hashes.push_back(p.hash);
  if (p.failures > 0 && p.successes == 0) ++failing_peers;
  peers.push_back(std::move(p));
  if (peers.size() > kPeerScanMax) {
    if (peers.size() * 2 > peer_index.size()) {
      rebuildPeerIndex();
    } else {
      indexPeer(peer_index, peers.back().hash, static_cast<uint32_t>(peers.size() - 1));
    }
  }
  return peers.back();
}

void HistoryExtra::rebuildPeerIndex() {
  peer_hashes.clear();
  failing_peers = 0;
  for (const PeerEntry& p : peers) {
    peer_hashes.push_back(p.hash);
    if (p.failures > 0 && p.successes == 0) ++failing_peers;
  }
  peer_index.clear();
  if (peers.size() <= kPeerScanMax) return;
  peer_index.assign(std::bit_ceil(peers.size() * 4), 0);
  for (size_t i = 0; i < peers.size(); ++i) {
    indexPeer(peer_index, peers[i].hash, static_cast<uint32_t>(i));
  }
}

std::string encodeHistory(const History& h) {
  std::string out;
  out.reserve(64 + h.buckets.size() * sizeof(Bucket));
  Writer w(out);
  w.put(kEncodingVersion);
  w.put(h.last_us);
  w.put(h.baseline_trigger);
  w.put(h.peer_sketch);
  for (uint32_t q : h.quiet_until) w.put(q);
  w.put(static_cast<uint32_t>(h.buckets.size()));
  for (const Bucket& b : h.buckets) {
    w.put(b.hour);
    w.put(b.failures);
    w.put(b.successes);
    w.put(b.other);
    w.put(b.new_peers);
    w.put(b.probes);
  }
  w.put(static_cast<uint8_t>(h.extra ? 1 : 0));
  if (h.extra) {
    const HistoryExtra& x = *h.extra;
    w.put(static_cast<uint32_t>(x.peers.size()));
    for (const PeerEntry& p : x.peers) {
      w.put(p.hash);
      w.put(p.failures);
      w.put(p.successes);
      w.put(p.first_hour);
      w.put(static_cast<uint8_t>(p.reported ? 1 : 0));
      w.put(sat16(static_cast<uint32_t>(p.value.size())));
      w.bytes(p.value.data(), std::min<size_t>(p.value.size(), 0xFFFF));
    }
    w.put(x.peers_dropped);
    for (uint32_t v : x.intervals) w.put(v);
    w.put(x.n_intervals);
    w.put(x.pos);
    w.put(x.intervals_seen);
  }
  return out;
}

Status decodeHistory(std::string_view data, History& h) {
  Reader r(data);
  auto bad = [] { return Status::parseError("behaviour history record is truncated or corrupt"); };
  uint8_t version = 0;
  if (!r.get(version)) return bad();
  if (version != kEncodingVersion && version != 1) {
    return Status::parseError("behaviour history record version " + std::to_string(version) +
                              " is not known to this build");
  }
  h = History{};
  uint32_t n = 0;
  if (!r.get(h.last_us) || !r.get(h.baseline_trigger) || !r.get(h.peer_sketch)) return bad();
  const size_t kinds = version == 1 ? kV1FindingKinds : kFindingKinds;
  for (size_t i = 0; i < kinds; ++i) {
    if (!r.get(h.quiet_until[i])) return bad();
  }
  if (!r.get(n) || n > 24 * 3660) return bad();
  h.buckets.resize(n);
  for (Bucket& b : h.buckets) {
    if (!r.get(b.hour) || !r.get(b.failures) || !r.get(b.successes) || !r.get(b.other) ||
        !r.get(b.new_peers) || (version >= 2 && !r.get(b.probes)) || b.probes > b.failures) {
      return bad();
    }
    h.failures += b.failures;
    h.probes += b.probes;
    h.successes += b.successes;
    h.other += b.other;
  }
  for (size_t i = 1; i < h.buckets.size(); ++i) {
    if (h.buckets[i].hour <= h.buckets[i - 1].hour) return bad();
  }
  if (!h.buckets.empty()) {
    h.newest_hour = h.buckets.back().hour;
    h.newest_total = h.buckets.back().total();
  }
  uint8_t has_extra = 0;
  if (!r.get(has_extra)) return bad();
  if (has_extra != 0) {
    HistoryExtra& x = h.ensureExtra();
    if (!r.get(n) || n > 1'000'000) return bad();
    x.peers.resize(n);
    for (PeerEntry& p : x.peers) {
      uint8_t reported = 0;
      uint16_t len = 0;
      if (!r.get(p.hash) || !r.get(p.failures) || !r.get(p.successes) || !r.get(p.first_hour) ||
          !r.get(reported) || !r.get(len)) {
        return bad();
      }
      p.reported = reported != 0;
      p.value.resize(len);
      if (!r.bytes(p.value.data(), len)) return bad();
    }
    // Version 1 hashed with another function: the hashes are recomputed from the values.
    if (version == 1) {
      for (PeerEntry& p : x.peers) p.hash = hashKey(p.value);
    }
    x.rebuildPeerIndex();
    if (!r.get(x.peers_dropped)) return bad();
    for (uint32_t& v : x.intervals) {
      if (!r.get(v)) return bad();
    }
    if (!r.get(x.n_intervals) || !r.get(x.pos) || !r.get(x.intervals_seen)) return bad();
    if (x.n_intervals > kIntervalRing || x.pos >= kIntervalRing) return bad();
  }
  if (!r.done()) return bad();
  return Status::ok();
}

HistoryTable::HistoryTable(BehaviorStore* store, HistoryTableOptions options)
    : store_(store),
      opt_(options),
      retention_hours_(static_cast<uint32_t>(std::max<int64_t>(
          1, std::chrono::duration_cast<std::chrono::hours>(options.retention).count()))) {
  if (opt_.max_hot < 16) opt_.max_hot = 16;
  rebuildIndex(64);
  if (store_ == nullptr) return;
  bloom_.assign(kBloomBits / 64, 0);
  const Status st = store_->forEachBehaviorKey([this](std::string_view k) {
    if (k.substr(0, opt_.prefix.size()) == opt_.prefix) {
      bloomAdd(hashKey(k.substr(opt_.prefix.size())));
    }
  });
  if (!st.isOk()) {
    // The store keeps no behaviour history: memory only.
    store_ = nullptr;
    bloom_.clear();
  }
}

void HistoryTable::bloomAdd(uint64_t h) {
  const uint64_t h2 = (h >> 32) | 1;
  for (uint64_t i = 0; i < 3; ++i) {
    const uint64_t bit = (h + i * h2) & (kBloomBits - 1);
    bloom_[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
}

bool HistoryTable::bloomMayContain(uint64_t h) const {
  if (bloom_.empty()) return false;
  const uint64_t h2 = (h >> 32) | 1;
  for (uint64_t i = 0; i < 3; ++i) {
    const uint64_t bit = (h + i * h2) & (kBloomBits - 1);
    if ((bloom_[bit >> 6] & (uint64_t{1} << (bit & 63))) == 0) return false;
  }
  return true;
}

HistoryTable::Entry* HistoryTable::lookup(std::string_view key, uint64_t hash) {
  const auto tag = static_cast<uint32_t>(hash >> 32);
  for (size_t s = hash & mask_;; s = (s + 1) & mask_) {
    const Slot slot = slots_[s];
    if (slot.pos == 0) return nullptr;
    if (slot.tag == tag) {
      Entry& e = entries_[slot.pos - 1];
      if (e.hash == hash && sameKey(e.key, key)) return &e;
    }
  }
}

void HistoryTable::rebuildIndex(size_t min_slots) {
  slots_.assign(std::bit_ceil(std::max<size_t>(min_slots, 64)), Slot{});
  mask_ = slots_.size() - 1;
  for (size_t i = 0; i < entries_.size(); ++i) {
    size_t s = entries_[i].hash & mask_;
    while (slots_[s].pos != 0) s = (s + 1) & mask_;
    slots_[s] = Slot{static_cast<uint32_t>(i + 1), static_cast<uint32_t>(entries_[i].hash >> 32)};
  }
}

History& HistoryTable::insert(std::string_view key, uint64_t hash, History h) {
  if ((entries_.size() + 1) * 8 > slots_.size() * 5) rebuildIndex(slots_.size() * 2);
  entries_.push_back(Entry{std::string(key), hash, std::move(h)});
  size_t s = hash & mask_;
  while (slots_[s].pos != 0) s = (s + 1) & mask_;
  slots_[s] = Slot{static_cast<uint32_t>(entries_.size()), static_cast<uint32_t>(hash >> 32)};
  return entries_.back().h;
}

template <typename Pred>
void HistoryTable::removeIf(Pred drop) {
  size_t out = 0;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (drop(entries_[i])) continue;
    if (out != i) entries_[out] = std::move(entries_[i]);
    ++out;
  }
  if (out == entries_.size()) return;
  entries_.erase(entries_.begin() + static_cast<ptrdiff_t>(out), entries_.end());
  // The index is rebuilt for the survivors (smaller when most are gone).
  size_t want = 64;
  while ((entries_.size() + 1) * 8 > want * 5) want *= 2;
  rebuildIndex(want);
}

bool HistoryTable::loadFromStore(std::string_view key, uint64_t hash, History& out) {
  if (store_ == nullptr || !bloomMayContain(hash)) return false;
  key_buf_.assign(opt_.prefix);
  key_buf_.append(key);
  auto rec = store_->loadBehavior(key_buf_);
  if (!rec) {
    ++stats_.store_errors;
    out.unloaded = true;  // what is stored is unknown: never overwritten from this copy
    return false;
  }
  if (!rec->has_value()) return false;
  if (!decodeHistory((*rec)->data, out).isOk()) {
    ++stats_.store_errors;  // a corrupt record starts the entity afresh
    out = History{};
    return false;
  }
  ++stats_.loaded;
  return true;
}

History& HistoryTable::get(std::string_view key, uint64_t hash, Timestamp now) {
  if (Entry* e = lookup(key, hash)) return e->h;
  if (entries_.size() >= opt_.max_hot) evictSome();
  History h;
  if (loadFromStore(key, hash, h)) {
    const uint32_t hour = hourOf(now);
    if (hour >= retention_hours_) h.trim(hour - retention_hours_ + 1);
  }
  return insert(key, hash, std::move(h));
}

History* HistoryTable::find(std::string_view key) {
  const uint64_t hash = hashKey(key);
  if (Entry* e = lookup(key, hash)) return &e->h;
  History h;
  if (!loadFromStore(key, hash, h)) return nullptr;
  if (entries_.size() >= opt_.max_hot) evictSome();
  return &insert(key, hash, std::move(h));
}

void HistoryTable::evictSome() {
  // The least recently seen eighth goes: its cut-off by selection, not a full sort.
  scratch_.clear();
  scratch_.reserve(entries_.size());
  for (const Entry& e : entries_) scratch_.push_back(e.h.last_us);
  const size_t n = std::max<size_t>(1, entries_.size() / 8);
  std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<ptrdiff_t>(n - 1),
                   scratch_.end());
  const int64_t cutoff = scratch_[n - 1];
  std::vector<BehaviorRecord> batch;
  size_t taken = 0;
  removeIf([&](const Entry& e) {
    if (taken >= n || e.h.last_us > cutoff) return false;
    ++taken;
    if (store_ != nullptr && !e.h.unloaded) {
      if (e.h.dirty) {
        batch.push_back(
            BehaviorRecord{storeKey(e.key), Timestamp{e.h.last_us, 0}, encodeHistory(e.h)});
      }
      bloomAdd(e.hash);
      ++stats_.evicted;
    } else {
      ++stats_.forgotten;
    }
    return true;
  });
  if (store_ != nullptr && !store_->saveBehavior(batch).isOk()) ++stats_.store_errors;
}

Status HistoryTable::checkpoint() {
  if (store_ == nullptr) return Status::ok();
  std::vector<BehaviorRecord> batch;
  for (Entry& e : entries_) {
    if (!e.h.dirty || e.h.unloaded) continue;
    batch.push_back(BehaviorRecord{storeKey(e.key), Timestamp{e.h.last_us, 0}, encodeHistory(e.h)});
    e.h.dirty = false;
    bloomAdd(e.hash);
    if (batch.size() >= 4096) {
      RIPOSTE_RETURN_IF_ERROR(store_->saveBehavior(batch));
      batch.clear();
    }
  }
  return store_->saveBehavior(batch);
}

void HistoryTable::sweep(Timestamp now) {
  const uint32_t hour = hourOf(now);
  if (hour < retention_hours_) return;
  const uint32_t first = hour - retention_hours_ + 1;
  const int64_t cutoff_us = hourStart(first).micros;
  removeIf([&](Entry& e) {
    if (e.h.last_us < cutoff_us) {
      ++stats_.pruned;
      return true;  // its store row (if any) goes with pruneBehavior below
    }
    e.h.trim(first);
    return false;
  });
  if (store_ != nullptr && opt_.prune_store) {
    auto n = store_->pruneBehavior(Timestamp{cutoff_us, 0});
    if (n) {
      stats_.pruned += static_cast<uint64_t>(*n);
    } else {
      ++stats_.store_errors;
    }
  }
}

}  // namespace riposte::behavior

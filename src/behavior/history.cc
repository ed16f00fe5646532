#include "riposte/behavior/history.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace riposte::behavior {

namespace {

constexpr uint8_t kEncodingVersion = 1;
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

uint64_t keyHash(std::string_view key) { return std::hash<std::string_view>{}(key); }

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

Bucket& History::bucket(uint32_t hour) {
  if (!buckets.empty() && buckets.back().hour == hour) return buckets.back();
  if (buckets.empty() || buckets.back().hour < hour) {
    buckets.push_back(Bucket{hour});
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
    ++n;
  }
  if (n == 0) return;
  buckets.erase(buckets.begin(), buckets.begin() + static_cast<ptrdiff_t>(n));
  dirty = true;
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
  if (version != kEncodingVersion) {
    return Status::parseError("behaviour history record version " + std::to_string(version) +
                              " is not known to this build");
  }
  h = History{};
  uint32_t n = 0;
  if (!r.get(h.last_us) || !r.get(h.baseline_trigger) || !r.get(h.peer_sketch)) return bad();
  for (uint32_t& q : h.quiet_until) {
    if (!r.get(q)) return bad();
  }
  if (!r.get(n) || n > 24 * 3660) return bad();
  h.buckets.resize(n);
  for (Bucket& b : h.buckets) {
    if (!r.get(b.hour) || !r.get(b.failures) || !r.get(b.successes) || !r.get(b.other) ||
        !r.get(b.new_peers)) {
      return bad();
    }
    h.failures += b.failures;
    h.successes += b.successes;
    h.other += b.other;
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
    for (const PeerEntry& p : x.peers) {
      x.peer_hashes.push_back(p.hash);
      if (p.failures > 0 && p.successes == 0) ++x.failing_peers;
    }
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
  if (store_ == nullptr) return;
  bloom_.assign(kBloomBits / 64, 0);
  const Status st = store_->forEachBehaviorKey([this](std::string_view k) {
    if (k.substr(0, opt_.prefix.size()) == opt_.prefix) bloomAdd(k.substr(opt_.prefix.size()));
  });
  if (!st.isOk()) {
    // The store keeps no behaviour history: memory only.
    store_ = nullptr;
    bloom_.clear();
  }
}

void HistoryTable::bloomAdd(std::string_view key) {
  const uint64_t h = keyHash(key);
  const uint64_t h2 = (h >> 32) | 1;
  for (uint64_t i = 0; i < 3; ++i) {
    const uint64_t bit = (h + i * h2) & (kBloomBits - 1);
    bloom_[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
}

bool HistoryTable::bloomMayContain(std::string_view key) const {
  if (bloom_.empty()) return false;
  const uint64_t h = keyHash(key);
  const uint64_t h2 = (h >> 32) | 1;
  for (uint64_t i = 0; i < 3; ++i) {
    const uint64_t bit = (h + i * h2) & (kBloomBits - 1);
    if ((bloom_[bit >> 6] & (uint64_t{1} << (bit & 63))) == 0) return false;
  }
  return true;
}

bool HistoryTable::loadFromStore(std::string_view key, History& out) {
  if (store_ == nullptr || !bloomMayContain(key)) return false;
  key_buf_.assign(opt_.prefix);
  key_buf_.append(key);
  auto rec = store_->loadBehavior(key_buf_);
  if (!rec) {
    ++stats_.store_errors;
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

History& HistoryTable::get(std::string_view key, Timestamp now) {
  auto it = hot_.find(key);
  if (it != hot_.end()) return it->second;
  if (hot_.size() >= opt_.max_hot) evictSome();
  History h;
  if (loadFromStore(key, h)) {
    const uint32_t hour = hourOf(now);
    if (hour >= retention_hours_) h.trim(hour - retention_hours_ + 1);
  }
  return hot_.emplace(std::string(key), std::move(h)).first->second;
}

History* HistoryTable::find(std::string_view key) {
  auto it = hot_.find(key);
  if (it != hot_.end()) return &it->second;
  History h;
  if (!loadFromStore(key, h)) return nullptr;
  if (hot_.size() >= opt_.max_hot) evictSome();
  return &hot_.emplace(std::string(key), std::move(h)).first->second;
}

void HistoryTable::evictSome() {
  // The least recently seen eighth goes: its cut-off by selection, not a full sort.
  scratch_.clear();
  scratch_.reserve(hot_.size());
  for (const auto& [_, h] : hot_) scratch_.push_back(h.last_us);
  const size_t n = std::max<size_t>(1, hot_.size() / 8);
  std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<ptrdiff_t>(n - 1),
                   scratch_.end());
  const int64_t cutoff = scratch_[n - 1];
  std::vector<BehaviorRecord> batch;
  size_t taken = 0;
  for (auto it = hot_.begin(); it != hot_.end() && taken < n;) {
    if (it->second.last_us > cutoff) {
      ++it;
      continue;
    }
    ++taken;
    if (store_ != nullptr) {
      if (it->second.dirty) {
        batch.push_back(BehaviorRecord{storeKey(it->first), Timestamp{it->second.last_us, 0},
                                       encodeHistory(it->second)});
      }
      bloomAdd(it->first);
      ++stats_.evicted;
    } else {
      ++stats_.forgotten;
    }
    it = hot_.erase(it);
  }
  if (store_ != nullptr && !store_->saveBehavior(batch).isOk()) ++stats_.store_errors;
}

Status HistoryTable::checkpoint() {
  if (store_ == nullptr) return Status::ok();
  std::vector<BehaviorRecord> batch;
  for (auto& [key, h] : hot_) {
    if (!h.dirty) continue;
    batch.push_back(BehaviorRecord{storeKey(key), Timestamp{h.last_us, 0}, encodeHistory(h)});
    h.dirty = false;
    bloomAdd(key);
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
  for (auto it = hot_.begin(); it != hot_.end();) {
    if (it->second.last_us < cutoff_us) {
      ++stats_.pruned;
      it = hot_.erase(it);  // its store row (if any) goes with pruneBehavior below
      continue;
    }
    it->second.trim(first);
    ++it;
  }
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

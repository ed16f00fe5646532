#include "riposte/behavior/history.h"

#include <gtest/gtest.h>

#include "riposte/store/sqlite_store.h"
#include "support/test_support.h"

namespace riposte::behavior {
namespace {

constexpr uint32_t kHour0 = 480'000;  // an hour in 2024

Timestamp at(uint32_t hour, int64_t second = 0) {
  return Timestamp{hourStart(hour).micros + second * 1'000'000, 0};
}

History sample() {
  History h;
  for (uint32_t i = 0; i < 5; ++i) {
    Bucket& b = h.bucket(kHour0 + i * 3);
    b.failures = static_cast<uint16_t>(i + 1);
    b.successes = 1;
    b.other = 7;
    b.new_peers = 2;
    h.failures += i + 1;
    h.successes += 1;
    h.other += 7;
  }
  h.last_us = at(kHour0 + 12).micros;
  h.notePeer(42);
  h.quiet_until[1] = kHour0 + 30;
  auto& x = h.ensureExtra();
  x.peers.push_back(PeerEntry{9, 3, 0, kHour0, true, "203.0.113.9"});
  x.intervals[0] = 60'000;
  x.n_intervals = 1;
  x.pos = 1;
  x.intervals_seen = 1;
  return h;
}

TEST(History, EncodeDecodeRoundTripKeepsEverything) {
  const History h = sample();
  History back;
  ASSERT_TRUE(decodeHistory(encodeHistory(h), back).isOk());
  ASSERT_EQ(back.buckets.size(), 5u);
  EXPECT_EQ(back.buckets[4].hour, kHour0 + 12);
  EXPECT_EQ(back.buckets[4].failures, 5);
  EXPECT_EQ(back.failures, 15u);  // totals rebuilt from the buckets
  EXPECT_EQ(back.successes, 5u);
  EXPECT_EQ(back.other, 35u);
  EXPECT_EQ(back.last_us, h.last_us);
  EXPECT_EQ(back.peer_sketch, h.peer_sketch);
  EXPECT_EQ(back.quiet_until, h.quiet_until);
  ASSERT_TRUE(back.extra);
  ASSERT_EQ(back.extra->peers.size(), 1u);
  EXPECT_EQ(back.extra->peers[0].value, "203.0.113.9");
  EXPECT_TRUE(back.extra->peers[0].reported);
  EXPECT_EQ(back.extra->intervals[0], 60'000u);
  EXPECT_FALSE(back.dirty);
}

TEST(History, ProbesAndTheNewestBucketSurviveTheRoundTrip) {
  History h = sample();
  h.bucket(kHour0 + 12).probes = 4;
  h.probes = 4;
  h.quiet_until[static_cast<size_t>(FindingKind::kScanner)] = kHour0 + 40;
  EXPECT_EQ(h.newest_hour, kHour0 + 12);
  History back;
  ASSERT_TRUE(decodeHistory(encodeHistory(h), back).isOk());
  EXPECT_EQ(back.buckets[4].probes, 4);
  EXPECT_EQ(back.probes, 4u);
  EXPECT_EQ(back.newest_hour, kHour0 + 12);
  EXPECT_EQ(back.newest_total, back.buckets[4].total());
  EXPECT_EQ(back.quiet_until[static_cast<size_t>(FindingKind::kScanner)], kHour0 + 40);
  // A bucket with more probes than failures is corrupt.
  h.bucket(kHour0 + 12).probes = 6;
  EXPECT_FALSE(decodeHistory(encodeHistory(h), back).isOk());
}

TEST(History, VersionOneRecordsAreStillRead) {
  // Version 1: no probe counts, four quiet periods, peers hashed with another function.
  std::string v1;
  auto put = [&v1](auto v) { v1.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(uint8_t{1});
  put(int64_t{at(kHour0 + 1).micros});
  put(uint32_t{UINT32_MAX});
  put(uint64_t{5});
  for (uint32_t q : {0u, kHour0 + 24, 0u, 0u}) put(q);
  put(uint32_t{2});
  for (uint32_t hr : {kHour0, kHour0 + 1}) {
    put(hr);
    put(uint16_t{3});  // failures
    put(uint16_t{0});  // successes
    put(uint16_t{1});  // other
    put(uint16_t{1});  // new peers
  }
  put(uint8_t{1});
  put(uint32_t{1});
  put(uint64_t{12345});  // an old hash
  put(uint32_t{3});
  put(uint32_t{0});
  put(uint32_t{kHour0});
  put(uint8_t{0});
  const std::string ip = "203.0.113.9";
  put(static_cast<uint16_t>(ip.size()));
  v1 += ip;
  put(uint32_t{0});
  for (size_t i = 0; i < kIntervalRing; ++i) put(uint32_t{0});
  put(uint8_t{0});
  put(uint8_t{0});
  put(uint32_t{0});
  History h;
  ASSERT_TRUE(decodeHistory(v1, h).isOk());
  EXPECT_EQ(h.failures, 6u);
  EXPECT_EQ(h.probes, 0u);
  EXPECT_EQ(h.quiet_until[1], kHour0 + 24);
  EXPECT_EQ(h.quiet_until[static_cast<size_t>(FindingKind::kScanner)], 0u);
  ASSERT_TRUE(h.extra);
  // The source is found under the current hash function.
  EXPECT_NE(h.extra->findPeer(hashKey(ip), ip), nullptr);
  EXPECT_EQ(h.extra->failing_peers, 1u);
}

TEST(History, PeerIndexFindsEverySourceAsTheListGrows) {
  HistoryExtra x;
  std::vector<std::string> ips;
  for (int i = 0; i < 300; ++i) ips.push_back("198.51.100." + std::to_string(i));
  for (size_t i = 0; i < ips.size(); ++i) {
    ASSERT_EQ(x.findPeer(hashKey(ips[i]), ips[i]), nullptr) << i;
    x.addPeer(PeerEntry{hashKey(ips[i]), static_cast<uint32_t>(i % 2), 0, kHour0, false, ips[i]});
    for (size_t j = 0; j <= i; j += 7) {
      PeerEntry* p = x.findPeer(hashKey(ips[j]), ips[j]);
      ASSERT_NE(p, nullptr) << i << " " << j;
      EXPECT_EQ(p->value, ips[j]);
    }
  }
  EXPECT_EQ(x.failing_peers, 150u);
  // Same hash, another value: not a match.
  EXPECT_EQ(x.findPeer(hashKey(ips[3]), "192.0.2.1"), nullptr);
  History h;
  h.extra = std::make_unique<HistoryExtra>(std::move(x));
  History back;
  ASSERT_TRUE(decodeHistory(encodeHistory(h), back).isOk());
  for (const auto& ip : ips) EXPECT_NE(back.extra->findPeer(hashKey(ip), ip), nullptr) << ip;
}

TEST(History, CorruptOrTruncatedRecordsAreRefused) {
  const std::string good = encodeHistory(sample());
  History out;
  EXPECT_FALSE(decodeHistory(good.substr(0, good.size() - 3), out).isOk());
  EXPECT_FALSE(decodeHistory(good + "x", out).isOk());
  std::string wrong = good;
  wrong[0] = 99;
  const Status st = decodeHistory(wrong, out);
  EXPECT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("version 99"), std::string::npos) << st.toString();
  EXPECT_FALSE(decodeHistory("", out).isOk());
}

TEST(History, TrimDropsOldBucketsAndKeepsTotalsInStep) {
  History h = sample();
  h.trim(kHour0 + 7);  // drops hours +0, +3, +6
  ASSERT_EQ(h.buckets.size(), 2u);
  EXPECT_EQ(h.buckets.front().hour, kHour0 + 9);
  EXPECT_EQ(h.failures, 4u + 5u);
  EXPECT_EQ(h.successes, 2u);
  EXPECT_TRUE(h.dirty);
}

TEST(History, OutOfOrderHourIsInsertedInOrder) {
  History h;
  h.bucket(kHour0 + 5).other = 1;
  h.bucket(kHour0 + 1).other = 2;
  h.bucket(kHour0 + 5).other += 1;
  ASSERT_EQ(h.buckets.size(), 2u);
  EXPECT_EQ(h.buckets[0].hour, kHour0 + 1);
  EXPECT_EQ(h.buckets[1].other, 2);
}

TEST(History, PeerSketchCountsDistinctPeersRoughly) {
  History h;
  for (uint64_t i = 0; i < 30; ++i)
    h.notePeer(std::hash<std::string>{}("10.0.0." + std::to_string(i)));
  for (uint64_t i = 0; i < 30; ++i) {
    EXPECT_FALSE(h.notePeer(std::hash<std::string>{}("10.0.0." + std::to_string(i))));
  }
  EXPECT_GE(h.distinctPeers(), 20u);
  EXPECT_LE(h.distinctPeers(), 45u);
}

TEST(HistoryTable, EvictedEntitiesComeBackFromTheStore) {
  auto store = SqliteStore::open(":memory:");
  ASSERT_TRUE(store.isOk());
  HistoryTableOptions o;
  o.prefix = "ip:";
  o.max_hot = 16;
  HistoryTable t(store->get(), o);
  for (int i = 0; i < 100; ++i) {
    History& h = t.get("198.51.100." + std::to_string(i), at(kHour0, i));
    h.bucket(kHour0).failures = static_cast<uint16_t>(i + 1);
    h.failures = static_cast<uint32_t>(i + 1);
    h.last_us = at(kHour0, i).micros;
    h.dirty = true;
  }
  EXPECT_LE(t.hotSize(), 17u);
  EXPECT_GT(t.stats().evicted, 80u);
  // The first entity was evicted long ago; it comes back with its counts.
  History* first = t.find("198.51.100.0");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->failures, 1u);
  History& h7 = t.get("198.51.100.7", at(kHour0, 200));
  EXPECT_EQ(h7.failures, 8u);
  EXPECT_GE(t.stats().loaded, 2u);
  EXPECT_EQ(t.find("198.51.100.250"), nullptr);  // never seen
}

TEST(HistoryTable, CheckpointMakesHistoryDurableForANewTable) {
  testing::TempDir dir;
  const std::string db = (dir.path() / "r.db").string();
  {
    auto store = SqliteStore::open(db);
    ASSERT_TRUE(store.isOk());
    HistoryTableOptions o;
    o.prefix = "user:";
    HistoryTable t(store->get(), o);
    History& h = t.get("root", at(kHour0));
    h.bucket(kHour0).failures = 3;
    h.failures = 3;
    h.last_us = at(kHour0).micros;
    h.dirty = true;
    ASSERT_TRUE(t.checkpoint().isOk());
  }
  auto store = SqliteStore::open(db);
  ASSERT_TRUE(store.isOk());
  HistoryTableOptions o;
  o.prefix = "user:";
  HistoryTable t(store->get(), o);
  EXPECT_EQ(t.hotSize(), 0u);
  History* h = t.find("root");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->failures, 3u);
  // Another table's prefix does not see it.
  o.prefix = "ip:";
  HistoryTable other(store->get(), o);
  EXPECT_EQ(other.find("root"), nullptr);
}

// A store that cannot be read for a while (PostgreSQL down): reads answer unavailable.
class UnreadableStore : public BehaviorStore {
 public:
  explicit UnreadableStore(BehaviorStore& inner) : inner_(inner) {}
  bool down = false;
  Status saveBehavior(const std::vector<BehaviorRecord>& records) override {
    return inner_.saveBehavior(records);
  }
  Result<std::optional<BehaviorRecord>> loadBehavior(const std::string& key) override {
    if (down) return Status::unavailable("postgres store degraded");
    return inner_.loadBehavior(key);
  }
  Status forEachBehaviorKey(const std::function<void(std::string_view)>& fn) override {
    return inner_.forEachBehaviorKey(fn);
  }
  Result<int64_t> pruneBehavior(Timestamp cutoff) override { return inner_.pruneBehavior(cutoff); }

 private:
  BehaviorStore& inner_;
};

// An entity whose stored history cannot be read starts afresh in memory, and that fresh copy
// never replaces the stored history (checkpoint and eviction skip it).
TEST(HistoryTable, AnEntityThatCouldNotBeReadNeverOverwritesItsStoredHistory) {
  auto sqlite = SqliteStore::open(":memory:");
  ASSERT_TRUE(sqlite.isOk());
  UnreadableStore store(**sqlite);
  HistoryTableOptions o;
  o.prefix = "user:";
  o.max_hot = 16;
  {
    HistoryTable t(&store, o);
    History& h = t.get("root", at(kHour0));
    h.bucket(kHour0).failures = 3;
    h.failures = 3;
    h.last_us = at(kHour0).micros;
    h.dirty = true;
    ASSERT_TRUE(t.checkpoint().isOk());
  }
  {
    HistoryTable t(&store, o);
    store.down = true;
    History& h = t.get("root", at(kHour0, 10));
    EXPECT_EQ(h.failures, 0u);
    EXPECT_TRUE(h.unloaded);
    EXPECT_EQ(t.stats().store_errors, 1u);
    h.bucket(kHour0).failures = 1;
    h.failures = 1;
    h.last_us = at(kHour0, 10).micros;
    h.dirty = true;
    store.down = false;
    ASSERT_TRUE(t.checkpoint().isOk());
    // Evicted too: forgotten, not written.
    for (int i = 0; i < 40; ++i) {
      History& other = t.get("u" + std::to_string(i), at(kHour0, 20 + i));
      other.last_us = at(kHour0, 20 + i).micros;
    }
    EXPECT_GE(t.stats().forgotten, 1u);
  }
  HistoryTable again(&store, o);
  History* h = again.find("root");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->failures, 3u);
  EXPECT_FALSE(h->unloaded);
}

TEST(HistoryTable, SweepDropsExpiredBucketsAndEntitiesInMemoryAndStore) {
  auto store = SqliteStore::open(":memory:");
  ASSERT_TRUE(store.isOk());
  HistoryTableOptions o;
  o.prefix = "ip:";
  o.retention = std::chrono::hours(48);
  HistoryTable t(store->get(), o);
  for (const char* k : {"old", "mixed"}) {
    History& h = t.get(k, at(kHour0));
    h.bucket(kHour0).failures = 1;
    h.failures = 1;
    h.last_us = at(kHour0).micros;
    h.dirty = true;
  }
  History& m = t.get("mixed", at(kHour0 + 40));
  m.bucket(kHour0 + 40).failures = 2;
  m.failures += 2;
  m.last_us = at(kHour0 + 40).micros;
  ASSERT_TRUE(t.checkpoint().isOk());
  t.sweep(at(kHour0 + 60));  // keeps hours >= +13
  EXPECT_EQ(t.hotSize(), 1u);
  History* mixed = t.find("mixed");
  ASSERT_NE(mixed, nullptr);
  EXPECT_EQ(mixed->buckets.size(), 1u);
  EXPECT_EQ(mixed->failures, 2u);
  EXPECT_GE(t.stats().pruned, 1u);
  // "old" is gone from the store too.
  auto rec = (*store)->loadBehavior("ip:old");
  ASSERT_TRUE(rec.isOk());
  EXPECT_FALSE(rec->has_value());
}

TEST(HistoryTable, EveryEntityIsFoundThroughGrowthEvictionAndSweep) {
  auto store = SqliteStore::open(":memory:");
  ASSERT_TRUE(store.isOk());
  HistoryTableOptions o;
  o.prefix = "ip:";
  o.max_hot = 500;
  o.retention = std::chrono::hours(48);
  HistoryTable t(store->get(), o);
  for (int i = 0; i < 3000; ++i) {
    const std::string k = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".1";
    History& h = t.get(k, at(kHour0 + (i < 1500 ? 0 : 30), i));
    h.bucket(kHour0).failures = static_cast<uint16_t>(i % 1000 + 1);
    h.failures = static_cast<uint32_t>(i % 1000 + 1);
    h.last_us = at(kHour0 + (i < 1500 ? 0 : 30), i).micros;
    h.dirty = true;
  }
  EXPECT_LE(t.hotSize(), 500u);
  for (int i = 0; i < 3000; i += 3) {
    const std::string k = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".1";
    History* h = t.find(k);
    ASSERT_NE(h, nullptr) << k;
    EXPECT_EQ(h->failures, static_cast<uint32_t>(i % 1000 + 1)) << k;
  }
  ASSERT_TRUE(t.checkpoint().isOk());
  t.sweep(at(kHour0 + 60));  // drops what was last seen before hour +13: the first 1500
  for (int i = 0; i < 3000; i += 5) {
    const std::string k = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".1";
    EXPECT_EQ(t.find(k) != nullptr, i >= 1500) << k;
  }
}

TEST(HistoryTable, WithoutAStoreTheCapForgetsTheLeastRecent) {
  HistoryTableOptions o;
  o.max_hot = 16;
  HistoryTable t(nullptr, o);
  for (int i = 0; i < 64; ++i) {
    History& h = t.get("k" + std::to_string(i), at(kHour0, i));
    h.last_us = at(kHour0, i).micros;
  }
  EXPECT_LE(t.hotSize(), 17u);
  EXPECT_GT(t.stats().forgotten, 40u);
  EXPECT_EQ(t.find("k0"), nullptr);
  EXPECT_NE(t.find("k63"), nullptr);
}

}  // namespace
}  // namespace riposte::behavior

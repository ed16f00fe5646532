#include "riposte/engine/shard_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace riposte {
namespace {

std::string addressOf(size_t i) {
  if (i % 5 == 0) return "2001:db8:" + std::to_string(i % 7) + "::" + std::to_string(i % 13 + 1);
  return "198.51." + std::to_string(i / 250 % 250) + "." + std::to_string(i % 250 + 1);
}

TEST(ShardPool, SameAddressSameShardAndIpv6ByItsSlash64) {
  for (size_t n : {2u, 3u, 4u, 8u}) {
    std::set<size_t> used;
    for (size_t i = 0; i < 2000; ++i) {
      const std::string ip = addressOf(i);
      const size_t s = ShardPool::shardOf(ip, n);
      ASSERT_LT(s, n);
      EXPECT_EQ(s, ShardPool::shardOf(std::string(ip), n)) << ip;
      used.insert(s);
    }
    EXPECT_EQ(used.size(), n) << "2000 addresses should reach every one of " << n << " shards";
    EXPECT_EQ(ShardPool::shardOf("", n), 0u);
    // One /64 written three ways, and its neighbours: one shard.
    const size_t s = ShardPool::shardOf("2001:db8:1:2::1", n);
    EXPECT_EQ(ShardPool::shardOf("2001:0db8:0001:0002:0000:0000:0000:0001", n), s);
    EXPECT_EQ(ShardPool::shardOf("2001:db8:1:2:ffff:1:2:3", n), s);
  }
  EXPECT_EQ(ShardPool::shardOf("203.0.113.9", 1), 0u);
}

// Every event reaches the worker of its address exactly once, in submission order, with its
// fields, extras and origin intact although the submitter's event and line are reused.
TEST(ShardPool, EveryEventHandledOnceInOrderOnItsShard) {
  constexpr size_t kShards = 4;
  constexpr size_t kEvents = 50'000;
  struct Seen {
    uint64_t offset;
    std::string ip;
  };
  std::vector<std::vector<Seen>> seen(kShards);
  std::atomic<size_t> bad{0};
  {
    ShardPoolOptions o;
    o.shards = kShards;
    o.batch = 64;
    o.queue_batches = 4;
    ShardPool pool(o, [&](size_t shard, const Event& e) {
      const std::string ip(e.get(Field::kSourceIp));
      // The copy's views point at its own raw line and buffers.
      const std::string expect_raw = "line " + std::to_string(e.origin().offset) + " from " + ip;
      if (e.raw() != expect_raw || e.get(Field::kUserName) != "user" + ip ||
          e.getExtra("n") != std::to_string(e.origin().offset) || e.origin().source != "src" ||
          e.kind() != EventKind::kAuth || e.repeat() != 2 ||
          e.timestamp().micros != static_cast<int64_t>(e.origin().offset) ||
          e.get(Field::kEventOutcome) != "failure") {
        ++bad;
      }
      seen[shard].push_back({e.origin().offset, ip});
    });
    Event ev;
    std::string line;
    std::string source = "src";
    for (size_t i = 0; i < kEvents; ++i) {
      const std::string ip = i % 10 == 9 ? std::string() : addressOf(i);
      line = "line " + std::to_string(i) + " from " + ip;
      ev.clear();
      ev.setRaw(line);
      ev.setKind(EventKind::kAuth);
      ev.setOrigin(source, i);
      ev.setRepeat(2);
      ev.setTimestamp(Timestamp{static_cast<int64_t>(i), 0});
      ev.set(Field::kEventOutcome, "failure");
      if (!ip.empty()) {
        ev.set(Field::kSourceIp, std::string_view(line).substr(line.size() - ip.size()));
      }
      ev.setOwned(Field::kUserName, "user" + ip);
      ev.setExtra("n", std::to_string(i));
      pool.submit(ev);
    }
    pool.drain();
    uint64_t total = 0;
    for (size_t s = 0; s < kShards; ++s) total += pool.processed(s);
    EXPECT_EQ(total, kEvents);
  }
  EXPECT_EQ(bad.load(), 0u);
  std::vector<int> count(kEvents, 0);
  for (size_t s = 0; s < kShards; ++s) {
    for (size_t k = 0; k < seen[s].size(); ++k) {
      const auto& x = seen[s][k];
      ASSERT_LT(x.offset, kEvents);
      ++count[x.offset];
      EXPECT_EQ(ShardPool::shardOf(x.ip, kShards), s) << x.ip;
      if (k > 0) {
        EXPECT_LT(seen[s][k - 1].offset, x.offset) << "order kept within a shard";
      }
    }
  }
  for (size_t i = 0; i < kEvents; ++i) ASSERT_EQ(count[i], 1) << "event " << i;
}

// A slow worker makes the submitter wait (bounded queues), and nothing is lost.
TEST(ShardPool, SlowWorkerBackPressuresTheSubmitter) {
  std::atomic<size_t> handled{0};
  ShardPoolOptions o;
  o.shards = 2;
  o.batch = 4;
  o.queue_batches = 2;
  ShardPool pool(o, [&](size_t, const Event&) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    ++handled;
  });
  Event ev;
  const std::string ip = "192.0.2.7";
  for (size_t i = 0; i < 200; ++i) {
    ev.clear();
    ev.set(Field::kSourceIp, ip);
    pool.submit(ev);
  }
  pool.drain();
  EXPECT_EQ(handled.load(), 200u);
  EXPECT_GT(pool.waits(), 0u);
}

// Destroying the pool hands over the partial batches and lets the workers finish them.
TEST(ShardPool, ShutdownDrainsWhatWasSubmitted) {
  std::atomic<size_t> handled{0};
  {
    ShardPoolOptions o;
    o.shards = 3;
    o.batch = 1000;  // nothing fills: only the shutdown hands these over
    ShardPool pool(o, [&](size_t, const Event&) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      ++handled;
    });
    Event ev;
    std::vector<std::string> ips;
    for (size_t i = 0; i < 300; ++i) ips.push_back(addressOf(i));
    for (const auto& ip : ips) {
      ev.clear();
      ev.set(Field::kSourceIp, ip);
      pool.submit(ev);
    }
  }
  EXPECT_EQ(handled.load(), 300u);
}

}  // namespace
}  // namespace riposte

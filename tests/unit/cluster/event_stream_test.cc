// Event streams on a real redis-server: partitioning, the producer's batches and outage buffer,
// fair sharing of partitions between workers, and the takeover of a dead worker's partitions
// (history re-read, pending entries acknowledged) without losing or repeating an entry.
#include "riposte/cluster/event_stream.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "riposte/core/registry.h"
#include "riposte/net/redis_client.h"
#include "support/redis_server.h"

namespace riposte::cluster {
namespace {

using std::chrono::milliseconds;

StreamOptions optionsFor(const testing::RedisServer& server, int partitions) {
  StreamOptions o;
  EXPECT_TRUE(net::parseRedisUrl(server.url(), o.redis).isOk());
  o.redis.backoff_initial = milliseconds(20);
  o.redis.backoff_max = milliseconds(100);
  o.prefix = "t:";
  o.node = "w";
  o.partitions = partitions;
  o.lease = milliseconds(600);
  o.batch = 7;  // small, so paging is exercised
  return o;
}

std::string lineFor(const std::string& ip, int i) {
  return "Failed password for root from " + ip + " port " + std::to_string(1000 + i);
}

// Appends `n` lines spread over `ips` addresses; returns the lines in order per address.
std::map<std::string, std::vector<std::string>> produce(StreamProducer& producer, int n, int ips,
                                                        int first = 0) {
  std::map<std::string, std::vector<std::string>> sent;
  for (int i = first; i < first + n; ++i) {
    const std::string ip = "203.0.113." + std::to_string(i % ips);
    const std::string text = lineFor(ip, i);
    SourceLine l;
    l.text = text;
    l.file = "/var/log/auth.log";
    l.offset = static_cast<uint64_t>(i) * 100;
    l.source = "auth";
    producer.add(partitionOf(ip, producer.options().partitions), l, "sshd", 2025);
    sent[ip].push_back(text);
  }
  EXPECT_TRUE(producer.flush().isOk());
  return sent;
}

std::string ipOf(const std::string& line) {
  const auto a = line.find("from ") + 5;
  return line.substr(a, line.find(' ', a) - a);
}

TEST(EventStream, PartitionIsStableAndSpread) {
  std::set<uint32_t> used;
  for (int i = 0; i < 1000; ++i) {
    const std::string ip = "198.51." + std::to_string(i / 250) + "." + std::to_string(i % 250);
    const uint32_t p = partitionOf(ip, 8);
    ASSERT_LT(p, 8u);
    EXPECT_EQ(p, partitionOf(ip, 8));
    used.insert(p);
  }
  EXPECT_EQ(used.size(), 8u);
  EXPECT_EQ(partitionOf("x", 1), 0u);
}

TEST(EventStream, OneWorkerReadsEverythingInOrderPerAddress) {
  RIPOSTE_REQUIRE_REDIS(server);
  StreamProducer producer(optionsFor(server, 4));
  const auto sent = produce(producer, 100, 10);
  EXPECT_EQ(producer.stats().appended, 100u);

  StreamConsumer worker(optionsFor(server, 4));
  std::map<std::string, std::vector<std::string>> got;
  std::vector<StreamRecord> records;
  for (int i = 0; i < 40 && records.size() < 100; ++i) {
    auto n = worker.poll([&](const StreamRecord& r) { records.push_back(r); }, milliseconds(20));
    ASSERT_TRUE(n.isOk()) << n.status().toString();
  }
  ASSERT_EQ(records.size(), 100u);
  EXPECT_EQ(worker.owned().size(), 4u);
  for (const auto& r : records) {
    EXPECT_EQ(r.parser, "sshd");
    EXPECT_EQ(r.source, "auth");
    EXPECT_EQ(r.file, "/var/log/auth.log");
    ASSERT_TRUE(r.year.has_value());
    EXPECT_EQ(*r.year, 2025);
    got[ipOf(r.line)].push_back(r.line);
  }
  EXPECT_EQ(got, sent);  // every line once, in order for each address
  // And across partitions in the order they were appended (batches of 7 per stream, so the
  // reads had to hold back what lay beyond a full batch).
  for (size_t i = 1; i < records.size(); ++i) {
    EXPECT_LT(records[i - 1].seq, records[i].seq) << i;
  }
  EXPECT_EQ(worker.stats().handled, 100u);
  EXPECT_EQ(worker.stats().replayed, 0u);  // a fresh group has no history to re-read
}

TEST(EventStream, TwoWorkersShareThePartitionsAndSeeEachLineOnce) {
  RIPOSTE_REQUIRE_REDIS(server);
  StreamConsumer a(optionsFor(server, 4));
  StreamConsumer b(optionsFor(server, 4));
  std::multiset<std::string> seen;
  auto sink = [&](const StreamRecord& r) { seen.insert(r.line); };
  // A starts alone and takes everything; once B appears, A gives back down to its share.
  ASSERT_TRUE(a.poll(sink, milliseconds(1)).isOk());
  EXPECT_EQ(a.owned().size(), 4u);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((a.owned().size() != 2 || b.owned().size() != 2) &&
         std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(a.poll(sink, milliseconds(20)).isOk());
    ASSERT_TRUE(b.poll(sink, milliseconds(20)).isOk());
  }
  ASSERT_EQ(a.owned().size(), 2u);
  ASSERT_EQ(b.owned().size(), 2u);
  for (int p : a.owned()) EXPECT_EQ(b.owned().count(p), 0u);

  StreamProducer producer(optionsFor(server, 4));
  const auto sent = produce(producer, 200, 25);
  for (int i = 0; i < 100 && seen.size() < 200; ++i) {
    ASSERT_TRUE(a.poll(sink, milliseconds(5)).isOk());
    ASSERT_TRUE(b.poll(sink, milliseconds(5)).isOk());
  }
  EXPECT_EQ(seen.size(), 200u);
  for (const auto& [ip, lines] : sent) {
    for (const auto& l : lines) EXPECT_EQ(seen.count(l), 1u) << l;
  }
  EXPECT_GT(a.stats().handled, 0u);
  EXPECT_GT(b.stats().handled, 0u);
}

TEST(EventStream, TakeoverRereadsHistoryAndAcknowledgesTheDeadWorkersPending) {
  RIPOSTE_REQUIRE_REDIS(server);
  auto opts = optionsFor(server, 1);
  StreamProducer producer(opts);
  (void)produce(producer, 30, 3);

  // A worker that read 20 entries (acknowledging 12 of them) and then died: its lease and
  // heartbeat expire, 8 entries stay pending.
  net::RedisClient raw(opts.redis);
  ASSERT_TRUE(
      raw.command({"XGROUP", "CREATE", opts.streamKey(0), "analyze", "0", "MKSTREAM"}).isOk());
  auto read = raw.command(
      {"XREADGROUP", "GROUP", "analyze", "dead", "COUNT", "20", "STREAMS", opts.streamKey(0), ">"});
  ASSERT_TRUE(read.isOk()) << read.status().toString();
  const auto& entries = read->elements[0].elements[1].elements;
  ASSERT_EQ(entries.size(), 20u);
  net::RedisCommand ack = {"XACK", opts.streamKey(0), "analyze"};
  for (size_t i = 0; i < 12; ++i) ack.push_back(entries[i].elements[0].str);
  ASSERT_TRUE(raw.command(ack).isOk());
  ASSERT_TRUE(raw.command({"SET", opts.leaseKey(0), "dead", "PX", "300"}).isOk());
  ASSERT_TRUE(raw.command({"SET", opts.workerKey("dead"), "1", "PX", "300"}).isOk());

  StreamConsumer heir(opts);
  std::vector<std::string> lines;
  auto sink = [&](const StreamRecord& r) { lines.push_back(r.line); };
  ASSERT_TRUE(heir.poll(sink, milliseconds(1)).isOk());
  EXPECT_TRUE(heir.owned().empty());  // the dead worker's lease still holds
  ASSERT_TRUE(testing::waitFor(
      [&] {
        EXPECT_TRUE(heir.poll(sink, milliseconds(10)).isOk());
        return lines.size() >= 30;
      },
      5000));
  EXPECT_EQ(heir.owned(), std::set<int>{0});
  EXPECT_EQ(heir.stats().replayed, 20u);  // what the dead worker had been given
  EXPECT_EQ(heir.stats().claimed, 8u);    // its unacknowledged entries
  EXPECT_EQ(heir.stats().handled, 10u);   // never delivered before
  ASSERT_EQ(lines.size(), 30u);
  EXPECT_EQ(std::set<std::string>(lines.begin(), lines.end()).size(), 30u);  // none twice
  auto pending = raw.command({"XPENDING", opts.streamKey(0), "analyze"});
  ASSERT_TRUE(pending.isOk());
  EXPECT_EQ(pending->elements[0].integer, 0);
}

TEST(EventStream, AWorkerTakingBackItsPartitionRereadsOnlyWhatItMissed) {
  RIPOSTE_REQUIRE_REDIS(server);
  auto opts = optionsFor(server, 1);
  StreamProducer producer(opts);
  (void)produce(producer, 10, 2);
  StreamConsumer w(opts);
  std::vector<std::string> lines;
  auto sink = [&](const StreamRecord& r) { lines.push_back(r.line); };
  ASSERT_TRUE(testing::waitFor(
      [&] {
        EXPECT_TRUE(w.poll(sink, milliseconds(10)).isOk());
        return lines.size() >= 10;
      },
      5000));
  // Its lease is taken away (as after a long pause); another worker handles 5 more entries.
  net::RedisClient raw(opts.redis);
  ASSERT_TRUE(raw.command({"SET", opts.leaseKey(0), "other", "PX", "400"}).isOk());
  (void)produce(producer, 5, 2, 10);
  ASSERT_TRUE(raw.command({"XREADGROUP", "GROUP", "analyze", "other", "COUNT", "100", "STREAMS",
                           opts.streamKey(0), ">"})
                  .isOk());
  ASSERT_TRUE(testing::waitFor(
      [&] {
        EXPECT_TRUE(w.poll(sink, milliseconds(10)).isOk());
        return w.stats().lost == 1 && w.owned().size() == 1;
      },
      5000));
  // Back with the partition, it re-reads only the 5 it never saw.
  EXPECT_EQ(w.stats().replayed, 5u);
  EXPECT_EQ(lines.size(), 15u);
  EXPECT_EQ(std::set<std::string>(lines.begin(), lines.end()).size(), 15u);
}

TEST(EventStream, ProducerHoldsLinesWhileRedisIsDownAndWritesThemAfter) {
  RIPOSTE_REQUIRE_REDIS(server);
  auto opts = optionsFor(server, 2);
  opts.max_buffer = 50;
  StreamProducer producer(opts);
  (void)produce(producer, 5, 5);
  server.stop();
  for (int i = 0; i < 50; ++i) {
    SourceLine l;
    const std::string text = lineFor("192.0.2.1", i);
    l.text = text;
    producer.add(partitionOf("192.0.2.1", 2), l, "sshd", std::nullopt);
  }
  EXPECT_FALSE(producer.flush().isOk());
  EXPECT_TRUE(producer.stats().degraded);
  EXPECT_EQ(producer.buffered(), 50u);
  EXPECT_TRUE(producer.full());  // the serve loop stops reading its sources
  ASSERT_TRUE(server.start()) << server.error();
  ASSERT_TRUE(testing::waitFor([&] { return producer.flush().isOk(); }, 5000));
  EXPECT_FALSE(producer.stats().degraded);
  EXPECT_EQ(producer.buffered(), 0u);
  net::RedisClient raw(opts.redis);
  auto len = raw.command({"XLEN", opts.streamKey(static_cast<int>(partitionOf("192.0.2.1", 2)))});
  ASSERT_TRUE(len.isOk());
  EXPECT_GE(len->integer, 50);
}

TEST(EventStream, ConfigNeedsRedisAndAKnownRole) {
  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  auto no_redis = parseConfig("cluster:\n  node: a\n  streams: {partitions: 4}\n", "c.yaml", &reg);
  ASSERT_FALSE(no_redis.isOk());
  EXPECT_NE(no_redis.status().message().find("cluster.redis"), std::string::npos);
  auto bad_key =
      parseConfig("cluster:\n  redis: redis://127.0.0.1:1\n  streams: {partitions: 4, shards: 2}\n",
                  "c.yaml", &reg);
  ASSERT_FALSE(bad_key.isOk());
  EXPECT_NE(bad_key.status().message().find("shards"), std::string::npos);

  auto bad =
      parseConfig("cluster:\n  redis: redis://127.0.0.1:1\n  role: worker\n", "c.yaml", &reg);
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().message().find("cluster.role"), std::string::npos);
  EXPECT_NE(bad.status().message().find("c.yaml:3"), std::string::npos) << bad.status().message();

  auto ok = parseConfig(
      "cluster:\n  redis: redis://127.0.0.1:1\n  role: analyze\n  streams:\n    partitions: 16\n"
      "    lease: 2s\n",
      "c.yaml", &reg);
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  EXPECT_EQ(ok->cluster_role, "analyze");
  auto so = StreamOptions::fromConfig(*ok);
  ASSERT_TRUE(so.isOk() && so->has_value());
  EXPECT_EQ((*so)->partitions, 16);
  EXPECT_EQ((*so)->lease, milliseconds(2000));
}

}  // namespace
}  // namespace riposte::cluster

// The shared intel cache against a real redis-server: node A loads a feed and publishes it,
// node B (its own empty database, no feed file) gets the same look-up results from Redis.
#include "riposte/intel/redis_cache.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "riposte/intel/cache_refresher.h"
#include "riposte/intel/commands.h"
#include "support/redis_server.h"

namespace riposte::intel {
namespace {

using std::chrono::milliseconds;

RedisCacheOptions cacheFor(const testing::RedisServer& s, Duration ttl = std::chrono::hours(1)) {
  RedisCacheOptions o;
  EXPECT_TRUE(net::parseRedisUrl(s.url(), o.redis).isOk());
  o.redis.connect_timeout = milliseconds(300);
  o.redis.backoff_initial = milliseconds(10);
  o.ttl = ttl;
  return o;
}

// A feed file with a few values of several types (none in a known-good range).
std::filesystem::path writeFeed(const std::filesystem::path& dir) {
  const auto p = dir / "blocklist.txt";
  std::ofstream(p) << "# test feed\n45.12.0.1 ; SBL1\n45.155.205.0/24\n2a01:4f8::/32\n"
                      "evil-c2.net\nhttp://bad.example.org/payload.exe\n"
                      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n";
  return p;
}

const std::vector<std::string> kQueries = {
    "45.12.0.1",
    "45.155.205.77",
    "2a01:4f8::1",
    "x.evil-c2.net",
    "http://bad.example.org/payload.exe",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "8.8.8.8",
    "good.org"};

std::string lookups(const Snapshot& s) {
  std::string out;
  for (const auto& q : kQueries) {
    out += q + " →";
    for (const auto& m : s.lookup(q)) out += " " + toJson(m).dump();
    out += "\n";
  }
  return out;
}

TEST(IntelCacheRecord, RoundTripsEveryFieldWithEscapes) {
  Indicator i;
  i.type = IndicatorType::kUrl;
  i.value = "http://a.example.org/p\tq\\r\nx";
  i.source = "ignored: the record's source wins";
  i.confidence = 77;
  i.first_seen.micros = 1'700'000'000'000'000;
  i.last_seen.micros = 1'700'000'100'000'000;
  i.valid_from.micros = 1'600'000'000'000'000;
  i.valid_until.micros = 1'800'000'000'000'000;
  i.tags = {"c2", "tag\twith tab", "x\x1fy"};
  i.tlp = Tlp::kAmberStrict;
  i.reference = "pulse:1\n2";
  i.revoked = true;
  Indicator j;
  j.type = IndicatorType::kIpv4;
  j.value = "45.12.0.1";
  const std::string rec = encodeSourceRecord("my feed\t1", {i, j}, Timestamp{42, 0});
  auto back = decodeSourceRecord(rec);
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(back->source, "my feed\t1");
  EXPECT_EQ(back->published.micros, 42);
  ASSERT_EQ(back->indicators.size(), 2u);
  const Indicator& a = back->indicators[0];
  EXPECT_EQ(a.type, i.type);
  EXPECT_EQ(a.value, i.value);
  EXPECT_EQ(a.source, "my feed\t1");
  EXPECT_EQ(a.confidence, i.confidence);
  EXPECT_EQ(a.first_seen, i.first_seen);
  EXPECT_EQ(a.last_seen, i.last_seen);
  EXPECT_EQ(a.valid_from, i.valid_from);
  EXPECT_EQ(a.valid_until, i.valid_until);
  EXPECT_EQ(a.tags, i.tags);
  EXPECT_EQ(a.tlp, i.tlp);
  EXPECT_EQ(a.reference, i.reference);
  EXPECT_TRUE(a.revoked);
  EXPECT_FALSE(back->indicators[1].confidence.has_value());
  EXPECT_TRUE(back->indicators[1].tags.empty());
}

TEST(IntelCacheRecord, RejectsForeignTruncatedAndNewerRecordsAndCountsBadLines) {
  EXPECT_FALSE(decodeSourceRecord("hello").isOk());
  EXPECT_FALSE(decodeSourceRecord("riposte-intel\t2\ts\t0\t0\n").isOk());
  Indicator j;
  j.type = IndicatorType::kIpv4;
  j.value = "45.12.0.1";
  std::string rec = encodeSourceRecord("s", {j, j, j}, Timestamp{1, 0});
  auto cut = decodeSourceRecord(rec.substr(0, rec.size() - 20));
  ASSERT_FALSE(cut.isOk());
  EXPECT_NE(cut.status().message().find("truncated"), std::string::npos);
  // A damaged line is skipped and counted; the others are kept.
  const size_t second = rec.find('\n', rec.find('\n') + 1) + 1;
  rec.replace(second, 4, "nope");
  auto damaged = decodeSourceRecord(rec);
  ASSERT_TRUE(damaged.isOk()) << damaged.status().toString();
  EXPECT_EQ(damaged->indicators.size(), 2u);
  EXPECT_EQ(damaged->bad_lines, 1u);
}

TEST(IntelCache, SecondNodeGetsTheSameLookupsFromRedisWithoutTheFeed) {
  RIPOSTE_REQUIRE_REDIS(server);
  testing::TempDir a_dir, b_dir;
  // Node A: `riposte intel load` with a cache configured.
  LoadRequest req;
  req.file = writeFeed(a_dir.path());
  req.format = FeedFormat::kList;
  req.db_path = (a_dir.path() / "intel.db").string();
  req.cache = cacheFor(server);
  auto loaded = loadFeedFile(req);
  ASSERT_TRUE(loaded.isOk()) << loaded.status().toString();
  ASSERT_TRUE((*loaded).contains("cache")) << loaded->dump();
  EXPECT_EQ((*loaded)["cache"]["key"], "threat:intel:blocklist") << loaded->dump();
  // The key expires within the configured hour.
  net::RedisClient c(req.cache->redis);
  auto ttl = c.command({"PTTL", "threat:intel:blocklist"});
  ASSERT_TRUE(ttl.isOk());
  EXPECT_GT(ttl->integer, 3'500'000);
  EXPECT_LE(ttl->integer, 3'600'000);

  auto a_snap = snapshotFromDb(req.db_path);
  ASSERT_TRUE(a_snap.isOk());
  ASSERT_GT((*a_snap)->size(), 5u);

  // Node B: empty database, no feed file; reads Redis into its snapshot.
  auto store = std::make_shared<Store>();
  CacheRefresher b((b_dir.path() / "intel.db").string(), cacheFor(server), {}, store);
  ASSERT_TRUE(b.refreshOnce().isOk());
  EXPECT_EQ(store->snapshot()->size(), (*a_snap)->size());
  EXPECT_EQ(lookups(*store->snapshot()), lookups(**a_snap));
  EXPECT_NE(lookups(*store->snapshot()).find("\"source\":\"blocklist\""), std::string::npos);
  const auto h = b.health();
  EXPECT_TRUE(h.redis_ok);
  EXPECT_EQ(h.cached_sources, 1u);
  EXPECT_EQ(h.local_sources, 0u);
  EXPECT_EQ(h.published, 0u);  // B does not republish what it read

  // The CLI's look-up through the cache gives the same answer.
  auto j = lookupWithCache((b_dir.path() / "intel.db").string(), cacheFor(server), "45.12.0.1");
  ASSERT_TRUE(j.isOk()) << j.status().toString();
  EXPECT_EQ((*j)["matches"].size(), 1u) << j->dump();
}

// Three seconds of expiry (not one): a loaded machine may take a second between two steps.
TEST(IntelCache, ExpiredSourceDropsOutAndTheOwnerRepublishes) {
  RIPOSTE_REQUIRE_REDIS(server);
  testing::TempDir a_dir, b_dir;
  LoadRequest req;
  req.file = writeFeed(a_dir.path());
  req.format = FeedFormat::kList;
  req.db_path = (a_dir.path() / "intel.db").string();
  req.cache = cacheFor(server, std::chrono::seconds(3));
  ASSERT_TRUE(loadFeedFile(req).isOk());
  auto store = std::make_shared<Store>();
  CacheRefresher b((b_dir.path() / "intel.db").string(), cacheFor(server, std::chrono::seconds(3)),
                   {}, store);
  ASSERT_TRUE(b.refreshOnce().isOk());
  ASSERT_FALSE(store->snapshot()->lookup("45.12.0.1").empty());
  std::this_thread::sleep_for(milliseconds(3300));  // past the key's three-second expiry
  ASSERT_TRUE(b.refreshOnce().isOk());
  EXPECT_TRUE(store->snapshot()->lookup("45.12.0.1").empty());
  EXPECT_EQ(store->snapshot()->size(), 0u);

  // Node A running (its refresher) puts its own sources back while it lives.
  auto a_store = std::make_shared<Store>();
  CacheRefresher a(req.db_path, cacheFor(server, std::chrono::seconds(3)), {}, a_store);
  ASSERT_TRUE(a.refreshOnce().isOk());
  EXPECT_EQ(a.health().published, 1u);
  EXPECT_EQ(a.health().local_sources, 1u);
  ASSERT_TRUE(b.refreshOnce().isOk());
  EXPECT_FALSE(store->snapshot()->lookup("45.12.0.1").empty());
}

TEST(IntelCache, RedisDownKeepsTheLastSnapshotReportsAndRecovers) {
  RIPOSTE_REQUIRE_REDIS(server);
  testing::TempDir a_dir, b_dir;
  LoadRequest req;
  req.file = writeFeed(a_dir.path());
  req.format = FeedFormat::kList;
  req.db_path = (a_dir.path() / "intel.db").string();
  req.cache = cacheFor(server);
  ASSERT_TRUE(loadFeedFile(req).isOk());
  auto store = std::make_shared<Store>();
  CacheRefresher b((b_dir.path() / "intel.db").string(), cacheFor(server), {}, store);
  ASSERT_TRUE(b.refreshOnce().isOk());
  const auto before = store->snapshot();
  const uint64_t generation = store->generation();
  ASSERT_GT(before->size(), 0u);

  server.stop();
  Status st = b.refreshOnce();
  ASSERT_FALSE(st.isOk());
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->generation(), generation);  // nothing published
  EXPECT_EQ(store->snapshot(), before);
  EXPECT_FALSE(store->snapshot()->lookup("45.12.0.1").empty());
  auto h = b.health();
  EXPECT_FALSE(h.redis_ok);
  EXPECT_EQ(h.failures, 1u);
  EXPECT_NE(h.last_error.find(std::to_string(server.port())), std::string::npos) << h.last_error;

  // Redis back (empty: no persistence): A's load is republished, B follows.
  ASSERT_TRUE(server.start());
  auto a_store = std::make_shared<Store>();
  CacheRefresher a(req.db_path, cacheFor(server), {}, a_store);
  ASSERT_TRUE(testing::waitFor([&] { return a.refreshOnce().isOk(); }, 5000));
  ASSERT_TRUE(testing::waitFor([&] { return b.refreshOnce().isOk(); }, 5000));
  h = b.health();
  EXPECT_TRUE(h.redis_ok);
  EXPECT_TRUE(h.last_error.empty());
  EXPECT_EQ(lookups(*store->snapshot()), lookups(*before));
}

TEST(IntelCache, FirstRefreshWithRedisDownStillServesTheLocalDatabase) {
  RIPOSTE_REQUIRE_REDIS(server);
  testing::TempDir dir;
  LoadRequest req;
  req.file = writeFeed(dir.path());
  req.format = FeedFormat::kList;
  req.db_path = (dir.path() / "intel.db").string();
  ASSERT_TRUE(loadFeedFile(req).isOk());  // no cache
  server.stop();
  auto store = std::make_shared<Store>();
  CacheRefresher a(req.db_path, cacheFor(server), {}, store);
  EXPECT_FALSE(a.refreshOnce().isOk());
  EXPECT_FALSE(store->snapshot()->lookup("45.12.0.1").empty());
}

TEST(IntelCache, ConfigIsValidatedWithPositions) {
  std::vector<ConfigDiagnostic> diags;
  auto bad = parseConfig(
      "intel:\n  cache:\n    type: memcached\n    url: http://x\n    ttl: 0s\n    prefix: \"a*\"\n"
      "    colour: red\n",
      "t.yaml", nullptr, &diags);
  ASSERT_FALSE(bad.isOk());
  std::string all;
  for (const auto& d : diags) all += d.toString() + "\n";
  EXPECT_NE(all.find("t.yaml:3:11: intel.cache.type: unknown cache type 'memcached'"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("t.yaml:4:10: intel.cache.url: 'http://x' is not a redis:// URL"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("intel.cache.ttl: must be at least 1s"), std::string::npos) << all;
  EXPECT_NE(all.find("intel.cache.prefix"), std::string::npos) << all;
  EXPECT_NE(all.find("colour"), std::string::npos) << all;
  auto good = parseConfig(
      "intel:\n  cache:\n    type: redis\n    url: redis://127.0.0.1:6390/1\n    ttl: 2h\n",
      "t.yaml", nullptr);
  ASSERT_TRUE(good.isOk()) << good.status().toString();
  auto o = RedisCacheOptions::fromConfig(*good);
  ASSERT_TRUE(o.isOk());
  ASSERT_TRUE(o->has_value());
  EXPECT_EQ((*o)->redis.port, 6390);
  EXPECT_EQ((*o)->redis.db, 1);
  EXPECT_EQ((*o)->ttl, std::chrono::hours(2));
  EXPECT_EQ((*o)->prefix, "threat:intel:");
}

}  // namespace
}  // namespace riposte::intel

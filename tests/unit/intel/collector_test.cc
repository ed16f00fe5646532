// Feed clients and the collector against local servers that speak OTX, MISP, TAXII 2.1 and
// plain HTTP and serve the corpora's real payloads (tests/support/feed_fakes.h).
#include "riposte/intel/collector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>

#include "riposte/intel/commands.h"
#include "riposte/intel/persistence.h"
#include "support/feed_fakes.h"
#include "support/http_server.h"
#include "support/test_support.h"

namespace riposte::intel {
namespace {

using riposte::testing::FakeMisp;
using riposte::testing::FakeMispFeed;
using riposte::testing::FakeOtx;
using riposte::testing::FakeTaxii;
using riposte::testing::HttpReply;
using riposte::testing::HttpRequest;
using riposte::testing::HttpServer;
using riposte::testing::TempDir;

#define REQUIRE_FAKE(var, type)                 \
  auto var##_opt = type::load();                \
  if (!var##_opt)                               \
    GTEST_SKIP() << "corpora absent: " #type    \
                    " payloads not found (set " \
                    "RIPOSTE_CORPORA)";         \
  auto& var = *var##_opt

FeedConfig feed(const std::string& name, const std::string& type, const std::string& url) {
  FeedConfig f;
  f.name = name;
  f.type = type;
  f.url = url;
  f.parse.source = name;
  f.http.timeout = std::chrono::seconds(5);
  f.http.backoff = std::chrono::milliseconds(10);
  f.http.attempts = 2;
  f.failure_backoff = std::chrono::milliseconds(50);
  return f;
}

struct Harness {
  TempDir dir;
  std::shared_ptr<Store> store = std::make_shared<Store>();
  std::unique_ptr<Collector> collector;

  explicit Harness(std::vector<FeedConfig> feeds) {
    CollectorOptions o;
    o.db_path = (dir.path() / "intel.db").string();
    o.feeds = std::move(feeds);
    BuildOptions b;
    b.now = Timestamp::fromSeconds(1'700'000'000);  // the corpora's indicators are from 2014-2023
    o.build = b;
    auto s = store;
    collector = std::make_unique<Collector>(
        std::move(o), [s](std::shared_ptr<const Snapshot> snap) { s->publish(std::move(snap)); });
  }
  std::string db() const { return (dir.path() / "intel.db").string(); }
  nlohmann::json sync(const std::string& only = "") {
    auto r = collector->syncNow(only);
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    return r ? *r : nlohmann::json();
  }
  size_t matches(const std::string& value) {
    auto snap = store->snapshot();
    return snap ? snap->lookup(value).size() : 0;
  }
  std::vector<Indicator> rows() {
    auto db = IntelDb::open(this->db());
    EXPECT_TRUE(db.isOk());
    auto r = db->load();
    return r ? *r : std::vector<Indicator>{};
  }
  FeedHealth health(size_t i = 0) { return collector->health().at(i); }
};

// ---- OTX -------------------------------------------------------------------------------------

TEST(OtxClient, FollowsNextUntilNullAndSyncsIncrementally) {
  REQUIRE_FAKE(otx, FakeOtx);
  HttpServer server;
  const std::string base = server.url("");
  server.setHandler([&](const HttpRequest& r) { return otx.handle(r, base); });
  auto f = feed("otx", "otx", base);
  f.api_key = "testing";
  f.since = std::chrono::hours(24 * 365 * 10);
  Harness h({f});
  auto report = h.sync();
  ASSERT_EQ(report["feeds"][0]["status"], "ok") << report.dump(2);
  EXPECT_EQ(report["feeds"][0]["pages"], 2);  // page 1's `next` → page 2 (next: null)
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].headers["x-otx-api-key"], "testing");
  EXPECT_FALSE(reqs[0].query("modified_since").empty());
  EXPECT_EQ(reqs[1].query("page"), "2");
  // The pulse's hashes are in the snapshot (its IP and domain expired in 2023).
  EXPECT_EQ(h.matches("177add288b289d43236d2dba33e65956"), 1u);
  EXPECT_EQ(h.matches("c637a9ce65083b21c834e7a68bd1bc51b412fa11"), 1u);
  EXPECT_EQ(h.health().indicators, 2u);

  // The next sync asks only for pulses modified since the newest one seen.
  report = h.sync();
  ASSERT_EQ(report["feeds"][0]["status"], "ok") << report.dump(2);
  EXPECT_TRUE(report["feeds"][0]["incremental"].get<bool>());
  reqs = server.requests();
  ASSERT_GE(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].query("modified_since"), "2023-08-22T09:43:18.855000Z");
  EXPECT_EQ(h.matches("177add288b289d43236d2dba33e65956"), 1u);  // merged, not replaced
}

TEST(OtxClient, NextLoopIsStoppedAndPreviousIndicatorsKept) {
  REQUIRE_FAKE(otx, FakeOtx);
  HttpServer server;
  const std::string base = server.url("");
  std::atomic<bool> loop{false};
  server.setHandler([&](const HttpRequest& r) {
    if (loop && r.query("page") == "2") {
      // A server whose page 2 answers like page 1: its `next` is page 2 again.
      HttpRequest first = r;
      first.path = "/api/v1/pulses/subscribed?limit=50";
      return otx.handle(first, base);
    }
    return otx.handle(r, base);
  });
  auto f = feed("otx", "otx", base);
  f.api_key = "testing";
  f.since = std::chrono::hours(24 * 365 * 10);
  Harness h({f});
  ASSERT_EQ(h.sync()["feeds"][0]["status"], "ok");
  const uint64_t gen = h.store->generation();
  loop = true;
  const auto t0 = std::chrono::steady_clock::now();
  auto report = h.sync();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(report["feeds"][0]["status"], "error");
  EXPECT_NE(report["feeds"][0]["error"].get<std::string>().find("pagination loop"),
            std::string::npos)
      << report.dump(2);
  EXPECT_EQ(h.store->generation(), gen);  // nothing published
  EXPECT_EQ(h.matches("177add288b289d43236d2dba33e65956"), 1u);
  EXPECT_EQ(h.health().consecutive_failures, 1u);
  EXPECT_EQ(h.rows().size(), 2u);
}

TEST(OtxClient, MalformedPageKeepsPreviousSnapshotAndCountsTheError) {
  REQUIRE_FAKE(otx, FakeOtx);
  HttpServer server;
  const std::string base = server.url("");
  std::atomic<int> mode{0};  // 0 real, 1 malformed JSON, 2 truncated
  server.setHandler([&](const HttpRequest& r) {
    HttpReply rep = otx.handle(r, base);
    if (mode == 1) rep.body = R"({"results": [{"id": "64e38336", "indicators": [{"indicator": )";
    if (mode == 2) rep.truncate = true;
    return rep;
  });
  auto f = feed("otx", "otx", base);
  f.api_key = "testing";
  f.since = std::chrono::hours(24 * 365 * 10);
  Harness h({f});
  ASSERT_EQ(h.sync()["feeds"][0]["status"], "ok");
  const uint64_t gen = h.store->generation();
  for (int m : {1, 2}) {
    mode = m;
    auto report = h.sync();
    EXPECT_EQ(report["feeds"][0]["status"], "error") << report.dump(2);
    const std::string err = report["feeds"][0]["error"];
    EXPECT_NE(err.find("feed 'otx'"), std::string::npos) << err;
    EXPECT_EQ(h.store->generation(), gen);
    EXPECT_EQ(h.matches("177add288b289d43236d2dba33e65956"), 1u);
    EXPECT_EQ(h.rows().size(), 2u);
  }
  const FeedHealth fh = h.health();
  // The same health, as recorded in the database for other processes.
  auto recorded = feedHealthOfDb(h.db());
  ASSERT_TRUE(recorded.isOk()) << recorded.status().toString();
  ASSERT_EQ(recorded->size(), 1u);
  EXPECT_EQ((*recorded)[0]["name"], "otx");
  EXPECT_EQ((*recorded)[0]["consecutive_failures"], 2);
  EXPECT_EQ((*recorded)[0]["indicators"], 2);
  EXPECT_EQ((*recorded)[0]["last_error"], fh.last_error);
  EXPECT_EQ((*recorded)[0]["cursor"], "2023-08-22T09:43:18.855000Z");
  EXPECT_EQ(fh.failures, 2u);
  EXPECT_EQ(fh.consecutive_failures, 2u);
  EXPECT_EQ(fh.successes, 1u);
  EXPECT_EQ(fh.indicators, 2u);
  EXPECT_FALSE(fh.last_error.empty());
  EXPECT_TRUE(fh.last_success.isSet());
  mode = 0;
  EXPECT_EQ(h.sync()["feeds"][0]["status"], "ok");
  EXPECT_EQ(h.health().consecutive_failures, 0u);
  EXPECT_TRUE(h.health().last_error.empty());
}

TEST(OtxClient, ExportEndpointAsksForTypesFollowsNextAndSyncsIncrementally) {
  REQUIRE_FAKE(otx, FakeOtx);
  HttpServer server;
  const std::string base = server.url("");
  server.setHandler([&](const HttpRequest& r) { return otx.handle(r, base); });
  auto f = feed("otx-export", "otx", base);
  f.api_key = "testing";
  f.otx_endpoint = "export";
  f.since = std::chrono::hours(24 * 365 * 10);
  Harness h({f});
  auto report = h.sync();
  ASSERT_EQ(report["feeds"][0]["status"], "ok") << report.dump(2);
  EXPECT_EQ(report["feeds"][0]["pages"], 2);  // page 1's `next` → page 2 (empty, next: null)
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].target(), "/api/v1/indicators/export");
  const std::string types = reqs[0].query("types");
  for (const char* t : {"IPv4", "IPv6", "domain", "hostname", "URL", "FileHash-SHA256"}) {
    EXPECT_NE(("," + types + ",").find(std::string(",") + t + ","), std::string::npos)
        << t << " not in " << types;
  }
  EXPECT_FALSE(reqs[0].query("modified_since").empty());
  EXPECT_EQ(reqs[1].query("page"), "2");
  // The export rows (hostnames) are in the snapshot, with the feed as their source.
  EXPECT_EQ(h.matches("info.3000uc.com"), 1u);
  EXPECT_EQ(h.matches("ndns.hcxiaoao.com"), 1u);
  EXPECT_EQ(h.matches("sub.info.3000uc.com"), 1u);  // a listed parent domain
  EXPECT_EQ(h.health().indicators, 2u);

  // Export rows carry no time: the next sync asks for what changed since the first started.
  const std::string first_since = reqs[0].query("modified_since");
  report = h.sync();
  ASSERT_EQ(report["feeds"][0]["status"], "ok") << report.dump(2);
  EXPECT_TRUE(report["feeds"][0]["incremental"].get<bool>());
  reqs = server.requests();
  ASSERT_GE(reqs.size(), 3u);
  const std::string since = reqs[2].query("modified_since");
  EXPECT_NE(since, first_since);
  auto t = parseFeedTime(since);
  ASSERT_TRUE(t.has_value()) << since;
  EXPECT_LE(t->micros, Timestamp::now().micros);
  EXPECT_GE(t->micros, (Timestamp::now() - std::chrono::minutes(1)).micros);
  EXPECT_EQ(h.matches("info.3000uc.com"), 1u);  // merged, not replaced

  // Only the configured types are asked for.
  f.otx_types = {"hostname"};
  Harness one({f});
  const size_t before = server.requests().size();
  ASSERT_EQ(one.sync()["feeds"][0]["status"], "ok");
  EXPECT_EQ(server.requests().at(before).query("types"), "hostname");
}

// ---- MISP feed (manifest.json + event files) ------------------------------------------------

TEST(MispFeedClient, ManifestThenEventFilesThenOnlyNewerEvents) {
  REQUIRE_FAKE(misp, FakeMispFeed);
  HttpServer server;
  std::mutex mu;
  server.setHandler([&](const HttpRequest& r) {
    std::lock_guard lock(mu);
    return misp.handle(r);
  });
  auto f = feed("circl", "misp-feed", server.url("/feed"));
  Harness h({f});
  auto report = h.sync();
  ASSERT_EQ(report["feeds"][0]["status"], "ok") << report.dump(2);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);  // the manifest, then both events, oldest first
  EXPECT_EQ(reqs[0].target(), "/feed/manifest.json");
  EXPECT_EQ(reqs[1].target(), "/feed/56bf399d-c46c-4fdb-a9cf-d9bb02de0b81.json");  // 2016-02
  EXPECT_EQ(reqs[2].target(), "/feed/57c4445b-c548-4654-af0b-4be3950d210f.json");  // 2016-08
  // PyMISP's attributes flagged for detection are indicators; CIRCL's link is not (to_ids off).
  EXPECT_EQ(h.matches("0749bae92ca336a02c83d126e04ec628"), 1u);
  EXPECT_EQ(h.matches("77b0c41b7d340b8a3d903f21347bbf06aa766b5b"), 1u);
  EXPECT_EQ(h.matches("http://blog.cylance.com/hunting-for-malware-with-machine-learning"), 0u);
  EXPECT_GE(report["feeds"][0]["parse"]["skipped"].get<size_t>(), 1u);
  for (const auto& row : h.rows()) {
    EXPECT_EQ(row.reference, "57c4445b-c548-4654-af0b-4be3950d210f") << row.value;
  }

  // An unchanged manifest: a conditional GET and nothing else.
  report = h.sync();
  EXPECT_EQ(report["feeds"][0]["status"], "not_modified") << report.dump(2);
  reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_FALSE(reqs[3].headers["if-none-match"].empty());

  // One event updated, and a manifest entry that is not an event uuid: only the updated event
  // is fetched; the bad entry is counted with its place, never requested.
  {
    std::lock_guard lock(mu);
    misp.manifest()["57c4445b-c548-4654-af0b-4be3950d210f"]["timestamp"] = 1'700'000'000;
    misp.manifest()["../../etc/passwd"] = {{"timestamp", 1'700'000'001}};
  }
  report = h.sync();
  ASSERT_EQ(report["feeds"][0]["status"], "ok") << report.dump(2);
  EXPECT_TRUE(report["feeds"][0]["incremental"].get<bool>());
  EXPECT_EQ(report["feeds"][0]["parse"]["errors"], 1);
  EXPECT_NE(
      report["feeds"][0]["parse"]["samples"][0]["where"].get<std::string>().find("manifest.json["),
      std::string::npos)
      << report.dump(2);
  reqs = server.requests();
  ASSERT_EQ(reqs.size(), 6u);
  EXPECT_EQ(reqs[5].target(), "/feed/57c4445b-c548-4654-af0b-4be3950d210f.json");
  EXPECT_EQ(h.matches("0749bae92ca336a02c83d126e04ec628"), 1u);

  // A newer event whose file is missing, then one that is not JSON: the sync fails and keeps
  // every indicator it had; nothing is published.
  const uint64_t gen = h.store->generation();
  const size_t rows = h.rows().size();
  {
    std::lock_guard lock(mu);
    misp.manifest().erase("../../etc/passwd");
    misp.manifest()["5e1b3f2a-0000-4000-8000-000000000001"] = {{"timestamp", "1700000100"}};
  }
  report = h.sync();
  EXPECT_EQ(report["feeds"][0]["status"], "error") << report.dump(2);
  EXPECT_NE(report["feeds"][0]["error"].get<std::string>().find("404"), std::string::npos);
  {
    std::lock_guard lock(mu);
    misp.events()["5e1b3f2a-0000-4000-8000-000000000001"] = R"({"Event": {"Attribute": [)";
  }
  report = h.sync();
  EXPECT_EQ(report["feeds"][0]["status"], "error") << report.dump(2);
  EXPECT_NE(report["feeds"][0]["error"].get<std::string>().find(
                "event 5e1b3f2a-0000-4000-8000-000000000001"),
            std::string::npos)
      << report.dump(2);
  EXPECT_EQ(h.store->generation(), gen);
  EXPECT_EQ(h.rows().size(), rows);
  EXPECT_EQ(h.matches("0749bae92ca336a02c83d126e04ec628"), 1u);
  EXPECT_EQ(h.health().consecutive_failures, 2u);
}

TEST(MispFeedClient, SinceLimitsTheFirstSyncAndAManifestThatIsNotAnObjectIsAnError) {
  REQUIRE_FAKE(misp, FakeMispFeed);
  HttpServer server;
  std::atomic<bool> broken{false};
  server.setHandler([&](const HttpRequest& r) -> HttpReply {
    if (broken) return {200, {}, R"(["56bf399d-c46c-4fdb-a9cf-d9bb02de0b81"])"};
    return misp.handle(r);
  });
  auto f = feed("circl", "misp-feed", server.url("/feed/"));
  // Both events are from 2016: a one-year window fetches the manifest only.
  f.since = std::chrono::hours(24 * 365);
  Harness h({f});
  auto report = h.sync();
  ASSERT_EQ(report["feeds"][0]["status"], "ok") << report.dump(2);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(report["feeds"][0]["parse"]["items"], 2);
  EXPECT_EQ(report["feeds"][0]["parse"]["indicators"], 0);
  broken = true;
  report = h.sync();
  EXPECT_EQ(report["feeds"][0]["status"], "error");
  EXPECT_NE(report["feeds"][0]["error"].get<std::string>().find("manifest.json"), std::string::npos)
      << report.dump(2);
}

// ---- MISP ------------------------------------------------------------------------------------

TEST(MispClient, PagesUntilShortPageWithHeadersAndFilters) {
  REQUIRE_FAKE(misp, FakeMisp);
  HttpServer server;
  server.setHandler([&](const HttpRequest& r) { return misp.handle(r); });
  auto f = feed("misp", "misp", server.url(""));
  f.api_key = "test";
  f.page_size = 2;
  Harness h({f});
  auto report = h.sync();
  ASSERT_EQ(report["feeds"][0]["status"], "ok") << report.dump(2);
  size_t flagged = 0;
  for (const auto& a : misp.attributes()) flagged += a.value("to_ids", false) ? 1 : 0;
  ASSERT_GE(flagged, 3u);
  // ceil(flagged / 2) pages, plus an empty one when the last page is full.
  const size_t pages = flagged / 2 + 1;
  EXPECT_EQ(report["feeds"][0]["pages"], pages);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), pages);
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(reqs[i].method, "POST");
    EXPECT_EQ(reqs[i].headers["authorization"], "test");
    EXPECT_EQ(reqs[i].headers["accept"], "application/json");
    EXPECT_EQ(reqs[i].headers["content-type"], "application/json");
    auto body = nlohmann::json::parse(reqs[i].body);
    EXPECT_EQ(body["returnFormat"], "json");
    EXPECT_EQ(body["to_ids"], 1);
    EXPECT_EQ(body["page"], i + 1);
    EXPECT_EQ(body["limit"], 2);
    EXPECT_FALSE(body.contains("timestamp"));  // first sync, no `since`: everything
  }
  // Real attributes flagged for detection: the elastic mock's sha256, PyMISP's md5 and sha1.
  EXPECT_EQ(h.matches("f33c27745f2bd87344be790465ef984a972fd539dc83bd4f61d4242c607ef1ee"), 1u);
  EXPECT_EQ(h.matches("0749bae92ca336a02c83d126e04ec628"), 1u);
  EXPECT_EQ(h.matches("77b0c41b7d340b8a3d903f21347bbf06aa766b5b"), 1u);

  // Incremental: the next sync filters on the time the previous one started.
  const int64_t before = Timestamp::now().micros / 1'000'000;
  report = h.sync();
  ASSERT_EQ(report["feeds"][0]["status"], "ok");
  reqs = server.requests();
  auto body = nlohmann::json::parse(reqs[pages].body);
  ASSERT_TRUE(body.contains("timestamp"));
  EXPECT_LE(std::stoll(body["timestamp"].get<std::string>()), before);
  EXPECT_GE(std::stoll(body["timestamp"].get<std::string>()), before - 60);
}

TEST(MispClient, ServerIgnoringPagesIsStopped) {
  REQUIRE_FAKE(misp, FakeMisp);
  HttpServer server;
  server.setHandler([&](const HttpRequest& r) {
    auto body = nlohmann::json::parse(r.body);
    body["page"] = 1;  // always the first page
    HttpRequest first = r;
    first.body = body.dump();
    return misp.handle(first);
  });
  auto f = feed("misp", "misp", server.url(""));
  f.api_key = "test";
  f.page_size = 1;
  Harness h({f});
  auto report = h.sync();
  EXPECT_EQ(report["feeds"][0]["status"], "error");
  EXPECT_NE(report["feeds"][0]["error"].get<std::string>().find("same as page 1"),
            std::string::npos);
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_TRUE(h.rows().empty());
}

// ---- TAXII 2.1 -------------------------------------------------------------------------------

TEST(TaxiiClient, DiscoveryCollectionsAndMorePaging) {
  REQUIRE_FAKE(taxii, FakeTaxii);
  HttpServer server;
  const std::string base = server.url("");
  server.setHandler([&](const HttpRequest& r) { return taxii.handle(r, base); });
  auto f = feed("taxii", "taxii", server.url("/taxii2/"));
  f.username = "user1";
  f.password = "Password1";
  f.collection = "High Value Indicator Collection";
  f.page_size = 1;
  Harness h({f});
  auto report = h.sync();
  ASSERT_EQ(report["feeds"][0]["status"], "ok") << report.dump(2);
  auto reqs = server.requests();
  // discovery, API root, collections, then one page per indicator (version "last").
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[0].target(), "/taxii2/");
  EXPECT_EQ(reqs[1].target(), "/trustgroup1/");  // the discovery's default root
  EXPECT_EQ(reqs[2].target(), "/trustgroup1/collections/");
  EXPECT_EQ(reqs[3].target(),
            "/trustgroup1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/objects/");
  for (const auto& r : reqs) {
    EXPECT_EQ(r.headers.at("accept"), "application/taxii+json;version=2.1");
  }
  EXPECT_EQ(reqs[3].query("match[type]"), "indicator");
  EXPECT_EQ(reqs[3].query("limit"), "1");
  EXPECT_TRUE(reqs[3].query("next").empty());
  EXPECT_FALSE(reqs[4].query("next").empty());
  EXPECT_EQ(reqs[4].query("match[type]"), "indicator");  // the same filters with `next`
  EXPECT_EQ(report["feeds"][0]["pages"], 2);
  EXPECT_EQ(h.matches("ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"), 1u);
  EXPECT_EQ(h.matches("http://x4z9arb.cn/4712"), 1u);
  EXPECT_EQ(h.matches("http://z4z10farb.cn/4712"), 0u);  // superseded version

  // Incremental: added_after = the last page's X-TAXII-Date-Added-Last; nothing newer.
  report = h.sync();
  ASSERT_EQ(report["feeds"][0]["status"], "ok") << report.dump(2);
  reqs = server.requests();
  ASSERT_EQ(reqs.size(), 9u);
  EXPECT_EQ(reqs[8].query("added_after"), "2017-12-31T13:49:53.935000Z");
  EXPECT_EQ(h.matches("http://x4z9arb.cn/4712"), 1u);  // kept (incremental)
  EXPECT_EQ(h.health().indicators, 2u);
}

TEST(TaxiiClient, RepeatedNextIsStopped) {
  REQUIRE_FAKE(taxii, FakeTaxii);
  HttpServer server;
  const std::string base = server.url("");
  server.setHandler([&](const HttpRequest& r) {
    HttpReply rep = taxii.handle(r, base);
    if (r.target().find("/objects/") != std::string::npos && rep.status == 200) {
      auto env = nlohmann::json::parse(rep.body);
      env["more"] = true;
      env["next"] = "the-same";  // a server that never advances
      rep.body = env.dump();
    }
    if (r.query("next") == "the-same") {  // answer like the first page
      HttpRequest first = r;
      first.path = r.target() + "?limit=1&match%5Btype%5D=indicator";
      rep = taxii.handle(first, base);
      auto env = nlohmann::json::parse(rep.body);
      env["more"] = true;
      env["next"] = "the-same";
      rep.body = env.dump();
    }
    return rep;
  });
  auto f = feed("taxii", "taxii", server.url("/taxii2/"));
  f.username = "user1";
  f.password = "Password1";
  f.collection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
  f.page_size = 1;
  Harness h({f});
  auto report = h.sync();
  EXPECT_EQ(report["feeds"][0]["status"], "error") << report.dump(2);
  EXPECT_NE(report["feeds"][0]["error"].get<std::string>().find("repeated next"),
            std::string::npos);
  EXPECT_EQ(server.requests().size(), 5u);  // 3 set-up requests + 2 pages, then stopped
  EXPECT_TRUE(h.rows().empty());
}

TEST(TaxiiClient, WrongCredentialsAndUnknownCollectionAreErrors) {
  REQUIRE_FAKE(taxii, FakeTaxii);
  HttpServer server;
  const std::string base = server.url("");
  server.setHandler([&](const HttpRequest& r) { return taxii.handle(r, base); });
  auto f = feed("taxii", "taxii", server.url("/taxii2/"));
  f.username = "user1";
  f.password = "wrong";
  f.collection = "High Value Indicator Collection";
  auto g = f;
  g.name = "taxii2";
  g.password = "Password1";
  g.collection = "no such collection";
  Harness h({f, g});
  auto report = h.sync();
  EXPECT_NE(report["feeds"][0]["error"].get<std::string>().find("HTTP 401"), std::string::npos);
  EXPECT_NE(report["feeds"][1]["error"].get<std::string>().find("no collection"),
            std::string::npos);
}

// ---- plain lists over HTTP -------------------------------------------------------------------

TEST(HttpFeed, ConditionalGetKeepsIndicatorsOn304) {
  RIPOSTE_REQUIRE_CORPUS(csv, "blocklists/abusech/feodotracker_ipblocklist.csv");
  RIPOSTE_REQUIRE_CORPUS(drop, "blocklists/firehol/spamhaus_drop.netset");
  const std::string feodo = riposte::testing::readFile(csv);
  const std::string netset = riposte::testing::readFile(drop);
  HttpServer server;
  server.setHandler([&](const HttpRequest& r) -> HttpReply {
    const std::string etag = "\"v1\"";
    const std::string lm = "Thu, 04 Apr 2024 07:03:03 GMT";
    if (r.target() == "/feodo.csv") {
      if (r.headers.count("if-none-match") && r.headers.at("if-none-match") == etag) {
        return {304, {{"ETag", etag}}, ""};
      }
      return {200, {{"ETag", etag}, {"Content-Type", "text/csv"}}, feodo};
    }
    if (r.target() == "/drop.netset") {
      if (r.headers.count("if-modified-since") && r.headers.at("if-modified-since") == lm) {
        return {304, {}, ""};
      }
      return {200, {{"Last-Modified", lm}, {"Content-Type", "text/plain"}}, netset};
    }
    return {404, {}, "not found"};
  });
  auto a = feed("feodo", "http", server.url("/feodo.csv"));
  a.format = FeedFormat::kCsv;
  a.parse.column = "dst_ip";
  auto b = feed("spamhaus-drop", "http", server.url("/drop.netset"));
  b.format = FeedFormat::kList;
  Harness h({a, b});
  auto report = h.sync();
  ASSERT_EQ(report["feeds"][0]["status"], "ok") << report.dump(2);
  ASSERT_EQ(report["feeds"][1]["status"], "ok") << report.dump(2);
  EXPECT_EQ(h.matches("192.9.135.73"), 1u);  // the CSV's first row
  EXPECT_GE(h.health(1).indicators, 100u);
  const size_t held0 = h.health(0).indicators, held1 = h.health(1).indicators;
  const uint64_t gen = h.store->generation();

  report = h.sync();
  EXPECT_EQ(report["feeds"][0]["status"], "not_modified");
  EXPECT_EQ(report["feeds"][1]["status"], "not_modified");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[2].headers["if-none-match"], "\"v1\"");
  EXPECT_EQ(reqs[3].headers["if-modified-since"], "Thu, 04 Apr 2024 07:03:03 GMT");
  EXPECT_EQ(h.store->generation(), gen);
  EXPECT_EQ(h.health(0).indicators, held0);
  EXPECT_EQ(h.health(0).not_modified, 1u);
  EXPECT_EQ(h.health(1).indicators, held1);
  EXPECT_EQ(h.matches("192.9.135.73"), 1u);
}

TEST(HttpFeed, TooManyRequestsHonoursRetryAfter) {
  RIPOSTE_REQUIRE_CORPUS(csv, "blocklists/abusech/feodotracker_ipblocklist.csv");
  const std::string feodo = riposte::testing::readFile(csv);
  HttpServer server;
  std::atomic<int> n{0};
  server.setHandler([&](const HttpRequest&) -> HttpReply {
    if (n++ == 0) return {429, {{"Retry-After", "1"}}, R"({"query_status":"ratelimited"})"};
    return {200, {}, feodo};
  });
  auto a = feed("feodo", "http", server.url("/feodo.csv"));
  a.format = FeedFormat::kCsv;
  a.parse.column = "dst_ip";
  a.http.attempts = 3;
  Harness h({a});
  const auto t0 = std::chrono::steady_clock::now();
  auto report = h.sync();
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(report["feeds"][0]["status"], "ok") << report.dump(2);
  EXPECT_EQ(report["feeds"][0]["requests"], 2);
  EXPECT_GE(took, std::chrono::milliseconds(950));  // waited Retry-After, not the 10 ms backoff
  EXPECT_EQ(h.matches("192.9.135.73"), 1u);
}

TEST(HttpFeed, RetryAfterBeyondMaxBackoffDefersTheNextRun) {
  HttpServer server;
  server.setHandler([&](const HttpRequest&) -> HttpReply {
    return {503, {{"Retry-After", "120"}}, "busy"};
  });
  auto a = feed("busy", "http", server.url("/list.txt"));
  a.http.attempts = 5;
  a.http.max_backoff = std::chrono::seconds(2);
  Harness h({a});
  auto report = h.sync();
  EXPECT_EQ(report["feeds"][0]["status"], "error");
  EXPECT_EQ(server.requests().size(), 1u);  // not retried now
  const FeedHealth fh = h.health();
  EXPECT_GE(fh.next_run - Timestamp::now(), std::chrono::seconds(110));
  EXPECT_NE(fh.last_error.find("Retry-After 120"), std::string::npos) << fh.last_error;
}

TEST(HttpFeed, ExponentialBackoffOnServerErrors) {
  HttpServer server;
  server.setHandler([&](const HttpRequest&) -> HttpReply { return {502, {}, "bad gateway"}; });
  auto a = feed("down", "http", server.url("/list.txt"));
  a.http.attempts = 4;
  a.http.backoff = std::chrono::milliseconds(100);  // waits 100 + 200 + 400 ms
  Harness h({a});
  const auto t0 = std::chrono::steady_clock::now();
  auto report = h.sync();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(report["feeds"][0]["status"], "error");
  EXPECT_EQ(server.requests().size(), 4u);
  EXPECT_GE(took, std::chrono::milliseconds(700));
  EXPECT_NE(report["feeds"][0]["error"].get<std::string>().find("after 4 attempts"),
            std::string::npos);
  // The schedule backs off too: failure_backoff doubled per consecutive failure.
  const Timestamp first = h.health().next_run;
  (void)h.sync();
  (void)h.sync();
  EXPECT_EQ(h.health().consecutive_failures, 3u);
  // The third consecutive failure waits 50 ms × 2 × 2 after the run ended.
  const FeedHealth fh = h.health();
  const Duration wait = fh.next_run - (fh.last_attempt + fh.last_duration);
  EXPECT_GE(wait, std::chrono::milliseconds(195));
  EXPECT_LT(wait, std::chrono::milliseconds(400));
  EXPECT_GT(h.health().next_run, first);
}

TEST(HttpFeed, SizeLimitRedirectLoopAndTimeoutAreErrors) {
  HttpServer server;
  server.setHandler([&](const HttpRequest& r) -> HttpReply {
    if (r.target() == "/big") return {200, {}, std::string(10'000, '1') + "\n"};
    if (r.target() == "/loop") return {302, {{"Location", "/loop"}}, ""};
    if (r.target() == "/slow") return {200, {}, "198.51.100.1\n", 1500};
    return {404, {}, ""};
  });
  auto big = feed("big", "http", server.url("/big"));
  big.http.max_bytes = 1000;
  auto loop = feed("loop", "http", server.url("/loop"));
  auto slow = feed("slow", "http", server.url("/slow"));
  slow.http.timeout = std::chrono::milliseconds(300);
  slow.http.attempts = 1;
  Harness h({big, loop, slow});
  auto report = h.sync();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(report["feeds"][i]["status"], "error") << i;
  EXPECT_NE(report["feeds"][0]["error"].get<std::string>().find("max_bytes"), std::string::npos);
  EXPECT_NE(report["feeds"][1]["error"].get<std::string>().find("redirect"), std::string::npos);
  EXPECT_NE(report["feeds"][2]["error"].get<std::string>().find("timed out"), std::string::npos)
      << report["feeds"][2]["error"];
  size_t big_requests = 0;
  for (const auto& r : server.requests()) big_requests += r.target() == "/big" ? 1 : 0;
  EXPECT_EQ(big_requests, 1u);  // an oversize response is not retried
}

TEST(HttpFeed, EmptyResponseDoesNotEmptyTheFeed) {
  HttpServer server;
  std::atomic<bool> empty{false};
  server.setHandler([&](const HttpRequest&) -> HttpReply {
    return {200, {}, empty ? "" : "185.220.101.7\n45.95.147.10\n"};
  });
  auto a = feed("list", "http", server.url("/list.txt"));
  Harness h({a});
  ASSERT_EQ(h.sync()["feeds"][0]["status"], "ok");
  EXPECT_EQ(h.health().indicators, 2u);
  empty = true;
  auto report = h.sync();
  EXPECT_EQ(report["feeds"][0]["status"], "error");
  EXPECT_EQ(h.rows().size(), 2u);
  EXPECT_EQ(h.health().indicators, 2u);
}

// ---- schedule and configuration --------------------------------------------------------------

TEST(Collector, ScheduleRunsEachFeedAndABrokenFeedDoesNotBlockOthers) {
  HttpServer server;
  std::atomic<int> good{0};
  server.setHandler([&](const HttpRequest& r) -> HttpReply {
    if (r.target() == "/hang") return {200, {}, "198.51.100.1\n", 3000};
    ++good;
    return {200, {}, "185.220.101.20\n"};
  });
  auto a = feed("good", "http", server.url("/good"));
  a.interval = std::chrono::milliseconds(200);
  auto b = feed("hang", "http", server.url("/hang"));
  b.http.timeout = std::chrono::seconds(2);
  b.http.attempts = 1;
  Harness h({b, a});
  h.collector->start();
  // Three scheduled runs of the good feed complete while the other one hangs.
  EXPECT_TRUE(
      riposte::testing::waitFor([&] { return h.collector->health()[1].successes >= 3; }, 5000));
  EXPECT_GE(good.load(), 3);
  EXPECT_EQ(h.matches("185.220.101.20"), 1u);
  EXPECT_GE(h.store->generation(), 3u);
  const auto health = h.collector->health();
  EXPECT_GE(health[1].successes, 3u);
  EXPECT_TRUE(health[1].next_run.isSet());
  h.collector->stop();  // returns although a feed is mid-request (bounded by its timeout)
}

TEST(FeedConfigs, ReadFromYamlWithPositions) {
  auto cfg = parseConfig(R"(intel:
  db: /tmp/x.db
  feeds:
    - name: feodo
      type: http
      url: https://feodotracker.abuse.ch/downloads/ipblocklist.csv
      format: csv
      column: dst_ip
      interval: 15m
      weight: 0.8
      headers: {Auth-Key: abc}
    - name: taxii
      type: taxii
      url: https://taxii.example/taxii2/
      collection: indicators
      token: t0k
    - name: otx
      type: otx
      api_key: k
      endpoint: export
      otx_types: [IPv4, hostname]
    - name: circl
      type: misp-feed
      url: https://www.circl.lu/doc/misp/feed-osint/
)",
                         "a.yaml", nullptr);
  ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
  auto feeds = feedConfigsFrom(*cfg);
  ASSERT_TRUE(feeds.isOk()) << feeds.status().toString();
  ASSERT_EQ(feeds->size(), 4u);
  EXPECT_EQ((*feeds)[2].otx_endpoint, "export");
  EXPECT_EQ((*feeds)[2].otx_types, (std::vector<std::string>{"IPv4", "hostname"}));
  EXPECT_EQ((*feeds)[3].type, "misp-feed");
  EXPECT_EQ((*feeds)[0].format, FeedFormat::kCsv);
  EXPECT_EQ((*feeds)[0].parse.column, "dst_ip");
  EXPECT_EQ((*feeds)[0].interval, std::chrono::minutes(15));
  EXPECT_DOUBLE_EQ((*feeds)[0].policy->weight, 0.8);
  EXPECT_EQ((*feeds)[0].headers.at(0), "Auth-Key: abc");
  EXPECT_EQ((*feeds)[1].collection, "indicators");
  EXPECT_EQ(feedDbPath(*cfg), "/tmp/x.db");

  auto bad = parseConfig(R"(intel:
  feeds:
    - name: x
      type: ftp
      url: ftp://example.org/list
      intervall: 1h
    - name: y
      type: misp
      url: https://misp.example
    - name: z
      type: otx
      api_key: k
      endpoint: pulses
)",
                         "b.yaml", nullptr);
  ASSERT_TRUE(bad.isOk());
  auto r = feedConfigsFrom(*bad);
  ASSERT_FALSE(r.isOk());
  const std::string m = r.status().message();
  EXPECT_NE(m.find("b.yaml:4:13: intel.feeds[0].type: unknown feed type 'ftp'"), std::string::npos)
      << m;
  EXPECT_NE(m.find("intel.feeds[0].url"), std::string::npos) << m;
  EXPECT_NE(m.find("intervall"), std::string::npos) << m;
  EXPECT_NE(m.find("intel.feeds[1].api_key: is required"), std::string::npos) << m;
  EXPECT_NE(m.find("b.yaml:13:17: intel.feeds[2].endpoint: unknown OTX endpoint 'pulses'"),
            std::string::npos)
      << m;
}

TEST(HttpFetch, RetryAfterParsing) {
  const Timestamp now = Timestamp::fromSeconds(1'700'000'000);  // Tue, 14 Nov 2023 22:13:20 GMT
  EXPECT_EQ(parseRetryAfter("30", now), std::chrono::seconds(30));
  EXPECT_EQ(parseRetryAfter("Tue, 14 Nov 2023 22:14:20 GMT", now), std::chrono::seconds(60));
  EXPECT_EQ(parseRetryAfter("Tue, 14 Nov 2023 22:00:00 GMT", now), Duration(0));
  EXPECT_FALSE(parseRetryAfter("soon", now).has_value());
}

}  // namespace
}  // namespace riposte::intel

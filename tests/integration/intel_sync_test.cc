// `riposte intel sync` against local OTX / TAXII 2.1 / plain-list servers serving the corpora's
// payloads, then `riposte intel lookup` finding what was fetched.
#include <gtest/gtest.h>

#include <curl/curl.h>
#include <signal.h>

#include <atomic>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <utility>

#include "support/feed_fakes.h"
#include "support/http_server.h"
#include "support/test_support.h"

namespace riposte::testing {
namespace {

// The API base URL a `serve --listen 127.0.0.1:0` announces on stderr ("" if it never does).
std::string apiBase(BackgroundRiposte& serve) {
  std::smatch m;
  static const std::regex re(R"(api listening on http://[0-9.]+:([0-9]+))");
  std::string err;
  if (!waitFor([&] {
        err = serve.err();
        return std::regex_search(err, m, re);
      })) {
    return "";
  }
  return "http://127.0.0.1:" + std::string(m[1]) + "/api/v1";
}

// One API request with a bearer token: {HTTP status (0 when none came), body}.
std::pair<long, std::string> apiRequest(const std::string& method, const std::string& url,
                                        const std::string& token) {
  std::string body;
  CURL* c = curl_easy_init();
  curl_slist* h = curl_slist_append(nullptr, ("Authorization: Bearer " + token).c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(
      c, CURLOPT_WRITEFUNCTION, +[](char* p, size_t n, size_t k, void* out) -> size_t {
        static_cast<std::string*>(out)->append(p, n * k);
        return n * k;
      });
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  long code = 0;
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return {code, body};
}

TEST(IntelSync, FetchesFeedsThenLookupFindsTheirIndicators) {
  auto otx = FakeOtx::load();
  auto taxii = FakeTaxii::load();
  RIPOSTE_REQUIRE_CORPUS(drop, "blocklists/firehol/spamhaus_drop.netset");
  if (!otx || !taxii) GTEST_SKIP() << "corpora absent: OTX/TAXII payloads not found";
  const std::string netset = readFile(drop);
  HttpServer server;
  const std::string base = server.url("");
  server.setHandler([&](const HttpRequest& r) -> HttpReply {
    if (r.target().rfind("/api/v1/", 0) == 0) return otx->handle(r, base);
    if (r.target() == "/drop.netset") {
      if (r.headers.count("if-none-match") != 0 && r.headers.at("if-none-match") == "\"d1\"") {
        return {304, {{"ETag", "\"d1\""}}, ""};
      }
      return {200, {{"ETag", "\"d1\""}}, netset};
    }
    if (r.target() == "/gone.txt") return {404, {}, "not found"};
    return taxii->handle(r, base);
  });
  TempDir dir;
  const auto cfg = dir.path() / "riposte.yaml";
  const auto db = dir.path() / "intel.db";
  {
    std::ofstream out(cfg);
    out << "intel:\n"
        << "  db: " << db.string() << "\n"
        << "  feeds:\n"
        << "    - name: otx\n"
        << "      type: otx\n"
        << "      url: " << base << "\n"
        << "      api_key: testing\n"
        << "      since: 3650d\n"
        << "    - name: taxii\n"
        << "      type: taxii\n"
        << "      url: " << base << "/taxii2/\n"
        << "      collection: High Value Indicator Collection\n"
        << "      username: user1\n"
        << "      password: Password1\n"
        << "      page_size: 1\n"
        << "    - name: spamhaus-drop\n"
        << "      type: http\n"
        << "      url: " << base << "/drop.netset\n"
        << "      format: list\n"
        << "    - name: gone\n"
        << "      type: http\n"
        << "      url: " << base << "/gone.txt\n"
        << "      attempts: 1\n";
  }
  auto sync = runRiposte({"intel", "sync", "--config", cfg.string()});
  EXPECT_EQ(sync.exit_code, 1) << sync.err;  // one feed failed; the others are stored
  auto report = nlohmann::json::parse(sync.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << sync.out << sync.err;
  ASSERT_EQ(report["feeds"].size(), 4u);
  EXPECT_EQ(report["feeds"][0]["status"], "ok") << report.dump(2);
  EXPECT_EQ(report["feeds"][1]["status"], "ok") << report.dump(2);
  EXPECT_EQ(report["feeds"][2]["status"], "ok") << report.dump(2);
  EXPECT_EQ(report["feeds"][3]["status"], "error");
  EXPECT_NE(report["feeds"][3]["error"].get<std::string>().find("HTTP 404"), std::string::npos);
  EXPECT_NE(sync.err.find("intel feed gone"), std::string::npos) << sync.err;

  auto look = runRiposte({"intel", "lookup", "177add288b289d43236d2dba33e65956", "--db", db});
  ASSERT_EQ(look.exit_code, 0) << look.out << look.err;
  auto j = nlohmann::json::parse(look.out);
  ASSERT_EQ(j["matches"].size(), 1u);
  EXPECT_EQ(j["matches"][0]["sources"][0]["source"], "otx");
  EXPECT_EQ(j["matches"][0]["sources"][0]["reference"], "64e38336d783f91d6948a7b1");

  look = runRiposte({"intel", "lookup", "http://x4z9arb.cn/4712", "--db", db});
  ASSERT_EQ(look.exit_code, 0) << look.out << look.err;
  j = nlohmann::json::parse(look.out);
  EXPECT_EQ(j["matches"][0]["sources"][0]["reference"],
            "indicator--6770298f-0fd8-471a-ab8c-1c658a46574e");

  // An address inside the first DROP range of the netset.
  look = runRiposte({"intel", "lookup", "1.10.16.1", "--db", db});
  ASSERT_EQ(look.exit_code, 0) << look.out << look.err;

  // Only one feed, and a conditional GET the second time: nothing changes.
  const size_t before = server.requests().size();
  sync = runRiposte({"intel", "sync", "--config", cfg.string(), "--feed", "spamhaus-drop"});
  EXPECT_EQ(sync.exit_code, 0) << sync.err;
  report = nlohmann::json::parse(sync.out);
  ASSERT_EQ(report["feeds"].size(), 1u);
  EXPECT_EQ(report["feeds"][0]["status"], "not_modified");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), before + 1);
  EXPECT_EQ(reqs.back().headers["if-none-match"], "\"d1\"");
  look = runRiposte({"intel", "lookup", "1.10.16.1", "--db", db});
  EXPECT_EQ(look.exit_code, 0);

  auto unknown = runRiposte({"intel", "sync", "--config", cfg.string(), "--feed", "nope"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("no feed named 'nope'"), std::string::npos) << unknown.err;
}

// `serve` with intel.feeds: the collector thread fetches the list and publishes the snapshot the
// intel detector follows; an address the feed adds while serve runs is blocked.
TEST(IntelSync, ServeCollectsFeedsOnScheduleAndBlocksTheirAddresses) {
  HttpServer server;
  std::atomic<int> version{1};
  server.setHandler([&](const HttpRequest&) -> HttpReply {
    // Public addresses (indicators are data here; no traffic is sent anywhere).
    if (version == 1) return {200, {}, "# c2\n185.220.101.4\n"};
    return {200, {}, "# c2\n185.220.101.4\n45.155.205.77\n"};
  });
  TempDir dir;
  const auto log = dir.path() / "auth.log";
  std::ofstream(log) << "";
  const auto actions = dir.path() / "actions.jsonl";
  const auto cfg = dir.path() / "serve.yaml";
  {
    std::ofstream out(cfg);
    out << "store:\n  path: " << (dir.path() / "riposte.db").string() << "\n"
        << "sources:\n  - name: auth\n    type: file\n    path: " << log.string()
        << "\n    parser: sshd\n    start_at: end\n    year: 2025\n"
        << "detectors:\n  - name: intel\n    type: intel\n    db: "
        << (dir.path() / "intel.db").string() << "\n    block_score: 1\n"
        << "actions:\n  - name: log\n    type: log\n    path: " << actions.string() << "\n"
        << "intel:\n  feeds:\n    - name: c2\n      type: http\n      url: "
        << server.url("/c2.txt") << "\n      format: list\n      interval: 1s\n";
  }
  BackgroundRiposte serve({"--log-level", "info", "serve", "--config", cfg.string()});
  ASSERT_TRUE(waitFor([&] {
    return serve.err().find("intel feed c2: 1 indicators") != std::string::npos;
  })) << serve.err();
  ASSERT_TRUE(waitFor([&] { return serve.err().find("serving") != std::string::npos; }))
      << serve.err();
  version = 2;  // the next scheduled run brings a second address
  ASSERT_TRUE(waitFor([&] {
    return serve.err().find("intel feed c2: 2 indicators") != std::string::npos;
  })) << serve.err();
  std::ofstream(log, std::ios::app)
      << "Mar  3 10:00:01 web1 sshd[2]: Failed password for root from 45.155.205.77 port 5001 "
         "ssh2\n";
  ASSERT_TRUE(waitFor([&] {
    const std::string a = readFile(actions);
    return a.find("45.155.205.77") != std::string::npos;
  })) << serve.err();
  EXPECT_NE(readFile(actions).find("would-enforce"), std::string::npos) << readFile(actions);
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.err();
  EXPECT_GE(server.requests().size(), 2u);
}

}  // namespace
// `config check` reads intel.feeds as serve would (errors with file:line:col and key path);
// `replay` matches against the stored indicators and never fetches the feeds.
TEST(IntelSync, ConfigCheckValidatesFeedsAndReplayDoesNotFetch) {
  HttpServer server;
  server.setHandler([&](const HttpRequest&) -> HttpReply {
    return {200, {}, "# c2\n45.155.205.77\n"};  // an indicator (data only; no traffic goes there)
  });
  TempDir dir;
  const auto bad = dir.path() / "bad.yaml";
  std::ofstream(bad) << "intel:\n  feeds:\n    - name: c2\n      type: gopher\n"
                     << "      url: " << server.url("/c2.txt") << "\n"
                     << "    - name: otx\n      type: otx\n      endpoint: everything\n";
  auto check = runRiposte({"config", "check", bad.string()});
  EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
  EXPECT_NE(check.err.find("bad.yaml:4:13: intel.feeds[0].type: unknown feed type 'gopher'"),
            std::string::npos)
      << check.err;
  EXPECT_NE(check.err.find("intel.feeds[1].api_key: is required"), std::string::npos) << check.err;
  EXPECT_NE(check.err.find("intel.feeds[1].endpoint: unknown OTX endpoint 'everything'"),
            std::string::npos)
      << check.err;
  EXPECT_NE(check.err.find("3 error(s)"), std::string::npos) << check.err;

  const auto cfg = dir.path() / "good.yaml";
  std::ofstream(cfg) << "detectors:\n  - name: intel\n    type: intel\n    db: "
                     << (dir.path() / "intel.db").string() << "\n    block_score: 1\n"
                     << "intel:\n  feeds:\n    - name: c2\n      type: http\n      url: "
                     << server.url("/c2.txt") << "\n      format: list\n      interval: 1s\n";
  check = runRiposte({"config", "check", cfg.string()});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.out.find("1 intel feed(s)"), std::string::npos) << check.out;
  EXPECT_TRUE(server.requests().empty());  // checking fetches nothing

  auto sync = runRiposte({"intel", "sync", "--config", cfg.string()});
  ASSERT_EQ(sync.exit_code, 0) << sync.err;
  ASSERT_EQ(server.requests().size(), 1u);
  const auto log = dir.path() / "auth.log";
  std::ofstream(log) << "Mar  3 10:00:01 web1 sshd[2]: Failed password for root from "
                        "45.155.205.77 port 5001 ssh2\n";
  auto replay = runRiposte({"replay", "--config", cfg.string(), "--year", "2025", log.string()});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_NE(replay.out.find("45.155.205.77"), std::string::npos) << replay.out;
  EXPECT_NE(replay.out.find("intel"), std::string::npos) << replay.out;
  EXPECT_EQ(server.requests().size(), 1u);  // the replay used the stored indicator only
}

// GET /api/v1/intel/feeds on a running serve: every configured feed with the health recorded
// by the collector (here by `intel sync`), no URL (it may carry a key), no cursor.
TEST(IntelSync, ApiListsFeedsWithTheirRecordedHealth) {
  HttpServer server;
  server.setHandler([](const HttpRequest& r) -> HttpReply {
    if (r.target() == "/c2.txt") return {200, {}, "# c2\n45.155.205.77\n185.220.101.4\n"};
    return {404, {}, "not found"};
  });
  TempDir dir;
  const auto cfg = dir.path() / "riposte.yaml";
  std::ofstream(cfg) << "store:\n  path: " << (dir.path() / "r.db").string() << "\n"
                     << "intel:\n  db: " << (dir.path() / "intel.db").string() << "\n  feeds:\n"
                     << "    - {name: c2, type: http, url: \"" << server.url("/c2.txt?key=s3cret")
                     << "\", interval: 15m}\n"
                     << "    - {name: gone, type: http, url: \"" << server.url("/gone.txt")
                     << "\", attempts: 1}\n"
                     << "    - {name: later, type: http, url: \"" << server.url("/later.txt")
                     << "\", enabled: false}\n";
  auto sync = runRiposte({"intel", "sync", "--config", cfg.string()});
  ASSERT_EQ(sync.exit_code, 1) << sync.err;  // "gone" failed, "c2" stored
  ASSERT_EQ(runRiposte({"user", "add", "--config", cfg.string(), "--role", "viewer", "vera"},
                       "a long passphrase\n")
                .exit_code,
            0);
  auto tok = runRiposte({"token", "create", "--config", cfg.string(), "--user", "vera"});
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  const std::string token = tok.out.substr(0, tok.out.find('\n'));
  BackgroundRiposte serve({"serve", "--config", cfg.string(), "--listen", "127.0.0.1:0"});
  const std::string base = apiBase(serve);
  ASSERT_FALSE(base.empty()) << serve.err();
  const auto [code, body] = apiRequest("GET", base + "/intel/feeds", token);
  ASSERT_EQ(code, 200) << body << serve.err();
  auto j = nlohmann::json::parse(body);
  ASSERT_EQ(j["items"].size(), 3u) << j.dump(2);
  const auto& c2 = j["items"][0];
  EXPECT_EQ(c2["name"], "c2");
  EXPECT_EQ(c2["type"], "http");
  EXPECT_EQ(c2["interval_s"], 900);
  EXPECT_EQ(c2["healthy"], true);
  EXPECT_EQ(c2["indicators"], 2);
  EXPECT_TRUE(c2["last_success"].is_string()) << c2.dump();
  EXPECT_FALSE(c2.contains("url"));
  EXPECT_FALSE(c2.contains("cursor"));
  EXPECT_EQ(body.find("s3cret"), std::string::npos);
  const auto& gone = j["items"][1];
  EXPECT_EQ(gone["healthy"], false);
  EXPECT_NE(gone["last_error"].get<std::string>().find("404"), std::string::npos) << gone.dump();
  EXPECT_EQ(gone["consecutive_failures"], 1);
  const auto& later = j["items"][2];
  EXPECT_EQ(later["enabled"], false);
  EXPECT_TRUE(later["healthy"].is_null());  // never ran
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.err();
}

// POST /api/v1/intel/feeds/{name}/sync and /intel/sync on a running serve: the feed runs at
// once instead of in an hour (the local server sees the second request, the recorded health
// shows the run); viewers are refused, an unknown feed is 404, a disabled one 409; audited.
TEST(IntelSync, ApiRunsAFeedNowOnRequest) {
  HttpServer server;
  std::atomic<int> fetched{0};
  server.setHandler([&](const HttpRequest& r) -> HttpReply {
    if (r.target() == "/c2.txt") {
      const int n = ++fetched;
      return {200, {}, "# c2\n45.155.205.77\n" + (n > 1 ? std::string("185.220.101.4\n") : "")};
    }
    return {404, {}, "not found"};
  });
  TempDir dir;
  const auto cfg = dir.path() / "riposte.yaml";
  std::ofstream(cfg) << "store:\n  path: " << (dir.path() / "r.db").string() << "\n"
                     << "detectors:\n  - name: intel\n    type: intel\n    db: "
                     << (dir.path() / "intel.db").string() << "\n"
                     << "intel:\n  feeds:\n"
                     << "    - {name: c2, type: http, format: list, url: \""
                     << server.url("/c2.txt") << "\", interval: 1h}\n"
                     << "    - {name: later, type: http, url: \"" << server.url("/later.txt")
                     << "\", enabled: false}\n";
  std::map<std::string, std::string> tokens;
  for (const char* role : {"viewer", "analyst"}) {
    const std::string user = std::string("u-") + role;
    ASSERT_EQ(runRiposte({"user", "add", "--config", cfg.string(), "--role", role, user},
                         "a long passphrase\n")
                  .exit_code,
              0);
    auto tok = runRiposte({"token", "create", "--config", cfg.string(), "--user", user});
    ASSERT_EQ(tok.exit_code, 0) << tok.err;
    tokens[role] = tok.out.substr(0, tok.out.find('\n'));
  }
  BackgroundRiposte serve({"serve", "--config", cfg.string(), "--listen", "127.0.0.1:0"});
  const std::string base = apiBase(serve);
  ASSERT_FALSE(base.empty()) << serve.err();
  auto call = [&](const std::string& method, const std::string& path, const std::string& role) {
    return apiRequest(method, base + path, tokens[role]);
  };
  auto indicators = [&]() -> int {
    auto [code, body] = call("GET", "/intel/feeds", "viewer");
    if (code != 200) return -1;
    auto j = nlohmann::json::parse(body);
    for (const auto& f : j["items"]) {
      if (f["name"] == "c2") return f.value("indicators", -1);
    }
    return -1;
  };
  // The first run is at start; the next would be in an hour.
  ASSERT_TRUE(waitFor([&] { return indicators() == 1; })) << serve.err();
  EXPECT_EQ(fetched.load(), 1);

  auto viewer = call("POST", "/intel/feeds/c2/sync", "viewer");
  EXPECT_EQ(viewer.first, 403) << viewer.second;
  auto unknown = call("POST", "/intel/feeds/nope/sync", "analyst");
  EXPECT_EQ(unknown.first, 404) << unknown.second;
  auto disabled = call("POST", "/intel/feeds/later/sync", "analyst");
  EXPECT_EQ(disabled.first, 409) << disabled.second;
  EXPECT_NE(disabled.second.find("disabled"), std::string::npos) << disabled.second;
  EXPECT_EQ(fetched.load(), 1);

  auto ok = call("POST", "/intel/feeds/c2/sync", "analyst");
  ASSERT_EQ(ok.first, 202) << ok.second;
  EXPECT_EQ(nlohmann::json::parse(ok.second)["feed"], "c2");
  ASSERT_TRUE(waitFor([&] { return indicators() == 2; })) << serve.err();
  EXPECT_EQ(fetched.load(), 2);
  auto all = call("POST", "/intel/sync", "analyst");
  ASSERT_EQ(all.first, 202) << all.second;
  ASSERT_TRUE(waitFor([&] { return fetched.load() == 3; })) << serve.err();
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.err();

  auto audit = runRiposte({"audit", "--config", cfg.string(), "show", "--kind", "intel."});
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  EXPECT_NE(audit.out.find("run of feed c2 requested"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("api:u-analyst"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("run of every enabled feed requested"), std::string::npos);
  EXPECT_EQ(audit.out.find("u-viewer"), std::string::npos);
}

}  // namespace riposte::testing

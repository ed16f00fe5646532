// `riposte intel sync` against local OTX / TAXII 2.1 / plain-list servers serving the corpora's
// payloads, then `riposte intel lookup` finding what was fetched.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/feed_fakes.h"
#include "support/http_server.h"
#include "support/test_support.h"

namespace riposte::testing {
namespace {

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

}  // namespace
}  // namespace riposte::testing

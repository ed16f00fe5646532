// The rule-set history over real HTTP: the start-up load and a reload with its diff, one load
// with its text, pages, roles.
#include "api_fixture.h"

namespace riposte::api {
namespace {

void writeRule(const std::filesystem::path& p, const std::string& user) {
  std::ofstream(p) << "rules:\n  - id: deny-" << user << "\n    kinds: [auth]\n    match:\n"
                   << "      user.name: " << user << "\n    severity: 5\n    action: block\n"
                   << "    reason: \"{source.ip} tried " << user << "\"\n";
}

TEST(ApiHistory, RuleLoadsAreListedWithTheirDiff) {
  testing::TempDir dir;
  const auto rules = dir.path() / "deny.yaml";
  writeRule(rules, "oracle");
  ApiServer srv(
      "", "",
      "detectors:\n  - name: rules\n    type: rules\n    paths: [" + rules.string() + "]\n");
  auto first = srv.call("GET", "/api/v1/rules/history", "viewer");
  ASSERT_EQ(first.status, 200) << first.body;
  auto items = bodyJson(first)["items"];
  ASSERT_EQ(items.size(), 1u) << first.body;
  EXPECT_EQ(items[0]["actor"], "engine");
  EXPECT_EQ(items[0]["files"], nlohmann::json::array({rules.string()}));
  EXPECT_EQ(items[0]["changed"], true);
  EXPECT_EQ(items[0]["summary"], "1 rule(s) loaded");
  EXPECT_FALSE(items[0].contains("content"));

  writeRule(rules, "postgres");
  auto reload = srv.call("POST", "/api/v1/rules/reload", "admin");
  ASSERT_EQ(reload.status, 200) << reload.body;
  auto second = srv.call("GET", "/api/v1/rules/history", "viewer");
  items = bodyJson(second)["items"];
  ASSERT_EQ(items.size(), 2u) << second.body;
  EXPECT_EQ(items[0]["actor"], "api:admin");
  EXPECT_NE(items[0]["hash"], items[1]["hash"]);
  const std::string diff = items[0]["diff"];
  EXPECT_NE(diff.find("-  - id: deny-oracle\n+  - id: deny-postgres\n"), std::string::npos) << diff;
  EXPECT_NE(diff.find("--- a/" + rules.string()), std::string::npos) << diff;

  const std::string id = std::to_string(items[0]["id"].get<int64_t>());
  auto one = srv.call("GET", "/api/v1/rules/history/" + id, "viewer");
  ASSERT_EQ(one.status, 200) << one.body;
  const std::string content = bodyJson(one)["content"];
  EXPECT_EQ(content.rfind("=== " + rules.string() + "\nrules:\n", 0), 0u) << content;
  EXPECT_NE(content.find("deny-postgres"), std::string::npos);

  // Pages: one item, then the next from its cursor.
  auto page = bodyJson(srv.call("GET", "/api/v1/rules/history?limit=1", "viewer"));
  ASSERT_EQ(page["items"].size(), 1u);
  ASSERT_TRUE(page["next_cursor"].is_string());
  auto next = bodyJson(srv.call(
      "GET", "/api/v1/rules/history?limit=1&cursor=" + page["next_cursor"].get<std::string>(),
      "viewer"));
  ASSERT_EQ(next["items"].size(), 1u);
  EXPECT_EQ(next["items"][0]["id"], items[1]["id"]);

  EXPECT_EQ(srv.call("GET", "/api/v1/rules/history/999999", "viewer").status, 404);
  EXPECT_EQ(srv.call("GET", "/api/v1/rules/history/x", "viewer").status, 404);
  // A rules load is not a configuration load.
  EXPECT_EQ(srv.call("GET", "/api/v1/config/history/" + id, "admin").status, 404);
  // The configuration's history is for admins.
  EXPECT_EQ(srv.call("GET", "/api/v1/config/history", "viewer").status, 403);
  EXPECT_EQ(srv.call("GET", "/api/v1/config/history", "admin").status, 200);
}

}  // namespace
}  // namespace riposte::api

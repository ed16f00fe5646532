// The authorisation matrix: every role against every route, over real HTTP. The allowed roles
// come from the OpenAPI document (which openapi_test ties to the router).
#include <set>

#include "api_fixture.h"
#include "riposte/api/service.h"

namespace riposte::api {
namespace {

std::string concrete(std::string path) {
  for (const char* p : {"{id}", "{name}"}) {
    const size_t at = path.find(p);
    if (at != std::string::npos) path.replace(at, std::string(p).size(), "nonexistent");
  }
  return path;
}

TEST(ApiAuthz, EveryRoleAgainstEveryRoute) {
  ApiServer srv;
  const auto doc = nlohmann::json::parse(openApiDocument());
  int checked = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method_lc, op] : item.items()) {
      std::string method = method_lc;
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      std::set<std::string> allowed;
      for (const auto& r : op["x-roles"]) allowed.insert(r.get<std::string>());
      const bool is_public = allowed.empty();
      const std::string target = concrete(path);
      const bool stream = path == "/api/v1/stream";
      for (const std::string role : {"", "viewer", "analyst", "admin", "ingest"}) {
        std::vector<std::pair<std::string, std::string>> h;
        if (!role.empty()) h.emplace_back("Authorization", "Bearer " + srv.token(role));
        // A body that is valid JSON but names nothing real: allowed callers get 4xx from the
        // handler (400/404/409), never 401/403; others are refused before it runs.
        const std::string body = method == "GET" || method == "DELETE" ? "" : "{}";
        auto r = testing::httpRequest(srv.port(), method, target, body, h, stream ? 700 : 10000);
        const std::string who = method + " " + target + " as '" + role + "'";
        ASSERT_NE(r.status, 0) << who << ": no answer";
        if (is_public) {
          EXPECT_NE(r.status, 401) << who;
          EXPECT_NE(r.status, 403) << who;
        } else if (role.empty()) {
          EXPECT_EQ(r.status, 401) << who;
          EXPECT_EQ(errorCode(r), "unauthenticated") << who;
        } else if (allowed.count(role) == 0) {
          EXPECT_EQ(r.status, 403) << who << " " << r.body;
          EXPECT_EQ(errorCode(r), "forbidden") << who;
        } else {
          EXPECT_NE(r.status, 401) << who << " " << r.body;
          EXPECT_NE(r.status, 403) << who << " " << r.body;
          EXPECT_LT(r.status, 500) << who << " " << r.body;
        }
        // A viewer never writes.
        if (role == "viewer" && method != "GET" && path != "/api/v1/auth/logout" && !is_public) {
          EXPECT_EQ(r.status, 403) << who;
        }
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 5 * 30);
  // The incident routes are in the matrix: reads for every reader, status changes for
  // analysts and admins only.
  ASSERT_TRUE(doc["paths"].contains("/api/v1/incidents/{id}/status"));
  EXPECT_EQ(doc["paths"]["/api/v1/incidents/{id}/status"]["post"]["x-roles"],
            nlohmann::json::array({"analyst", "admin"}));
  EXPECT_EQ(doc["paths"]["/api/v1/incidents"]["get"]["x-roles"],
            nlohmann::json::array({"viewer", "analyst", "admin"}));
  // Nothing a refused caller sent changed anything: the only audited API writes are the
  // allowed callers' (no viewer, no anonymous).
  auto audit = srv.call("GET", "/api/v1/audit?limit=1000", "admin");
  ASSERT_EQ(audit.status, 200);
  for (const auto& e : bodyJson(audit)["items"]) {
    EXPECT_NE(e["actor"], "api:viewer") << e.dump();
    EXPECT_NE(e["actor"], "api:") << e.dump();
  }
}

}  // namespace
}  // namespace riposte::api

// The OpenAPI document and the router agree: every registered route (method, path, roles) is
// documented, and the document lists nothing the server lacks.
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "riposte/api/service.h"

namespace riposte::api {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::set<std::string> rolesOf(RoleMask m) {
  std::set<std::string> out;
  for (Role r : {Role::kViewer, Role::kAnalyst, Role::kAdmin, Role::kIngest}) {
    if (allows(m, r)) out.insert(std::string(roleName(r)));
  }
  return out;
}

TEST(OpenApi, EveryRouteIsDocumentedAndViceVersa) {
  Config cfg;
  ApiDeps deps;
  deps.config = &cfg;
  ApiService svc(deps);
  const auto doc = nlohmann::json::parse(openApiDocument(), nullptr, false);
  ASSERT_TRUE(doc.is_object()) << "the OpenAPI document is not valid JSON";
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");

  std::set<std::string> routes;
  for (const auto& r : svc.router().routes()) {
    const std::string key = r.method + " " + r.pattern;
    EXPECT_TRUE(routes.insert(key).second) << "registered twice: " << key;
    ASSERT_TRUE(doc["paths"].contains(r.pattern)) << "undocumented path " << r.pattern;
    const auto& item = doc["paths"][r.pattern];
    ASSERT_TRUE(item.contains(lower(r.method))) << "undocumented operation " << key;
    const auto& op = item[lower(r.method)];
    std::set<std::string> documented;
    for (const auto& x : op["x-roles"]) documented.insert(x.get<std::string>());
    EXPECT_EQ(documented, rolesOf(r.roles)) << "roles of " << key;
    // Path parameters are declared.
    for (const auto& seg : r.segments) {
      if (seg.front() != '{') continue;
      const std::string name = seg.substr(1, seg.size() - 2);
      bool found = false;
      for (const auto& p : op.value("parameters", nlohmann::json::array())) {
        found = found || (p["in"] == "path" && p["name"] == name);
      }
      EXPECT_TRUE(found) << key << " does not declare path parameter " << name;
    }
  }
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, _] : item.items()) {
      std::string m = method;
      for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      EXPECT_TRUE(routes.count(m + " " + path)) << "documented but not served: " << m << " " << path;
    }
  }
  EXPECT_GE(routes.size(), 30u);
}

TEST(OpenApi, ReferencedSchemasExist) {
  const auto doc = nlohmann::json::parse(openApiDocument());
  const std::string text = doc.dump();
  size_t pos = 0;
  const std::string prefix = "#/components/";
  while ((pos = text.find(prefix, pos)) != std::string::npos) {
    const size_t end = text.find('"', pos);
    const std::string ref = text.substr(pos + prefix.size(), end - pos - prefix.size());
    const size_t slash = ref.find('/');
    EXPECT_TRUE(doc["components"][ref.substr(0, slash)].contains(ref.substr(slash + 1)))
        << "dangling $ref " << ref;
    pos = end;
  }
}

}  // namespace
}  // namespace riposte::api

// Router: method + path pattern ("/api/v1/decisions/{id}/revoke") → handler, with the roles
// allowed to call it. Matching fills HttpRequest::params.
//
// Roles: viewer (read), analyst (viewer + approve, reject, revoke, extend, add decisions, mark
// findings false positive, ingest), admin (everything: users, tokens, rules, mode), ingest
// (only POST /api/v1/events — for log shippers). A route lists the roles allowed; `kPublic`
// routes need no authentication.
//
// Thread safety: fill once before serving; then read-only.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/api/http.h"

namespace riposte::api {

enum class Role : uint8_t { kViewer = 1, kAnalyst = 2, kAdmin = 4, kIngest = 8 };
std::string_view roleName(Role r);
std::optional<Role> roleFromName(std::string_view name);

// Sets of roles allowed on a route.
using RoleMask = uint8_t;
constexpr RoleMask kPublic = 0;
constexpr RoleMask kReaders = 1 | 2 | 4;  // viewer, analyst, admin
constexpr RoleMask kAnalysts = 2 | 4;
constexpr RoleMask kAdmins = 4;
constexpr RoleMask kIngesters = 2 | 4 | 8;
inline bool allows(RoleMask m, Role r) { return (m & static_cast<uint8_t>(r)) != 0; }

// Who is calling (after authentication).
struct Principal {
  std::string user;
  Role role = Role::kViewer;
  bool session = false;  // cookie session (CSRF applies to writes) or bearer token
  std::string session_hash;
  std::string csrf;
  std::string token_id;
  std::string actor() const { return "api:" + user; }
};

using Handler = std::function<HttpResponse(HttpRequest&, const Principal&)>;

struct Route {
  std::string method;
  std::string pattern;
  RoleMask roles = kReaders;
  Handler handler;
  std::vector<std::string> segments;  // pattern split on '/'
};

class Router {
 public:
  void add(std::string method, std::string pattern, RoleMask roles, Handler handler);

  enum class Match { kFound, kNoPath, kWrongMethod };
  // The route for the request; fills req.params.
  Match match(HttpRequest& req, const Route** out) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace riposte::api

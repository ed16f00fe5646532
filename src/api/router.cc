#include "riposte/api/router.h"

#include <array>

namespace riposte::api {

namespace {
std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= path.size()) {
    const size_t slash = path.find('/', i);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end > i) out.emplace_back(path.substr(i, end - i));
    if (slash == std::string_view::npos) break;
    i = slash + 1;
  }
  return out;
}

constexpr std::array<std::pair<Role, std::string_view>, 4> kRoles = {
    {{Role::kViewer, "viewer"},
     {Role::kAnalyst, "analyst"},
     {Role::kAdmin, "admin"},
     {Role::kIngest, "ingest"}}};
}  // namespace

std::string_view roleName(Role r) {
  for (const auto& [role, name] : kRoles) {
    if (role == r) return name;
  }
  return "unknown";
}

std::optional<Role> roleFromName(std::string_view name) {
  for (const auto& [role, n] : kRoles) {
    if (n == name) return role;
  }
  return std::nullopt;
}

void Router::add(std::string method, std::string pattern, RoleMask roles, Handler handler) {
  Route r;
  r.segments = split(pattern);
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.roles = roles;
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

Router::Match Router::match(HttpRequest& req, const Route** out) const {
  const auto segs = split(req.path);
  bool path_matched = false;
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      const std::string& p = r.segments[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        params[p.substr(1, p.size() - 2)] = segs[i];
      } else {
        ok = p == segs[i];
      }
    }
    if (!ok) continue;
    path_matched = true;
    if (r.method != req.method && !(req.method == "HEAD" && r.method == "GET")) continue;
    req.params = std::move(params);
    *out = &r;
    return Match::kFound;
  }
  return path_matched ? Match::kWrongMethod : Match::kNoPath;
}

}  // namespace riposte::api

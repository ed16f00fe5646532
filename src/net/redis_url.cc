#include "riposte/net/redis_url.h"

#include <charconv>

namespace riposte::net {

std::string RedisOptions::describe() const {
  return "redis " + host + ":" + std::to_string(port) + (db != 0 ? "/" + std::to_string(db) : "");
}

namespace {

bool parseInt(std::string_view s, int min, int max, int& out) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < min || v > max) return false;
  out = v;
  return true;
}

}  // namespace

Status parseRedisUrl(std::string_view url, RedisOptions& out) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Status::invalidArgument(
        "'" + std::string(url) + "' is not a redis:// URL (redis://[:password@]host[:port][/db])");
  }
  std::string_view rest = url.substr(kScheme.size());
  RedisOptions o = out;
  o.user.clear();
  o.password.clear();
  o.db = 0;
  o.port = 6379;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (auto colon = cred.find(':'); colon != std::string_view::npos) {
      o.user = std::string(cred.substr(0, colon));
      o.password = std::string(cred.substr(colon + 1));
    } else {
      o.password = std::string(cred);
    }
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty() && !parseInt(db, 0, 1 << 20, o.db)) {
      return Status::invalidArgument("redis URL: database '" + std::string(db) +
                                     "' is not a number");
    }
  }
  std::string_view host = rest;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    auto close = rest.find(']');
    if (close == std::string_view::npos) {
      return Status::invalidArgument("redis URL: unterminated '[' in host");
    }
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || !parseInt(rest.substr(1), 1, 65535, o.port)) {
        return Status::invalidArgument("redis URL: bad port '" + std::string(rest) + "'");
      }
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    if (!parseInt(rest.substr(colon + 1), 1, 65535, o.port)) {
      return Status::invalidArgument("redis URL: bad port '" + std::string(rest.substr(colon + 1)) +
                                     "'");
    }
  }
  if (host.empty()) return Status::invalidArgument("redis URL: no host");
  o.host = std::string(host);
  out = std::move(o);
  return Status::ok();
}

}  // namespace riposte::net

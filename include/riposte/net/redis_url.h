// RedisOptions: where a Redis server is and how to talk to it, read from a URL
//   redis://[[user]:password@]host[:port][/db]
// plus the connection's timeouts and reconnect backoff.
//
// Thread safety: value type and a pure function.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "riposte/core/status.h"

namespace riposte::net {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user;      // Redis 6 ACL user; empty = default user
  std::string password;  // empty = no AUTH
  int db = 0;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{2000};
  // After a failed connect, the next attempt waits backoff_initial, doubling to backoff_max.
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};

  // "host:port/db" without the password, for messages.
  std::string describe() const;
};

// Parses a redis:// URL into `out` (keeping its timeouts). Errors name what is wrong.
Status parseRedisUrl(std::string_view url, RedisOptions& out);

}  // namespace riposte::net

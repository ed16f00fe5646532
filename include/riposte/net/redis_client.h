// RedisClient: one synchronous connection to a Redis server on hiredis.
//
// Every call reports failure as a Status (no exceptions): a connection error, a timeout or an
// error reply ("-ERR ...") names the server and the command. A broken connection is dropped and
// re-established by the next call, but not sooner than the reconnect backoff allows (doubling
// from RedisOptions::backoff_initial to backoff_max, reset by a successful connect), so a
// caller that retries in a loop does not hammer a server that is down: within the backoff a
// call fails at once with kUnavailable. pipeline() sends several commands in one write and
// reads their replies in order. For pub/sub, subscribe() and then readPush() with a timeout.
//
// Thread safety: a client is used by one thread at a time.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/net/redis_reply.h"
#include "riposte/net/redis_url.h"

struct redisContext;

namespace riposte::net {

using RedisCommand = std::vector<std::string>;

class RedisClient {
 public:
  explicit RedisClient(RedisOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Connects now (AUTH and SELECT when configured), ignoring the backoff.
  Status connect();
  // Connects when not connected and the backoff allows; OK when connected.
  Status ensureConnected();
  void disconnect();
  bool connected() const { return ctx_ != nullptr; }

  // Runs one command. An error reply is returned as an error Status (the connection stays up).
  Result<RedisReply> command(const RedisCommand& argv);
  // Sends every command at once, then reads the replies in order. The Status fails only when
  // the connection does; error replies come back as RedisReply::Type::kError elements.
  Result<std::vector<RedisReply>> pipeline(const std::vector<RedisCommand>& commands);

  // SUBSCRIBE to channels (the connection then only receives pushes).
  Status subscribe(const std::vector<std::string>& channels);
  // Waits up to `timeout` for the next pushed message; nullopt when none came in time.
  Result<std::optional<RedisReply>> readPush(std::chrono::milliseconds timeout);

  const RedisOptions& options() const { return options_; }
  // Connections established so far (the first one included).
  uint64_t connects() const { return connects_; }
  const std::string& lastError() const { return last_error_; }

 private:
  Status fail(const std::string& what);

  RedisOptions options_;
  redisContext* ctx_ = nullptr;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::milliseconds backoff_{0};
  uint64_t connects_ = 0;
  std::string last_error_;
};

}  // namespace riposte::net

// A real redis-server (the Debian package) for one test: listens on a free loopback port, keeps
// its files in a temporary directory, saves nothing unless persistence is asked for, and is
// stopped when the object dies. stop() and start() again reuse the same port, so a test can
// simulate an outage and the server's return.
//
// Thread safety: one test thread drives an instance.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "support/test_support.h"

namespace riposte::testing {

struct RedisServerOptions {
  // appendonly with fsync on every write: the data set survives stop()/start().
  bool persistence = false;
};

class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // The redis-server binary, or nullopt when it is not installed.
  static std::optional<std::filesystem::path> binary();

  // Starts the server (on the same port after a stop()) and waits until it answers PING.
  // Returns false, with the reason in error(), when it does not come up within 10 s.
  bool start();
  // Stops it with SIGTERM (SIGKILL after 5 s); the port stays reserved for start().
  void stop();
  // SIGKILL, as in a crash.
  void kill();
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  const std::string& error() const { return error_; }
  // The server's log (for failure messages).
  std::string log() const;

 private:
  void waitExit(int timeout_ms);

  RedisServerOptions options_;
  TempDir dir_;
  int port_ = 0;
  int pid_ = -1;
  std::string error_;
};

}  // namespace riposte::testing

// Skips the current test with a clear message when redis-server is not installed; otherwise
// declares `var`, a started RedisServer (failing the test when it cannot start).
#define RIPOSTE_REQUIRE_REDIS(var, ...)                                             \
  if (!::riposte::testing::RedisServer::binary())                                   \
    GTEST_SKIP() << "redis-server absent: install the Debian package redis-server " \
                    "(scripts/setup) to run this test";                             \
  ::riposte::testing::RedisServer var{__VA_ARGS__};                                 \
  ASSERT_TRUE(var.start()) << var.error() << "\n" << var.log()

#include "support/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

extern char** environ;

namespace riposte::testing {

namespace {

int freeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

// One PING over a fresh connection; true on "+PONG".
bool pingOk(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const char ping[] = "PING\r\n";
    if (write(fd, ping, sizeof ping - 1) == static_cast<ssize_t>(sizeof ping - 1)) {
      pollfd p{fd, POLLIN, 0};
      char buf[64];
      if (poll(&p, 1, 500) == 1) {
        const ssize_t n = read(fd, buf, sizeof buf);
        ok = n >= 5 && std::string(buf, 5) == "+PONG";
      }
    }
  }
  close(fd);
  return ok;
}

}  // namespace

std::optional<std::filesystem::path> RedisServer::binary() {
  for (const char* p : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"}) {
    if (access(p, X_OK) == 0) return std::filesystem::path(p);
  }
  return std::nullopt;
}

RedisServer::RedisServer(RedisServerOptions options) : options_(options) {}

RedisServer::~RedisServer() { stop(); }

std::string RedisServer::log() const { return readFile(dir_.path() / "redis.log"); }

bool RedisServer::start() {
  if (pid_ > 0) return true;
  auto bin = binary();
  if (!bin) {
    error_ = "redis-server not installed";
    return false;
  }
  if (port_ == 0) port_ = freeLoopbackPort();
  const std::string dir = dir_.path().string();
  std::vector<std::string> args = {bin->string(),
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--dir",
                                   dir,
                                   "--logfile",
                                   dir + "/redis.log",
                                   "--daemonize",
                                   "no",
                                   "--protected-mode",
                                   "no",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   options_.persistence ? "yes" : "no"};
  if (options_.persistence) {
    args.insert(args.end(), {"--appendfsync", "always"});
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    error_ = "posix_spawn redis-server failed: " + std::to_string(rc);
    return false;
  }
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pingOk(port_)) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "redis-server exited during start (port " + std::to_string(port_) + ")";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  error_ = "redis-server did not answer PING within 10 s on port " + std::to_string(port_);
  kill();
  return false;
}

void RedisServer::waitExit(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (pid_ > 0) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void RedisServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  waitExit(5000);
  if (pid_ > 0) kill();
}

void RedisServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  waitExit(5000);
  if (pid_ > 0) {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

}  // namespace riposte::testing

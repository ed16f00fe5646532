#include "support/netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace riposte::testing {

int runProgram(const std::vector<std::string>& argv, std::string* out) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
  posix_spawn_file_actions_addclose(&fa, pipefd[0]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(pipefd[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  if (out != nullptr) *out = text;
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

NetnsPair::NetnsPair(int subnet) : subnet_(subnet) {
  const std::string tag = std::to_string(getpid());
  server_ = "rp-srv-" + tag;
  client_ = "rp-cli-" + tag;
  const std::string v0 = "rpv0-" + tag, v1 = "rpv1-" + tag;
  std::string out;
  const std::vector<std::vector<std::string>> steps = {
      {"ip", "netns", "add", server_},
      {"ip", "netns", "add", client_},
      {"ip", "link", "add", v0, "type", "veth", "peer", "name", v1},
      {"ip", "link", "set", v0, "netns", server_},
      {"ip", "link", "set", v1, "netns", client_},
      {"ip", "-n", server_, "addr", "add", serverIp() + "/30", "dev", v0},
      {"ip", "-n", client_, "addr", "add", clientIp() + "/30", "dev", v1},
      {"ip", "-n", server_, "link", "set", v0, "up"},
      {"ip", "-n", client_, "link", "set", v1, "up"},
      {"ip", "-n", server_, "link", "set", "lo", "up"},
      {"ip", "-n", client_, "link", "set", "lo", "up"},
  };
  for (const auto& s : steps) {
    if (runProgram(s, &out) != 0) {
      std::string cmd;
      for (const auto& a : s) cmd += a + " ";
      error_ = "the kernel refused network namespaces (" + cmd + "): " + out;
      return;
    }
  }
}

NetnsPair::~NetnsPair() {
  runProgram({"ip", "netns", "del", server_});
  runProgram({"ip", "netns", "del", client_});
}

std::string NetnsPair::serverIp() const { return "10.251." + std::to_string(subnet_) + ".1"; }
std::string NetnsPair::clientIp() const { return "10.251." + std::to_string(subnet_) + ".2"; }

int NetnsPair::execInServer(const std::vector<std::string>& argv, std::string* out) const {
  std::vector<std::string> full = {"ip", "netns", "exec", server_};
  full.insert(full.end(), argv.begin(), argv.end());
  return runProgram(full, out);
}

NetnsGuard::NetnsGuard(const std::string& name) {
  orig_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int fd = open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (orig_ < 0 || fd < 0) {
    if (fd >= 0) close(fd);
    return;
  }
  ok_ = setns(fd, CLONE_NEWNET) == 0;
  close(fd);
}

NetnsGuard::~NetnsGuard() {
  if (orig_ >= 0) {
    if (ok_) (void)setns(orig_, CLONE_NEWNET);
    close(orig_);
  }
}

TcpListener::TcpListener(const std::string& ip, int port) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd_, 64) != 0) {
    close(fd_);
    fd_ = -1;
  }
}

TcpListener::~TcpListener() {
  if (fd_ >= 0) close(fd_);
}

bool tcpConnectFrom(const std::string& ns, const std::string& ip, int port, int timeout_ms) {
  bool connected = false;
  std::thread t([&] {
    NetnsGuard g(ns);
    if (!g.ok()) return;
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    if (rc == 0) {
      connected = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, timeout_ms) == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        connected = err == 0;
      }
    }
    close(fd);
  });
  t.join();
  return connected;
}

}  // namespace riposte::testing

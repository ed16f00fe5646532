// Network namespaces for tests: two namespaces ("server" and "client") joined by a veth pair on
// a private /30, created with `ip` (no shell) and always deleted by the destructor.
#pragma once

#include <string>
#include <vector>

namespace riposte::testing {

// Runs a program (no shell) and returns its exit code (-1 when it could not run); output goes
// to `out` when given.
int runProgram(const std::vector<std::string>& argv, std::string* out = nullptr);

class NetnsPair {
 public:
  // `subnet` is the third octet of 10.251.<subnet>.0/30.
  explicit NetnsPair(int subnet);
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  // Empty when ready; otherwise why not (the test skips with it).
  const std::string& error() const { return error_; }
  const std::string& server() const { return server_; }
  const std::string& client() const { return client_; }
  std::string serverIp() const;
  std::string clientIp() const;

  // Runs a command inside the server namespace (`ip netns exec`).
  int execInServer(const std::vector<std::string>& argv, std::string* out = nullptr) const;

 private:
  int subnet_;
  std::string server_, client_, error_;
};

// Moves the calling thread into a named namespace for its lifetime, then back.
class NetnsGuard {
 public:
  explicit NetnsGuard(const std::string& name);
  ~NetnsGuard();
  bool ok() const { return ok_; }

 private:
  int orig_ = -1;
  bool ok_ = false;
};

// A TCP listener bound in the namespace the calling thread is in.
class TcpListener {
 public:
  TcpListener(const std::string& ip, int port);
  ~TcpListener();
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Tries a TCP connection from inside namespace `ns` (on a helper thread); true when the
// handshake completes within `timeout_ms`.
bool tcpConnectFrom(const std::string& ns, const std::string& ip, int port, int timeout_ms = 700);

}  // namespace riposte::testing

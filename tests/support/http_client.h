// A minimal blocking HTTP/1.1 client for tests over loopback: one connection per request
// (Connection: close), or raw sockets for hostile-client tests.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace riposte::testing {

struct HttpReply {
  int status = 0;  // 0: no answer
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  bool timed_out = false;
};

// Sends one request to 127.0.0.1:port and reads the answer until the server closes (or
// `timeout_ms`, then `timed_out` is set with what arrived so far).
HttpReply httpRequest(int port, const std::string& method, const std::string& path,
                      const std::string& body = "",
                      const std::vector<std::pair<std::string, std::string>>& headers = {},
                      int timeout_ms = 10000);

// A raw TCP connection to 127.0.0.1:port (-1 on failure).
int connectLoopback(int port);
bool sendAll(int fd, const std::string& data);
// Reads what arrives within `timeout_ms` (stops early at `until` when given, or at EOF).
std::string readSome(int fd, int timeout_ms, const std::string& until = "");
// True when the peer closed the connection within `timeout_ms`.
bool waitClosed(int fd, int timeout_ms);

}  // namespace riposte::testing

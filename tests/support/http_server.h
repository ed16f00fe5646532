// A tiny HTTP/1.1 server on 127.0.0.1 for tests: records every request and answers with a
// configurable status, or hangs for a while before answering; or, with a handler, answers each
// request with what the handler returns (status, headers, body, a delay, a cut-off body).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace riposte::testing {

struct HttpRequest {
  std::string method, path, body;
  std::map<std::string, std::string> headers;  // names lower-cased

  // The path without its query, and one query parameter (percent-decoded; "" when absent).
  std::string target() const;
  std::string query(const std::string& name) const;
};

struct HttpReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int delay_ms = 0;       // before the status line
  bool truncate = false;  // announce the whole body but send only its first half, then close
};

// Decodes %XX escapes and '+' (query-string style).
std::string percentDecode(const std::string& s);

class HttpServer {
 public:
  HttpServer();  // listens on 127.0.0.1:<ephemeral port>
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "/") const;
  void setStatus(int s) { status_ = s; }
  void setHangMs(int ms) { hang_ms_ = ms; }
  // Answers every following request with handler(request) (status/hang settings then unused).
  void setHandler(std::function<HttpReply(const HttpRequest&)> handler);
  std::vector<HttpRequest> requests();

 private:
  void loop();
  void handle(int fd);

  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> status_{200};
  std::atomic<int> hang_ms_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<HttpRequest> requests_;
  std::function<HttpReply(const HttpRequest&)> handler_;  // under mu_
  std::vector<std::thread> conns_;
  std::thread thread_;
};

}  // namespace riposte::testing

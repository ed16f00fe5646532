// A tiny HTTP/1.1 server on 127.0.0.1 for tests: records every request and answers with a
// configurable status, or hangs for a while before answering.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace riposte::testing {

struct HttpRequest {
  std::string method, path, body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

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
  std::vector<std::thread> conns_;
  std::thread thread_;
};

}  // namespace riposte::testing

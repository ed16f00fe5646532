#include "support/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace riposte::testing {

HttpServer::HttpServer() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  listen(fd_, 16);
  socklen_t len = sizeof a;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { loop(); });
}

HttpServer::~HttpServer() {
  stop_ = true;
  thread_.join();
  close(fd_);
}

std::string HttpServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::string percentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const std::string hex = s.substr(i + 1, 2);
      if (hex.size() == 2 && std::isxdigit(static_cast<unsigned char>(hex[0])) &&
          std::isxdigit(static_cast<unsigned char>(hex[1]))) {
        out += static_cast<char>(std::stoi(hex, nullptr, 16));
        i += 2;
        continue;
      }
    }
    out += s[i] == '+' ? ' ' : s[i];
  }
  return out;
}

std::string HttpRequest::target() const { return path.substr(0, path.find('?')); }

std::string HttpRequest::query(const std::string& name) const {
  const size_t q = path.find('?');
  if (q == std::string::npos) return {};
  size_t pos = q + 1;
  while (pos <= path.size()) {
    size_t amp = path.find('&', pos);
    if (amp == std::string::npos) amp = path.size();
    const std::string pair = path.substr(pos, amp - pos);
    const size_t eq = pair.find('=');
    if (percentDecode(pair.substr(0, eq)) == name) {
      return eq == std::string::npos ? std::string() : percentDecode(pair.substr(eq + 1));
    }
    pos = amp + 1;
  }
  return {};
}

void HttpServer::setHandler(std::function<HttpReply(const HttpRequest&)> handler) {
  std::lock_guard<std::mutex> l(mu_);
  handler_ = std::move(handler);
}

std::vector<HttpRequest> HttpServer::requests() {
  std::lock_guard<std::mutex> l(mu_);
  return requests_;
}

void HttpServer::loop() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 50) != 1) continue;
    const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    // One thread per connection, so a hanging reply does not hide later requests.
    conns_.emplace_back([this, c] {
      handle(c);
      close(c);
    });
  }
  for (auto& t : conns_) t.join();
}

void HttpServer::handle(int fd) {
  std::string data;
  char buf[8192];
  size_t header_end = std::string::npos;
  size_t need = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) != 1) continue;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (header_end == std::string::npos) {
      header_end = data.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        need = header_end + 4;
        std::string lower = data.substr(0, header_end);
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        const size_t cl = lower.find("content-length:");
        if (cl != std::string::npos) need += std::stoul(lower.substr(cl + 15));
      }
    }
    if (header_end != std::string::npos && data.size() >= need) break;
  }
  if (header_end == std::string::npos) return;
  HttpRequest r;
  const std::string head = data.substr(0, header_end);
  size_t line_end = head.find("\r\n");
  const std::string first = head.substr(0, line_end);
  const size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
  r.method = first.substr(0, sp1);
  r.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    const std::string line = head.substr(pos, e - pos);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
    }
    pos = e + 2;
  }
  r.body = data.substr(header_end + 4);
  std::function<HttpReply(const HttpRequest&)> handler;
  {
    std::lock_guard<std::mutex> l(mu_);
    requests_.push_back(r);
    handler = handler_;
  }
  if (handler) {
    const HttpReply rep = handler(r);
    for (int waited = 0; waited < rep.delay_ms && !stop_; waited += 10) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::string out = "HTTP/1.1 " + std::to_string(rep.status) + " Status\r\n";
    bool has_type = false;
    for (const auto& [k, v] : rep.headers) {
      out += k + ": " + v + "\r\n";
      std::string lk = k;
      std::transform(lk.begin(), lk.end(), lk.begin(), ::tolower);
      has_type = has_type || lk == "content-type";
    }
    if (!has_type) out += "Content-Type: application/json\r\n";
    out += "Content-Length: " + std::to_string(rep.body.size()) + "\r\nConnection: close\r\n\r\n";
    if (rep.status != 304) out += rep.truncate ? rep.body.substr(0, rep.body.size() / 2) : rep.body;
    size_t off = 0;
    while (off < out.size()) {
      const ssize_t n = write(fd, out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    return;
  }
  const int hang = hang_ms_;
  for (int waited = 0; waited < hang && !stop_; waited += 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const int status = status_;
  const std::string body = status == 200 ? R"({"text":"Success","code":0})" : R"({"text":"error"})";
  const std::string resp =
      "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  (void)!write(fd, resp.data(), resp.size());
}

}  // namespace riposte::testing

#include "support/smtp_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>

#include "support/netns.h"

namespace riposte::testing {

namespace {

// One connection, plain or TLS after STARTTLS.
class Conn {
 public:
  explicit Conn(int fd) : fd_(fd) {}
  ~Conn() {
    if (ssl_ != nullptr) {
      if (handshaken_) SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
  }
  bool startTls(SSL_CTX* ctx) {
    ssl_ = SSL_new(ctx);
    SSL_set_fd(ssl_, fd_);
    buf_.clear();
    handshaken_ = SSL_accept(ssl_) == 1;
    return handshaken_;
  }
  bool tls() const { return ssl_ != nullptr; }
  void send(const std::string& s) {
    if (ssl_ != nullptr) {
      SSL_write(ssl_, s.data(), static_cast<int>(s.size()));
    } else {
      (void)::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
    }
  }
  // One line without its CRLF; false on EOF or after 5 s of silence.
  bool line(std::string& out) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (true) {
      const size_t nl = buf_.find("\r\n");
      if (nl != std::string::npos) {
        out = buf_.substr(0, nl);
        buf_.erase(0, nl + 2);
        return true;
      }
      if (std::chrono::steady_clock::now() > deadline) return false;
      char b[4096];
      int n;
      if (ssl_ != nullptr && SSL_pending(ssl_) > 0) {
        n = SSL_read(ssl_, b, sizeof b);
      } else {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, 50) != 1) continue;
        n = ssl_ != nullptr ? SSL_read(ssl_, b, sizeof b)
                            : static_cast<int>(read(fd_, b, sizeof b));
      }
      if (n <= 0) return false;
      buf_.append(b, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  SSL* ssl_ = nullptr;
  bool handshaken_ = false;
  std::string buf_;
};

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::toupper);
  return s;
}

}  // namespace

bool makeLocalhostCert(const std::string& dir) {
  std::string out;
  return runProgram({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                     "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout",
                     dir + "/key.pem", "-out", dir + "/cert.pem"},
                    &out) == 0;
}

SmtpServer::SmtpServer(const std::string& cert_pem, const std::string& key_pem) {
  // A client that hangs up mid-TLS must not kill the test process (SSL_write has no
  // MSG_NOSIGNAL).
  std::signal(SIGPIPE, SIG_IGN);
  if (!cert_pem.empty()) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_file(ctx_, cert_pem.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, key_pem.c_str(), SSL_FILETYPE_PEM) != 1) {
      SSL_CTX_free(ctx_);
      ctx_ = nullptr;
    }
  }
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

SmtpServer::~SmtpServer() {
  stop_ = true;
  thread_.join();
  close(fd_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

std::vector<SmtpMessage> SmtpServer::messages() {
  std::lock_guard<std::mutex> l(mu_);
  return messages_;
}

void SmtpServer::loop() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 50) != 1) continue;
    const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    ++connections_;
    conns_.emplace_back([this, c] {
      handle(c);
      close(c);
    });
  }
  for (auto& t : conns_) t.join();
}

void SmtpServer::handle(int fd) {
  if (const int ms = hang_ms_.load(); ms > 0) {
    for (int waited = 0; waited < ms && !stop_; waited += 10) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  Conn c(fd);
  c.send("220 localhost test ESMTP\r\n");
  SmtpMessage m;
  std::string l;
  while (c.line(l)) {
    const std::string cmd = upper(l.substr(0, l.find(' ')));
    const std::string arg = l.find(' ') == std::string::npos ? "" : l.substr(l.find(' ') + 1);
    if (cmd == "EHLO") {
      m.helo = arg;
      std::string r = "250-localhost\r\n";
      if (ctx_ != nullptr && !c.tls()) r += "250-STARTTLS\r\n";
      r += "250-8BITMIME\r\n250-AUTH PLAIN\r\n250 SIZE 10485760\r\n";
      c.send(r);
    } else if (cmd == "HELO") {
      m.helo = arg;
      c.send("250 localhost\r\n");
    } else if (cmd == "STARTTLS") {
      if (ctx_ == nullptr || c.tls()) {
        c.send("454 TLS not available\r\n");
        continue;
      }
      c.send("220 Ready to start TLS\r\n");
      if (!c.startTls(ctx_)) return;
      m = SmtpMessage{};  // RFC 3207: forget everything said before
    } else if (cmd == "AUTH") {
      m.auth = l;
      c.send("235 2.7.0 Authentication successful\r\n");
    } else if (cmd == "MAIL") {
      if (require_tls_ && !c.tls()) {
        c.send("530 5.7.0 Must issue a STARTTLS command first\r\n");
        continue;
      }
      const int code = mail_reply_.load();
      if (code != 250) {
        c.send(std::to_string(code) + " refused by the test\r\n");
        continue;
      }
      m.mail_from = arg;
      m.tls = c.tls();
      c.send("250 OK\r\n");
    } else if (cmd == "RCPT") {
      m.rcpt_to.push_back(arg);
      c.send("250 OK\r\n");
    } else if (cmd == "DATA") {
      c.send("354 End data with <CR><LF>.<CR><LF>\r\n");
      std::string data;
      bool ended = false;
      while (c.line(l)) {
        if (l == ".") {
          ended = true;
          break;
        }
        if (!l.empty() && l[0] == '.') l.erase(0, 1);  // dot-unstuffing
        data += l + "\r\n";
      }
      if (!ended) return;
      m.data = data;
      {
        std::lock_guard<std::mutex> g(mu_);
        messages_.push_back(m);
      }
      c.send("250 OK queued\r\n");
      const std::string helo = m.helo;
      const bool tls = m.tls;
      m = SmtpMessage{};
      m.helo = helo;
      m.tls = tls;
    } else if (cmd == "RSET") {
      m.mail_from.clear();
      m.rcpt_to.clear();
      c.send("250 OK\r\n");
    } else if (cmd == "NOOP") {
      c.send("250 OK\r\n");
    } else if (cmd == "QUIT") {
      c.send("221 Bye\r\n");
      return;
    } else {
      c.send("502 Command not implemented\r\n");
    }
  }
}

}  // namespace riposte::testing

// A small SMTP server on 127.0.0.1 for tests: speaks EHLO/HELO, optional STARTTLS (OpenSSL, with
// a certificate the test provides), MAIL FROM, RCPT TO, DATA (dot-unstuffed), RSET, NOOP and
// QUIT, and records every message it accepted. It can be told to refuse messages (a 4xx/5xx
// reply at MAIL FROM) or to hang before its greeting.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct ssl_ctx_st;

namespace riposte::testing {

struct SmtpMessage {
  std::string helo;  // the EHLO/HELO argument
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  std::string data;  // as received after DATA, dot-unstuffed, CRLF line ends kept
  bool tls = false;  // STARTTLS was negotiated before MAIL FROM
  std::string auth;  // the AUTH line, if any
};

class SmtpServer {
 public:
  // With cert/key (PEM files), EHLO offers STARTTLS and `requireTls` can refuse plain mail.
  explicit SmtpServer(const std::string& cert_pem = "", const std::string& key_pem = "");
  ~SmtpServer();
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  int port() const { return port_; }
  // Reply code to MAIL FROM (250 by default; e.g. 451 or 554 to refuse).
  void setMailReply(int code) { mail_reply_ = code; }
  void setHangMs(int ms) { hang_ms_ = ms; }
  void setRequireTls(bool on) { require_tls_ = on; }
  std::vector<SmtpMessage> messages();
  int connections() const { return connections_.load(); }

 private:
  void loop();
  void handle(int fd);

  int fd_ = -1;
  int port_ = 0;
  ssl_ctx_st* ctx_ = nullptr;
  std::atomic<int> mail_reply_{250};
  std::atomic<int> hang_ms_{0};
  std::atomic<bool> require_tls_{false};
  std::atomic<int> connections_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<SmtpMessage> messages_;
  std::vector<std::thread> conns_;
  std::thread thread_;
};

// Makes a self-signed certificate for CN/SAN "localhost" in `dir` (cert.pem, key.pem) with the
// openssl program; false when it cannot.
bool makeLocalhostCert(const std::string& dir);

}  // namespace riposte::testing

#include "riposte/respond/syslog_cef_action.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace riposte {

namespace {

std::string hostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "-";
  return buf;
}

std::string ms(Timestamp t) { return std::to_string(t.micros / 1000); }

}  // namespace

std::string cefEscapeHeader(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '|') out += '\\';
    if (c == '\n' || c == '\r') {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out;
}

std::string cefEscapeValue(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '=': out += "\\="; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out;
}

std::string cefRecord(std::string_view event, const Decision& d) {
  const bool apply = event == "apply";
  const std::string name =
      (apply ? std::string(d.action == "block" ? "Blocked " : "Decision ") : "Ended ") +
      d.target.value;
  const int severity = apply ? 7 : 3;
  std::string ext = "rt=" + ms(Timestamp::now());
  const bool addr = d.target.type == TargetType::kIp || d.target.type == TargetType::kCidr;
  if (d.target.type == TargetType::kIp) ext += " src=" + cefEscapeValue(d.target.value);
  if (d.target.type == TargetType::kUser) ext += " suser=" + cefEscapeValue(d.target.value);
  if (d.target.type == TargetType::kHost) ext += " shost=" + cefEscapeValue(d.target.value);
  if (!addr || d.target.type == TargetType::kCidr) {
    ext += " cs2Label=target cs2=" + cefEscapeValue(d.target.value);
  }
  ext += " act=" + cefEscapeValue(apply ? d.action : "un" + d.action);
  ext += " outcome=" + std::string(apply ? "enforced" : "ended");
  ext += " cat=" + cefEscapeValue(d.detector);
  ext += " externalId=" + cefEscapeValue(d.id);
  ext += " start=" + ms(d.created) + " end=" + ms(d.expires);
  if (d.events > 0) ext += " cnt=" + std::to_string(d.events);
  ext += " cs1Label=finding_id cs1=" + cefEscapeValue(d.finding_id);
  ext += " msg=" + cefEscapeValue(d.reason);
  return "CEF:0|Riposte|Riposte|" RIPOSTE_VERSION "|" +
         cefEscapeHeader(d.detector.empty() ? "manual" : d.detector) + "|" + cefEscapeHeader(name) +
         "|" + std::to_string(severity) + "|" + ext;
}

Result<std::unique_ptr<SyslogCefAction>> SyslogCefAction::create(std::string name,
                                                                 SyslogCefConfig cfg) {
  if (cfg.protocol != "udp" && cfg.protocol != "tcp") {
    return Status::invalidArgument("syslog_cef action '" + name + "': protocol must be udp or tcp");
  }
  if (cfg.port <= 0 || cfg.port > 65535 || cfg.facility < 0 || cfg.facility > 23) {
    return Status::invalidArgument("syslog_cef action '" + name + "': bad port or facility");
  }
  return std::unique_ptr<SyslogCefAction>(new SyslogCefAction(std::move(name), std::move(cfg)));
}

SyslogCefAction::~SyslogCefAction() {
  if (fd_ >= 0) close(fd_);
}

std::string SyslogCefAction::message(int severity, const std::string& msgid,
                                     const std::string& msg) const {
  const int pri = cfg_.facility * 8 + severity;
  return "<" + std::to_string(pri) + ">1 " + formatRfc3339Utc(Timestamp::now()) + " " + hostName() +
         " riposte " + std::to_string(getpid()) + " " + msgid + " - " + msg;
}

Status SyslogCefAction::send(const std::string& msg) {
  addrinfo hints{};
  hints.ai_socktype = cfg_.protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(cfg_.port);
  if (int rc = getaddrinfo(cfg_.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return Status::unavailable("syslog_cef '" + name_ + "': " + cfg_.host + ": " +
                               gai_strerror(rc));
  }
  Status st;
  if (cfg_.protocol == "udp") {
    const int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || sendto(fd, msg.data(), msg.size(), 0, res->ai_addr, res->ai_addrlen) < 0) {
      st = Status::unavailable("syslog_cef '" + name_ + "': send: " + std::strerror(errno));
    }
    if (fd >= 0) close(fd);
    freeaddrinfo(res);
    return st;
  }
  const std::string framed = std::to_string(msg.size()) + " " + msg;  // RFC 6587 octet counting
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0) {
      fd_ = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd_ < 0 || connect(fd_, res->ai_addr, res->ai_addrlen) != 0) {
        st = Status::unavailable("syslog_cef '" + name_ + "': connect " + cfg_.host + ":" + port +
                                 ": " + std::strerror(errno));
        if (fd_ >= 0) close(fd_);
        fd_ = -1;
        break;
      }
    }
    size_t off = 0;
    bool ok = true;
    while (off < framed.size()) {
      const ssize_t n = ::send(fd_, framed.data() + off, framed.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        ok = false;
        break;
      }
      off += static_cast<size_t>(n);
    }
    if (ok) {
      st = Status::ok();
      break;
    }
    st = Status::unavailable("syslog_cef '" + name_ + "': send: " + std::strerror(errno));
    close(fd_);
    fd_ = -1;  // reconnect once
  }
  freeaddrinfo(res);
  return st;
}

Status SyslogCefAction::apply(const Decision& d) {
  return send(message(4, "decision", cefRecord("apply", d)));
}
Status SyslogCefAction::undo(const Decision& d) {
  return send(message(5, "decision", cefRecord("undo", d)));
}
Status SyslogCefAction::notify(const std::string& subject, const std::string& text) {
  const std::string cef = "CEF:0|Riposte|Riposte|" RIPOSTE_VERSION "|notify|" +
                          cefEscapeHeader(subject) + "|8|rt=" + ms(Timestamp::now()) +
                          " msg=" + cefEscapeValue(text);
  return send(message(2, "notify", cef));
}

}  // namespace riposte

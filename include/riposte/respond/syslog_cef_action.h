// SyslogCefAction: sends a SIEM alert per decision as an RFC 5424 syslog message whose MSG is a
// CEF (ArcSight Common Event Format) record, over UDP (one datagram) or TCP (RFC 6587 octet
// counting: "<len> <msg>").
//
//   <84>1 2026-11-28T05:37:40.123Z host riposte 4242 decision - CEF:0|Riposte|Riposte|0.1.0|
//   ssh-bruteforce|Blocked 203.0.113.5|7|rt=... src=203.0.113.5 act=block msg=...
//
// CEF escaping: in the header `\` and `|` are escaped with a backslash; in extension values
// `\`, `=` and line breaks (`\n`, `\r`). Header and extension text is otherwise verbatim UTF-8.
//
// Configuration: { name, type: syslog_cef, address: "127.0.0.1:514", protocol: udp|tcp,
//                  facility: 10 (authpriv) }
//
// Thread safety: one thread at a time (the executor's worker).
#pragma once

#include <memory>
#include <string>

#include "riposte/respond/action.h"

namespace riposte {

struct SyslogCefConfig {
  std::string host = "127.0.0.1";
  int port = 514;
  std::string protocol = "udp";  // udp | tcp
  int facility = 10;             // authpriv
  Duration timeout = std::chrono::seconds(5);
};

// CEF escapes (exposed for tests).
std::string cefEscapeHeader(std::string_view s);
std::string cefEscapeValue(std::string_view s);
// The CEF record for a decision event ("apply" | "undo").
std::string cefRecord(std::string_view event, const Decision& d);

class SyslogCefAction : public Action {
 public:
  static Result<std::unique_ptr<SyslogCefAction>> create(std::string name, SyslogCefConfig cfg);
  ~SyslogCefAction() override;

  std::string_view name() const override { return name_; }
  Status apply(const Decision& d) override;
  Status undo(const Decision& d) override;
  Status notify(const std::string& subject, const std::string& text) override;

  // The whole RFC 5424 message (no framing).
  std::string message(int severity, const std::string& msgid, const std::string& msg) const;

 private:
  SyslogCefAction(std::string name, SyslogCefConfig cfg)
      : name_(std::move(name)), cfg_(std::move(cfg)) {}
  Status send(const std::string& msg);

  std::string name_;
  SyslogCefConfig cfg_;
  int fd_ = -1;  // TCP: kept open, reconnected on error
};

}  // namespace riposte

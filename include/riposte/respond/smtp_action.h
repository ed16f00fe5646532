// SmtpAction: e-mails a decision (and admin notifications) over SMTP with libcurl.
//
// One message per apply / undo / notification: a plain-text UTF-8 body that states what was
// decided (target, action, detector, reason, evidence counts, times, ids) followed by the
// decision as JSON, and headers From, To, Subject (from a template), Date, Message-ID,
// X-Riposte-Event and X-Riposte-Decision. Header values never carry a line break from a
// decision (they are folded to spaces) and a non-ASCII subject is RFC 2047 encoded, so nothing
// a log line contains can add a header or a recipient.
// With `starttls: true` the connection must be upgraded with STARTTLS before anything is sent
// (the server's certificate is verified, against `ca_file` when given); `smtps://` in `server`
// is TLS from the first byte. A refused message, a connection failure or the timeout is a
// failure (the executor retries, then the engine falls back to manual mode).
//
// Subject template placeholders: {event} (blocked | unblocked | notify), {action}, {target},
// {target_type}, {detector}, {reason}, {expires}, {id}, {host}.
//
// Configuration: { name, type: smtp, server: "mail.example.org:587", starttls: true,
//                  ca_file: "", username: "", password: ${SMTP_PASSWORD},
//                  from: riposte@example.org, to: [soc@example.org],
//                  subject: "[Riposte] {event} {target} ({detector})", timeout: 10s,
//                  on_undo: true }
//
// Thread safety: one thread at a time (the executor's worker).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "riposte/core/time.h"
#include "riposte/respond/action.h"

namespace riposte {

struct SmtpConfig {
  std::string server;  // host:port (port 25 when absent), or smtp:// / smtps:// URL
  bool starttls = false;
  std::string ca_file;  // PEM bundle for verifying the server ("" = system store)
  std::string username, password;
  std::string from;
  std::vector<std::string> to;
  std::string subject = "[Riposte] {event} {target} ({detector})";
  Duration timeout = std::chrono::seconds(10);
  bool on_undo = true;
};

class SmtpAction : public Action {
 public:
  static Result<std::unique_ptr<SmtpAction>> create(std::string name, SmtpConfig cfg);

  std::string_view name() const override { return name_; }
  Status apply(const Decision& d) override;
  Status undo(const Decision& d) override;
  Status notify(const std::string& subject, const std::string& text) override;

  // The whole message (headers, blank line, body; CRLF line ends) for a decision event
  // ("apply" | "undo"), or for a notification when `d` is null. Exposed for tests.
  std::string message(std::string_view event, const Decision* d, const std::string& subject,
                      const std::string& text) const;
  // The subject template filled in for a decision event.
  std::string subjectFor(std::string_view event, const Decision& d) const;
  const std::string& url() const { return url_; }

 private:
  SmtpAction(std::string name, SmtpConfig cfg, std::string url)
      : name_(std::move(name)), cfg_(std::move(cfg)), url_(std::move(url)) {}
  Status send(const std::string& msg);

  std::string name_;
  SmtpConfig cfg_;
  std::string url_;
};

// True for a plain addr-spec we are willing to put on an envelope ("local@domain", no spaces,
// angle brackets, commas or control characters).
bool validMailAddress(std::string_view a);

}  // namespace riposte

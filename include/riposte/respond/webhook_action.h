// WebhookAction: tells another system about a decision over HTTP(S) with libcurl.
//
// Formats:
//   json  — {"event":"apply"|"undo"|"notify","decision":{...}} with, when a secret is set,
//           `X-Riposte-Signature: sha256=<hex HMAC-SHA256(secret, body)>`;
//   slack — a Slack/Teams-style message webhook: {"text": "..."};
//   hec   — Splunk HTTP Event Collector: `Authorization: Splunk <token>`, body
//           {"time":<epoch s>,"host","source","sourcetype","index","event":{...}}.
// A non-2xx reply, a connection failure or the timeout is a failure (the executor retries,
// then the engine falls back to manual mode). Secrets come from the config through ${ENV}.
//
// Configuration: { name, type: webhook, url, format: json|slack|hec, secret, token, index,
//                  sourcetype, timeout: 5s, on_undo: true }
//
// Thread safety: one thread at a time (the executor's worker).
#pragma once

#include <memory>
#include <string>

#include "riposte/core/digest.h"  // hmacSha256Hex (the signature header)
#include "riposte/core/time.h"
#include "riposte/respond/action.h"

namespace riposte {

struct WebhookConfig {
  std::string url;
  std::string format = "json";  // json | slack | hec
  std::string secret;           // json: HMAC key
  std::string token;            // hec
  std::string index;            // hec
  std::string sourcetype = "riposte:decision";
  Duration timeout = std::chrono::seconds(5);
  bool on_undo = true;
};

class WebhookAction : public Action {
 public:
  static Result<std::unique_ptr<WebhookAction>> create(std::string name, WebhookConfig cfg);

  std::string_view name() const override { return name_; }
  Status apply(const Decision& d) override;
  Status undo(const Decision& d) override;
  Status notify(const std::string& subject, const std::string& text) override;

  // The request body for a decision event (exposed for tests).
  std::string body(std::string_view event, const Decision* d, const std::string& text) const;

 private:
  WebhookAction(std::string name, WebhookConfig cfg)
      : name_(std::move(name)), cfg_(std::move(cfg)) {}
  Status post(const std::string& body);

  std::string name_;
  WebhookConfig cfg_;
};


}  // namespace riposte

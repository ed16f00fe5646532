#include "riposte/respond/webhook_action.h"
#include "riposte/core/digest.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <mutex>
#include <nlohmann/json.hpp>

namespace riposte {

namespace {

using json = nlohmann::json;

std::string hostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "riposte";
  return buf;
}

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

std::string sentence(std::string_view event, const Decision& d) {
  std::string verb = event == "apply" ? "blocked" : "unblocked";
  if (d.action != "block") verb = std::string(event) + " " + d.action;
  return "Riposte " + verb + " " + d.target.value +
         (event == "apply" ? " until " + formatRfc3339Utc(d.expires) : "") + " (" + d.detector +
         "): " + d.reason;
}

}  // namespace


Result<std::unique_ptr<WebhookAction>> WebhookAction::create(std::string name, WebhookConfig cfg) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (cfg.url.rfind("http://", 0) != 0 && cfg.url.rfind("https://", 0) != 0) {
    return Status::invalidArgument("webhook action '" + name + "': url must be http(s)://");
  }
  if (cfg.format != "json" && cfg.format != "slack" && cfg.format != "hec") {
    return Status::invalidArgument("webhook action '" + name +
                                   "': format must be json, slack or hec");
  }
  if (cfg.format == "hec" && cfg.token.empty()) {
    return Status::invalidArgument("webhook action '" + name + "': hec needs a token");
  }
  return std::unique_ptr<WebhookAction>(new WebhookAction(std::move(name), std::move(cfg)));
}

std::string WebhookAction::body(std::string_view event, const Decision* d,
                                const std::string& text) const {
  const json dj = d != nullptr ? json::parse(d->toJson()) : json();
  if (cfg_.format == "slack") {
    return json{{"text", d != nullptr ? sentence(event, *d) : text}}.dump();
  }
  if (cfg_.format == "hec") {
    json ev = {{"riposte_event", event}};
    if (d != nullptr) {
      ev["decision"] = dj;
    } else {
      ev["message"] = text;
    }
    json b = {{"time", static_cast<double>(Timestamp::now().micros) / 1e6},
              {"host", hostName()},
              {"source", "riposte"},
              {"sourcetype", cfg_.sourcetype},
              {"event", ev}};
    if (!cfg_.index.empty()) b["index"] = cfg_.index;
    return b.dump();
  }
  json b = {{"event", event}};
  if (d != nullptr) {
    b["decision"] = dj;
  } else {
    b["text"] = text;
  }
  return b.dump();
}

Status WebhookAction::post(const std::string& body) {
  CURL* c = curl_easy_init();
  if (c == nullptr) return Status::internal("webhook: curl_easy_init failed");
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  if (cfg_.format == "json" && !cfg_.secret.empty()) {
    headers = curl_slist_append(
        headers, ("X-Riposte-Signature: sha256=" + hmacSha256Hex(cfg_.secret, body)).c_str());
  }
  if (cfg_.format == "hec") {
    headers = curl_slist_append(headers, ("Authorization: Splunk " + cfg_.token).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");
  char err[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_URL, cfg_.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(cfg_.timeout.count() / 1000));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "riposte/" RIPOSTE_VERSION);
  const CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK) {
    return Status::unavailable("webhook '" + name_ + "' POST " + cfg_.url + ": " +
                               (err[0] != 0 ? std::string(err) : curl_easy_strerror(rc)));
  }
  if (code < 200 || code >= 300) {
    return Status::unavailable("webhook '" + name_ + "' POST " + cfg_.url + ": HTTP " +
                               std::to_string(code));
  }
  return Status::ok();
}

Status WebhookAction::apply(const Decision& d) { return post(body("apply", &d, {})); }
Status WebhookAction::undo(const Decision& d) {
  if (!cfg_.on_undo) return Status::ok();
  return post(body("undo", &d, {}));
}
Status WebhookAction::notify(const std::string& subject, const std::string& text) {
  return post(body("notify", nullptr, subject + ": " + text));
}

}  // namespace riposte

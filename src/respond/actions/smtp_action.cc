#include "riposte/respond/smtp_action.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

namespace riposte {

namespace {

using json = nlohmann::json;

// Longest text taken from a decision into one line of the message (SMTP lines end at 998).
constexpr size_t kMaxField = 900;
constexpr size_t kMaxSubject = 200;

std::string hostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "riposte";
  return buf;
}

// Cuts at a UTF-8 character boundary at most `max` bytes in.
std::string cutUtf8(std::string s, size_t max, std::string_view mark) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  s += mark;
  return s;
}

// A header value: line breaks and other control characters become spaces.
std::string headerSafe(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
  return out;
}

// RFC 2047 encoded words (UTF-8, base64) when the value is not plain ASCII; folded lines.
std::string encodeHeader(const std::string& v) {
  bool ascii = true;
  for (char c : v) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return v;
  std::string out;
  size_t i = 0;
  while (i < v.size()) {
    size_t n = std::min<size_t>(45, v.size() - i);  // 45 bytes -> 60 base64 chars per word
    while (i + n < v.size() && n > 0 && (static_cast<unsigned char>(v[i + n]) & 0xC0) == 0x80) {
      --n;
    }
    unsigned char b64[64] = {};
    EVP_EncodeBlock(b64, reinterpret_cast<const unsigned char*>(v.data() + i), static_cast<int>(n));
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?";
    out += reinterpret_cast<const char*>(b64);
    out += "?=";
    i += n;
  }
  return out;
}

// Body text: CRLF line ends, no line longer than the SMTP limit.
void appendBody(std::string& out, std::string_view text) {
  std::string line;
  auto flush = [&] {
    out += cutUtf8(line, kMaxField, " …(cut)");
    out += "\r\n";
    line.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      flush();
    } else {
      line += c;
    }
  }
  if (!line.empty()) flush();
}

std::string rfc5322Date(Timestamp t) {
  const time_t secs = static_cast<time_t>(t.micros / 1'000'000);
  tm tmv{};
  gmtime_r(&secs, &tmv);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tmv.tm_wday],
                tmv.tm_mday, kMonths[tmv.tm_mon], tmv.tm_year + 1900, tmv.tm_hour, tmv.tm_min,
                tmv.tm_sec);
  return buf;
}

std::string eventWord(std::string_view event, const Decision& d) {
  if (event == "apply") return d.action == "block" ? "blocked" : d.action;
  return d.action == "block" ? "unblocked" : "ended " + d.action;
}

struct Upload {
  const std::string* data;
  size_t pos = 0;
};

size_t readChunk(char* buf, size_t size, size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  const size_t left = u->data->size() - u->pos;
  const size_t len = std::min(left, size * n);
  std::memcpy(buf, u->data->data() + u->pos, len);
  u->pos += len;
  return len;
}

}  // namespace

bool validMailAddress(std::string_view a) {
  const size_t at = a.rfind('@');
  if (a.empty() || a.size() > 254 || at == std::string_view::npos || at == 0 ||
      at + 1 == a.size()) {
    return false;
  }
  for (char c : a) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' ||
        c == '(' || c == ')' || c == '\\') {
      return false;
    }
  }
  return true;
}

Result<std::unique_ptr<SmtpAction>> SmtpAction::create(std::string name, SmtpConfig cfg) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  const std::string who = "smtp action '" + name + "'";
  if (cfg.server.empty()) return Status::invalidArgument(who + ": server is required");
  std::string url = cfg.server;
  if (url.rfind("smtp://", 0) != 0 && url.rfind("smtps://", 0) != 0) {
    if (url.find("://") != std::string::npos) {
      return Status::invalidArgument(who + ": server must be host:port, smtp:// or smtps://");
    }
    const bool has_port = url.back() != ']' && url.rfind(':') != std::string::npos &&
                          (url.front() != '[' || url.rfind("]:") != std::string::npos);
    url = "smtp://" + url + (has_port ? "" : ":25");
  }
  if (!validMailAddress(cfg.from)) {
    return Status::invalidArgument(who + ": from '" + cfg.from + "' is not a mail address");
  }
  if (cfg.to.empty()) return Status::invalidArgument(who + ": to needs at least one address");
  for (const auto& t : cfg.to) {
    if (!validMailAddress(t)) {
      return Status::invalidArgument(who + ": to '" + t + "' is not a mail address");
    }
  }
  return std::unique_ptr<SmtpAction>(new SmtpAction(std::move(name), std::move(cfg), url));
}

std::string SmtpAction::subjectFor(std::string_view event, const Decision& d) const {
  const std::pair<std::string_view, std::string> vars[] = {
      {"event", eventWord(event, d)},
      {"action", d.action},
      {"target", d.target.value},
      {"target_type", std::string(targetTypeName(d.target.type))},
      {"detector", d.detector},
      {"reason", d.reason},
      {"expires", formatRfc3339Utc(d.expires)},
      {"id", d.id},
      {"host", hostName()},
  };
  const std::string& t = cfg_.subject;
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '{') {
      const size_t close = t.find('}', i);
      if (close != std::string::npos) {
        const std::string_view key(t.data() + i + 1, close - i - 1);
        bool found = false;
        for (const auto& [k, v] : vars) {
          if (k == key) {
            out += v;
            found = true;
            break;
          }
        }
        if (found) {
          i = close;
          continue;
        }
      }
    }
    out += t[i];
  }
  return cutUtf8(headerSafe(out), kMaxSubject, "…");
}

std::string SmtpAction::message(std::string_view event, const Decision* d,
                                const std::string& subject, const std::string& text) const {
  const Timestamp now = Timestamp::now();
  std::string to;
  for (const auto& t : cfg_.to) to += (to.empty() ? "" : ", ") + t;
  const std::string id = d != nullptr ? d->id : "notify";
  std::string m;
  m += "From: " + cfg_.from + "\r\n";
  m += "To: " + to + "\r\n";
  m += "Subject: " + encodeHeader(cutUtf8(headerSafe(subject), kMaxSubject, "…")) + "\r\n";
  m += "Date: " + rfc5322Date(now) + "\r\n";
  m += "Message-ID: <" + id + "." + std::string(event) + "." + std::to_string(now.micros) +
       "@riposte>\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n";
  m += "X-Riposte-Event: " + std::string(event) + "\r\n";
  if (d != nullptr) m += "X-Riposte-Decision: " + d->id + "\r\n";
  m += "\r\n";
  if (d == nullptr) {
    appendBody(m, text);
    return m;
  }
  std::string b;
  b += "Riposte " + eventWord(event, *d) + " " + d->target.value;
  b += event == "apply" ? " until " + formatRfc3339Utc(d->expires) + ".\n\n" : ".\n\n";
  b += "Target:      " + d->target.value + " (" + std::string(targetTypeName(d->target.type)) +
       ")\n";
  b += "Action:      " + d->action + "\n";
  b += "Detector:    " + d->detector + "\n";
  b += "Reason:      " + d->reason + "\n";
  b += "Events:      " + std::to_string(d->events) + "\n";
  b += "First seen:  " + formatRfc3339Utc(d->first_seen) + "\n";
  b += "Last seen:   " + formatRfc3339Utc(d->last_seen) + "\n";
  b += "Created:     " + formatRfc3339Utc(d->created) + "\n";
  b += "Expires:     " + formatRfc3339Utc(d->expires) + "\n";
  b += "State:       " + std::string(decisionStateName(d->state)) + "\n";
  b += "Origin:      " + d->origin + "\n";
  b += "Decision id: " + d->id + "\n";
  b += "Finding id:  " + d->finding_id + "\n";
  b += "Host:        " + hostName() + "\n\n";
  b += json::parse(d->toJson()).dump(2) + "\n";
  appendBody(m, b);
  return m;
}

Status SmtpAction::send(const std::string& msg) {
  CURL* c = curl_easy_init();
  if (c == nullptr) return Status::internal("smtp: curl_easy_init failed");
  curl_slist* rcpt = nullptr;
  for (const auto& t : cfg_.to) rcpt = curl_slist_append(rcpt, ("<" + t + ">").c_str());
  const std::string from = "<" + cfg_.from + ">";
  Upload up{&msg};
  char err[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, readChunk);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(msg.size()));
  if (cfg_.starttls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!cfg_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, cfg_.ca_file.c_str());
  if (!cfg_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, cfg_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, cfg_.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(cfg_.timeout.count() / 1000));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(cfg_.timeout.count() / 1000));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  const CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK) {
    return Status::unavailable("smtp action '" + name_ + "' to " + url_ + ": " +
                               (err[0] != 0 ? std::string(err) : curl_easy_strerror(rc)) +
                               (code != 0 ? " (reply " + std::to_string(code) + ")" : ""));
  }
  return Status::ok();
}

Status SmtpAction::apply(const Decision& d) {
  return send(message("apply", &d, subjectFor("apply", d), {}));
}

Status SmtpAction::undo(const Decision& d) {
  if (!cfg_.on_undo) return Status::ok();
  return send(message("undo", &d, subjectFor("undo", d), {}));
}

Status SmtpAction::notify(const std::string& subject, const std::string& text) {
  return send(message("notify", nullptr, "[Riposte] " + subject, text));
}

}  // namespace riposte

#include "riposte/intel/http_fetch.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <thread>

namespace riposte::intel {
namespace {

struct Transfer {
  std::string body;
  std::map<std::string, std::string> headers;
  size_t max_bytes = 0;
  bool too_big = false;
};

size_t onBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (t->body.size() + len > t->max_bytes) {
    t->too_big = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  t->body.append(data, len);
  return len;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

size_t onHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  std::string_view line(data, len);
  if (line.rfind("HTTP/", 0) == 0) {
    t->headers.clear();  // a new response (after a redirect or a 100 Continue)
    return len;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  t->headers[trim(name)] = trim(line.substr(colon + 1));
  return len;
}

bool retryableStatus(long s) { return s == 429 || s == 500 || s == 502 || s == 503 || s == 504; }

bool retryableCurl(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return true;
    default: return false;
  }
}

long ms(Duration d) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace

std::string HttpFetchResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::optional<Duration> parseRetryAfter(std::string_view value, Timestamp now) {
  const std::string v = trim(value);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    if (v.size() > 9) return std::nullopt;
    return std::chrono::seconds(std::stol(v));
  }
  const time_t t = curl_getdate(v.c_str(), nullptr);
  if (t < 0) return std::nullopt;
  const Timestamp at = Timestamp::fromSeconds(static_cast<int64_t>(t));
  return at - now > Duration(0) ? at - now : Duration(0);
}

std::string urlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<HttpFetchResponse> httpFetch(const HttpFetchRequest& req, const HttpFetchOptions& opt,
                                    Duration* retry_after_out) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (req.url.rfind("http://", 0) != 0 && req.url.rfind("https://", 0) != 0) {
    return Status::invalidArgument("'" + req.url + "' is not an http(s):// URL");
  }
  if (req.method != "GET" && req.method != "POST") {
    return Status::invalidArgument("unsupported HTTP method '" + req.method + "'");
  }
  const std::string what = req.method + " " + req.url;
  const int attempts = std::max(1, opt.attempts);
  Duration backoff = opt.backoff;
  Status last;
  int made = 0;
  if (retry_after_out != nullptr) *retry_after_out = Duration(0);
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    made = attempt;
    CURL* c = curl_easy_init();
    if (c == nullptr) return Status::internal(what + ": curl_easy_init failed");
    curl_slist* headers = nullptr;
    for (const auto& h : req.headers) headers = curl_slist_append(headers, h.c_str());
    if (!req.etag.empty()) {
      headers = curl_slist_append(headers, ("If-None-Match: " + req.etag).c_str());
    }
    if (!req.last_modified.empty()) {
      headers = curl_slist_append(headers, ("If-Modified-Since: " + req.last_modified).c_str());
    }
    headers = curl_slist_append(headers, "Expect:");
    Transfer t;
    t.max_bytes = opt.max_bytes;
    char err[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    if (req.method == "POST") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));
    }
    if (!req.username.empty()) {
      curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(c, CURLOPT_USERNAME, req.username.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, req.password.c_str());
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms(opt.timeout));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms(opt.connect_timeout));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, opt.max_redirects > 0 ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, static_cast<long>(opt.max_redirects));
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(opt.max_bytes));
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // gzip/deflate when the server offers
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, opt.verify_tls ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, opt.verify_tls ? 2L : 0L);
    if (!opt.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, opt.ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_USERAGENT, "riposte/" RIPOSTE_VERSION);
    const CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    char* eff = nullptr;
    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
    const std::string effective = eff != nullptr ? eff : req.url;
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);

    bool retry = false;
    Duration wait = backoff;
    if (rc != CURLE_OK) {
      if (t.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        return Status::resourceExhausted(what + ": response larger than " +
                                         std::to_string(opt.max_bytes) + " bytes (max_bytes)");
      }
      if (rc == CURLE_TOO_MANY_REDIRECTS) {
        return Status::unavailable(what + ": more than " + std::to_string(opt.max_redirects) +
                                   " redirects (redirect loop?)");
      }
      last = Status::unavailable(what + ": " +
                                 (err[0] != 0 ? std::string(err) : curl_easy_strerror(rc)));
      retry = retryableCurl(rc);
    } else if (code == 304) {
      HttpFetchResponse r;
      r.status = code;
      r.not_modified = true;
      r.headers = std::move(t.headers);
      r.attempts = attempt;
      r.effective_url = effective;
      return r;
    } else if (code >= 200 && code < 300) {
      HttpFetchResponse r;
      r.status = code;
      r.body = std::move(t.body);
      r.headers = std::move(t.headers);
      r.attempts = attempt;
      r.effective_url = effective;
      return r;
    } else {
      std::string detail = what + ": HTTP " + std::to_string(code);
      retry = retryableStatus(code);
      if (code == 429 || code == 503) {
        auto it = t.headers.find("retry-after");
        if (it != t.headers.end()) {
          if (auto ra = parseRetryAfter(it->second, Timestamp::now())) {
            wait = std::max(*ra, Duration(0));
            if (retry_after_out != nullptr) *retry_after_out = wait;
            detail += " (Retry-After " + it->second + ")";
            if (wait > opt.max_backoff) {
              return Status::unavailable(detail + ": later than max_backoff " +
                                         formatDuration(opt.max_backoff) + ", not retried now");
            }
          }
        }
      }
      last = Status::unavailable(detail);
    }
    if (!retry || attempt == attempts) break;
    wait = std::min(wait, opt.max_backoff);
    if (opt.wait) {
      if (!opt.wait(wait)) return last.withContext("cancelled");
    } else {
      std::this_thread::sleep_for(wait);
    }
    backoff = std::min(backoff * 2, opt.max_backoff);
  }
  if (made > 1) {
    return Status(last.code(), last.message() + " (after " + std::to_string(made) + " attempts)");
  }
  return last;
}

}  // namespace riposte::intel

// HTTP fetching for the intel feed clients (libcurl): one request with a total timeout, a
// response size cap, a redirect cap, conditional GET (If-None-Match / If-Modified-Since), and
// retries with exponential backoff on transport errors and on 429 / 500 / 502 / 503 / 504,
// honouring Retry-After (seconds or an HTTP date) on 429 and 503.
//
// A 304 is a success (`not_modified`); any other status outside 2xx after the retries is an
// error naming the method, URL and status. An oversize response, a redirect loop or a response
// larger than `max_bytes` is an error without retries. Waiting between attempts goes through
// `HttpFetchOptions::wait`, so an owner that is stopping can cut it short.
//
// Thread safety: httpFetch() may be called from several threads at once (one curl handle per
// call).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/core/time.h"

namespace riposte::intel {

struct HttpFetchRequest {
  std::string method = "GET";  // GET or POST
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // POST body
  // Conditional GET: sent as If-None-Match / If-Modified-Since when not empty.
  std::string etag;
  std::string last_modified;
  // HTTP basic authentication when `username` is not empty.
  std::string username;
  std::string password;
};

struct HttpFetchOptions {
  Duration timeout = std::chrono::seconds(60);  // whole request, per attempt
  Duration connect_timeout = std::chrono::seconds(10);
  size_t max_bytes = 256ull << 20;  // response body cap (after decompression)
  int max_redirects = 5;
  int attempts = 4;                                // 1 = no retry
  Duration backoff = std::chrono::seconds(1);      // first wait; doubles each retry
  Duration max_backoff = std::chrono::minutes(5);  // cap of one wait (also of Retry-After)
  bool verify_tls = true;
  std::string ca_file;  // "" = the system's CA store
  // Waits `d` between attempts; returns false to give up (owner stopping). Default: sleeps.
  std::function<bool(Duration)> wait;
};

struct HttpFetchResponse {
  long status = 0;
  bool not_modified = false;  // 304
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-case; last value wins
  int attempts = 0;
  std::string effective_url;  // after redirects

  // A header value, "" when absent (`name` lower-case).
  std::string header(const std::string& name) const;
};

// Error statuses: unavailable (transport, HTTP error after retries, Retry-After beyond
// max_backoff), resourceExhausted (response over max_bytes), invalidArgument (bad URL/method).
// When the last failure carried a Retry-After, `retry_after` (if given) receives it.
Result<HttpFetchResponse> httpFetch(const HttpFetchRequest& request,
                                    const HttpFetchOptions& options,
                                    Duration* retry_after = nullptr);

// Retry-After value → wait: delta-seconds or an HTTP date (relative to `now`); nullopt when
// unreadable.
std::optional<Duration> parseRetryAfter(std::string_view value, Timestamp now);

// Percent-encodes a query parameter value.
std::string urlEncode(std::string_view s);

}  // namespace riposte::intel

// HttpRequest and HttpResponse: the API's view of one HTTP exchange, independent of the server
// library (Boost.Beast stays inside src/api/server.cc).
//
// Errors are JSON: {"error": {"code": "stable_code", "message": "..."}}; the codes are part of
// the API (docs/api.md) and never carry exception texts or internals.
//
// Thread safety: values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "riposte/core/status.h"

namespace riposte::api {

struct HttpRequest {
  std::string method;  // GET, POST, ...
  std::string target;  // as received
  std::string path;    // percent-decoded, without the query
  std::map<std::string, std::string> query;    // percent-decoded; the last value of a key wins
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string client_ip;
  bool tls = false;
  std::map<std::string, std::string> params;  // path parameters, filled by the router

  // Header value or "" (name in lower case).
  const std::string& header(const std::string& name) const;
  std::optional<std::string> queryParam(const std::string& name) const;
  // A cookie's value from the Cookie header, or "".
  std::string cookie(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // The server keeps the connection open as a Server-Sent Events stream (see EventHub).
  bool event_stream = false;

  static HttpResponse json(int status, const nlohmann::json& body);
  static HttpResponse jsonText(int status, std::string body);
  static HttpResponse error(int status, std::string_view code, std::string_view message);
  // Maps a Status to a status code and stable error code (notFound → 404 not_found, ...).
  static HttpResponse fromStatus(const Status& st);
  HttpResponse& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// Splits "/a/b?x=1&y=%20" into a decoded path and query; false on malformed escapes.
bool parseTarget(std::string_view target, std::string& path,
                 std::map<std::string, std::string>& query);
std::string percentDecode(std::string_view s, bool plus_as_space, bool* ok = nullptr);

std::string_view statusReason(int status);

}  // namespace riposte::api

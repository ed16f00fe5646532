#include "riposte/api/http.h"

namespace riposte::api {

namespace {
const std::string kEmpty;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

const std::string& HttpRequest::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? kEmpty : it->second;
}

std::optional<std::string> HttpRequest::queryParam(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::string HttpRequest::cookie(std::string_view name) const {
  const std::string& c = header("cookie");
  size_t i = 0;
  while (i < c.size()) {
    while (i < c.size() && (c[i] == ' ' || c[i] == ';')) ++i;
    const size_t end = c.find(';', i);
    const std::string_view pair(c.data() + i, (end == std::string::npos ? c.size() : end) - i);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return std::string(pair.substr(eq + 1));
    }
    if (end == std::string::npos) break;
    i = end + 1;
  }
  return {};
}

HttpResponse HttpResponse::json(int status, const nlohmann::json& body) {
  return jsonText(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

HttpResponse HttpResponse::jsonText(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::error(int status, std::string_view code, std::string_view message) {
  return json(status, {{"error", {{"code", code}, {"message", message}}}});
}

HttpResponse HttpResponse::fromStatus(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk: return json(200, nlohmann::json::object());
    case StatusCode::kInvalidArgument:
    case StatusCode::kParseError: return error(400, "invalid_argument", st.message());
    case StatusCode::kNotFound: return error(404, "not_found", st.message());
    case StatusCode::kAlreadyExists: return error(409, "already_exists", st.message());
    case StatusCode::kFailedPrecondition: return error(409, "conflict", st.message());
    case StatusCode::kPermissionDenied: return error(403, "refused", st.message());
    case StatusCode::kResourceExhausted:
      return error(503, "busy", st.message()).header("Retry-After", "1");
    case StatusCode::kUnavailable: return error(503, "unavailable", st.message());
    case StatusCode::kIoError:
    case StatusCode::kInternal: break;
  }
  // Internal failures are logged by the caller; the client learns only that one happened.
  return error(500, "internal", "internal error");
}

std::string percentDecode(std::string_view s, bool plus_as_space, bool* ok) {
  std::string out;
  out.reserve(s.size());
  if (ok != nullptr) *ok = true;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      const int hi = i + 2 < s.size() ? hexValue(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? hexValue(s[i + 2]) : -1;
      if (i + 2 >= s.size() || hi < 0 || lo < 0) {
        if (ok != nullptr) *ok = false;
        out += c;
        continue;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

bool parseTarget(std::string_view target, std::string& path,
                 std::map<std::string, std::string>& query) {
  const size_t q = target.find('?');
  bool ok = true;
  path = percentDecode(target.substr(0, q), false, &ok);
  if (!ok) return false;
  if (q == std::string_view::npos) return true;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view kv = rest.substr(0, amp);
    if (!kv.empty()) {
      const size_t eq = kv.find('=');
      bool k_ok = true;
      bool v_ok = true;
      std::string k = percentDecode(kv.substr(0, eq), true, &k_ok);
      std::string v =
          eq == std::string_view::npos ? std::string() : percentDecode(kv.substr(eq + 1), true, &v_ok);
      if (!k_ok || !v_ok) return false;
      query[std::move(k)] = std::move(v);
    }
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return true;
}

std::string_view statusReason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

}  // namespace riposte::api

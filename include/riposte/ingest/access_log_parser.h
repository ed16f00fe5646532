// AccessLogParser: nginx and Apache web server logs (registered as "nginx" and "apache").
//
// Access lines in common and combined formats, with or without a leading virtual host
// (`host` or `host:port`), IPv4 or IPv6 clients, `-` for missing values, nginx `\xXX` and Apache
// `\"` `\\` `\n` `\t` `\xhh` escapes inside quoted fields, and requests that are `-`, truncated
// or binary (kept leniently: the line still parses, the request goes to `http.request.invalid`).
// Fields: source.ip, user.name, @timestamp, http.request.method, url.original, url.path
// (percent-decoded), url.query, http.version, http.response.status_code,
// http.response.body.bytes, http.request.referrer, user_agent.original, url.domain and
// destination.port from the virtual host. Kind kHttp, event.dataset `<name>.access`.
//
// Error-log lines of both servers are recognised too (`<name>.error`): the client address,
// level (`log.level`), message, and for nginx the request, the Host header (url.domain) and the
// server name (extra `nginx.error.server`). Basic-auth failures (Apache `AH01617`/`AH01618`,
// nginx `user "x" was not found` / `password mismatch`) set user.name, event.action and
// event.outcome=failure. Error lines naming a client are
// kHttp, others kGeneric.
//
// Values are views into the line except decoded ones (unescaped fields, the decoded path,
// non-canonical addresses), which use the event's owned buffers; no allocation once warm.
//
// Thread safety: one instance per thread (it keeps scratch buffers).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "riposte/core/time.h"
#include "riposte/ingest/parser.h"

namespace riposte {

class AccessLogParser : public Parser {
 public:
  // `name` is the registered name ("nginx" or "apache"); it prefixes event.dataset.
  explicit AccessLogParser(std::string name);

  std::string_view name() const override { return name_; }
  ParseResult parse(std::string_view line, const ParseContext& ctx, Event& out) override;

 private:
  ParseResult parseAccess(std::string_view line, Event& out);
  ParseResult parseApacheError(std::string_view line, Event& out);
  ParseResult parseNginxError(std::string_view line, Event& out);
  // Splits "METHOD target HTTP/x.y" into method, url.original/path/query and version.
  void setRequest(std::string_view request, bool escaped, Event& out);
  void setTarget(std::string_view target, bool owned, Event& out);
  // The common-log time "dd/Mmm/yyyy:hh:mm:ss +zzzz", remembering the last text parsed.
  std::optional<Timestamp> clfTime(std::string_view text);

  std::string name_;
  std::string dataset_access_;
  std::string dataset_error_;
  std::string scratch_;  // unescaped request / fields
  std::string decoded_;  // percent-decoded path
  char last_time_text_[26] = {};
  std::optional<Timestamp> last_time_;  // of last_time_text_ (unset: none yet)
};

}  // namespace riposte

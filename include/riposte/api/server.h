// HttpServer: HTTP/1.1 (optionally over TLS) on Boost.Beast/Asio for the management API.
//
// One I/O thread runs every connection asynchronously; requests are handed to a small pool of
// handler threads (`api.threads`), so a slow handler (a store query, waiting for the engine)
// never holds the network loop, and the engine's own thread is never used. Limits: request
// header 16 KiB and body `max_body_bytes` (413), `header_timeout` for the request line and
// headers (slowloris), `body_timeout` for the body, `idle_timeout` between keep-alive requests,
// `max_connections` (further connections are closed at once), `max_streams` event streams.
// Handler failures become a JSON 500 with no internals.
//
// Thread safety: start() and stop() from one thread; the handler runs on the pool threads.
#pragma once

#include <functional>
#include <memory>

#include "riposte/api/event_hub.h"
#include "riposte/api/http.h"
#include "riposte/core/config.h"

namespace riposte::api {

using Dispatcher = std::function<HttpResponse(HttpRequest&)>;

struct ServerCounters {
  uint64_t connections = 0;  // open now
  uint64_t accepted = 0;
  uint64_t refused = 0;  // over max_connections
  uint64_t requests = 0;
  uint64_t timeouts = 0;
  uint64_t streams = 0;  // open event streams
};

class HttpServer {
 public:
  // Binds and starts serving; `hub` (may be null) feeds event streams.
  static Result<std::unique_ptr<HttpServer>> start(const ApiConfig& config, Dispatcher dispatch,
                                                   EventHub* hub);
  virtual ~HttpServer() = default;
  virtual uint16_t port() const = 0;
  virtual ServerCounters counters() const = 0;
  // Stops accepting, closes every connection and waits for running handlers.
  virtual void stop() = 0;
};

}  // namespace riposte::api

// ApiService: the REST API under /api/v1 (plus /metrics): routes, authentication, roles, CSRF,
// JSON shapes. It reads the Store directly (thread-safe) and sends every change the engine must
// make (decisions, approvals, mode, rules, ingested events) to the engine's thread through the
// CommandQueue / IngestQueue. Routes and shapes: docs/api.md and /api/v1/openapi.json.
//
// Thread safety: handle() may run on several threads at once.
#pragma once

#include <functional>
#include <memory>

#include "riposte/api/auth.h"
#include "riposte/api/event_hub.h"
#include "riposte/api/http.h"
#include "riposte/api/router.h"
#include "riposte/api/server.h"
#include "riposte/core/config.h"
#include "riposte/core/registry.h"
#include "riposte/engine/command_queue.h"
#include "riposte/engine/serve_state.h"

namespace riposte::api {

struct ApiDeps {
  const Config* config = nullptr;
  const Registries* registries = nullptr;
  Store* store = nullptr;
  CommandQueue* commands = nullptr;  // null: engine writes answer 503
  IngestQueue* ingest = nullptr;     // null: ingest answers 503
  EventHub* hub = nullptr;           // null: no event stream
  const ServeState* state = nullptr;
  std::function<ServerCounters()> server_counters;
};

class ApiService {
 public:
  explicit ApiService(ApiDeps deps);
  ~ApiService();

  HttpResponse handle(HttpRequest& req);
  const Router& router() const { return router_; }

 private:
  struct Impl;
  // Files of the web console (`api.console_dir`) for GET paths outside /api/.
  HttpResponse serveStatic(const HttpRequest& req) const;

  ApiDeps deps_;
  Router router_;
  std::unique_ptr<Impl> impl_;
};

// The directory of console files to serve: `configured` when set ("none": no console), otherwise
// `built` (the console's build output, compiled in) when it holds an index.html, otherwise "".
// Where the build put the console (`build/console`; see docs/console.md).
std::string builtConsoleDir();
std::string consoleDirectory(const std::string& configured,
                             const std::string& built = builtConsoleDir());

// The OpenAPI 3 document of every route (served at /api/v1/openapi.json).
const std::string& openApiDocument();

// Prometheus text exposition of the engine, queues, store and server.
std::string renderMetrics(const ApiDeps& deps);

}  // namespace riposte::api

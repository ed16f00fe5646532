// Serve: the long-running form. Opens the store, re-applies active decisions, tails the
// configured sources, expires decisions on the wall clock, serves the management API when
// `api.listen` (or `--listen`) is set, and stops cleanly when `stop` becomes true (the CLI sets
// it on SIGINT/SIGTERM).
//
// The engine is touched only by the loop thread: the API's changes arrive through a
// CommandQueue and its ingested events through an IngestQueue, both drained by the loop, which
// also publishes a ServeState snapshot for reads and /metrics.
//
// Thread safety: runs on the calling thread; `stop` may be set from a signal handler.
#pragma once

#include <atomic>
#include <functional>

#include "riposte/core/config.h"
#include "riposte/core/registry.h"
#include "riposte/engine/engine.h"

namespace riposte {

struct ServeOptions {
  std::chrono::milliseconds idle_sleep{200};
  std::function<void(const Decision&)> on_decision;  // besides logging
  // `--listen ADDR:PORT`: serves the API there (overrides `api.listen`; port 0 = any free one).
  std::string listen;
  // Called once the API listens, with its port (tests bind port 0).
  std::function<void(uint16_t port)> on_listening;
};

Status serve(const Config& config, const Registries& registries, const std::atomic<bool>& stop,
             const ServeOptions& options = {});

// Opens the store the configuration names.
Result<StorePtr> openStore(const Config& config, const Registries& registries);

}  // namespace riposte

// Serve: the long-running form. Opens the store, re-applies active decisions, tails the
// configured sources, expires decisions on the wall clock, serves the management API when
// `api.listen` (or `--listen`) is set, and stops cleanly when `stop` becomes true (the CLI sets
// it on SIGINT/SIGTERM). When idle it sleeps on the sources' wait descriptors (syslog) for at
// most `idle_sleep`. On stop it hands over what the sources still hold, then logs one summary
// line per source (see SourceStats).
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
#include "riposte/ingest/source_metrics.h"

namespace riposte {

struct ServeOptions {
  std::chrono::milliseconds idle_sleep{200};
  std::function<void(const Decision&)> on_decision;  // besides logging
  // When set, every source's stats are published here once a second and when stopping.
  SourceMetrics* metrics = nullptr;
  // `--listen ADDR:PORT`: serves the API there (overrides `api.listen`; port 0 = any free one).
  std::string listen;
  // `--role all|ingest|analyze|enforce`; empty: cluster.role from the config (docs/cluster.md).
  std::string role;
  // `--threads N`: analysis worker threads (0 = one per core; -1 = engine.threads).
  int threads = -1;
  // When set, the loop reloads the rule files (like POST /api/v1/rules/reload) each time it
  // finds this true, and clears it (the CLI sets it on SIGHUP). A bad file keeps the old rules.
  std::atomic<bool>* reload = nullptr;
  // Called once the API listens, with its port (tests bind port 0).
  std::function<void(uint16_t port)> on_listening;
};

Status serve(const Config& config, const Registries& registries, const std::atomic<bool>& stop,
             const ServeOptions& options = {});

// Opens the store the configuration names.
Result<StorePtr> openStore(const Config& config, const Registries& registries);

}  // namespace riposte

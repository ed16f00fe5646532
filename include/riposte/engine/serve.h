// Serve: the long-running form. Opens the store, re-applies active decisions, tails the
// configured sources, expires decisions on the wall clock, and stops cleanly when `stop`
// becomes true (the CLI sets it on SIGINT/SIGTERM).
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
};

Status serve(const Config& config, const Registries& registries, const std::atomic<bool>& stop,
             const ServeOptions& options = {});

// Opens the store the configuration names.
Result<StorePtr> openStore(const Config& config, const Registries& registries);

}  // namespace riposte

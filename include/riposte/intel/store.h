// Store: holds the current intel Snapshot and swaps in a new one atomically on each reload.
//
// Readers call snapshot() (an atomic shared_ptr load; readers never block each other or the
// writer for longer than a reference-count update) and may keep the pointer for as long as they
// like: an old snapshot lives until its last reader drops it. Hot loops can cache the pointer and
// refresh it only when generation() (a relaxed atomic counter) changes. reload() validates the
// whole new snapshot before publishing it, so a failed reload leaves the previous one in place.
//
// Thread safety: every member may be called concurrently from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "riposte/core/status.h"
#include "riposte/intel/snapshot.h"

namespace riposte::intel {

class Store {
 public:
  Store();

  std::shared_ptr<const Snapshot> snapshot() const {
    return current_.load(std::memory_order_acquire);
  }
  // Incremented on every publish.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  void publish(std::shared_ptr<const Snapshot> snapshot);

  // Runs `build`; publishes its snapshot when it succeeds, otherwise keeps the current one and
  // returns the error (with "intel reload" context).
  Status reload(const std::function<Result<std::shared_ptr<const Snapshot>>()>& build);

 private:
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace riposte::intel

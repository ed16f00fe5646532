// Store: holds the current intel Snapshot and swaps in a new one atomically on each reload.
//
// Readers call snapshot() (an atomic shared_ptr load; readers never block each other or the
// writer for longer than a reference-count update) and may keep the pointer for as long as they
// like: an old snapshot lives until its last reader drops it. Hot loops can cache the pointer and
// refresh it only when generation() (a relaxed atomic counter) changes. reload() validates the
// whole new snapshot before publishing it, so a failed reload leaves the previous one in place.
//
// A replaced snapshot is never freed by a reader: publish() keeps it until no reader holds it
// any more and then frees it on the store's own reclaim thread (started on the first publish
// that needs it). Freeing a full store takes tens of milliseconds; a detection thread that
// dropped the last reference would stall that long on its next event.
//
// Thread safety: every member may be called concurrently from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/intel/snapshot.h"

namespace riposte::intel {

class Store {
 public:
  Store();
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

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
  void reclaimLoop();

  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::atomic<uint64_t> generation_{0};
  std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  std::vector<std::shared_ptr<const Snapshot>> retired_;  // replaced, still held by readers
  bool stopping_ = false;
  std::thread reclaimer_;
};

}  // namespace riposte::intel

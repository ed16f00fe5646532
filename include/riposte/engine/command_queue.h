// CommandQueue and IngestQueue: how other threads (the API) reach the engine, which is only
// ever touched by the serve loop's thread.
//
// CommandQueue: bounded; a caller submits a function and waits for its result up to a timeout
// (the command may still run after a timeout; the caller is told it is unknown). The serve loop
// drains the queue between source polls.
//
// IngestQueue: bounded in events; a batch is accepted whole or refused (the API answers 429 with
// Retry-After), so a sender learns at once that the pipeline is full and nothing is half taken.
//
// Thread safety: every method may be called from any thread, except drain(), which runs on the
// engine's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "riposte/core/status.h"

namespace riposte {

class Engine;

// Wakes the serve loop when work arrives (instead of its idle sleep). An eventfd, so the loop
// can sleep on it together with the sources' own descriptors (syslog sockets).
class WakeSignal {
 public:
  WakeSignal();
  ~WakeSignal();
  WakeSignal(const WakeSignal&) = delete;
  WakeSignal& operator=(const WakeSignal&) = delete;

  void notify();
  // Waits until notified, one of `fds` is readable, or `timeout`; clears the notification.
  void wait(std::chrono::milliseconds timeout, std::span<const int> fds = {});

 private:
  int fd_ = -1;
};

class CommandQueue {
 public:
  using Command = std::function<Status(Engine&)>;

  CommandQueue(size_t capacity, WakeSignal* wake) : capacity_(capacity), wake_(wake) {}

  // Runs `cmd` on the engine thread and returns its Status; resourceExhausted when the queue is
  // full, unavailable when it did not run within `timeout` or the loop stopped.
  Status run(Command cmd, std::chrono::milliseconds timeout);

  // Engine thread: runs up to `max` queued commands; returns how many ran.
  size_t drain(Engine& engine, size_t max = 64);
  // Refuses every queued and future command (the loop is stopping).
  void close();
  size_t depth() const;

 private:
  struct Pending {
    Command cmd;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Status result;
  };
  void finish(Pending& p, Status st);

  size_t capacity_;
  WakeSignal* wake_;
  mutable std::mutex mu_;
  std::deque<std::shared_ptr<Pending>> queue_;
  bool closed_ = false;
};

// One event for the pipeline: the parser that reads it and its line.
struct IngestItem {
  std::string parser;
  std::string line;
};

struct IngestStats {
  uint64_t accepted = 0;  // events
  uint64_t refused = 0;   // events in batches refused because the queue was full
  uint64_t processed = 0;
};

class IngestQueue {
 public:
  IngestQueue(size_t capacity_events, WakeSignal* wake) : capacity_(capacity_events), wake_(wake) {}

  // Accepts the whole batch, or nothing when it does not fit.
  bool tryPush(std::vector<IngestItem>&& batch);
  // Engine thread: runs up to `max` events through the engine; returns how many.
  size_t drain(Engine& engine, size_t max = 10000);
  size_t depth() const;
  size_t capacity() const { return capacity_; }
  IngestStats stats() const;

 private:
  size_t capacity_;
  WakeSignal* wake_;
  mutable std::mutex mu_;
  std::deque<IngestItem> queue_;
  IngestStats stats_;
};

}  // namespace riposte

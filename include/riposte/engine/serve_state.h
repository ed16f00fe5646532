// ServeState: what the serve loop publishes for the API and /metrics — a copy of the engine's
// counters, per-source health and queue depths, refreshed by the loop (the engine itself is
// never read from another thread).
//
// Thread safety: publish() from the serve loop, snapshot() from any thread.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "riposte/engine/engine.h"

namespace riposte {

struct SourceHealth {
  std::string name;
  std::string type;
  std::string parser;
  SourceStats stats;
  uint64_t polls = 0;
  uint64_t errors = 0;  // failed polls
  std::string last_error;
  Timestamp last_line;  // wall clock of the last line read (unset: none yet)
};

struct ServeSnapshot {
  EngineStats engine;
  std::map<std::string, uint64_t> findings_by_detector;
  std::vector<SourceHealth> sources;
  size_t action_queue = 0;
  size_t command_queue = 0;
  size_t ingest_queue = 0;
  Timestamp started;
  Timestamp updated;
};

class ServeState {
 public:
  void publish(ServeSnapshot s) {
    std::lock_guard<std::mutex> l(mu_);
    snap_ = std::move(s);
  }
  ServeSnapshot snapshot() const {
    std::lock_guard<std::mutex> l(mu_);
    return snap_;
  }
  // Set once before serving; lives in the engine, which outlives the API.
  void setLatency(const LatencyHistogram* h) { latency_ = h; }
  const LatencyHistogram* latency() const { return latency_; }

 private:
  mutable std::mutex mu_;
  ServeSnapshot snap_;
  const LatencyHistogram* latency_ = nullptr;
};

}  // namespace riposte

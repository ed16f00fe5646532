// Detector: looks at events and emits findings.
//
// Detectors run on the detection thread of the shard that owns the event's entity, so their
// per-entity state needs no locks. They use the event's own timestamp as the clock, so a
// replay of old logs behaves as the live run did.
//
// Thread safety: one instance per shard; not shared across threads.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "riposte/core/event.h"
#include "riposte/core/finding.h"

namespace riposte {

using FindingSink = std::function<void(Finding&&)>;

class Detector {
 public:
  virtual ~Detector() = default;
  virtual std::string_view name() const = 0;
  // Looks at one event; calls `sink` for each finding.
  virtual void onEvent(const Event& event, const FindingSink& sink) = 0;
  // Drops state older than `now` minus the detector's horizon. Called periodically.
  virtual void expire(Timestamp now) { (void)now; }
  // A fallback detector (the anomaly model) decides only where the others have not: the engine
  // runs it after every other detector, and its findings (Finding::fallback) never override
  // another decision on the same entity.
  virtual bool fallback() const { return false; }
};

using DetectorPtr = std::unique_ptr<Detector>;

}  // namespace riposte

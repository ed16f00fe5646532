// ThresholdDetector: N matching events from one key (source IP by default) within a sliding
// window produce a finding — the classic brute-force rule.
//
// Configuration (under `detectors:`):
//   - name: ssh-bruteforce
//     type: threshold
//     kinds: [auth]          # event kinds it looks at (default: all)
//     outcome: failure       # required event.outcome (default: any)
//     actions: [...]         # allowed event.action values (default: any)
//     key: source.ip         # field that identifies the entity
//     threshold: 6           # events (rsyslog repeats count N times)
//     window: 60s
//     severity: 6            # 0..10
//     action: block          # suggested action
//     labels: [T1110.001]
//
// Time is the events' own timestamps. After a finding the key's window starts again, so an
// attacker who keeps going produces one finding per further `threshold` events.
//
// Thread safety: one instance per shard.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "riposte/core/config.h"
#include "riposte/core/string_hash.h"
#include "riposte/detect/detector.h"
#include "riposte/detect/event_filter.h"

namespace riposte {

struct ThresholdConfig {
  std::string name = "threshold";
  EventFilter filter;
  Field key = Field::kSourceIp;
  uint32_t threshold = 6;
  Duration window = std::chrono::seconds(60);
  int severity = 5;
  std::string action = "block";
  std::vector<std::string> labels;
  size_t max_evidence = 20;

  static ThresholdConfig fromConfig(const ComponentConfig& c, const ConfigReader& rd);
};

class ThresholdDetector : public Detector {
 public:
  explicit ThresholdDetector(ThresholdConfig cfg) : cfg_(std::move(cfg)) {}

  std::string_view name() const override { return cfg_.name; }
  void onEvent(const Event& event, const FindingSink& sink) override;
  void expire(Timestamp now) override;

  size_t trackedKeys() const { return state_.size(); }

 private:
  struct Hit {
    Timestamp ts;
    uint32_t count;
  };
  struct KeyState {
    std::deque<Hit> hits;
    uint32_t total = 0;
    std::vector<EvidenceEvent> evidence;
  };

  ThresholdConfig cfg_;
  StringMap<KeyState> state_;
};

}  // namespace riposte

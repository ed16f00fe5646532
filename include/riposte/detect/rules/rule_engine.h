// RuleEngine: the detector that evaluates a RuleSet against events and keeps each rule's
// aggregation state per key (event time, no locks: one instance per shard).
//
// Configuration (under `detectors:`):
//   - name: rules
//     type: rules
//     paths: [rules/]      # files, directories (their *.yaml) or globs
//
// Shadow rules produce findings marked `shadow` (counted, never acted on).
//
// Thread safety: one instance per shard.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "riposte/core/string_hash.h"
#include "riposte/detect/detector.h"
#include "riposte/detect/rules/rule.h"

namespace riposte::rules {

struct RuleStats {
  uint64_t matches = 0;   // events that passed the selection
  uint64_t findings = 0;  // aggregations that fired (including shadow)
};

class RuleEngine : public Detector {
 public:
  RuleEngine(std::string name, std::vector<Rule> rules);

  std::string_view name() const override { return name_; }
  void onEvent(const Event& event, const FindingSink& sink) override;
  void expire(Timestamp now) override;

  const RuleSet& ruleSet() const { return set_; }
  const RuleStats& stats(size_t rule_index) const { return stats_[rule_index]; }
  // Changes a rule's mode (the index is rebuilt; the rule's aggregation state starts afresh).
  // notFound when no rule has the id.
  Status setRuleMode(std::string_view rule_id, RuleMode mode);

 private:
  struct KeyState {
    double level = 0;            // leaky bucket level
    Timestamp last;              // last event (leak reference)
    Timestamp first;             // first event counted
    std::deque<Timestamp> hits;  // count/distinct: event times in the window
    std::deque<std::pair<Timestamp, std::string>> values;  // distinct: value times
    uint32_t count = 0;
    Timestamp blackhole_until;
    std::vector<EvidenceEvent> evidence;
  };

  void evaluate(size_t idx, const Rule& r, const Event& e, const FindingSink& sink);
  void fire(const Rule& r, const std::string& key, KeyState& st, const Event& e,
            const FindingSink& sink, size_t idx);
  const std::string& keyOf(const Rule& r, const Event& e);

  std::string name_;
  RuleSet set_;
  std::vector<StringMap<KeyState>> state_;  // per rule
  std::vector<RuleStats> stats_;
  std::string key_buf_;
  std::vector<size_t> candidates_;
  size_t max_evidence_ = 20;
};

}  // namespace riposte::rules

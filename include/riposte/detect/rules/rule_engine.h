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
#include <memory>
#include <string>
#include <vector>

#include "riposte/core/config.h"
#include "riposte/core/string_hash.h"
#include "riposte/detect/detector.h"
#include "riposte/detect/rules/intel_predicate.h"
#include "riposte/detect/rules/rule.h"
#include "riposte/detect/rules/rule_loader.h"

namespace riposte::rules {

struct RuleStats {
  uint64_t matches = 0;   // events that passed the selection
  uint64_t findings = 0;  // aggregations that fired (including shadow)
};

// Loads the rule files of a `rules` detector's configuration (`paths`, `@bundled`, `sigma`):
// what the detector factory compiles, and where the engine finds the diagnostics of a refused
// reload.
LoadResult loadRulesFor(const ComponentConfig& c);

class RuleEngine : public Detector {
 public:
  // `diagnostics`: the load's warnings (a load with errors never makes an engine).
  // `hyperscan` false: no pattern index (see RuleSet).
  RuleEngine(std::string name, std::vector<Rule> rules,
             std::vector<RuleDiagnostic> diagnostics = {}, bool hyperscan = true);

  std::string_view name() const override { return name_; }
  void onEvent(const Event& event, const FindingSink& sink) override;
  void expire(Timestamp now) override;

  const RuleSet& ruleSet() const { return set_; }
  const RuleStats& stats(size_t rule_index) const { return stats_[rule_index]; }
  // Changes a rule's mode (the index is rebuilt; the rule's aggregation state starts afresh).
  // notFound when no rule has the id.
  Status setRuleMode(std::string_view rule_id, RuleMode mode);
  // The mode the rule file gave a rule (before any setRuleMode).
  RuleMode fileMode(size_t rule_index) const { return file_modes_[rule_index]; }
  const std::vector<RuleDiagnostic>& diagnostics() const { return diagnostics_; }
  // Forgets every rule's aggregation state and statistics (the compiled rule set stays).
  void resetState();
  // The view the rules' intel predicates were bound to (bindIntel): a finding of a rule with
  // intel predicates names the indicator that hit (reason `{intel}`, labels, evidence).
  void setIntel(std::shared_ptr<IntelView> view) { intel_ = std::move(view); }
  const std::shared_ptr<IntelView>& intel() const { return intel_; }

 private:
  struct KeyState {
    double level = 0;            // leaky bucket level
    Timestamp last;              // last event (leak reference)
    Timestamp first;             // first event counted
    std::deque<Timestamp> hits;  // count/distinct: event times in the window
    std::deque<std::pair<Timestamp, std::string>> values;  // distinct: value times
    uint32_t count = 0;
    Timestamp blackhole_until;
    // The first evidence_n are the current events; later ones keep their strings' capacity
    // for reuse (a drained bucket starts over without freeing them).
    std::vector<EvidenceEvent> evidence;
    size_t evidence_n = 0;
    // Sequence: per step, its recent matching events (for counts), when it last completed, and
    // the start (first step's completion) of the latest chain that reached it (ordered).
    std::vector<std::deque<Timestamp>> step_hits;
    std::vector<Timestamp> step_done;
    std::vector<Timestamp> step_start;
  };

  bool sequenceStep(const Rule& r, const Event& e, KeyState& st);
  void keepEvidence(KeyState& st, const Event& e) const;

  void evaluate(size_t idx, const Rule& r, const Event& e, const FindingSink& sink);
  void fire(const Rule& r, const std::string& key, KeyState& st, const Event& e,
            const FindingSink& sink, size_t idx);
  const std::string& keyOf(const Rule& r, const Event& e);

  std::string name_;
  RuleSet set_;
  std::vector<StringMap<KeyState>> state_;  // per rule
  std::vector<RuleStats> stats_;
  std::vector<RuleMode> file_modes_;
  std::vector<RuleDiagnostic> diagnostics_;
  std::string key_buf_;
  const FieldRef* key_field_ = nullptr;  // the key field keyOf used (first key or a fallback)
  std::vector<size_t> candidates_;
  size_t max_evidence_ = 20;
  std::shared_ptr<IntelView> intel_;
};

}  // namespace riposte::rules

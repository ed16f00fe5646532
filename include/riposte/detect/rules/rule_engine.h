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
#include "riposte/core/flat_string_map.h"
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
  // A first-in first-out queue on a vector: nothing is allocated until the first push (a
  // std::deque allocates on construction, and every new key makes several), and the storage
  // is reused as elements leave.
  template <typename T>
  class Fifo {
   public:
    bool empty() const { return head_ == v_.size(); }
    size_t size() const { return v_.size() - head_; }
    const T& front() const { return v_[head_]; }
    const T& back() const { return v_.back(); }
    void push_back(const T& x) {
      if (head_ != 0 && head_ == v_.size()) clear();
      v_.push_back(x);
    }
    void pop_front() {
      ++head_;
      if (head_ >= 32 && head_ * 2 >= v_.size()) {
        v_.erase(v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
      }
    }
    void clear() {
      v_.clear();
      head_ = 0;
    }
    auto begin() const { return v_.begin() + static_cast<std::ptrdiff_t>(head_); }
    auto end() const { return v_.end(); }

   private:
    std::vector<T> v_;
    size_t head_ = 0;
  };

  struct KeyState {
    double level = 0;      // leaky bucket level
    Timestamp last;        // last event (leak reference)
    Timestamp first;       // first event counted
    Fifo<Timestamp> hits;  // count/distinct: event times in the window
    // distinct: when each value was seen, by a 64-bit hash of the value (no copy per event)
    Fifo<std::pair<Timestamp, uint64_t>> values;
    uint32_t count = 0;
    Timestamp blackhole_until;
    // The first evidence_n are the current events; later ones keep their strings' capacity
    // for reuse (a drained bucket starts over without freeing them).
    std::vector<EvidenceEvent> evidence;
    size_t evidence_n = 0;
    // Sequence: per step, its recent matching events (for counts), when it last completed, and
    // the start (first step's completion) of the latest chain that reached it (ordered).
    std::vector<Fifo<Timestamp>> step_hits;
    std::vector<Timestamp> step_done;
    std::vector<Timestamp> step_start;
  };

  bool sequenceStep(const Rule& r, const Event& e, KeyState& st);
  void keepEvidence(KeyState& st, const Event& e) const;

  void evaluate(size_t idx, const Rule& r, const Event& e, const FindingSink& sink);
  void fire(const Rule& r, std::string_view key, KeyState& st, const Event& e,
            const FindingSink& sink, size_t idx);
  // The aggregation key of `e` for `r`: a view of the event's value for a one-field key, else
  // of key_buf_ (the fields joined by \x1f). Valid until the next call or event.
  std::string_view keyOf(const Rule& r, const Event& e);

  std::string name_;
  RuleSet set_;
  // Aggregation keys are short (an address, perhaps with a domain): hashed 8 bytes at a time,
  // the states in one dense vector per rule.
  using KeyMap = FlatStringMap<KeyState>;
  std::vector<KeyMap> state_;  // per rule
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

// Rule and RuleSet: the compiled form of Riposte's YAML rules (see docs/rules.md).
//
// A rule is a selection (Condition), an optional aggregation keyed by fields (trigger, count in
// a sliding window, distinct count, leaky bucket with blackhole), and an outcome (severity,
// action, duration, labels, reason template). A RuleSet indexes rules by event kind so an event
// only meets the rules that can match it.
//
// Thread safety: a RuleSet is immutable after loading, but its conditions keep scratch buffers:
// each shard loads its own.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "riposte/core/event.h"
#include "riposte/core/flat_string_map.h"
#include "riposte/core/time.h"
#include "riposte/detect/rules/condition.h"
#include "riposte/detect/rules/pattern_index.h"

namespace riposte::rules {

enum class RuleMode { kEnabled, kDisabled, kShadow };
std::string_view ruleModeName(RuleMode m);

enum class AggregationType { kTrigger, kCount, kDistinct, kLeaky, kSequence };

// One step of a sequence: events matching `condition`; the step completes when `count` of them
// fall within `within` (0 = the sequence window).
struct SequenceStep {
  std::string name;
  Condition condition = Condition::alwaysTrue();
  uint32_t count = 1;
  Duration within{0};
};

struct Aggregation {
  AggregationType type = AggregationType::kTrigger;
  std::vector<FieldRef> key;         // default: source.ip
  std::vector<FieldRef> fallback;    // tried in order when the first key field is missing
  uint32_t threshold = 1;            // count/distinct: events or values; leaky: capacity
  Duration window{0};                // count/distinct: sliding window
  Duration leak{0};                  // leaky: one event leaks out every `leak`
  Duration blackhole{0};             // after a finding, the key is ignored this long
  std::optional<FieldRef> distinct;  // only events with a new value of this field count
  uint8_t ipv6_prefix = 0;           // group IPv6 keys by this prefix (e.g. 64); 0 = whole address
  // kSequence: the steps complete within `window`, in order when `ordered` (A then B), else in
  // any order; `threshold` steps are needed when unordered (default: all of them).
  std::vector<SequenceStep> steps;
  bool ordered = true;
};

struct Rule {
  std::string id;
  std::string name;
  std::string description;
  std::string file;  // where it was defined
  int line = 0;
  RuleMode mode = RuleMode::kEnabled;
  std::vector<EventKind> kinds;  // empty = every kind
  Condition condition = Condition::alwaysTrue();
  Aggregation aggregation;
  int severity = 5;
  std::string action = "block";
  Duration duration{0};  // 0 = the response default
  std::vector<std::string> labels;
  std::string reason;              // template: {rule}, {count}, {key}, {<field name>}
  std::string format = "riposte";  // "riposte" or "sigma" (the file it came from)
  bool intel = false;              // some predicate (of `match` or a step) is an intel predicate
};

class RuleSet {
 public:
  // `hyperscan` false: every predicate evaluates itself (the reference the pattern index is
  // tested against). The rules' conditions are copied: the set's predicates are its own.
  explicit RuleSet(std::vector<Rule> rules, bool hyperscan = true);

  const std::vector<Rule>& rules() const { return rules_; }
  // Indices of the enabled/shadow rules that can match events of `kind`.
  const std::vector<size_t>& forKind(EventKind kind) const {
    return by_kind_[static_cast<size_t>(kind)];
  }
  // Indices (ascending) of the rules worth evaluating for `e`: those of its kind, less the rules
  // whose equality anchor (see Condition::equalityAnchor) the event's field value misses — one
  // hash lookup per anchored field instead of one evaluation per rule — and less the rules
  // whose pattern anchor (Condition::patternAnchor) did not match in the field's scan. `out` is
  // cleared.
  // Starts a new event for the pattern index, the transformed field values and the results of
  // the predicates several rules share: call it before evaluating the rules' conditions for `e`
  // (their predicates read the fields' scans, transformed values and shared results of the
  // current event).
  void candidates(const Event& e, std::vector<size_t>& out) const;
  bool hyperscan() const { return hyperscan_; }
  // The pattern index (nullptr without Hyperscan).
  const PatternIndex* patterns() const { return patterns_.get(); }
  const Rule* find(std::string_view id) const;
  // Predicates of the live rules that stand for equal ones of several rules (evaluated once per
  // event for all of them; see Predicate::signature).
  size_t sharedPredicates() const { return shared_predicates_; }

 private:
  // Rules anchored on one field (as written, with transformations and case folding).
  struct AnchorGroup {
    FieldRef field;
    bool nocase = false;
    FlatStringMap<std::vector<size_t>> by_value;
  };
  // Rules anchored on a predicate of one field's pattern database: by the predicate's id.
  struct PatternGroup {
    uint32_t group = 0;
    std::vector<std::vector<size_t>> by_id;
    std::vector<size_t> all;  // every rule of the group (when the field is not answered)
  };
  struct KindIndex {
    std::vector<size_t> unanchored;
    std::vector<AnchorGroup> groups;
    std::vector<PatternGroup> pattern_groups;
  };

  std::vector<Rule> rules_;
  std::array<std::vector<size_t>, kEventKindCount> by_kind_;
  std::array<KindIndex, kEventKindCount> index_;
  bool hyperscan_ = true;
  std::shared_ptr<PatternIndex> patterns_;
  // Counts the events candidates() was asked about: the transformed values of the rules'
  // fields (DerivedValue, one per spec) and the predicates several rules share (one object per
  // signature, Predicate::epoch) are computed once per event.
  std::unique_ptr<uint64_t> epoch_ = std::make_unique<uint64_t>(1);
  mutable std::string scratch_;
  size_t shared_predicates_ = 0;
};

using RuleSetPtr = std::shared_ptr<const RuleSet>;

}  // namespace riposte::rules

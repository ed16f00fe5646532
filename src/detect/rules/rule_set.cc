#include "riposte/detect/rules/rule.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace riposte::rules {

std::string_view ruleModeName(RuleMode m) {
  switch (m) {
    case RuleMode::kEnabled: return "enabled";
    case RuleMode::kDisabled: return "disabled";
    case RuleMode::kShadow: return "shadow";
  }
  return "?";
}

RuleSet::RuleSet(std::vector<Rule> rules, bool hyperscan)
    : rules_(std::move(rules)), hyperscan_(hyperscan) {
  // The set's own predicates, pointed at its own pattern index (or at none), and its fields
  // with transformations at one shared value per spec.
  if (hyperscan_) patterns_ = std::make_shared<PatternIndex>();
  StringMap<std::shared_ptr<DerivedValue>> derived;
  auto share = [&](FieldRef& f) {
    f.derived.reset();
    if (f.transforms.empty()) return;
    auto& d = derived[f.spec];
    if (!d) {
      d = std::make_shared<DerivedValue>();
      d->epoch = epoch_.get();
    }
    f.derived = d;
  };
  // Equal predicates of the live rules become one, evaluated once per event (the status codes,
  // methods and static extensions many web rules test), and each is offered to the pattern
  // index once.
  StringMap<std::shared_ptr<Predicate>> by_signature;
  std::unordered_map<const Predicate*, size_t> uses;
  auto unify = [&](std::shared_ptr<Predicate>& p) {
    const std::string sig = p->signature();
    if (!sig.empty()) {
      auto& one = by_signature[sig];
      if (!one) one = p;
      p = one;
    }
    ++uses[p.get()];
  };
  for (Rule& r : rules_) {
    const bool live = r.mode != RuleMode::kDisabled;
    r.condition.detach();
    if (live) r.condition.forEachPredicateRef(unify);
    for (SequenceStep& s : r.aggregation.steps) {
      s.condition.detach();
      if (live) s.condition.forEachPredicateRef(unify);
    }
  }
  std::unordered_set<const Predicate*> hooked;
  for (Rule& r : rules_) {
    const bool live = r.mode != RuleMode::kDisabled;
    auto hook = [&](Predicate& p) {
      if (!hooked.insert(&p).second) return;
      share(p.field);
      if (p.ref) share(*p.ref);
      p.patterns = nullptr;
      p.epoch = nullptr;
      if (live && uses[&p] > 1) {
        p.epoch = epoch_.get();
        ++shared_predicates_;
      }
      if (live && patterns_) patterns_->add(p);
    };
    r.condition.forEachPredicate(hook);
    for (SequenceStep& s : r.aggregation.steps) s.condition.forEachPredicate(hook);
    for (FieldRef& f : r.aggregation.key) share(f);
    for (FieldRef& f : r.aggregation.fallback) share(f);
    if (r.aggregation.distinct) share(*r.aggregation.distinct);
  }
  if (patterns_) patterns_->compile();
  for (Rule& r : rules_) {
    r.condition.orderByCost();
    for (SequenceStep& s : r.aggregation.steps) s.condition.orderByCost();
  }
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Rule& r = rules_[i];
    if (r.mode == RuleMode::kDisabled) continue;
    if (r.kinds.empty()) {
      for (auto& v : by_kind_) v.push_back(i);
    } else {
      for (EventKind k : r.kinds) by_kind_[static_cast<size_t>(k)].push_back(i);
    }
  }
  for (size_t k = 0; k < kEventKindCount; ++k) {
    KindIndex& ix = index_[k];
    for (size_t i : by_kind_[k]) {
      const Predicate* a = rules_[i].condition.equalityAnchor();
      if (a == nullptr) {
        const Predicate* p = rules_[i].condition.patternAnchor();
        if (p == nullptr) {
          ix.unanchored.push_back(i);
          continue;
        }
        auto g = std::find_if(ix.pattern_groups.begin(), ix.pattern_groups.end(),
                              [&](const PatternGroup& x) { return x.group == p->pattern_group; });
        if (g == ix.pattern_groups.end()) {
          ix.pattern_groups.push_back(PatternGroup{p->pattern_group, {}, {}});
          g = ix.pattern_groups.end() - 1;
          g->by_id.resize(patterns_->ids(p->pattern_group));
        }
        g->by_id[p->pattern_bit].push_back(i);
        g->all.push_back(i);
        continue;
      }
      auto g = std::find_if(ix.groups.begin(), ix.groups.end(), [&](const AnchorGroup& x) {
        return x.field.spec == a->field.spec && x.nocase == a->nocase;
      });
      if (g == ix.groups.end()) {
        ix.groups.push_back(AnchorGroup{a->field, a->nocase, {}});
        g = ix.groups.end() - 1;
      }
      for (const auto& v : a->set) g->by_value[v].push_back(i);
    }
  }
}

void RuleSet::candidates(const Event& e, std::vector<size_t>& out) const {
  ++*epoch_;
  if (patterns_) patterns_->beginEvent();
  const KindIndex& ix = index_[static_cast<size_t>(e.kind())];
  out.assign(ix.unanchored.begin(), ix.unanchored.end());
  for (const PatternGroup& g : ix.pattern_groups) {
    const std::vector<uint64_t>* m = patterns_->matches(g.group, e);
    if (m == nullptr) {
      out.insert(out.end(), g.all.begin(), g.all.end());
      continue;
    }
    for (size_t w = 0; w < m->size(); ++w) {
      for (uint64_t bits = (*m)[w]; bits != 0; bits &= bits - 1) {
        const auto& rules = g.by_id[w * 64 + static_cast<size_t>(__builtin_ctzll(bits))];
        out.insert(out.end(), rules.begin(), rules.end());
      }
    }
  }
  if (ix.groups.empty() && ix.pattern_groups.empty()) return;
  for (const AnchorGroup& g : ix.groups) {
    std::string_view v = g.field.get(e);
    if (v.empty()) continue;
    if (g.nocase) {
      scratch_.assign(v);
      for (char& c : scratch_) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      }
      v = scratch_;
    }
    if (const auto* rules = g.by_value.find(v)) out.insert(out.end(), rules->begin(), rules->end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

const Rule* RuleSet::find(std::string_view id) const {
  for (const auto& r : rules_) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

}  // namespace riposte::rules

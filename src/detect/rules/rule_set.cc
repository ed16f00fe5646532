#include "riposte/detect/rules/rule.h"

#include <algorithm>

namespace riposte::rules {

std::string_view ruleModeName(RuleMode m) {
  switch (m) {
    case RuleMode::kEnabled: return "enabled";
    case RuleMode::kDisabled: return "disabled";
    case RuleMode::kShadow: return "shadow";
  }
  return "?";
}

RuleSet::RuleSet(std::vector<Rule> rules) : rules_(std::move(rules)) {
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
        ix.unanchored.push_back(i);
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
  const KindIndex& ix = index_[static_cast<size_t>(e.kind())];
  out.assign(ix.unanchored.begin(), ix.unanchored.end());
  if (ix.groups.empty()) return;
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
    const auto it = g.by_value.find(v);
    if (it != g.by_value.end()) out.insert(out.end(), it->second.begin(), it->second.end());
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

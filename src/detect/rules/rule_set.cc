#include "riposte/detect/rules/rule.h"

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
}

const Rule* RuleSet::find(std::string_view id) const {
  for (const auto& r : rules_) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

}  // namespace riposte::rules

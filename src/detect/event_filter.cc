#include "riposte/detect/event_filter.h"

#include <set>

namespace riposte {

EventFilter EventFilter::fromConfig(const ComponentConfig& c, const ConfigReader& rd) {
  EventFilter f;
  for (const auto& k : rd.getStringList(c.node, c.path, "kinds")) {
    if (auto kind = eventKindFromName(k)) {
      f.allowKind(*kind);
    } else {
      rd.error(c.node["kinds"], c.path + ".kinds", "unknown event kind '" + k + "'");
    }
  }
  f.outcome_ = rd.getString(c.node, c.path, "outcome", "");
  if (!f.outcome_.empty() && f.outcome_ != "success" && f.outcome_ != "failure" &&
      f.outcome_ != "unknown") {
    rd.error(c.node["outcome"], c.path + ".outcome", "must be success, failure or unknown");
  }
  f.actions_ = rd.getStringList(c.node, c.path, "actions");
  return f;
}

bool EventFilter::matches(const Event& e) const {
  if (!any_kind_ && !kinds_[static_cast<size_t>(e.kind())]) return false;
  if (!outcome_.empty() && e.get(Field::kEventOutcome) != outcome_) return false;
  if (!actions_.empty()) {
    const auto a = e.get(Field::kEventAction);
    bool found = false;
    for (const auto& x : actions_) found = found || x == a;
    if (!found) return false;
  }
  return true;
}

}  // namespace riposte

// EventFilter: the cheap pre-condition a detector applies before looking at an event
// (event kinds, outcome, actions), compiled once from configuration.
//
// Thread safety: immutable after construction.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "riposte/core/config.h"
#include "riposte/core/event.h"

namespace riposte {

class EventFilter {
 public:
  // Reads `kinds`, `outcome` and `actions` from a detector's config map.
  static EventFilter fromConfig(const ComponentConfig& c, const ConfigReader& rd);

  bool matches(const Event& e) const;

  void allowKind(EventKind k) {
    kinds_[static_cast<size_t>(k)] = true;
    any_kind_ = false;
  }
  void setOutcome(std::string o) { outcome_ = std::move(o); }
  void addAction(std::string a) { actions_.push_back(std::move(a)); }

 private:
  bool any_kind_ = true;
  std::array<bool, kEventKindCount> kinds_{};
  std::string outcome_;
  std::vector<std::string> actions_;
};

}  // namespace riposte

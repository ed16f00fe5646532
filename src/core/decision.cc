#include "riposte/core/decision.h"

#include <array>
#include <nlohmann/json.hpp>

namespace riposte {

namespace {
constexpr std::array<std::string_view, 6> kStateNames = {"pending-approval", "active", "expired",
                                                         "revoked",          "failed", "dry-run"};
constexpr std::array<std::string_view, 4> kTargetNames = {"ip", "cidr", "user", "host"};
}  // namespace

std::string_view decisionStateName(DecisionState s) { return kStateNames[static_cast<size_t>(s)]; }

std::optional<DecisionState> decisionStateFromName(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<DecisionState>(i);
  }
  return std::nullopt;
}

std::string_view targetTypeName(TargetType t) { return kTargetNames[static_cast<size_t>(t)]; }

std::optional<TargetType> targetTypeFromName(std::string_view name) {
  for (size_t i = 0; i < kTargetNames.size(); ++i) {
    if (kTargetNames[i] == name) return static_cast<TargetType>(i);
  }
  return std::nullopt;
}

std::string Decision::toJson() const {
  nlohmann::ordered_json j;
  j["target"] = target.value;
  j["scope"] = std::string(targetTypeName(target.type));
  j["action"] = action;
  j["detector"] = detector;
  j["reason"] = reason;
  j["events"] = events;
  j["first_seen"] = formatRfc3339(first_seen);
  j["last_seen"] = formatRfc3339(last_seen);
  j["expires"] = formatRfc3339(expires);
  j["state"] = std::string(decisionStateName(state));
  j["id"] = id;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace riposte

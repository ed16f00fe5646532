#include "riposte/core/incident.h"

#include <array>
#include <nlohmann/json.hpp>

namespace riposte {

namespace {
constexpr std::array<std::string_view, 3> kStatusNames = {"open", "acknowledged", "closed"};
// Detectors named in a title; more are counted ("+2 more").
constexpr size_t kTitleDetectors = 3;
}  // namespace

std::string_view incidentStatusName(IncidentStatus s) {
  return kStatusNames[static_cast<size_t>(s)];
}

std::optional<IncidentStatus> incidentStatusFromName(std::string_view name) {
  for (size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == name) return static_cast<IncidentStatus>(i);
  }
  return std::nullopt;
}

std::string incidentTitle(const std::vector<std::string>& detectors, const Target& target) {
  std::string t;
  for (size_t i = 0; i < detectors.size() && i < kTitleDetectors; ++i) {
    if (i > 0) t += ", ";
    t += detectors[i];
  }
  if (detectors.size() > kTitleDetectors) {
    t += " +" + std::to_string(detectors.size() - kTitleDetectors) + " more";
  }
  if (t.empty()) t = "findings";
  return t + " on " + target.value;
}

std::string Incident::toJson() const {
  nlohmann::ordered_json j;
  j["id"] = id;
  j["key"] = key;
  j["target"] = target.value;
  j["scope"] = std::string(targetTypeName(target.type));
  j["title"] = title;
  j["severity"] = severity;
  j["finding_severity"] = finding_severity;
  j["status"] = std::string(incidentStatusName(status));
  j["first_seen"] = formatRfc3339(first_seen);
  j["last_seen"] = formatRfc3339(last_seen);
  j["created"] = formatRfc3339(created);
  j["updated"] = formatRfc3339(updated);
  j["findings"] = finding_count;
  j["detectors"] = detectors;
  j["labels"] = labels;
  j["decisions"] = decision_ids;
  j["status_by"] = status_by;
  j["status_at"] = status_at.isSet() ? nlohmann::ordered_json(formatRfc3339(status_at))
                                     : nlohmann::ordered_json(nullptr);
  j["status_note"] = status_note;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace riposte

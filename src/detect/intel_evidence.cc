#include "riposte/detect/intel_evidence.h"

#include <nlohmann/json.hpp>

namespace riposte {

std::string intelHitReason(std::string_view field, std::string_view value,
                           const intel::IndicatorMatch& m, int score) {
  std::string sources;
  for (const auto& s : m.sources) sources += (sources.empty() ? "" : ", ") + s.source;
  return std::string(field) + " " + std::string(value) + " matches " +
         std::string(intel::indicatorTypeName(m.type)) + " indicator " + m.value + " (score " +
         std::to_string(score) + ", sources: " + sources + ")";
}

void addIntelLabels(const intel::IndicatorMatch& m, std::vector<std::string>& labels) {
  labels.push_back("threat-intel");
  for (const auto& s : m.sources) {
    for (const auto& t : s.tags) labels.push_back(t);
  }
}

void addIndicatorEvidence(const intel::IndicatorMatch& m, int score, EvidenceEvent& ev) {
  nlohmann::json ind;
  ind["type"] = std::string(intel::indicatorTypeName(m.type));
  ind["value"] = m.value;
  ind["score"] = score;
  ind["sources"] = nlohmann::json::array();
  for (const auto& s : m.sources)
    ind["sources"].push_back({{"source", s.source}, {"reference", s.reference}});
  auto fields = nlohmann::json::parse(ev.fields_json, nullptr, false);
  if (fields.is_discarded()) return;
  fields["threat.indicator"] = ind;
  ev.fields_json = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace riposte

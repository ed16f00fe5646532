#include "store/evidence_keys.h"

#include <nlohmann/json.hpp>

namespace riposte {

EvidenceKeys evidenceKeys(const Finding& f) {
  EvidenceKeys k;
  if (f.entity.type == TargetType::kIp) k.source_ip = f.entity.value;
  for (const auto& e : f.evidence) {
    if (e.fields_json.empty()) continue;
    const auto j = nlohmann::json::parse(e.fields_json, nullptr, false);
    if (!j.is_object()) continue;
    if (k.source_ip.empty() && j.contains("source.ip") && j["source.ip"].is_string()) {
      k.source_ip = j["source.ip"].get<std::string>();
    }
    if (j.contains("event.kind") && j["event.kind"].is_string()) {
      k.kind = j["event.kind"].get<std::string>();
    }
  }
  return k;
}

}  // namespace riposte

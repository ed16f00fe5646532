// Finding: what a detector concluded about an entity, with the evidence that led to it.
//
// Thread safety: value type.
#pragma once

#include <string>
#include <vector>

#include "riposte/core/event.h"
#include "riposte/core/target.h"

namespace riposte {

struct Finding {
  std::string id;
  std::string detector;  // detector or rule name, e.g. "ssh-bruteforce"
  Target entity;         // who the finding is about
  int severity = 0;      // 0 (info) .. 10 (critical)
  double score = 0;      // detector-specific confidence in [0, 1]
  std::string reason;    // human-readable
  std::string suggested_action = "block";
  Duration duration{0};   // how long a decision should last; 0 = the response default
  bool shadow = false;    // from a rule in shadow mode: counted, never acted on
  bool fallback = false;  // from a fallback detector (anomaly): dropped while any decision on
                          // the entity is active, so it never overrides a rule's decision
  Timestamp first_seen;
  Timestamp last_seen;
  uint32_t event_count = 0;
  std::vector<std::string> labels;      // e.g. MITRE ATT&CK technique ids
  std::vector<EvidenceEvent> evidence;  // the events behind it (bounded)
};

}  // namespace riposte

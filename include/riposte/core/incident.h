// Incident: the findings about one target that kept coming, grouped so a person handles one
// thing instead of a finding per rule and window (engine/correlator.h builds them).
//
// Severity: the highest severity of its findings, raised one step (+1, at most 10) once its
// findings come from two or more distinct detectors or rules — two independent reasons to
// suspect the same target.
//
// Status: open (nobody has looked), acknowledged (a person is on it; still extended by new
// findings), closed (done; never extended — a later finding on the target opens a new one).
//
// Thread safety: value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/core/target.h"
#include "riposte/core/time.h"

namespace riposte {

enum class IncidentStatus { kOpen, kAcknowledged, kClosed };

std::string_view incidentStatusName(IncidentStatus s);  // open | acknowledged | closed
std::optional<IncidentStatus> incidentStatusFromName(std::string_view name);

struct Incident {
  std::string id;
  std::string key;  // correlation key "<type>:<value>", e.g. "ip:203.0.113.7"
  Target target;    // IPv6 addresses widened as the response policy widens them
  std::string title;
  int severity = 0;          // after the multi-detector step
  int finding_severity = 0;  // the highest severity of its findings
  IncidentStatus status = IncidentStatus::kOpen;
  Timestamp first_seen;  // first event of its first finding
  Timestamp last_seen;   // last event of its latest finding
  Timestamp created;     // wall clock
  Timestamp updated;     // wall clock, any change
  uint32_t finding_count = 0;
  std::vector<std::string> detectors;     // distinct detectors or rules, in order of arrival
  std::vector<std::string> labels;        // union of the findings' labels (MITRE ATT&CK ids)
  std::vector<std::string> decision_ids;  // decisions taken on its findings
  std::string status_by;                  // who last changed the status ("" = nobody yet)
  Timestamp status_at;
  std::string status_note;

  // The stable JSON shape served by the API, streamed and printed by the CLI.
  std::string toJson() const;
};

// The title for a set of detectors and a target: "ssh-bruteforce, intel on 203.0.113.7".
std::string incidentTitle(const std::vector<std::string>& detectors, const Target& target);

}  // namespace riposte

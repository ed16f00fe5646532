// What a threat-intel hit adds to a finding: the same words and evidence whether the hit comes
// from the `intel` detector or from an `intel` predicate of a rule.
//
// Thread safety: stateless functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "riposte/core/event.h"
#include "riposte/intel/snapshot.h"

namespace riposte {

// "<field> <value> matches <type> indicator <indicator> (score N, sources: a, b)".
std::string intelHitReason(std::string_view field, std::string_view value,
                           const intel::IndicatorMatch& m, int score);
// "threat-intel" and every source's tags.
void addIntelLabels(const intel::IndicatorMatch& m, std::vector<std::string>& labels);
// Adds `threat.indicator` {type, value, score, sources: [{source, reference}]} to the
// evidence's fields (when it has fields).
void addIndicatorEvidence(const intel::IndicatorMatch& m, int score, EvidenceEvent& ev);

}  // namespace riposte

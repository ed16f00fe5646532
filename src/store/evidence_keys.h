// The searchable columns of a finding's evidence events (source.ip, event.kind), shared by the
// stores. Events of one finding share its entity and matched one selection, so those kept
// without their fields (all but the last, to keep detection lean) take the address and kind of
// the one kept with them.
#pragma once

#include <string>

#include "riposte/core/finding.h"

namespace riposte {

struct EvidenceKeys {
  std::string source_ip;
  std::string kind;
};

EvidenceKeys evidenceKeys(const Finding& f);

}  // namespace riposte

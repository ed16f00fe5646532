// RFC 3339 text written into a buffer without printf, for paths that write many times (lists of
// decisions, a finding's evidence events). The same text as formatRfc3339 (time.h).
#pragma once

#include <string>

#include "riposte/core/time.h"

namespace riposte {

// Appends `ts` in its own offset (formatRfc3339) or, with `utc`, in UTC with a trailing Z
// (formatRfc3339Utc): microseconds when non-zero, else seconds.
void appendRfc3339(std::string& out, Timestamp ts, bool utc);

}  // namespace riposte

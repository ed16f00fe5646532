// Identifiers for findings, decisions and audit entries.
//
// An id is a 26-character, time-ordered string (48-bit millisecond time + 80 random bits,
// Crockford base32, as in ULID), so ids sort by creation time in every store.
//
// Thread safety: newId() may be called from any thread.
#pragma once

#include <string>

#include "riposte/core/time.h"

namespace riposte {

std::string newId(Timestamp at = Timestamp::now());

}  // namespace riposte

// Small helpers parsers share to fill events without allocating.
#pragma once

#include <string_view>

#include "riposte/core/event.h"

namespace riposte::ingest {

// Sets an IP field: the view itself when already canonical, else the canonical form (owned).
// Returns false (and sets nothing) when `text` is not an address.
bool setIp(Event& ev, Field f, std::string_view text);

// Whether all characters are decimal digits (and there is at least one).
bool allDigits(std::string_view s);

inline bool startsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}
inline bool endsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

}  // namespace riposte::ingest

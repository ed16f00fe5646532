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

// Parsers try many prefixes per line and most differ in their first byte: that byte is
// compared before the call to memcmp.
inline bool startsWith(std::string_view s, std::string_view p) {
  if (p.empty()) return true;
  return s.size() >= p.size() && s[0] == p[0] && s.compare(0, p.size(), p) == 0;
}
inline bool endsWith(std::string_view s, std::string_view p) {
  if (p.empty()) return true;
  return s.size() >= p.size() && s.back() == p.back() &&
         s.compare(s.size() - p.size(), p.size(), p) == 0;
}

}  // namespace riposte::ingest

// Helpers shared by the feed parsers (private to src/intel/feeds).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "riposte/intel/feed.h"

namespace riposte::intel::feeds {

// An indicator carrying the feed-level defaults (source, confidence, tags, TLP).
inline Indicator makeIndicator(NormalisedValue v, const FeedOptions& o) {
  Indicator i;
  i.type = v.type;
  i.value = std::move(v.value);
  i.source = o.source;
  i.confidence = o.confidence;
  i.tags = o.tags;
  i.tlp = o.tlp;
  return i;
}

inline void addTag(Indicator& i, std::string_view tag) {
  if (tag.empty()) return;
  for (const auto& t : i.tags) {
    if (t == tag) return;
  }
  i.tags.emplace_back(tag);
}

inline std::string_view trimView(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') s.remove_suffix(1);
  return s;
}

}  // namespace riposte::intel::feeds

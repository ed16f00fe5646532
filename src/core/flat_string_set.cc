#include "riposte/core/flat_string_set.h"

namespace riposte {

bool FlatStringSet::insert(std::string_view v) {
  const uint64_t h = hash(v);
  if (values_.size() <= kLinear ? contains(v) : find(v, h) != kNone) return false;
  values_.emplace_back(v);
  hashes_.push_back(h);
  if (values_.size() <= kLinear) return true;
  // At most half full: probes stay short.
  if (values_.size() * 2 > slots_.size()) {
    rebuild(slots_.empty() ? 16 : slots_.size() * 2);
    return true;
  }
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i] != kNone) i = (i + 1) & mask;
  slots_[i] = static_cast<uint32_t>(values_.size() - 1);
  return true;
}

void FlatStringSet::rebuild(size_t capacity) {
  while (capacity < values_.size() * 2) capacity *= 2;
  slots_.assign(capacity, kNone);
  const size_t mask = capacity - 1;
  for (size_t s = 0; s < values_.size(); ++s) {
    size_t i = hashes_[s] & mask;
    while (slots_[i] != kNone) i = (i + 1) & mask;
    slots_[i] = static_cast<uint32_t>(s);
  }
}

}  // namespace riposte

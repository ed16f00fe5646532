// FlatStringMap: a map from short strings to values for the hot path (a rule's aggregation
// state per key, the rules of an anchor value). The entries sit in one dense vector; an
// open-addressing table of 8-byte slots (32 bits of the key's hash and the entry's index) finds
// them with linear probing, so a look-up reads one slot line and then the entry it needs
// anyway, and compares the key only when the slot's hash bits agree. Erasing moves the last
// entry into the hole (entries are not in insertion order after an erase) and shifts the probe
// run back (no tombstones).
//
// References to values stay valid until the next insertion or erase.
//
// Thread safety: const member functions may be called concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "riposte/core/flat_string_set.h"

namespace riposte {

template <typename V>
class FlatStringMap {
 public:
  struct Entry {
    std::string key;
    V value;
    uint64_t hash = 0;
  };

  V* find(std::string_view k) {
    const uint32_t i = lookup(k, FlatStringSet::hash(k));
    return i == kNone ? nullptr : &entries_[i].value;
  }
  const V* find(std::string_view k) const {
    const uint32_t i = lookup(k, FlatStringSet::hash(k));
    return i == kNone ? nullptr : &entries_[i].value;
  }
  // The value of `k`, and whether it was inserted (default-constructed, the key copied).
  std::pair<V*, bool> tryEmplace(std::string_view k) {
    const uint64_t h = FlatStringSet::hash(k);
    if (const uint32_t i = lookup(k, h); i != kNone) return {&entries_[i].value, false};
    if ((entries_.size() + 1) * 2 > slots_.size()) rehash(slots_.empty() ? 16 : slots_.size() * 2);
    const auto index = static_cast<uint32_t>(entries_.size());
    Entry& e = entries_.emplace_back();
    e.key.assign(k);
    e.hash = h;
    slots_[freeSlot(h)] = Slot{tag(h), index};
    return {&e.value, true};
  }
  V& operator[](std::string_view k) { return *tryEmplace(k).first; }
  // Returns false when `k` was not there.
  bool erase(std::string_view k) {
    const uint32_t i = lookup(k, FlatStringSet::hash(k));
    if (i == kNone) return false;
    eraseAt(i);
    return true;
  }
  // Erases entry `i` (0 <= i < size()); the last entry takes its index. Erasing while walking
  // the entries from the last to the first visits every entry once.
  void eraseAt(size_t i) {
    removeSlot(slotOf(static_cast<uint32_t>(i)));
    const auto last = static_cast<uint32_t>(entries_.size() - 1);
    if (i != last) {
      slots_[slotOf(last)].index = static_cast<uint32_t>(i);
      entries_[i] = std::move(entries_[last]);
    }
    entries_.pop_back();
  }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() {
    entries_.clear();
    slots_.clear();
  }
  Entry& entry(size_t i) { return entries_[i]; }
  const Entry& entry(size_t i) const { return entries_[i]; }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

 private:
  static constexpr uint32_t kNone = 0xffffffffU;
  struct Slot {
    uint32_t tag = 0;
    uint32_t index = kNone;
  };
  static uint32_t tag(uint64_t h) { return static_cast<uint32_t>(h >> 32); }

  uint32_t lookup(std::string_view k, uint64_t h) const {
    if (slots_.empty()) return kNone;
    const size_t mask = slots_.size() - 1;
    for (size_t p = h & mask;; p = (p + 1) & mask) {
      const Slot s = slots_[p];
      if (s.index == kNone) return kNone;
      if (s.tag == tag(h) && entries_[s.index].key == k) return s.index;
    }
  }
  size_t freeSlot(uint64_t h) const {
    const size_t mask = slots_.size() - 1;
    size_t p = h & mask;
    while (slots_[p].index != kNone) p = (p + 1) & mask;
    return p;
  }
  size_t slotOf(uint32_t index) const {
    const size_t mask = slots_.size() - 1;
    size_t p = entries_[index].hash & mask;
    while (slots_[p].index != index) p = (p + 1) & mask;
    return p;
  }
  // Empties slot `hole`, moving later slots of the probe run back so every entry stays
  // reachable from its home slot.
  void removeSlot(size_t hole) {
    const size_t mask = slots_.size() - 1;
    for (size_t j = (hole + 1) & mask; slots_[j].index != kNone; j = (j + 1) & mask) {
      const size_t home = entries_[slots_[j].index].hash & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot{};
  }
  void rehash(size_t capacity) {
    slots_.assign(capacity, Slot{});
    for (size_t i = 0; i < entries_.size(); ++i) {
      slots_[freeSlot(entries_[i].hash)] = Slot{tag(entries_[i].hash), static_cast<uint32_t>(i)};
    }
  }

  std::vector<Slot> slots_;
  std::vector<Entry> entries_;
};

}  // namespace riposte

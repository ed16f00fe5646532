// FlatStringSet: a set of strings for look-ups on the hot path (rule word lists, status codes,
// methods). Open addressing over one array of slot indices, the values' hashes kept beside
// them: a look-up hashes once, usually touches one slot, and compares bytes only when the
// 64-bit hashes are equal. Sets of up to kLinear values are scanned instead (no hash at all).
//
// Thread safety: const member functions may be called concurrently.
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace riposte {

class FlatStringSet {
 public:
  static constexpr size_t kLinear = 4;

  FlatStringSet() = default;
  FlatStringSet(std::initializer_list<std::string_view> values) {
    for (const auto v : values) insert(v);
  }

  // Returns false when the value was already there.
  bool insert(std::string_view v);
  bool contains(std::string_view v) const {
    if (values_.size() <= kLinear) {
      for (const auto& s : values_) {
        if (s.size() == v.size() && std::memcmp(s.data(), v.data(), v.size()) == 0) return true;
      }
      return false;
    }
    return find(v, hash(v)) != kNone;
  }
  size_t count(std::string_view v) const { return contains(v) ? 1 : 0; }
  bool empty() const { return values_.empty(); }
  size_t size() const { return values_.size(); }
  void clear() {
    values_.clear();
    hashes_.clear();
    slots_.clear();
  }
  // The values in insertion order.
  auto begin() const { return values_.begin(); }
  auto end() const { return values_.end(); }

  static uint64_t hash(std::string_view v) {
    // 8 bytes at a time, multiply-xorshift mixing; the last 8 bytes (overlapping the previous
    // word) or, for short strings, two overlapping 4-byte or three single-byte reads: no loop
    // or copy of variable length for the tail, so few branches to mispredict.
    const char* p = v.data();
    const size_t n = v.size();
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL);
    auto mix = [&h](uint64_t k) {
      h = (h ^ k) * 0xbf58476d1ce4e5b9ULL;
      h ^= h >> 31;
    };
    if (n >= 8) {
      const char* last = p + n - 8;
      for (; p < last; p += 8) mix(load64(p));
      mix(load64(last));
    } else if (n >= 4) {
      mix(uint64_t{load32(p)} | uint64_t{load32(p + n - 4)} << 32);
    } else if (n > 0) {
      mix(uint64_t{static_cast<unsigned char>(p[0])} |
          uint64_t{static_cast<unsigned char>(p[n / 2])} << 8 |
          uint64_t{static_cast<unsigned char>(p[n - 1])} << 16);
    }
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 32);
  }

 private:
  static uint64_t load64(const char* p) {
    uint64_t k;
    std::memcpy(&k, p, 8);
    return k;
  }
  static uint32_t load32(const char* p) {
    uint32_t k;
    std::memcpy(&k, p, 4);
    return k;
  }
  static constexpr uint32_t kNone = 0xffffffffU;
  uint32_t find(std::string_view v, uint64_t h) const {
    if (slots_.empty()) return kNone;
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const uint32_t s = slots_[i];
      if (s == kNone) return kNone;
      if (hashes_[s] == h && values_[s] == v) return s;
    }
  }
  void rebuild(size_t capacity);

  std::vector<std::string> values_;
  std::vector<uint64_t> hashes_;
  std::vector<uint32_t> slots_;  // index into values_, or kNone
};

// FlatStringSet's hash for unordered containers keyed by short strings (transparent: look-ups
// take a string_view).
struct FlatStringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return FlatStringSet::hash(s); }
};

}  // namespace riposte

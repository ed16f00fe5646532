// The indexes behind an intel Snapshot (private to src/intel): open-addressing slot tables,
// string pools, and the CIDR range index. Built once by SnapshotBuilder, then read-only.
//
// Thread safety: immutable once built; concurrent reads are safe.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/core/time.h"
#include "riposte/intel/indicator.h"

namespace riposte::intel {

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// FNV-1a over the bytes from the last to the first, finished with mix64. Walking right to left
// gives the state for every suffix, so all parent domains hash in one pass.
inline constexpr uint64_t kFnvSeed = 0xcbf29ce484222325ULL;
inline constexpr uint64_t kFnvPrime = 0x100000001b3ULL;
inline uint64_t hashString(std::string_view s) {
  uint64_t h = kFnvSeed;
  for (size_t i = s.size(); i-- > 0;) {
    h ^= static_cast<uint8_t>(s[i]);
    h *= kFnvPrime;
  }
  return mix64(h);
}

inline uint64_t hashDigest(const uint8_t* d) {
  uint64_t x;
  std::memcpy(&x, d, 8);
  return mix64(x ^ 0x9e3779b97f4a7c15ULL);
}

inline uint64_t hashV6(const uint8_t* b) { return hashDigest(b) ^ mix64(hashDigest(b + 8)); }

// Open addressing with linear probing over 64-bit slots: high 32 bits a tag (the IPv4 address,
// or the high half of the hash), low 32 bits the value + 1 (0 = empty). Load ≤ 1/2.
class SlotTable {
public:
  void init(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, 0);
    mask_ = cap - 1;
  }
  void insert(uint64_t hash, uint32_t tag, uint32_t value) {
    size_t pos = hash & mask_;
    while (slots_[pos] != 0) pos = (pos + 1) & mask_;
    slots_[pos] = (uint64_t{tag} << 32) | (uint64_t{value} + 1);
  }
  // Calls f(value) for every slot with `tag` on the probe path; stops when f returns true.
  template <typename F> void find(uint64_t hash, uint32_t tag, F&& f) const {
    if (slots_.empty()) return;
    size_t pos = hash & mask_;
    for (;;) {
      const uint64_t s = slots_[pos];
      if (s == 0) return;
      if (static_cast<uint32_t>(s >> 32) == tag && f(static_cast<uint32_t>(s) - 1)) return;
      pos = (pos + 1) & mask_;
    }
  }
  size_t bytes() const { return slots_.capacity() * sizeof(uint64_t); }

private:
  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
};

// Concatenated strings addressed by index.
class StringPool {
public:
  uint32_t add(std::string_view s) {
    blob_.append(s);
    offsets_.push_back(static_cast<uint32_t>(blob_.size()));
    return static_cast<uint32_t>(offsets_.size() - 2);
  }
  std::string_view get(uint32_t i) const {
    return std::string_view(blob_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  size_t size() const { return offsets_.size() - 1; }
  void shrink() {
    blob_.shrink_to_fit();
    offsets_.shrink_to_fit();
  }
  size_t bytes() const { return blob_.capacity() + offsets_.capacity() * sizeof(uint32_t); }

private:
  std::string blob_;
  std::vector<uint32_t> offsets_{0};
};

struct U128 {
  uint64_t hi = 0;
  uint64_t lo = 0;
  auto operator<=>(const U128&) const = default;
  bool operator==(const U128&) const = default;
};

inline uint32_t keyOf(const std::array<uint8_t, 16>& b, uint32_t*) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}
inline U128 keyOf(const std::array<uint8_t, 16>& b, U128*) {
  U128 k;
  for (int i = 0; i < 8; ++i) k.hi = (k.hi << 8) | b[static_cast<size_t>(i)];
  for (int i = 8; i < 16; ++i) k.lo = (k.lo << 8) | b[static_cast<size_t>(i)];
  return k;
}
inline uint32_t lastOf(uint32_t base, int prefix) {
  return prefix >= 32 ? base : base | (0xffffffffu >> prefix);
}
inline U128 lastOf(U128 b, int prefix) {
  const uint64_t all = ~uint64_t{0};
  if (prefix <= 64) {
    b.lo = all;
    if (prefix < 64) b.hi |= prefix == 0 ? all : (all >> prefix);
  } else if (prefix < 128) {
    b.lo |= all >> (prefix - 64);
  }
  return b;
}
inline bool nextKey(uint32_t x, uint32_t* out) {
  if (x == 0xffffffffu) return false;
  *out = x + 1;
  return true;
}
inline bool nextKey(U128 x, U128* out) {
  if (x.hi == ~uint64_t{0} && x.lo == ~uint64_t{0}) return false;
  out->lo = x.lo + 1;
  out->hi = x.hi + (out->lo == 0 ? 1 : 0);
  return true;
}
inline uint32_t top16(uint32_t x) { return x >> 16; }
inline uint32_t top16(U128 x) { return static_cast<uint32_t>(x.hi >> 48); }

// All CIDRs of one family as sorted range boundaries: boundary i covers [starts[i], starts[i+1])
// and names the innermost CIDR there (or −1); each CIDR names its enclosing parent, so one
// search yields every matching CIDR. A 2^16-entry first-level index narrows the search.
template <typename K> class CidrIndex {
public:
  struct Node {
    K base{};
    K last{};
    uint8_t prefix = 0;
    int32_t parent = -1;
    uint32_t entry = 0;
  };

  void add(K base, uint8_t prefix, uint32_t entry) {
    nodes_.push_back(Node{base, lastOf(base, prefix), prefix, -1, entry});
  }

  // Sorts the nodes (node numbers change) and builds the boundaries.
  void build() {
    std::sort(nodes_.begin(), nodes_.end(), [](const Node& a, const Node& b) {
      return a.base != b.base ? a.base < b.base : a.prefix < b.prefix;
    });
    std::vector<int32_t> stack;
    auto emit = [this](K pos, int32_t n) {
      if (!starts_.empty() && starts_.back() == pos) {
        inner_.back() = n;
      } else {
        starts_.push_back(pos);
        inner_.push_back(n);
      }
    };
    auto pop = [&]() {
      const int32_t t = stack.back();
      stack.pop_back();
      K nx{};
      if (nextKey(nodes_[static_cast<size_t>(t)].last, &nx)) emit(nx, stack.empty() ? -1 : stack.back());
    };
    for (size_t i = 0; i < nodes_.size(); ++i) {
      while (!stack.empty() && nodes_[static_cast<size_t>(stack.back())].last < nodes_[i].base) pop();
      nodes_[i].parent = stack.empty() ? -1 : stack.back();
      emit(nodes_[i].base, static_cast<int32_t>(i));
      stack.push_back(static_cast<int32_t>(i));
    }
    while (!stack.empty()) pop();
    if (!starts_.empty()) {
      bucket_.assign(65537, 0);
      size_t j = 0;
      for (uint32_t t = 0; t <= 65536; ++t) {
        while (j < starts_.size() && top16(starts_[j]) < t) ++j;
        bucket_[t] = static_cast<uint32_t>(j);
      }
    }
    nodes_.shrink_to_fit();
    starts_.shrink_to_fit();
    inner_.shrink_to_fit();
  }

  // Innermost CIDR containing `key`, or −1.
  int32_t find(K key) const {
    if (starts_.empty()) return -1;
    const uint32_t t = top16(key);
    const auto begin = starts_.begin() + bucket_[t];
    const auto end = starts_.begin() + bucket_[t + 1];
    const size_t idx = static_cast<size_t>(std::upper_bound(begin, end, key) - starts_.begin());
    return idx == 0 ? -1 : inner_[idx - 1];
  }

  const Node& node(int32_t i) const { return nodes_[static_cast<size_t>(i)]; }
  const std::vector<Node>& nodes() const { return nodes_; }
  size_t bytes() const {
    return nodes_.capacity() * sizeof(Node) + starts_.capacity() * sizeof(K) +
           inner_.capacity() * sizeof(int32_t) + bucket_.capacity() * sizeof(uint32_t);
  }

private:
  std::vector<Node> nodes_;
  std::vector<K> starts_;
  std::vector<int32_t> inner_;
  std::vector<uint32_t> bucket_;
};

// One indicator: 16 bytes.
struct Entry {
  uint32_t key = 0;        // IPv4 address, or index into the type's key storage
  uint32_t occ_begin = 0;  // first source report in SnapshotData::occs
  uint16_t occ_count = 0;
  IndicatorType type = IndicatorType::kIpv4;
  uint8_t score = 0;
  uint32_t valid_until = 0;  // seconds, 0 = none
};
static_assert(sizeof(Entry) == 16);

// One source's report: 24 bytes. Times in seconds since the epoch, 0 = unset.
struct Occurrence {
  uint32_t first_seen = 0;
  uint32_t last_seen = 0;
  uint32_t valid_until = 0;
  uint32_t reference = 0;  // index into SnapshotData::references
  uint32_t tags = 0;       // index into SnapshotData::tag_sets ('\x1f'-joined)
  uint16_t source = 0;
  uint8_t confidence = 0;
  uint8_t tlp = 0;
};
static_assert(sizeof(Occurrence) == 24);

// Index of a string or hash type in the per-kind arrays below.
inline int stringKind(IndicatorType t) {
  switch (t) {
    case IndicatorType::kDomain: return 0;
    case IndicatorType::kUrl: return 1;
    case IndicatorType::kEmail: return 2;
    default: return -1;
  }
}
inline int hashKind(IndicatorType t) {
  switch (t) {
    case IndicatorType::kMd5: return 0;
    case IndicatorType::kSha1: return 1;
    case IndicatorType::kSha256: return 2;
    default: return -1;
  }
}

struct SnapshotData {
  Timestamp built_at;
  Timestamp next_expiry;
  std::vector<Entry> entries;
  std::vector<Occurrence> occs;
  std::vector<std::string> sources;
  StringPool references;
  StringPool tag_sets;

  SlotTable v4;
  SlotTable v6;
  std::vector<std::array<uint8_t, 16>> v6_keys;
  CidrIndex<uint32_t> cidr4;
  CidrIndex<U128> cidr6;
  std::array<SlotTable, 3> string_tables;
  std::array<StringPool, 3> string_keys;
  std::array<SlotTable, 3> hash_tables;
  std::array<std::vector<uint8_t>, 3> hash_keys;  // digests back to back

  size_t memoryBytes() const {
    size_t b = sizeof(*this) + entries.capacity() * sizeof(Entry) +
               occs.capacity() * sizeof(Occurrence) + references.bytes() + tag_sets.bytes() +
               v4.bytes() + v6.bytes() + v6_keys.capacity() * 16 + cidr4.bytes() + cidr6.bytes();
    for (const auto& s : sources) b += sizeof(s) + s.capacity();
    for (size_t i = 0; i < 3; ++i) {
      b += string_tables[i].bytes() + string_keys[i].bytes() + hash_tables[i].bytes() +
           hash_keys[i].capacity();
    }
    return b;
  }
};

}  // namespace riposte::intel

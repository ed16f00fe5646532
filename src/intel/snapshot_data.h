// The indexes behind an intel Snapshot (private to src/intel): open-addressing slot tables,
// string pools, and the CIDR range index. Built once by SnapshotBuilder, then read-only.
//
// Thread safety: immutable once built; concurrent reads are safe.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

inline constexpr uint64_t kFnvSeed = 0xcbf29ce484222325ULL;

// Word-at-a-time hash of a byte string (not the final mix).
inline uint64_t hashBytes(const char* p, size_t n) {
  uint64_t acc = 0x9ae16a3b2f90404fULL ^ (n * 0xc3a5c85c97cb3127ULL);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    acc = (acc ^ w) * 0x87c37b91114253d5ULL;
    acc ^= acc >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    // 1-7 bytes read as (possibly overlapping) 4- or 1-byte loads: no byte-wise copy through
    // the stack, which would stall store forwarding.
    uint64_t w;
    if (n >= 4) {
      uint32_t a;
      uint32_t b;
      std::memcpy(&a, p, 4);
      std::memcpy(&b, p + n - 4, 4);
      w = a | (uint64_t{b} << 32);
    } else {
      w = uint64_t{static_cast<uint8_t>(p[0])} | (uint64_t{static_cast<uint8_t>(p[n / 2])} << 8) |
          (uint64_t{static_cast<uint8_t>(p[n - 1])} << 16);
    }
    acc = (acc ^ w) * 0x4cf5ad432745937fULL;
    acc ^= acc >> 31;
  }
  return acc;
}

// Label counts as a bit set: bit n for a name of n labels (bit 63 for 63 and more).
inline unsigned labelBit(size_t labels) { return labels < 63 ? static_cast<unsigned>(labels) : 63; }
inline size_t labelCount(std::string_view s) {
  return 1 + static_cast<size_t>(std::count(s.begin(), s.end(), '.'));
}

// The dots of a name of at most 64 bytes as a bit set (bit i: p[i] == '.'). On x86-64, 16 or
// 8 bytes per compare; the last load overlaps the one before instead of reading past the end.
inline uint64_t dotMask(const char* p, size_t n) {
#if defined(__SSE2__)
  const __m128i dot = _mm_set1_epi8('.');
  auto mask16 = [&](size_t at) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
    return static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, dot))));
  };
  auto mask8 = [&](size_t at) {
    const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + at));
    return static_cast<uint64_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, dot)) & 0xff);
  };
  if (n >= 16) {
    uint64_t m = 0;
    size_t at = 0;
    for (; at + 16 <= n; at += 16) m |= mask16(at) << at;
    if (at < n) m |= mask16(n - 16) << (n - 16);
    return m;
  }
  if (n >= 8) return mask8(0) | (mask8(n - 8) << (n - 8));
#endif
  uint64_t m = 0;
  for (size_t i = 0; i < n; ++i) m |= uint64_t{p[i] == '.'} << i;
  return m;
}

// Domain hashing. A name is read as 8-byte words aligned to its end (word k: bytes
// [n - 8k - 8, n - 8k)), so a suffix's whole words are the shorter suffixes' words plus its own:
// its hash is the state after its whole words, finished with the fewer than 8 bytes in front of
// them and its length. The hash of a suffix thus depends on the suffix alone (what
// forEachDomainSuffix gives for name.substr(i) is hashDomain(name.substr(i))), and all the
// suffixes of a name cost one pass over its words plus one finishing mix per suffix probed.
inline constexpr uint64_t kDomainSeed = 0x9ae16a3b2f90404fULL;
inline uint64_t load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
inline uint64_t domainStep(uint64_t state, uint64_t word) {
  state = (state ^ word) * 0x87c37b91114253d5ULL;
  return state ^ (state >> 29);
}
inline uint64_t domainFinish(uint64_t state, uint64_t head, size_t len) {
  return mix64(state ^ (head * 0x4cf5ad432745937fULL) ^ (len * 0xc3a5c85c97cb3127ULL));
}
// Bytes [i, i + r) of p[0, n) (r < 8, i + r <= n) as the low bytes of a word, read without
// touching a byte outside p[0, n).
inline uint64_t headBytes(const char* p, size_t n, size_t i, size_t r) {
  if (r == 0) return 0;
  if (i + 8 <= n) return load64(p + i) & ((uint64_t{1} << (8 * r)) - 1);
  if (i + r >= 8) return load64(p + i + r - 8) >> (8 * (8 - r));
  uint64_t w = 0;
  for (size_t k = 0; k < r; ++k) w |= uint64_t{static_cast<uint8_t>(p[i + k])} << (8 * k);
  return w;
}

// Equal byte strings of length n, compared in 8-byte words (the last one overlapping the one
// before) without a call: keys are short, and a call to memcmp costs more than the compare.
inline bool sameBytes(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    uint64_t diff = load64(a + n - 8) ^ load64(b + n - 8);
    for (size_t i = 0; i + 8 < n; i += 8) diff |= load64(a + i) ^ load64(b + i);
    return diff == 0;
  }
  if (n >= 4) {
    uint32_t x[2];
    uint32_t y[2];
    std::memcpy(&x[0], a, 4);
    std::memcpy(&x[1], a + n - 4, 4);
    std::memcpy(&y[0], b, 4);
    std::memcpy(&y[1], b + n - 4, 4);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
  }
  // 0 to 3 bytes: the first, middle and last cover them all.
  return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

// The hash a listed domain is stored under.
inline uint64_t hashDomain(std::string_view s) {
  uint64_t state = kDomainSeed;
  size_t k = s.size();
  for (; k >= 8; k -= 8) state = domainStep(state, load64(s.data() + k - 8));
  return domainFinish(state, headBytes(s.data(), s.size(), 0, k), s.size());
}

// Calls f(suffix, hashDomain(suffix)) for every suffix of `s` of at least two labels, from the
// right (the parents, then the name itself), all in one pass. `counts` (see labelBit) restricts
// the calls to suffixes with as many labels as some listed domain has, and stops once no listed
// domain has more labels.
template <typename F>
inline void forEachDomainSuffix(std::string_view s, uint64_t counts, F&& f) {
  const char* p = s.data();
  const size_t n = s.size();
  size_t end = n;
  size_t labels = 0;
  if (n <= 64) {
    // The states after 0 to 8 words, then the dots as a bit set, found in one branch-free pass
    // and taken from the right: the byte-wise search from the right mispredicts at every dot.
    uint64_t states[9];
    states[0] = kDomainSeed;
    for (size_t m = 1; m <= n / 8; ++m)
      states[m] = domainStep(states[m - 1], load64(p + n - 8 * m));
    uint64_t dots = dotMask(p, n);
    for (;;) {
      const bool last = dots == 0;
      const size_t start = last ? 0 : static_cast<size_t>(64 - __builtin_clzll(dots));
      const unsigned bit = labelBit(++labels);
      if (labels >= 2 && ((counts >> bit) & 1) != 0) {
        const size_t len = n - start;
        f(s.substr(start), domainFinish(states[len / 8], headBytes(p, n, start, len % 8), len));
      }
      if (last) return;
      if (bit < 63 && (counts >> (bit + 1)) == 0) return;
      end = start - 1;
      dots &= ~(uint64_t{1} << end);
    }
  }
  for (;;) {
    const size_t dot = end == 0 ? std::string_view::npos : s.rfind('.', end - 1);
    const size_t start = dot == std::string_view::npos ? 0 : dot + 1;
    const unsigned bit = labelBit(++labels);
    if (labels >= 2 && ((counts >> bit) & 1) != 0) f(s.substr(start), hashDomain(s.substr(start)));
    if (dot == std::string_view::npos) return;
    if (bit < 63 && (counts >> (bit + 1)) == 0) return;
    end = dot;
  }
}
template <typename F>
inline void forEachDomainSuffix(std::string_view s, F&& f) {
  forEachDomainSuffix(s, ~uint64_t{0}, f);
}

inline uint64_t hashString(std::string_view s) {
  return mix64(hashBytes(s.data(), s.size()) ^ kFnvSeed);
}

inline uint64_t hashDigest(const uint8_t* d) {
  uint64_t x;
  std::memcpy(&x, d, 8);
  return mix64(x ^ 0x9e3779b97f4a7c15ULL);
}

inline uint64_t hashV6(const uint8_t* b) { return hashDigest(b) ^ mix64(hashDigest(b + 8)); }

// Asks for the cache line holding `p` without waiting for it (batched look-ups issue these for
// a whole batch, then read: the memory latencies overlap instead of adding up).
// An asm statement on x86-64: GCC 12 drops some __builtin_prefetch calls as dead code.
inline void prefetch(const void* p) {
#if defined(__x86_64__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, 0, 3);
#endif
}

// Zero-initialised array for the big look-up tables. Arrays of 2 MiB or more are mapped
// directly and advised to use transparent huge pages: the tables are probed at random, and
// 4 KiB pages would cost a TLB miss on almost every probe.
template <typename T>
class BigArray {
 public:
  BigArray() = default;
  BigArray(const BigArray&) = delete;
  BigArray& operator=(const BigArray&) = delete;
  BigArray(BigArray&& o) noexcept { swap(o); }
  BigArray& operator=(BigArray&& o) noexcept {
    swap(o);
    return *this;
  }
  ~BigArray() { release(); }

  void allocate(size_t n) {
    release();
    const size_t bytes = n * sizeof(T);
    if (bytes >= kHuge) {
      map_bytes_ = ((bytes + kHuge - 1) / kHuge) * kHuge + kHuge;
      void* p =
          mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p != MAP_FAILED) {
        base_ = p;
        const auto addr = reinterpret_cast<uintptr_t>(p);
        const uintptr_t aligned = (addr + kHuge - 1) & ~uintptr_t{kHuge - 1};
        data_ = reinterpret_cast<T*>(aligned);
        madvise(reinterpret_cast<void*>(aligned), ((bytes + kHuge - 1) / kHuge) * kHuge,
                MADV_HUGEPAGE);
        size_ = n;
        return;
      }
      map_bytes_ = 0;
    }
    data_ = static_cast<T*>(std::calloc(n == 0 ? 1 : n, sizeof(T)));
    if (data_ == nullptr) throw std::bad_alloc();
    size_ = n;
  }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t bytes() const { return map_bytes_ != 0 ? map_bytes_ : size_ * sizeof(T); }

 private:
  static constexpr size_t kHuge = size_t{2} << 20;
  void release() {
    if (base_ != nullptr) {
      munmap(base_, map_bytes_);
    } else {
      std::free(data_);
    }
    data_ = nullptr;
    base_ = nullptr;
    size_ = 0;
    map_bytes_ = 0;
  }
  void swap(BigArray& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(base_, o.base_);
    std::swap(size_, o.size_);
    std::swap(map_bytes_, o.map_bytes_);
  }
  T* data_ = nullptr;
  void* base_ = nullptr;
  size_t size_ = 0;
  size_t map_bytes_ = 0;
};

// Blocked Bloom filter, 8 bits per key, 4 bits set in one 64-bit word: about 2-3 % false
// positives, and one cache-resident access instead of a DRAM probe for most values that are not
// listed (the common case for events).
class BlockedBloom {
 public:
  void init(size_t n) {
    size_t words = 1;
    while (words * 8 < n) words <<= 1;
    words_.allocate(words);
    mask_ = words - 1;
  }
  void add(uint64_t h) { words_[index(h)] |= bits(h); }
  bool mayContain(uint64_t h) const {
    const uint64_t b = bits(h);
    return (words_[index(h)] & b) == b;
  }
  void prefetchWord(uint64_t h) const { prefetch(&words_[index(h)]); }
  size_t bytes() const { return words_.bytes(); }

 private:
  size_t index(uint64_t h) const { return (h >> 20) & mask_; }
  static uint64_t bits(uint64_t h) {
    return (uint64_t{1} << ((h >> 40) & 63)) | (uint64_t{1} << ((h >> 46) & 63)) |
           (uint64_t{1} << ((h >> 52) & 63)) | (uint64_t{1} << ((h >> 58) & 63));
  }
  BigArray<uint64_t> words_;
  size_t mask_ = 0;
};

// Open addressing with linear probing over 64-bit slots (0 = empty), load ≤ 1/2. What a slot
// holds is up to the caller; see v4Slot() and keyedSlot().
class SlotTable {
 public:
  void init(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.allocate(cap);
    mask_ = cap - 1;
    bloom_.init(n);
  }
  void insert(uint64_t hash, uint64_t slot) {
    bloom_.add(hash);
    size_t pos = hash & mask_;
    while (slots_[pos] != 0) pos = (pos + 1) & mask_;
    slots_[pos] = slot;
  }
  // Calls f(slot) for every occupied slot on the probe path until f returns true. kFiltered:
  // the caller has already seen mayContain(hash) hold.
  template <bool kFiltered = false, typename F>
  void probe(uint64_t hash, F&& f) const {
    if (!kFiltered && (slots_.empty() || !bloom_.mayContain(hash))) return;
    size_t pos = hash & mask_;
    for (;;) {
      const uint64_t s = slots_[pos];
      if (s == 0 || f(s)) return;
      pos = (pos + 1) & mask_;
    }
  }
  // Batched look-ups, one step at a time so that each memory access has other values' work to
  // arrive behind: prefetchFilter() asks for the filter word; mayContain() tests it (false for
  // most values that are not listed, which then never touch the slots); prefetchSlot() asks for
  // the first slot of the probe path and firstSlot() reads it.
  void prefetchFilter(uint64_t hash) const {
    if (!slots_.empty()) bloom_.prefetchWord(hash);
  }
  bool mayContain(uint64_t hash) const { return !slots_.empty() && bloom_.mayContain(hash); }
  void prefetchSlot(uint64_t hash) const { prefetch(&slots_[hash & mask_]); }
  uint64_t firstSlot(uint64_t hash) const { return slots_[hash & mask_]; }
  bool empty() const { return slots_.empty(); }
  size_t bytes() const { return slots_.bytes() + bloom_.bytes(); }

 private:
  BigArray<uint64_t> slots_;
  BlockedBloom bloom_;
  size_t mask_ = 0;
};

// IPv4 slot: the address (32 bits) | score (7 bits) | entry + 1 (25 bits).
inline constexpr uint32_t kMaxEntries = (uint32_t{1} << 25) - 2;
inline uint64_t v4Slot(uint32_t ip, uint8_t score, uint32_t entry) {
  return (uint64_t{ip} << 32) | (uint64_t{score} << 25) | (uint64_t{entry} + 1);
}
inline uint32_t v4SlotIp(uint64_t s) { return static_cast<uint32_t>(s >> 32); }
inline uint8_t v4SlotScore(uint64_t s) { return static_cast<uint8_t>((s >> 25) & 0x7f); }
inline uint32_t v4SlotEntry(uint64_t s) { return (static_cast<uint32_t>(s) & 0x1ffffff) - 1; }

// Keyed slot: the top 25 bits of the hash as a tag | score (7 bits) | record reference + 1.
inline uint64_t keyedSlot(uint64_t hash, uint8_t score, uint32_t ref) {
  return ((hash >> 39) << 39) | (uint64_t{score} << 32) | (uint64_t{ref} + 1);
}
inline bool keyedSlotTag(uint64_t s, uint64_t hash) { return (s >> 39) == (hash >> 39); }
inline uint8_t keyedSlotScore(uint64_t s) { return static_cast<uint8_t>((s >> 32) & 0x7f); }
inline uint32_t keyedSlotRef(uint64_t s) { return static_cast<uint32_t>(s) - 1; }

// Growable byte buffer on a BigArray, so that the key records confirmed on every hit sit on
// huge pages like the slot tables (a 4 KiB page per record would cost a TLB miss per hit).
// reserve() with the final size allocates once; append() beyond it doubles (copying).
class ByteArena {
 public:
  void reserve(size_t n) {
    if (n > buf_.size()) grow(n);
  }
  uint8_t* append(const void* p, size_t n) {
    if (size_ + n > buf_.size()) grow(std::max(size_ + n, buf_.size() * 2));
    uint8_t* at = buf_.data() + size_;
    if (n != 0) std::memcpy(at, p, n);
    size_ += n;
    return at;
  }
  const uint8_t* data() const { return buf_.data(); }
  size_t size() const { return size_; }
  // Gives back what reserve() or doubling left unused.
  void shrink() {
    if (buf_.size() > size_) grow(size_);
  }
  size_t bytes() const { return buf_.empty() ? 0 : buf_.bytes(); }

 private:
  void grow(size_t n) {
    BigArray<uint8_t> next;
    next.allocate(n);
    if (size_ != 0) std::memcpy(next.data(), buf_.data(), size_);
    buf_ = std::move(next);
  }
  BigArray<uint8_t> buf_;
  size_t size_ = 0;
};

// Fixed-size keys (IPv6 addresses, digests) with their entry number: [key][entry u32].
class FixedKeys {
 public:
  explicit FixedKeys(size_t key_len = 0) : len_(key_len) {}
  void reserve(size_t n) { recs_.reserve(n * (len_ + 4)); }
  uint32_t add(const uint8_t* key, uint32_t entry) {
    const auto idx = static_cast<uint32_t>(recs_.size() / (len_ + 4));
    recs_.append(key, len_);
    recs_.append(&entry, 4);
    return idx;
  }
  const uint8_t* key(uint32_t i) const { return recs_.data() + size_t{i} * (len_ + 4); }
  uint32_t entry(uint32_t i) const {
    uint32_t e;
    std::memcpy(&e, key(i) + len_, 4);
    return e;
  }
  size_t keyLength() const { return len_; }
  // Record i is at records() + i × stride().
  const uint8_t* records() const { return recs_.data(); }
  uint32_t stride() const { return static_cast<uint32_t>(len_ + 4); }
  void shrink() { recs_.shrink(); }
  size_t bytes() const { return recs_.bytes(); }

 private:
  size_t len_;
  ByteArena recs_;
};

// Strings with their entry number, back to back: [entry u32][length u16][bytes]; addressed by
// byte offset.
class StringKeys {
 public:
  static constexpr size_t kMaxLength = 65535;
  void reserve(size_t bytes) { blob_.reserve(bytes); }
  uint32_t add(std::string_view s, uint32_t entry) {
    const auto off = static_cast<uint32_t>(blob_.size());
    const auto len = static_cast<uint16_t>(s.size());
    blob_.append(&entry, 4);
    blob_.append(&len, 2);
    blob_.append(s.data(), s.size());
    return off;
  }
  // The record at `off` is at records() + off and spans recordBytes(its length) bytes.
  const uint8_t* records() const { return blob_.data(); }
  static constexpr uint32_t recordBytes(size_t len) { return static_cast<uint32_t>(6 + len); }
  std::string_view get(uint32_t off) const {
    uint16_t len;
    std::memcpy(&len, blob_.data() + off + 4, 2);
    return std::string_view(reinterpret_cast<const char*>(blob_.data()) + off + 6, len);
  }
  uint32_t entry(uint32_t off) const {
    uint32_t e;
    std::memcpy(&e, blob_.data() + off, 4);
    return e;
  }
  size_t size() const { return blob_.size(); }
  void shrink() { blob_.shrink(); }
  size_t bytes() const { return blob_.bytes(); }

 private:
  ByteArena blob_;
};

// Concatenated strings addressed by index (interned references and tag sets).
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
template <typename K>
class CidrIndex {
 public:
  struct Node {
    K base{};
    K last{};
    uint8_t prefix = 0;
    uint8_t score = 0;  // the entry's, so that a hit reads no entry
    int32_t parent = -1;
    uint32_t entry = 0;
  };

  void add(K base, uint8_t prefix, uint8_t score, uint32_t entry) {
    nodes_.push_back(Node{base, lastOf(base, prefix), prefix, score, -1, entry});
  }

  // Sorts the nodes (node numbers change) and builds the boundaries.
  void build() {
    std::sort(nodes_.begin(), nodes_.end(), [](const Node& a, const Node& b) {
      return a.base != b.base ? a.base < b.base : a.prefix < b.prefix;
    });
    std::vector<int32_t> stack;
    auto emit = [this](K pos, int32_t n) {
      if (!bounds_.empty() && bounds_.back().start == pos) {
        bounds_.back().inner = n;
      } else {
        bounds_.push_back(Boundary{pos, n});
      }
    };
    auto pop = [&]() {
      const int32_t t = stack.back();
      stack.pop_back();
      K nx{};
      if (nextKey(nodes_[static_cast<size_t>(t)].last, &nx))
        emit(nx, stack.empty() ? -1 : stack.back());
    };
    for (size_t i = 0; i < nodes_.size(); ++i) {
      while (!stack.empty() && nodes_[static_cast<size_t>(stack.back())].last < nodes_[i].base)
        pop();
      nodes_[i].parent = stack.empty() ? -1 : stack.back();
      emit(nodes_[i].base, static_cast<int32_t>(i));
      stack.push_back(static_cast<int32_t>(i));
    }
    while (!stack.empty()) pop();
    if (!bounds_.empty()) {
      bucket_.assign(65537, 0);
      size_t j = 0;
      for (uint32_t t = 0; t <= 65536; ++t) {
        while (j < bounds_.size() && top16(bounds_[j].start) < t) ++j;
        bucket_[t] = static_cast<uint32_t>(j);
      }
    }
    nodes_.shrink_to_fit();
    bounds_.shrink_to_fit();
  }

  // Innermost CIDR containing `key`, or −1.
  int32_t find(K key) const {
    if (bounds_.empty()) return -1;
    const uint32_t t = top16(key);
    // Boundaries of this /16 (or top-16-bit block), then the last one at or before the key.
    size_t lo = bucket_[t];
    size_t hi = bucket_[t + 1];
    while (lo < hi) {
      const size_t mid = (lo + hi) / 2;
      if (key < bounds_[mid].start) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo == 0 ? -1 : bounds_[lo - 1].inner;
  }
  // Batched look-ups: prefetchBucket() asks for the first-level entry of `key`; once it has
  // arrived, prefetchBounds() asks for the boundaries find(key) searches (the first and the
  // last of its block: a block rarely spans more than two cache lines).
  void prefetchBucket(K key) const {
    if (!bucket_.empty()) prefetch(&bucket_[top16(key)]);
  }
  void prefetchBounds(K key) const {
    if (bucket_.empty()) return;
    const uint32_t t = top16(key);
    const uint32_t lo = bucket_[t];
    const uint32_t hi = bucket_[t + 1];
    if (lo > 0) prefetch(&bounds_[lo - 1]);
    if (hi > lo) prefetch(&bounds_[hi - 1]);
  }

  const Node& node(int32_t i) const { return nodes_[static_cast<size_t>(i)]; }
  const std::vector<Node>& nodes() const { return nodes_; }
  size_t bytes() const {
    return nodes_.capacity() * sizeof(Node) + bounds_.capacity() * sizeof(Boundary) +
           bucket_.capacity() * sizeof(uint32_t);
  }

 private:
  struct Boundary {
    K start;
    int32_t inner;  // innermost CIDR from `start` on, or -1
  };
  std::vector<Node> nodes_;
  std::vector<Boundary> bounds_;
  std::vector<uint32_t> bucket_;
};

// One indicator: 16 bytes.
struct Entry {
  uint32_t key = 0;        // IPv4 address, CIDR node, FixedKeys index or StringKeys offset
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
  FixedKeys v6_keys{16};
  CidrIndex<uint32_t> cidr4;
  CidrIndex<U128> cidr6;
  std::array<SlotTable, 3> string_tables;  // domain, url, email
  std::array<StringKeys, 3> string_keys;
  uint64_t domain_labels = 0;            // label counts of the listed domains (labelBit)
  std::array<SlotTable, 3> hash_tables;  // md5, sha1, sha256
  std::array<FixedKeys, 3> hash_keys{FixedKeys(16), FixedKeys(20), FixedKeys(32)};

  size_t memoryBytes() const {
    size_t b = sizeof(*this) + entries.capacity() * sizeof(Entry) +
               occs.capacity() * sizeof(Occurrence) + references.bytes() + tag_sets.bytes() +
               v4.bytes() + v6.bytes() + v6_keys.bytes() + cidr4.bytes() + cidr6.bytes();
    for (const auto& s : sources) b += sizeof(s) + s.capacity();
    for (size_t i = 0; i < 3; ++i) {
      b += string_tables[i].bytes() + string_keys[i].bytes() + hash_tables[i].bytes() +
           hash_keys[i].bytes();
    }
    return b;
  }
};

}  // namespace riposte::intel

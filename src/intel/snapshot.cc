#include "riposte/intel/snapshot.h"
#include "riposte/core/digest.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "intel/snapshot_data.h"

namespace riposte::intel {
namespace {

Timestamp fromSecs(uint32_t s) { return s == 0 ? Timestamp{} : Timestamp::fromSeconds(s); }

std::vector<std::string> splitTags(std::string_view joined) {
  std::vector<std::string> out;
  if (joined.empty()) return out;
  size_t start = 0;
  for (;;) {
    const size_t end = joined.find('\x1f', start);
    out.emplace_back(joined.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::string ipv4Text(uint32_t a) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
  return buf;
}

std::string ipv6Text(const U128& k) {
  IpAddress ip;
  ip.v6 = true;
  for (int i = 0; i < 8; ++i) {
    ip.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(k.hi >> (56 - 8 * i));
    ip.bytes[8 + static_cast<size_t>(i)] = static_cast<uint8_t>(k.lo >> (56 - 8 * i));
  }
  return ip.toString();
}

bool hexDecode(std::string_view hex, uint8_t* out) {
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size() / 2; ++i) {
    const int hi = val(hex[2 * i]);
    const int lo = val(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

}  // namespace

Snapshot::Snapshot(std::unique_ptr<SnapshotData> data) : d_(std::move(data)) {}
Snapshot::~Snapshot() = default;

std::shared_ptr<const Snapshot> Snapshot::empty() {
  auto d = std::make_unique<SnapshotData>();
  d->references.add("");
  d->tag_sets.add("");
  return std::make_shared<const Snapshot>(std::move(d));
}

namespace {

inline U128 key128(const uint8_t* b) {
  U128 k;
  for (int i = 0; i < 8; ++i) k.hi = (k.hi << 8) | b[i];
  for (int i = 8; i < 16; ++i) k.lo = (k.lo << 8) | b[i];
  return k;
}

// The matching of one value, given its hash, calling emit(Hit) per hit: shared by the one-by-one
// functions and the batch pipeline, so both give the same hits in the same order.
template <bool kFiltered = false, typename Emit>
inline void matchV4Exact(const SnapshotData& d, uint32_t addr, uint64_t h, Emit&& emit) {
  d.v4.probe<kFiltered>(h, [&](uint64_t s) {
    if (v4SlotIp(s) != addr) return false;
    emit(Hit{v4SlotEntry(s), v4SlotScore(s), IndicatorType::kIpv4});
    return true;
  });
}

template <typename Emit>
inline void matchCidr4(const SnapshotData& d, uint32_t addr, Emit&& emit) {
  for (int32_t n = d.cidr4.find(addr); n >= 0;) {
    const auto& node = d.cidr4.node(n);
    emit(Hit{node.entry, node.score, IndicatorType::kCidr4});
    n = node.parent;
  }
}

template <typename Emit>
inline void matchV4(const SnapshotData& d, uint32_t addr, uint64_t h, Emit&& emit) {
  matchV4Exact(d, addr, h, emit);
  matchCidr4(d, addr, emit);
}

template <typename Emit>
inline void matchCidr6(const SnapshotData& d, const uint8_t* bytes, Emit&& emit) {
  for (int32_t n = d.cidr6.find(key128(bytes)); n >= 0;) {
    const auto& node = d.cidr6.node(n);
    emit(Hit{node.entry, node.score, IndicatorType::kCidr6});
    n = node.parent;
  }
}

template <bool kFiltered = false, typename Emit>
inline void matchV6Exact(const SnapshotData& d, const uint8_t* bytes, uint64_t h, Emit&& emit) {
  d.v6.probe<kFiltered>(h, [&](uint64_t s) {
    if (!keyedSlotTag(s, h)) return false;
    const uint32_t ref = keyedSlotRef(s);
    if (std::memcmp(d.v6_keys.key(ref), bytes, 16) != 0) return false;
    emit(Hit{d.v6_keys.entry(ref), keyedSlotScore(s), IndicatorType::kIpv6});
    return true;
  });
}

template <typename Emit>
inline void matchV6(const SnapshotData& d, const uint8_t* bytes, uint64_t h, Emit&& emit) {
  matchV6Exact(d, bytes, h, emit);
  matchCidr6(d, bytes, emit);
}

// One probe of a string table: the hit, if the string is listed. The tag only narrows the
// candidates: the stored string is compared in full, so two values whose hashes agree never
// stand in for each other.
template <bool kFiltered = false, typename Emit>
inline void matchString(const SnapshotData& d, size_t kind, IndicatorType type, std::string_view v,
                        uint64_t h, Emit&& emit) {
  const StringKeys& keys = d.string_keys[kind];
  d.string_tables[kind].probe<kFiltered>(h, [&](uint64_t s) {
    if (!keyedSlotTag(s, h)) return false;
    const uint32_t ref = keyedSlotRef(s);
    const std::string_view k = keys.get(ref);
    if (k.size() != v.size() || !sameBytes(k.data(), v.data(), v.size())) return false;
    emit(Hit{keys.entry(ref), keyedSlotScore(s), type});
    return true;
  });
}

// Equal digests (16, 20 or 32 bytes), compared in 8- and 4-byte words without a call.
inline bool sameDigest(const uint8_t* a, const uint8_t* b, size_t len) {
  uint64_t diff = 0;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t x;
    uint64_t y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    diff |= x ^ y;
  }
  if (i < len) {  // the 4 bytes left of a SHA-1
    uint32_t x;
    uint32_t y;
    std::memcpy(&x, a + i, 4);
    std::memcpy(&y, b + i, 4);
    diff |= x ^ y;
  }
  return diff == 0;
}

template <bool kFiltered = false, typename Emit>
inline void matchDigest(const SnapshotData& d, size_t kind, IndicatorType type,
                        const uint8_t* digest, uint64_t h, Emit&& emit) {
  const FixedKeys& keys = d.hash_keys[kind];
  const size_t len = keys.keyLength();
  d.hash_tables[kind].probe<kFiltered>(h, [&](uint64_t s) {
    if (!keyedSlotTag(s, h)) return false;
    const uint32_t ref = keyedSlotRef(s);
    if (!sameDigest(keys.key(ref), digest, len)) return false;
    emit(Hit{keys.entry(ref), keyedSlotScore(s), type});
    return true;
  });
}

struct Pusher {
  std::vector<Hit>& out;
  void operator()(const Hit& h) const { out.push_back(h); }
};

// Values per pipeline group, and domain suffixes per group (a name with more labels than fit
// is matched on its own, unprefetched).
constexpr size_t kBatchChunk = 16;
constexpr size_t kMaxProbes = 64;

// One table probe of a pipeline group: a value's own hash, or one suffix of a domain.
struct Probe {
  uint64_t hash;
  const SlotTable* table;
  // The key record a slot with a matching tag points to: `records` + ref × `stride`, of which
  // the bytes up to `last` are read to confirm a hit (a record may straddle two cache lines,
  // and both are asked for). `records` is null for IPv4 slots, which hold the address itself.
  const uint8_t* records;
  uint32_t stride;
  uint32_t last;
  bool pass;  // the filter lets the hash through (set by stageFilter)
};

// One pipeline group of at most kBatchChunk values and what its stages hand on to each other.
struct Group {
  // Written by stageHash for every value before anything reads it (no zero-filling per call).
  struct Pending {
    uint32_t first;  // its probes: probes[first, first + count)
    uint32_t count;
    int kind;     // string or hash kind
    bool direct;  // domain with too many labels for the group: matched on its own
  };
  Group() {}                              // `own` is filled before use: no zero-filling per call
  const Snapshot::Value* vals = nullptr;  // the caller's values, or `own`
  union {
    Snapshot::Value own[kBatchChunk];
  };
  Pending pend[kBatchChunk];
  // Every value but a domain takes one probe; domains share the first kMaxProbes.
  Probe probes[kMaxProbes + kBatchChunk];
  size_t n = 0;
  size_t np = 0;
  uint32_t index_base = 0;  // hits carry index_base + position
};

// Stage 1: hash every value (a domain: each of its suffixes that may be listed); ask for the
// filter words and CIDR first-level entries. `speculative` (a lone group, which has no other
// group's work to hide latencies behind): also ask for the first slots now.
void stageHash(const SnapshotData& d, Group& g, bool speculative) {
  g.np = 0;
  auto add = [&](const SlotTable& t, uint64_t h, const uint8_t* records, uint32_t stride,
                 uint32_t last) {
    g.probes[g.np++] = Probe{h, &t, records, stride, last, false};
    if (t.empty()) return;
    t.prefetchFilter(h);
    if (speculative) t.prefetchSlot(h);
  };
  for (size_t i = 0; i < g.n; ++i) {
    const Snapshot::Value& v = g.vals[i];
    Group::Pending& p = g.pend[i];
    p.first = static_cast<uint32_t>(g.np);
    p.kind = -1;
    p.direct = false;
    switch (v.type) {
      case IndicatorType::kIpv4:
        add(d.v4, mix64(v.v4), nullptr, 0, 0);
        d.cidr4.prefetchBucket(v.v4);
        break;
      case IndicatorType::kIpv6:
        add(d.v6, hashV6(v.bytes), d.v6_keys.records(), d.v6_keys.stride(), d.v6_keys.stride() - 1);
        d.cidr6.prefetchBucket(key128(v.bytes));
        break;
      case IndicatorType::kDomain: {
        const SlotTable& t = d.string_tables[0];
        const uint8_t* records = d.string_keys[0].records();
        forEachDomainSuffix(v.text, d.domain_labels, [&](std::string_view sfx, uint64_t h) {
          if (p.direct || g.np >= kMaxProbes) {
            p.direct = true;
            return;
          }
          add(t, h, records, 1, StringKeys::recordBytes(sfx.size()) - 1);
        });
        if (p.direct) g.np = p.first;
        break;
      }
      case IndicatorType::kUrl:
      case IndicatorType::kEmail: {
        p.kind = stringKind(v.type);
        const auto k = static_cast<size_t>(p.kind);
        add(d.string_tables[k], hashString(v.text), d.string_keys[k].records(), 1,
            StringKeys::recordBytes(v.text.size()) - 1);
        break;
      }
      case IndicatorType::kMd5:
      case IndicatorType::kSha1:
      case IndicatorType::kSha256: {
        p.kind = hashKind(v.type);
        const FixedKeys& keys = d.hash_keys[static_cast<size_t>(p.kind)];
        add(d.hash_tables[static_cast<size_t>(p.kind)], hashDigest(v.bytes), keys.records(),
            keys.stride(), keys.stride() - 1);
        break;
      }
      default: break;
    }
    p.count = static_cast<uint32_t>(g.np - p.first);
  }
}

// Stage 2, with the filter words in cache: test them, and ask for the first slot of each hash
// they let through (about half the values; the misses mostly stop here) and for the CIDR
// boundaries.
void stageFilter(const SnapshotData& d, Group& g, bool speculative) {
  for (size_t j = 0; j < g.np; ++j) {
    Probe& pr = g.probes[j];
    pr.pass = pr.table->mayContain(pr.hash);
    if (pr.pass && !speculative) pr.table->prefetchSlot(pr.hash);
  }
  for (size_t i = 0; i < g.n; ++i) {
    const Snapshot::Value& v = g.vals[i];
    if (v.type == IndicatorType::kIpv4) {
      d.cidr4.prefetchBounds(v.v4);
    } else if (v.type == IndicatorType::kIpv6) {
      d.cidr6.prefetchBounds(key128(v.bytes));
    }
  }
}

// Stage 3, with the slots in cache: ask for the key record of each first slot whose tag
// matches (both its cache lines).
void stageRecords(const Group& g) {
  for (size_t j = 0; j < g.np; ++j) {
    const Probe& pr = g.probes[j];
    if (!pr.pass || pr.records == nullptr) continue;
    const uint64_t s = pr.table->firstSlot(pr.hash);
    if (s == 0 || !keyedSlotTag(s, pr.hash)) continue;
    const uint8_t* rec = pr.records + size_t{keyedSlotRef(s)} * pr.stride;
    prefetch(rec);
    prefetch(rec + pr.last);
  }
}

// Stage 4: match, in batch order. A probe the filter stopped has no hit (the match functions
// would stop at the same test); the others skip it.
void stageMatch(const SnapshotData& d, const Group& g, std::vector<Snapshot::BatchHit>& out) {
  for (size_t i = 0; i < g.n; ++i) {
    const Snapshot::Value& v = g.vals[i];
    const Group::Pending& p = g.pend[i];
    const auto index = g.index_base + static_cast<uint32_t>(i);
    auto emit = [&](const Hit& h) { out.push_back(Snapshot::BatchHit{index, h}); };
    const Probe* pr = g.probes + p.first;
    switch (v.type) {
      case IndicatorType::kIpv4:
        if (pr->pass) matchV4Exact<true>(d, v.v4, pr->hash, emit);
        matchCidr4(d, v.v4, emit);
        break;
      case IndicatorType::kIpv6:
        if (pr->pass) matchV6Exact<true>(d, v.bytes, pr->hash, emit);
        matchCidr6(d, v.bytes, emit);
        break;
      case IndicatorType::kDomain:
        if (p.direct) {
          forEachDomainSuffix(v.text, d.domain_labels, [&](std::string_view sfx, uint64_t h) {
            matchString(d, 0, IndicatorType::kDomain, sfx, h, emit);
          });
        } else {
          // The suffixes were probed in the order forEachDomainSuffix gives them; each one is
          // the end of the name.
          for (uint32_t j = 0; j < p.count; ++j) {
            if (!pr[j].pass) continue;
            const uint32_t len = pr[j].last + 1 - StringKeys::recordBytes(0);
            matchString<true>(d, 0, IndicatorType::kDomain, v.text.substr(v.text.size() - len),
                              pr[j].hash, emit);
          }
        }
        break;
      case IndicatorType::kUrl:
      case IndicatorType::kEmail:
        if (pr->pass)
          matchString<true>(d, static_cast<size_t>(p.kind), v.type, v.text, pr->hash, emit);
        break;
      case IndicatorType::kMd5:
      case IndicatorType::kSha1:
      case IndicatorType::kSha256:
        if (pr->pass)
          matchDigest<true>(d, static_cast<size_t>(p.kind), v.type, v.bytes, pr->hash, emit);
        break;
      default: break;
    }
  }
}

// Asks for what hashing the group will read: the text and digests of its values (a caller that
// streams through a large batch would otherwise wait for them at every group), and the values
// of the group after it when the caller's array is read in place.
inline void prefetchInputs(const Group& g, const Snapshot::Value* next, size_t next_n) {
  for (size_t i = 0; i < g.n; ++i) {
    const Snapshot::Value& v = g.vals[i];
    if (v.bytes != nullptr) prefetch(v.bytes);
    if (!v.text.empty()) {
      prefetch(v.text.data());
      prefetch(v.text.data() + v.text.size() - 1);  // a domain is read from its end
    }
  }
  const auto* bytes = reinterpret_cast<const char*>(next);
  for (size_t off = 0; off < next_n * sizeof(Snapshot::Value); off += 64) prefetch(bytes + off);
}

// Runs the pipeline over n values produced by at(i) (or read in place from `contiguous` when the
// caller has them as an array): groups move through the four stages one step apart (group k is
// hashed while group k-1 tests its filter words, group k-2 asks for its records and group k-3 is
// matched), so every prefetch has a whole stage of other groups' work to arrive in; the values
// of group k+1 are gathered (and their text asked for) at the end of step k. A batch of one
// group runs the stages back to back and asks for the slots along with the filter words.
template <typename At>
size_t runBatch(const SnapshotData& d, size_t n, At&& at, std::vector<Snapshot::BatchHit>& out,
                const Snapshot::Value* contiguous = nullptr) {
  const size_t before = out.size();
  const size_t groups = (n + kBatchChunk - 1) / kBatchChunk;
  const bool speculative = groups == 1;
  constexpr size_t kStages = 4;
  Group ring[kStages];
  auto gather = [&](size_t k) {
    Group& g = ring[k % kStages];
    const size_t base = k * kBatchChunk;
    g.n = std::min(kBatchChunk, n - base);
    g.index_base = static_cast<uint32_t>(base);
    if (contiguous != nullptr) {
      g.vals = contiguous + base;
    } else {
      for (size_t i = 0; i < g.n; ++i) g.own[i] = at(base + i);
      g.vals = g.own;
    }
    return &g;
  };
  if (groups > 0) gather(0);
  for (size_t step = 0; step < groups + kStages - 1; ++step) {
    if (step < groups) stageHash(d, ring[step % kStages], speculative);
    if (step >= 1 && step - 1 < groups) stageFilter(d, ring[(step - 1) % kStages], speculative);
    if (step >= 2 && step - 2 < groups) stageRecords(ring[(step - 2) % kStages]);
    if (step >= 3) stageMatch(d, ring[(step - 3) % kStages], out);
    if (step + 1 < groups) {
      const Group* g = gather(step + 1);
      const size_t after = (step + 2) * kBatchChunk;
      prefetchInputs(*g, contiguous != nullptr && after < n ? contiguous + after : nullptr,
                     contiguous != nullptr && after < n ? std::min(kBatchChunk, n - after) : 0);
    }
  }
  return out.size() - before;
}

}  // namespace

size_t Snapshot::matchIpv4(uint32_t addr, std::vector<Hit>& out) const {
  const size_t before = out.size();
  matchV4(*d_, addr, mix64(addr), Pusher{out});
  return out.size() - before;
}

size_t Snapshot::matchCidrs(const IpAddress& ip, std::vector<Hit>& out) const {
  const size_t before = out.size();
  matchCidr6(*d_, ip.bytes.data(), Pusher{out});
  return out.size() - before;
}

size_t Snapshot::matchIp(const IpAddress& ip, std::vector<Hit>& out) const {
  if (!ip.v6) return matchIpv4(ip.v4(), out);
  const size_t before = out.size();
  matchV6(*d_, ip.bytes.data(), hashV6(ip.bytes.data()), Pusher{out});
  return out.size() - before;
}

size_t Snapshot::matchDomain(std::string_view s, std::vector<Hit>& out) const {
  const size_t before = out.size();
  forEachDomainSuffix(s, d_->domain_labels, [&](std::string_view suffix, uint64_t h) {
    matchString(*d_, 0, IndicatorType::kDomain, suffix, h, Pusher{out});
  });
  return out.size() - before;
}

size_t Snapshot::matchUrl(std::string_view url, std::vector<Hit>& out) const {
  const size_t before = out.size();
  matchString(*d_, 1, IndicatorType::kUrl, url, hashString(url), Pusher{out});
  return out.size() - before;
}

size_t Snapshot::matchEmail(std::string_view email, std::vector<Hit>& out) const {
  const size_t before = out.size();
  matchString(*d_, 2, IndicatorType::kEmail, email, hashString(email), Pusher{out});
  return out.size() - before;
}

size_t Snapshot::matchHash(IndicatorType type, const uint8_t* digest, std::vector<Hit>& out) const {
  const int kind = hashKind(type);
  if (kind < 0) return 0;
  const size_t before = out.size();
  matchDigest(*d_, static_cast<size_t>(kind), type, digest, hashDigest(digest), Pusher{out});
  return out.size() - before;
}

size_t Snapshot::matchBatch(const Value* values, size_t n, std::vector<BatchHit>& out) const {
  return runBatch(
      *d_, n, [&](size_t i) { return values[i]; }, out, values);
}

size_t Snapshot::matchIpv4Batch(const uint32_t* addrs, size_t n, std::vector<BatchHit>& out) const {
  return runBatch(
      *d_, n, [&](size_t i) { return Value::ipv4(addrs[i]); }, out);
}

size_t Snapshot::matchDomainBatch(const std::string_view* domains, size_t n,
                                  std::vector<BatchHit>& out) const {
  return runBatch(
      *d_, n, [&](size_t i) { return Value::domain(domains[i]); }, out);
}

size_t Snapshot::matchHashBatch(IndicatorType type, const uint8_t* const* digests, size_t n,
                                std::vector<BatchHit>& out) const {
  if (hashKind(type) < 0) return 0;
  return runBatch(
      *d_, n, [&](size_t i) { return Value::digest(type, digests[i]); }, out);
}

size_t Snapshot::matchValue(const NormalisedValue& v, std::vector<Hit>& out) const {
  switch (v.type) {
    case IndicatorType::kIpv4:
    case IndicatorType::kIpv6: {
      auto ip = IpAddress::parse(v.value);
      return ip ? matchIp(*ip, out) : 0;
    }
    case IndicatorType::kCidr4:
    case IndicatorType::kCidr6: {
      auto c = Cidr::parse(v.value);
      if (!c) return 0;
      // Every listed CIDR equal to or enclosing the asked one.
      std::vector<Hit> all;
      if (c->base.v6) {
        matchCidrs(c->base, all);
      } else {
        matchIpv4(c->base.v4(), all);
      }
      const size_t before = out.size();
      for (const Hit& h : all) {
        if (h.type != v.type) continue;
        const Entry& en = d_->entries[h.entry];
        const uint8_t prefix = c->base.v6 ? d_->cidr6.node(static_cast<int32_t>(en.key)).prefix
                                          : d_->cidr4.node(static_cast<int32_t>(en.key)).prefix;
        if (prefix <= c->prefix) out.push_back(h);
      }
      return out.size() - before;
    }
    case IndicatorType::kDomain: return matchDomain(v.value, out);
    case IndicatorType::kUrl: return matchUrl(v.value, out);
    case IndicatorType::kEmail: return matchEmail(v.value, out);
    case IndicatorType::kMd5:
    case IndicatorType::kSha1:
    case IndicatorType::kSha256: {
      uint8_t digest[32];
      if (!hexDecode(v.value, digest)) return 0;
      return matchHash(v.type, digest, out);
    }
  }
  return 0;
}

std::vector<IndicatorMatch> Snapshot::lookup(std::string_view raw) const {
  std::vector<IndicatorMatch> result;
  auto v = classify(raw);
  if (!v) return result;
  std::vector<Hit> hits;
  matchValue(*v, hits);
  if (v->type == IndicatorType::kUrl) {
    // The host of a normalised URL: between "://" (and any userinfo) and the next '/'.
    std::string_view rest = std::string_view(v->value).substr(v->value.find("://") + 3);
    rest = rest.substr(0, rest.find('/'));
    if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
    std::string_view host = rest;
    if (!host.empty() && host.front() == '[') {
      host = host.substr(1, host.find(']') - 1);
    } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
      host = host.substr(0, colon);
    }
    if (auto ip = IpAddress::parse(host)) {
      matchIp(*ip, hits);
    } else {
      matchDomain(host, hits);
    }
  } else if (v->type == IndicatorType::kEmail) {
    matchDomain(std::string_view(v->value).substr(v->value.rfind('@') + 1), hits);
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.entry < b.entry; });
  hits.erase(std::unique(hits.begin(), hits.end(),
                         [](const Hit& a, const Hit& b) { return a.entry == b.entry; }),
             hits.end());
  for (const Hit& h : hits) result.push_back(describe(h));
  return result;
}

namespace {
std::string entryValue(const SnapshotData& d, const Entry& en) {
  switch (en.type) {
    case IndicatorType::kIpv4: return ipv4Text(en.key);
    case IndicatorType::kIpv6: {
      IpAddress ip;
      ip.v6 = true;
      std::memcpy(ip.bytes.data(), d.v6_keys.key(en.key), 16);
      return ip.toString();
    }
    case IndicatorType::kCidr4: {
      const auto& n = d.cidr4.node(static_cast<int32_t>(en.key));
      return ipv4Text(n.base) + "/" + std::to_string(n.prefix);
    }
    case IndicatorType::kCidr6: {
      const auto& n = d.cidr6.node(static_cast<int32_t>(en.key));
      return ipv6Text(n.base) + "/" + std::to_string(n.prefix);
    }
    case IndicatorType::kDomain:
    case IndicatorType::kUrl:
    case IndicatorType::kEmail:
      return std::string(d.string_keys[static_cast<size_t>(stringKind(en.type))].get(en.key));
    case IndicatorType::kMd5:
    case IndicatorType::kSha1:
    case IndicatorType::kSha256: {
      return hexEncode(d.hash_keys[static_cast<size_t>(hashKind(en.type))].key(en.key),
                       hashLength(en.type));
    }
  }
  return {};
}
}  // namespace

IndicatorMatch Snapshot::describe(const Hit& hit) const {
  IndicatorMatch m;
  if (hit.entry >= d_->entries.size()) return m;
  const Entry& en = d_->entries[hit.entry];
  m.type = en.type;
  m.value = entryValue(*d_, en);
  m.score = en.score;
  m.valid_until = fromSecs(en.valid_until);
  for (uint32_t i = 0; i < en.occ_count; ++i) {
    const Occurrence& o = d_->occs[en.occ_begin + i];
    SourceReport r;
    r.source = d_->sources[o.source];
    r.confidence = o.confidence;
    r.first_seen = fromSecs(o.first_seen);
    r.last_seen = fromSecs(o.last_seen);
    r.valid_until = fromSecs(o.valid_until);
    r.tlp = static_cast<Tlp>(o.tlp);
    r.reference = std::string(d_->references.get(o.reference));
    r.tags = splitTags(d_->tag_sets.get(o.tags));
    m.sources.push_back(std::move(r));
  }
  return m;
}

namespace {
bool equalsNocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}
}  // namespace

bool Snapshot::hitHasTag(const Hit& hit, std::string_view tag) const {
  if (hit.entry >= d_->entries.size()) return false;
  const Entry& en = d_->entries[hit.entry];
  for (uint32_t i = 0; i < en.occ_count; ++i) {
    std::string_view joined = d_->tag_sets.get(d_->occs[en.occ_begin + i].tags);
    while (!joined.empty()) {
      const size_t end = joined.find('\x1f');
      if (equalsNocase(joined.substr(0, end), tag)) return true;
      if (end == std::string_view::npos) break;
      joined.remove_prefix(end + 1);
    }
  }
  return false;
}

bool Snapshot::hitReportedBy(const Hit& hit, std::string_view source) const {
  if (hit.entry >= d_->entries.size()) return false;
  const Entry& en = d_->entries[hit.entry];
  for (uint32_t i = 0; i < en.occ_count; ++i) {
    if (d_->sources[d_->occs[en.occ_begin + i].source] == source) return true;
  }
  return false;
}

size_t Snapshot::size() const { return d_->entries.size(); }
Timestamp Snapshot::builtAt() const { return d_->built_at; }
Timestamp Snapshot::nextExpiry() const { return d_->next_expiry; }

SnapshotStats Snapshot::stats() const {
  SnapshotStats s;
  s.indicators = d_->entries.size();
  s.source_reports = d_->occs.size();
  std::array<size_t, kIndicatorTypeCount> per_type{};
  std::vector<size_t> per_source(d_->sources.size(), 0);
  for (const Entry& en : d_->entries) ++per_type[static_cast<size_t>(en.type)];
  for (const Occurrence& o : d_->occs) ++per_source[o.source];
  for (size_t i = 0; i < kIndicatorTypeCount; ++i) {
    if (per_type[i] != 0)
      s.per_type[std::string(indicatorTypeName(static_cast<IndicatorType>(i)))] = per_type[i];
  }
  for (size_t i = 0; i < per_source.size(); ++i) {
    if (per_source[i] != 0) s.per_source[d_->sources[i]] = per_source[i];
  }
  s.memory_bytes = d_->memoryBytes();
  return s;
}

void Snapshot::forEachIndicator(const std::function<void(const Indicator&)>& fn) const {
  for (uint32_t e = 0; e < d_->entries.size(); ++e) {
    const Entry& en = d_->entries[e];
    Indicator ind;
    ind.type = en.type;
    ind.value = entryValue(*d_, en);
    for (uint32_t i = 0; i < en.occ_count; ++i) {
      const Occurrence& o = d_->occs[en.occ_begin + i];
      ind.source = d_->sources[o.source];
      ind.confidence = o.confidence;
      ind.first_seen = fromSecs(o.first_seen);
      ind.last_seen = fromSecs(o.last_seen);
      ind.valid_until = fromSecs(o.valid_until);
      ind.tlp = static_cast<Tlp>(o.tlp);
      ind.reference = std::string(d_->references.get(o.reference));
      ind.tags = splitTags(d_->tag_sets.get(o.tags));
      fn(ind);
    }
  }
}

}  // namespace riposte::intel

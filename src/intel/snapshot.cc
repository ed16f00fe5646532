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

size_t Snapshot::matchIpv4(uint32_t addr, std::vector<Hit>& out) const {
  const size_t before = out.size();
  d_->v4.probe(mix64(addr), [&](uint64_t s) {
    if (v4SlotIp(s) != addr) return false;
    out.push_back(Hit{v4SlotEntry(s), v4SlotScore(s), IndicatorType::kIpv4});
    return true;
  });
  for (int32_t n = d_->cidr4.find(addr); n >= 0;) {
    const auto& node = d_->cidr4.node(n);
    out.push_back(Hit{node.entry, d_->entries[node.entry].score, IndicatorType::kCidr4});
    n = node.parent;
  }
  return out.size() - before;
}

namespace {
constexpr size_t kBatchChunk = 32;
// Keeps the compiler from dropping loads whose values only matter for their cache effect.
inline void keep(uint64_t v) { asm volatile("" : : "r"(v)); }
}  // namespace

size_t Snapshot::matchIpv4Batch(const uint32_t* addrs, size_t n, std::vector<BatchHit>& out) const {
  const size_t before = out.size();
  thread_local std::vector<Hit> hits;
  for (size_t base = 0; base < n; base += kBatchChunk) {
    const size_t end = std::min(n, base + kBatchChunk);
    uint64_t acc = 0;
    for (size_t i = base; i < end; ++i)
      acc += d_->v4.peekFilter(mix64(addrs[i])) + d_->cidr4.peekBucket(addrs[i]);
    keep(acc);
    for (size_t i = base; i < end; ++i) {
      hits.clear();
      matchIpv4(addrs[i], hits);
      for (const Hit& h : hits) out.push_back(BatchHit{static_cast<uint32_t>(i), h});
    }
  }
  return out.size() - before;
}

size_t Snapshot::matchCidrs(const IpAddress& ip, std::vector<Hit>& out) const {
  const size_t before = out.size();
  U128* tag = nullptr;
  for (int32_t n = d_->cidr6.find(keyOf(ip.bytes, tag)); n >= 0;) {
    const auto& node = d_->cidr6.node(n);
    out.push_back(Hit{node.entry, d_->entries[node.entry].score, IndicatorType::kCidr6});
    n = node.parent;
  }
  return out.size() - before;
}

size_t Snapshot::matchIp(const IpAddress& ip, std::vector<Hit>& out) const {
  if (!ip.v6) return matchIpv4(ip.v4(), out);
  const size_t before = out.size();
  const uint64_t h = hashV6(ip.bytes.data());
  d_->v6.probe(h, [&](uint64_t s) {
    if (!keyedSlotTag(s, h)) return false;
    const uint32_t ref = keyedSlotRef(s);
    if (std::memcmp(d_->v6_keys.key(ref), ip.bytes.data(), 16) != 0) return false;
    out.push_back(Hit{d_->v6_keys.entry(ref), keyedSlotScore(s), IndicatorType::kIpv6});
    return true;
  });
  matchCidrs(ip, out);
  return out.size() - before;
}

namespace {

// One probe of a string table: the hit, if the string is listed.
inline void probeString(const SnapshotData& d, size_t kind, IndicatorType type, std::string_view v,
                        uint64_t h, std::vector<Hit>& out) {
  const StringKeys& keys = d.string_keys[kind];
  d.string_tables[kind].probe(h, [&](uint64_t s) {
    if (!keyedSlotTag(s, h)) return false;
    const uint32_t ref = keyedSlotRef(s);
    if (keys.get(ref) != v) return false;
    out.push_back(Hit{keys.entry(ref), keyedSlotScore(s), type});
    return true;
  });
}

}  // namespace

size_t Snapshot::matchDomain(std::string_view s, std::vector<Hit>& out) const {
  const size_t before = out.size();
  forEachDomainSuffix(s, [&](std::string_view suffix, uint64_t h) {
    probeString(*d_, 0, IndicatorType::kDomain, suffix, h, out);
  });
  return out.size() - before;
}

size_t Snapshot::matchDomainBatch(const std::string_view* domains, size_t n,
                                  std::vector<BatchHit>& out) const {
  const size_t before = out.size();
  const SlotTable& table = d_->string_tables[0];
  const StringKeys& keys = d_->string_keys[0];
  struct Probe {
    std::string_view suffix;
    uint64_t hash;
    uint32_t index;
  };
  thread_local std::vector<Probe> probes;
  for (size_t base = 0; base < n; base += kBatchChunk) {
    const size_t end = std::min(n, base + kBatchChunk);
    probes.clear();
    for (size_t i = base; i < end; ++i) {
      forEachDomainSuffix(domains[i], [&](std::string_view sfx, uint64_t h) {
        probes.push_back(Probe{sfx, h, static_cast<uint32_t>(i)});
      });
    }
    uint64_t acc = 0;
    for (const Probe& p : probes) acc += table.peekFilter(p.hash);
    keep(acc);
    for (const Probe& p : probes) acc += table.peek(p.hash);
    keep(acc);
    for (const Probe& p : probes) {  // the key records of first slots whose tags match
      const uint64_t s = table.peek(p.hash);
      if (s != 0 && keyedSlotTag(s, p.hash)) acc += keys.entry(keyedSlotRef(s));
    }
    keep(acc);
    // Parents come before the name itself, as in matchDomain().
    thread_local std::vector<Hit> hits;
    for (const Probe& p : probes) {
      hits.clear();
      probeString(*d_, 0, IndicatorType::kDomain, p.suffix, p.hash, hits);
      for (const Hit& h : hits) out.push_back(BatchHit{p.index, h});
    }
  }
  return out.size() - before;
}

size_t Snapshot::matchUrl(std::string_view url, std::vector<Hit>& out) const {
  const size_t before = out.size();
  probeString(*d_, 1, IndicatorType::kUrl, url, hashString(url), out);
  return out.size() - before;
}

size_t Snapshot::matchEmail(std::string_view email, std::vector<Hit>& out) const {
  const size_t before = out.size();
  probeString(*d_, 2, IndicatorType::kEmail, email, hashString(email), out);
  return out.size() - before;
}

size_t Snapshot::matchHash(IndicatorType type, const uint8_t* digest, std::vector<Hit>& out) const {
  const int kind = hashKind(type);
  if (kind < 0) return 0;
  const size_t len = hashLength(type);
  const size_t before = out.size();
  const uint64_t h = hashDigest(digest);
  const FixedKeys& keys = d_->hash_keys[static_cast<size_t>(kind)];
  d_->hash_tables[static_cast<size_t>(kind)].probe(h, [&](uint64_t s) {
    if (!keyedSlotTag(s, h)) return false;
    const uint32_t ref = keyedSlotRef(s);
    if (std::memcmp(keys.key(ref), digest, len) != 0) return false;
    out.push_back(Hit{keys.entry(ref), keyedSlotScore(s), type});
    return true;
  });
  return out.size() - before;
}

size_t Snapshot::matchHashBatch(IndicatorType type, const uint8_t* const* digests, size_t n,
                                std::vector<BatchHit>& out) const {
  const int kind = hashKind(type);
  if (kind < 0) return 0;
  const size_t before = out.size();
  thread_local std::vector<Hit> hits;
  const SlotTable& table = d_->hash_tables[static_cast<size_t>(kind)];
  const FixedKeys& keys = d_->hash_keys[static_cast<size_t>(kind)];
  for (size_t base = 0; base < n; base += kBatchChunk) {
    const size_t end = std::min(n, base + kBatchChunk);
    uint64_t acc = 0;
    for (size_t i = base; i < end; ++i) acc += table.peekFilter(hashDigest(digests[i]));
    keep(acc);
    for (size_t i = base; i < end; ++i) acc += table.peek(hashDigest(digests[i]));
    keep(acc);
    for (size_t i = base; i < end; ++i) {
      const uint64_t h = hashDigest(digests[i]);
      const uint64_t s = table.peek(h);
      if (s != 0 && keyedSlotTag(s, h)) acc += keys.key(keyedSlotRef(s))[0];
    }
    keep(acc);
    for (size_t i = base; i < end; ++i) {
      hits.clear();
      matchHash(type, digests[i], hits);
      for (const Hit& h : hits) out.push_back(BatchHit{static_cast<uint32_t>(i), h});
    }
  }
  return out.size() - before;
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

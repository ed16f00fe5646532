#include "riposte/intel/builder.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "intel/snapshot_data.h"
#include "riposte/core/ip.h"

namespace riposte::intel {
namespace {

uint32_t toSecs(Timestamp t) {
  if (!t.isSet()) return 0;
  const int64_t s = t.seconds();
  if (s <= 0) return 1;
  if (s >= std::numeric_limits<uint32_t>::max()) return std::numeric_limits<uint32_t>::max();
  return static_cast<uint32_t>(s);
}

// 0 means "never expires": the later of two expiries, where never wins.
uint32_t laterExpiry(uint32_t a, uint32_t b) { return (a == 0 || b == 0) ? 0 : std::max(a, b); }

uint32_t earlierSet(uint32_t a, uint32_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

bool parseV4(std::string_view s, uint32_t* out) {
  auto ip = IpAddress::parse(s);
  if (!ip || ip->v6) return false;
  *out = ip->v4();
  return true;
}

bool hexDecode(std::string_view hex, uint8_t* out) {
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;  // normalised hashes are lower-case
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

std::array<Duration, kIndicatorTypeCount> BuildOptions::defaultHalfLives() {
  using std::chrono::hours;
  const Duration day = hours(24);
  std::array<Duration, kIndicatorTypeCount> h{};
  h[static_cast<size_t>(IndicatorType::kIpv4)] = 7 * day;
  h[static_cast<size_t>(IndicatorType::kIpv6)] = 7 * day;
  h[static_cast<size_t>(IndicatorType::kCidr4)] = 30 * day;
  h[static_cast<size_t>(IndicatorType::kCidr6)] = 30 * day;
  h[static_cast<size_t>(IndicatorType::kDomain)] = 30 * day;
  h[static_cast<size_t>(IndicatorType::kUrl)] = 14 * day;
  h[static_cast<size_t>(IndicatorType::kMd5)] = 365 * day;
  h[static_cast<size_t>(IndicatorType::kSha1)] = 365 * day;
  h[static_cast<size_t>(IndicatorType::kSha256)] = 365 * day;
  h[static_cast<size_t>(IndicatorType::kEmail)] = 90 * day;
  return h;
}

SnapshotBuilder::SnapshotBuilder(BuildOptions options) : options_(std::move(options)) {
  if (!options_.now.isSet()) options_.now = Timestamp::now();
  now_s_ = options_.now.seconds();
  intern(references_, reference_index_, "");
  intern(tag_sets_, tag_set_index_, "");
}

SnapshotBuilder::~SnapshotBuilder() = default;

uint32_t SnapshotBuilder::intern(std::vector<std::string>& pool,
                                 std::unordered_map<std::string, uint32_t>& index,
                                 std::string_view s) {
  auto it = index.find(std::string(s));
  if (it != index.end()) return it->second;
  const auto id = static_cast<uint32_t>(pool.size());
  pool.emplace_back(s);
  index.emplace(std::string(s), id);
  return id;
}

uint32_t SnapshotBuilder::internTags(const std::vector<std::string>& tags) {
  if (tags.empty()) return 0;
  std::string joined;
  for (const auto& t : tags) {
    if (!joined.empty()) joined += '\x1f';
    joined += t;
  }
  return intern(tag_sets_, tag_set_index_, joined);
}

SnapshotBuilder::Group* SnapshotBuilder::findOrCreate(IndicatorType type, std::string_view value,
                                                      bool* created) {
  *created = false;
  if (type == IndicatorType::kIpv4) {
    uint32_t v4 = 0;
    if (!parseV4(value, &v4)) return nullptr;
    auto [it, inserted] = v4_index_.try_emplace(v4, static_cast<uint32_t>(groups_.size()));
    if (!inserted) return &groups_[it->second];
    *created = true;
    Group& g = groups_.emplace_back();
    g.type = type;
    g.v4 = v4;
    return &g;
  }
  auto& index = value_index_[static_cast<size_t>(type)];
  if (auto it = index.find(value); it != index.end()) return &groups_[it->second];
  // Validate what the snapshot will need to convert.
  if (isHashType(type)) {
    if (value.size() != hashLength(type) * 2) return nullptr;
    uint8_t tmp[32];
    if (!hexDecode(value, tmp)) return nullptr;
  } else if (type == IndicatorType::kIpv6) {
    auto ip = IpAddress::parse(value);
    if (!ip || !ip->v6) return nullptr;
  } else if (type == IndicatorType::kCidr4 || type == IndicatorType::kCidr6) {
    auto c = Cidr::parse(value);
    if (!c || c->base.v6 != (type == IndicatorType::kCidr6)) return nullptr;
  } else if (value.empty()) {
    return nullptr;
  }
  *created = true;
  const auto id = static_cast<uint32_t>(groups_.size());
  Group& g = groups_.emplace_back();
  g.type = type;
  g.value = std::string(value);
  index.emplace(std::string_view(g.value), id);
  return &g;
}

void SnapshotBuilder::add(const std::vector<Indicator>& inds) {
  for (const auto& i : inds) add(i);
}

void SnapshotBuilder::add(const Indicator& ind) {
  ++report_.added;
  if (ind.revoked) {
    ++report_.dropped_revoked;
    return;
  }
  const uint32_t until = toSecs(ind.valid_until);
  if (until != 0 && until <= now_s_) {
    ++report_.dropped_expired;
    return;
  }
  if (ind.valid_from.isSet() && ind.valid_from > options_.now) {
    ++report_.dropped_not_yet_valid;
    return;
  }
  if (options_.apply_known_good) {
    if (auto reason = options_.known_good.check(ind.type, ind.value)) {
      ++report_.rejected_known_good;
      ++report_.rejected_by_reason[std::string(*reason)];
      return;
    }
  }
  bool created = false;
  Group* g = findOrCreate(ind.type, ind.value, &created);
  if (g == nullptr) {
    ++report_.invalid;
    return;
  }
  const uint32_t source = intern(sources_, source_index_, ind.source);
  if (source > std::numeric_limits<uint16_t>::max()) {
    ++report_.invalid;  // more than 65536 distinct sources
    return;
  }
  const auto it = options_.sources.find(ind.source);
  const SourcePolicy& policy = it != options_.sources.end() ? it->second : options_.default_source;

  Occ o;
  o.source = static_cast<uint16_t>(source);
  o.confidence = std::min<uint8_t>(100, ind.confidence.value_or(policy.default_confidence));
  o.first_seen = toSecs(ind.first_seen);
  o.last_seen = toSecs(ind.last_seen);
  o.valid_until = until;
  o.reference = intern(references_, reference_index_, ind.reference);
  o.tags = internTags(ind.tags);
  o.tlp = static_cast<uint8_t>(ind.tlp);
  if (!created) ++report_.merged;
  for (Occ& prev : g->occs) {
    if (prev.source != o.source) continue;
    prev.first_seen = earlierSet(prev.first_seen, o.first_seen);
    prev.last_seen = std::max(prev.last_seen, o.last_seen);
    prev.valid_until = laterExpiry(prev.valid_until, o.valid_until);
    prev.confidence = std::max(prev.confidence, o.confidence);
    prev.tlp = std::max(prev.tlp, o.tlp);
    if (o.reference != 0 && prev.reference == 0) prev.reference = o.reference;
    if (o.tags != prev.tags && o.tags != 0) {
      if (prev.tags == 0) {
        prev.tags = o.tags;
      } else {
        std::set<std::string> all;
        for (uint32_t id : {prev.tags, o.tags}) {
          std::string_view j = tag_sets_[id];
          size_t start = 0;
          for (;;) {
            const size_t end = j.find('\x1f', start);
            all.emplace(j.substr(start, end == std::string_view::npos ? end : end - start));
            if (end == std::string_view::npos) break;
            start = end + 1;
          }
        }
        prev.tags = internTags(std::vector<std::string>(all.begin(), all.end()));
      }
    }
    return;
  }
  g->occs.push_back(o);
}

std::shared_ptr<const Snapshot> SnapshotBuilder::build() {
  auto d = std::make_unique<SnapshotData>();
  d->built_at = options_.now;
  d->sources = sources_;
  for (const auto& r : references_) d->references.add(r);
  for (const auto& t : tag_sets_) d->tag_sets.add(t);

  std::array<size_t, kIndicatorTypeCount> counts{};
  std::array<size_t, 3> string_bytes{};
  size_t occ_total = 0;
  for (const Group& g : groups_) {
    ++counts[static_cast<size_t>(g.type)];
    occ_total += g.occs.size();
    if (const int k = stringKind(g.type); k >= 0)
      string_bytes[static_cast<size_t>(k)] += g.value.size() + 6;
  }
  d->entries.reserve(std::min<size_t>(groups_.size(), kMaxEntries));
  d->occs.reserve(occ_total);
  d->v6_keys.reserve(counts[static_cast<size_t>(IndicatorType::kIpv6)]);
  d->v4.init(counts[static_cast<size_t>(IndicatorType::kIpv4)]);
  d->v6.init(counts[static_cast<size_t>(IndicatorType::kIpv6)]);
  static constexpr IndicatorType kStr[] = {IndicatorType::kDomain, IndicatorType::kUrl,
                                           IndicatorType::kEmail};
  static constexpr IndicatorType kHash[] = {IndicatorType::kMd5, IndicatorType::kSha1,
                                            IndicatorType::kSha256};
  for (size_t k = 0; k < 3; ++k) {
    d->string_tables[k].init(counts[static_cast<size_t>(kStr[k])]);
    d->string_keys[k].reserve(string_bytes[k]);
    d->hash_tables[k].init(counts[static_cast<size_t>(kHash[k])]);
    d->hash_keys[k].reserve(counts[static_cast<size_t>(kHash[k])]);
  }

  std::vector<double> weights(sources_.size(), options_.default_source.weight);
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (auto it = options_.sources.find(sources_[i]); it != options_.sources.end()) {
      weights[i] = it->second.weight;
    }
  }

  uint32_t next_expiry = 0;
  for (Group& g : groups_) {
    if (d->entries.size() >= kMaxEntries ||
        (stringKind(g.type) >= 0 && g.value.size() > StringKeys::kMaxLength)) {
      ++report_.invalid;  // beyond what the compact slots address
      continue;
    }
    Entry en;
    en.type = g.type;
    en.occ_begin = static_cast<uint32_t>(d->occs.size());
    en.occ_count = static_cast<uint16_t>(std::min<size_t>(g.occs.size(), 65535));
    const double half_life_s = std::max(
        1.0, static_cast<double>(options_.half_life[static_cast<size_t>(g.type)].count()) / 1e6);
    double miss = 1.0;
    uint32_t until = g.occs.empty() ? 0 : g.occs.front().valid_until;
    for (size_t i = 0; i < en.occ_count; ++i) {
      const Occ& o = g.occs[i];
      const uint32_t seen = o.last_seen != 0 ? o.last_seen : o.first_seen;
      const double age =
          seen == 0 ? 0.0 : std::max<double>(0.0, static_cast<double>(now_s_ - seen));
      const double w = std::clamp(weights[o.source], 0.0, 1.0);
      const double s = w * (o.confidence / 100.0) * std::exp2(-age / half_life_s);
      miss *= 1.0 - std::clamp(s, 0.0, 1.0);
      until = laterExpiry(until, o.valid_until);
      Occurrence occ;
      occ.first_seen = o.first_seen;
      occ.last_seen = o.last_seen;
      occ.valid_until = o.valid_until;
      occ.reference = o.reference;
      occ.tags = o.tags;
      occ.source = o.source;
      occ.confidence = o.confidence;
      occ.tlp = o.tlp;
      d->occs.push_back(occ);
    }
    en.score = static_cast<uint8_t>(std::lround(std::clamp((1.0 - miss) * 100.0, 0.0, 100.0)));
    en.valid_until = until;
    next_expiry = earlierSet(next_expiry, until);
    const auto entry_id = static_cast<uint32_t>(d->entries.size());
    switch (g.type) {
      case IndicatorType::kIpv4:
        en.key = g.v4;
        d->v4.insert(mix64(g.v4), v4Slot(g.v4, en.score, entry_id));
        break;
      case IndicatorType::kIpv6: {
        const auto bytes = IpAddress::parse(g.value)->bytes;
        en.key = d->v6_keys.add(bytes.data(), entry_id);
        const uint64_t h = hashV6(bytes.data());
        d->v6.insert(h, keyedSlot(h, en.score, en.key));
        break;
      }
      case IndicatorType::kCidr4: {
        auto c = Cidr::parse(g.value);
        uint32_t* tag = nullptr;
        d->cidr4.add(keyOf(c->base.bytes, tag), c->prefix, en.score, entry_id);
        break;
      }
      case IndicatorType::kCidr6: {
        auto c = Cidr::parse(g.value);
        U128* tag = nullptr;
        d->cidr6.add(keyOf(c->base.bytes, tag), c->prefix, en.score, entry_id);
        break;
      }
      case IndicatorType::kDomain:
      case IndicatorType::kUrl:
      case IndicatorType::kEmail: {
        const auto k = static_cast<size_t>(stringKind(g.type));
        en.key = d->string_keys[k].add(g.value, entry_id);
        const uint64_t h =
            g.type == IndicatorType::kDomain ? hashDomain(g.value) : hashString(g.value);
        if (g.type == IndicatorType::kDomain)
          d->domain_labels |= uint64_t{1} << labelBit(labelCount(g.value));
        d->string_tables[k].insert(h, keyedSlot(h, en.score, en.key));
        break;
      }
      case IndicatorType::kMd5:
      case IndicatorType::kSha1:
      case IndicatorType::kSha256: {
        const auto k = static_cast<size_t>(hashKind(g.type));
        uint8_t digest[32];
        hexDecode(g.value, digest);
        en.key = d->hash_keys[k].add(digest, entry_id);
        const uint64_t h = hashDigest(digest);
        d->hash_tables[k].insert(h, keyedSlot(h, en.score, en.key));
        break;
      }
    }
    d->entries.push_back(en);
    // Free the builder's copy as we go: the peak stays near one copy of the data.
    std::vector<Occ>().swap(g.occs);
    std::string().swap(g.value);
  }
  d->next_expiry = next_expiry == 0 ? Timestamp{} : Timestamp::fromSeconds(next_expiry);
  for (auto& k : d->string_keys) k.shrink();
  for (auto& k : d->hash_keys) k.shrink();
  d->v6_keys.shrink();
  d->cidr4.build();
  d->cidr6.build();
  for (size_t i = 0; i < d->cidr4.nodes().size(); ++i) {
    d->entries[d->cidr4.nodes()[i].entry].key = static_cast<uint32_t>(i);
  }
  for (size_t i = 0; i < d->cidr6.nodes().size(); ++i) {
    d->entries[d->cidr6.nodes()[i].entry].key = static_cast<uint32_t>(i);
  }
  report_.indicators = d->entries.size();

  groups_.clear();
  v4_index_.clear();
  for (auto& idx : value_index_) idx.clear();
  return std::make_shared<const Snapshot>(std::move(d));
}

}  // namespace riposte::intel

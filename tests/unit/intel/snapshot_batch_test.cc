// The mixed batch pipeline (Snapshot::matchBatch), the hash tags that only narrow candidates,
// and domain matching restricted to the label counts of the listed domains.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "intel/snapshot_data.h"
#include "riposte/core/digest.h"
#include "riposte/intel/builder.h"
#include "riposte/intel/snapshot.h"

namespace riposte::intel {
namespace {

const Timestamp kNow = *parseRfc3339("2026-01-10T00:00:00Z");

BuildOptions opts() {
  BuildOptions o;
  o.now = kNow;
  o.apply_known_good = false;
  return o;
}

void add(SnapshotBuilder& b, std::string_view raw, uint8_t confidence = 80) {
  auto v = classify(raw);
  ASSERT_TRUE(v.isOk()) << raw << ": " << v.status().toString();
  Indicator i;
  i.type = v->type;
  i.value = v->value;
  i.source = "s";
  i.confidence = confidence;
  i.last_seen = kNow;
  b.add(i);
}

std::vector<std::string> values(const Snapshot& s, const std::vector<Hit>& hits) {
  std::vector<std::string> out;
  for (const Hit& h : hits) out.push_back(s.describe(h).value);
  return out;
}

// What one-by-one calls give for a value, as "index:entry:score:type".
void single(const Snapshot& s, const Snapshot::Value& v, uint32_t index,
            std::vector<std::string>& out) {
  std::vector<Hit> hits;
  switch (v.type) {
    case IndicatorType::kIpv4: s.matchIpv4(v.v4, hits); break;
    case IndicatorType::kIpv6: {
      IpAddress ip;
      ip.v6 = true;
      std::copy(v.bytes, v.bytes + 16, ip.bytes.begin());
      s.matchIp(ip, hits);
      break;
    }
    case IndicatorType::kDomain: s.matchDomain(v.text, hits); break;
    case IndicatorType::kUrl: s.matchUrl(v.text, hits); break;
    case IndicatorType::kEmail: s.matchEmail(v.text, hits); break;
    default: s.matchHash(v.type, v.bytes, hits); break;
  }
  for (const Hit& h : hits) {
    out.push_back(std::to_string(index) + ":" + std::to_string(h.entry) + ":" +
                  std::to_string(h.score) + ":" + std::string(indicatorTypeName(h.type)));
  }
}

TEST(IntelSnapshotBatch, MixedBatchEqualsOneByOne) {
  SnapshotBuilder b(opts());
  std::mt19937_64 rng(5);
  std::vector<std::string> domains;
  std::vector<IpAddress> ips;
  std::vector<std::array<uint8_t, 32>> digests;
  for (int i = 0; i < 400; ++i) {
    const auto a = static_cast<uint32_t>(rng());
    IpAddress ip;
    ip.bytes = {uint8_t(a >> 24), uint8_t(a >> 16), uint8_t(a >> 8), uint8_t(a)};
    ips.push_back(ip);
    if (i % 3 == 0) add(b, ip.toString(), static_cast<uint8_t>(10 + i % 90));
    if (i % 11 == 0) add(b, ip.toString() + "/" + std::to_string(8 + i % 20));
    IpAddress ip6;
    ip6.v6 = true;
    for (auto& c : ip6.bytes) c = static_cast<uint8_t>(rng());
    ips.push_back(ip6);
    if (i % 3 == 1) add(b, ip6.toString());
    if (i % 13 == 0) add(b, ip6.toString() + "/" + std::to_string(16 + i % 100));
    // Names of 2 to 5 labels; some listed, some under a listed parent.
    std::string name = "n" + std::to_string(i) + ".zone" + std::to_string(i % 7) + ".test";
    if (i % 4 == 1) name = "www." + name;
    if (i % 4 == 2) name = "a.b." + name;
    if (i % 9 == 3) name = "zone" + std::to_string(i % 7) + ".test";
    domains.push_back(name);
    if (i % 5 == 0 && labelCount(name) > 2) add(b, name.substr(name.find('.') + 1));
    if (i % 6 == 0) add(b, name);
    std::array<uint8_t, 32> d{};
    for (auto& c : d) c = static_cast<uint8_t>(rng());
    digests.push_back(d);
    if (i % 2 == 0) add(b, riposte::hexEncode(d.data(), 32));
    if (i % 3 == 0) add(b, riposte::hexEncode(d.data(), 16));
  }
  add(b, "http://evil.test/x");
  add(b, "bad@evil.test");
  auto s = b.build();

  std::vector<Snapshot::Value> batch;
  const std::string url = "http://evil.test/x";
  const std::string email = "bad@evil.test";
  for (size_t i = 0; i < 400; ++i) {
    batch.push_back(Snapshot::Value::ip(ips[2 * i]));
    batch.push_back(Snapshot::Value::ip(ips[2 * i + 1]));
    batch.push_back(Snapshot::Value::domain(domains[i]));
    batch.push_back(Snapshot::Value::digest(IndicatorType::kSha256, digests[i].data()));
    batch.push_back(Snapshot::Value::digest(IndicatorType::kMd5, digests[i].data()));
    if (i % 50 == 0) batch.push_back(Snapshot::Value::url(url));
    if (i % 50 == 1) batch.push_back(Snapshot::Value::email(email));
    if (i % 50 == 2) batch.push_back(Snapshot::Value::url("http://good.test/"));
  }
  // Every batch size up to a few groups, so that groups end at every kind of value.
  for (size_t n : {size_t{1}, size_t{3}, size_t{16}, size_t{17}, size_t{40}, size_t{48}, size_t{49},
                   size_t{97}, batch.size()}) {
    std::vector<std::string> want;
    for (uint32_t i = 0; i < n; ++i) single(*s, batch[i], i, want);
    std::vector<Snapshot::BatchHit> hits;
    const size_t got_n = s->matchBatch(batch.data(), n, hits);
    EXPECT_EQ(got_n, hits.size());
    std::vector<std::string> got;
    for (const auto& h : hits) {
      got.push_back(std::to_string(h.index) + ":" + std::to_string(h.hit.entry) + ":" +
                    std::to_string(h.hit.score) + ":" + std::string(indicatorTypeName(h.hit.type)));
    }
    EXPECT_EQ(got, want) << n;
    if (n == batch.size()) {
      // The data exercises every kind.
      for (const char* t : {"ipv4", "ipv6", "cidr", "domain", "sha256", "md5", "url", "email"}) {
        EXPECT_TRUE(std::any_of(got.begin(), got.end(), [&](const std::string& g) {
          return g.find(std::string(":") + t) != std::string::npos;
        })) << t;
      }
    }
  }
}

TEST(IntelSnapshotBatch, LongestAndEveryEnclosingPrefixPerFamily) {
  SnapshotBuilder b(opts());
  for (const char* c : {"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.128/25",
                        "2001:db8::/32", "2001:db8:1::/48", "2001:db8:1:2::/64", "::/0"}) {
    add(b, c);
  }
  add(b, "10.1.2.200");
  auto s = b.build();
  IpAddress v4 = *IpAddress::parse("10.1.2.200");
  IpAddress v4b = *IpAddress::parse("10.1.3.1");
  IpAddress v6 = *IpAddress::parse("2001:db8:1:2::5");
  IpAddress v6b = *IpAddress::parse("2001:db9::1");
  std::vector<Snapshot::Value> batch = {Snapshot::Value::ip(v4), Snapshot::Value::ip(v6),
                                        Snapshot::Value::ip(v4b), Snapshot::Value::ip(v6b)};
  std::vector<Snapshot::BatchHit> hits;
  s->matchBatch(batch.data(), batch.size(), hits);
  std::vector<std::vector<std::string>> per(4);
  for (const auto& h : hits) per[h.index].push_back(s->describe(h.hit).value);
  // The exact address, then the innermost CIDR outwards; an IPv4 address never matches the
  // IPv6 ::/0 nor the reverse.
  EXPECT_EQ(per[0], (std::vector<std::string>{"10.1.2.200", "10.1.2.128/25", "10.1.2.0/24",
                                              "10.1.0.0/16", "10.0.0.0/8"}));
  EXPECT_EQ(per[1], (std::vector<std::string>{"2001:db8:1:2::/64", "2001:db8:1::/48",
                                              "2001:db8::/32", "::/0"}));
  EXPECT_EQ(per[2], (std::vector<std::string>{"10.1.0.0/16", "10.0.0.0/8"}));
  EXPECT_EQ(per[3], (std::vector<std::string>{"::/0"}));
}

TEST(IntelSnapshotBatch, ManyIpv4CidrsMatchBruteForce) {
  // Thousands of IPv4 CIDRs, nested, spread out and crowded into two /16s (blocks with many
  // boundaries to search): every enclosing CIDR of random addresses, of addresses at CIDR edges
  // and in the crowded blocks must match a brute-force scan, one by one and batched.
  struct C {
    uint32_t base;
    int prefix;
  };
  std::vector<C> cidrs;
  std::mt19937_64 rng(23);
  auto norm = [](uint32_t a, int p) { return p == 0 ? 0u : a & (0xffffffffu << (32 - p)); };
  for (int i = 0; i < 5000; ++i) {
    const int p = 8 + static_cast<int>(rng() % 24);  // /8 to /31 (a /32 is an address)
    cidrs.push_back({norm(static_cast<uint32_t>(rng()), p), p});
  }
  for (int i = 0; i < 400; ++i) {  // crowded: 10.1.0.0/16 and 10.2.0.0/16
    const int p = 17 + static_cast<int>(rng() % 15);
    const uint32_t base = (i % 2 == 0 ? 0x0a010000u : 0x0a020000u) | (rng() & 0xffff);
    cidrs.push_back({norm(base, p), p});
  }
  cidrs.push_back({0x0a000000u, 8});
  cidrs.push_back({0x0a010000u, 16});
  SnapshotBuilder b(opts());
  std::set<std::pair<uint32_t, int>> listed;
  for (const C& c : cidrs) {
    if (!listed.insert({c.base, c.prefix}).second) continue;
    IpAddress ip;
    ip.bytes = {uint8_t(c.base >> 24), uint8_t(c.base >> 16), uint8_t(c.base >> 8),
                uint8_t(c.base)};
    add(b, ip.toString() + "/" + std::to_string(c.prefix));
  }
  auto s = b.build();
  std::vector<uint32_t> addrs;
  for (int i = 0; i < 1500; ++i) addrs.push_back(static_cast<uint32_t>(rng()));
  for (int i = 0; i < 1500; ++i) addrs.push_back(0x0a010000u | (rng() & 0x1ffff));
  size_t k = 0;
  for (const auto& [base, p] : listed) {
    if (k++ % 4 != 0 && (base >> 24) != 10) continue;
    addrs.push_back(base);
    addrs.push_back(base | (p == 32 ? 0u : 0xffffffffu >> p));
    addrs.push_back(base - 1);
  }
  std::vector<Snapshot::Value> batch;
  for (uint32_t a : addrs) batch.push_back(Snapshot::Value::ipv4(a));
  std::vector<Snapshot::BatchHit> bh;
  s->matchBatch(batch.data(), batch.size(), bh);
  size_t at = 0;
  size_t with_hits = 0;
  for (uint32_t i = 0; i < addrs.size(); ++i) {
    // Brute force: every listed CIDR containing the address, innermost (longest) first.
    std::vector<std::string> want;
    std::vector<std::pair<int, uint32_t>> enclosing;
    for (const auto& [base, p] : listed) {
      if (norm(addrs[i], p) == base) enclosing.push_back({p, base});
    }
    std::sort(enclosing.rbegin(), enclosing.rend());
    for (const auto& [p, base] : enclosing) {
      IpAddress ip;
      ip.bytes = {uint8_t(base >> 24), uint8_t(base >> 16), uint8_t(base >> 8), uint8_t(base)};
      want.push_back(ip.toString() + "/" + std::to_string(p));
    }
    std::vector<Hit> hits;
    s->matchIpv4(addrs[i], hits);
    EXPECT_EQ(values(*s, hits), want) << i;
    std::vector<Hit> batched;
    for (; at < bh.size() && bh[at].index == i; ++at) batched.push_back(bh[at].hit);
    EXPECT_EQ(values(*s, batched), want) << i;
    with_hits += !want.empty();
  }
  EXPECT_EQ(at, bh.size());
  EXPECT_GT(with_hits, addrs.size() / 3);
}

TEST(IntelSnapshotBatch, HashTagCollisionsNeverHit) {
  // Two names whose hashes agree on the slot tag (top 25 bits), the filter bits (which the tag
  // covers) and the slot position of a one-entry table: the probe for the second lands on the
  // first's slot and its tag matches, so only the full comparison tells them apart.
  std::unordered_map<uint64_t, std::string> seen;
  std::string a;
  std::string b;
  for (uint64_t i = 0; a.empty(); ++i) {
    const std::string name = "c" + std::to_string(i) + ".test";
    const uint64_t h = hashDomain(name);
    const uint64_t key = ((h >> 39) << 4) | (h & 15);
    auto [it, inserted] = seen.emplace(key, name);
    if (!inserted) {
      a = it->second;
      b = name;
    }
    ASSERT_LT(i, 50'000'000u);
  }
  ASSERT_NE(hashDomain(a), hashDomain(b));
  SnapshotBuilder builder(opts());
  add(builder, a);
  auto s = builder.build();
  std::vector<Hit> hits;
  EXPECT_EQ(s->matchDomain(a, hits), 1u);
  hits.clear();
  EXPECT_EQ(s->matchDomain(b, hits), 0u) << a << " / " << b;
  std::vector<Snapshot::BatchHit> bh;
  const Snapshot::Value batch[] = {Snapshot::Value::domain(b), Snapshot::Value::domain(a)};
  s->matchBatch(batch, 2, bh);
  ASSERT_EQ(bh.size(), 1u);
  EXPECT_EQ(bh[0].index, 1u);
}

TEST(IntelSnapshotBatch, ParentsOfEveryListedLabelCount) {
  SnapshotBuilder b(opts());
  for (const char* d : {"evil.test", "x.y.bad.test", "deep.a.b.c.d.e.f.g.h.i.j.k.test"}) add(b, d);
  auto s = b.build();
  std::vector<Hit> hits;
  s->matchDomain("a.b.evil.test", hits);
  EXPECT_EQ(values(*s, hits), std::vector<std::string>{"evil.test"});
  hits.clear();
  s->matchDomain("w.x.y.bad.test", hits);
  EXPECT_EQ(values(*s, hits), std::vector<std::string>{"x.y.bad.test"});
  hits.clear();
  s->matchDomain("y.bad.test", hits);  // a child is not its parent
  EXPECT_TRUE(hits.empty());
  hits.clear();
  s->matchDomain("z.deep.a.b.c.d.e.f.g.h.i.j.k.test", hits);
  EXPECT_EQ(values(*s, hits), std::vector<std::string>{"deep.a.b.c.d.e.f.g.h.i.j.k.test"});
  hits.clear();
  s->matchDomain("test", hits);
  EXPECT_TRUE(hits.empty());
}

TEST(IntelSnapshotBatch, NameWithMoreSuffixesThanAGroupProbes) {
  // Listed names of every label count from 2 to 70: a name of 102 labels then has a suffix to
  // probe at every length, more than a pipeline group holds; it is matched on its own.
  SnapshotBuilder b(opts());
  add(b, "evil.test");
  add(b, "x.y.bad.test");
  for (int k = 3; k <= 70; ++k) {
    std::string n = "test";  // m<k>.a.a...a.test: k labels, within the 253 bytes of a name
    for (int j = 2; j < k; ++j) n = "a." + n;
    add(b, "m" + std::to_string(k) + "." + n);
  }
  auto s = b.build();
  std::string many = "evil.test";
  for (int i = 0; i < 100; ++i) many = "l." + many;
  const Snapshot::Value batch[] = {Snapshot::Value::domain("q.evil.test"),
                                   Snapshot::Value::domain(many),
                                   Snapshot::Value::domain("q.x.y.bad.test")};
  std::vector<Snapshot::BatchHit> bh;
  s->matchBatch(batch, 3, bh);
  ASSERT_EQ(bh.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) EXPECT_EQ(bh[i].index, i);
  EXPECT_EQ(s->describe(bh[0].hit).value, "evil.test");
  EXPECT_EQ(s->describe(bh[1].hit).value, "evil.test");
  EXPECT_EQ(s->describe(bh[2].hit).value, "x.y.bad.test");
}

TEST(IntelSnapshotBatch, DomainLabelCountsWithManyLabels) {
  // 63 labels and more share one bit: a listed name of 70 labels is still found, as a parent.
  std::string name = "test";
  for (int i = 0; i < 69; ++i) name = "p." + name;
  ASSERT_EQ(labelCount(name), 70u);
  SnapshotBuilder b(opts());
  add(b, name);
  auto s = b.build();
  std::vector<Hit> hits;
  EXPECT_EQ(s->matchDomain("x." + name, hits), 1u);
  hits.clear();
  EXPECT_EQ(s->matchDomain(name.substr(2), hits), 0u);
}

TEST(IntelSnapshotBatch, SuffixHashesAgreeForShortAndLongNames) {
  // Names of up to 64 bytes find their dots as a bit set and share one pass over their words
  // between their suffixes, longer ones search; both must give for every suffix the hash of the
  // suffix alone (what the builder stores a listed name under), odd names included.
  auto reference = [](std::string_view s) {
    std::vector<std::pair<std::string, uint64_t>> out;
    size_t end = s.size();
    for (int labels = 1;; ++labels) {
      const size_t dot = end == 0 ? std::string_view::npos : s.rfind('.', end - 1);
      const size_t start = dot == std::string_view::npos ? 0 : dot + 1;
      if (labels >= 2) out.emplace_back(std::string(s.substr(start)), hashDomain(s.substr(start)));
      if (dot == std::string_view::npos) return out;
      end = dot;
    }
  };
  std::vector<std::string> names = {
      "", ".", "..", "a", "a.b", ".a.b", "a.b.", "a..b", "www.example.com"};
  std::mt19937_64 rng(3);
  for (size_t len : {3, 7, 8, 9, 11, 15, 16, 17, 23, 24, 25, 60, 63, 64, 65, 66, 120}) {
    std::string n;
    while (n.size() < len) n += (rng() % 4 == 0) ? '.' : static_cast<char>('a' + rng() % 26);
    names.push_back(n);
  }
  std::unordered_map<uint64_t, std::string> by_hash;
  for (const auto& name : names) {
    // Nothing readable after the last byte (the words are read from the end).
    const std::vector<char> exact(name.begin(), name.end());
    const std::string_view n(exact.data(), exact.size());
    std::vector<std::pair<std::string, uint64_t>> got;
    forEachDomainSuffix(
        n, [&](std::string_view sfx, uint64_t h) { got.emplace_back(std::string(sfx), h); });
    EXPECT_EQ(got, reference(n)) << n;
    for (const auto& [sfx, h] : got) {
      // Different suffixes, different hashes (a check that the hash reads every byte).
      auto [it, inserted] = by_hash.emplace(h, sfx);
      EXPECT_EQ(it->second, sfx);
    }
  }
  EXPECT_GT(by_hash.size(), 100u);
}

TEST(IntelSnapshotBatch, DotMaskAtEveryLength) {
  // The vector scan (16 and 8 bytes per compare, overlapping tails) against one byte at a time,
  // for every length it serves, dots anywhere (first, last, adjacent) and names ending where
  // their buffer ends.
  std::mt19937_64 rng(11);
  for (size_t len = 0; len <= 64; ++len) {
    for (int round = 0; round < 50; ++round) {
      std::string n;
      for (size_t i = 0; i < len; ++i) {
        n += (rng() % (round % 5 + 2) == 0) ? '.' : static_cast<char>('a' + rng() % 26);
      }
      const std::vector<char> exact(n.begin(), n.end());  // nothing after the last byte
      uint64_t want = 0;
      for (size_t i = 0; i < len; ++i) want |= uint64_t{n[i] == '.'} << i;
      EXPECT_EQ(dotMask(exact.data(), len), want) << "'" << n << "'";
    }
  }
}

TEST(IntelSnapshotBatch, SameBytesAtEveryLength) {
  // The word-wise key compare against memcmp: equal strings, and strings that differ in one byte
  // at every position, for every length up to beyond two words; buffers end where the strings do.
  std::mt19937_64 rng(17);
  for (size_t len = 0; len <= 40; ++len) {
    std::vector<char> a(len);
    for (auto& c : a) c = static_cast<char>(rng());
    std::vector<char> b = a;
    EXPECT_TRUE(sameBytes(a.data(), b.data(), len)) << len;
    for (size_t i = 0; i < len; ++i) {
      b[i] = static_cast<char>(b[i] ^ (1 << (i % 8)));
      EXPECT_FALSE(sameBytes(a.data(), b.data(), len)) << len << " at " << i;
      EXPECT_NE(std::memcmp(a.data(), b.data(), len), 0);
      b[i] = a[i];
    }
  }
}

TEST(IntelSnapshotBatch, EmptySnapshotAndOtherTypes) {
  auto empty = Snapshot::empty();
  IpAddress ip = *IpAddress::parse("192.0.2.1");
  uint8_t d[32] = {};
  const Snapshot::Value batch[] = {Snapshot::Value::ip(ip), Snapshot::Value::domain("a.test"),
                                   Snapshot::Value::digest(IndicatorType::kSha1, d),
                                   Snapshot::Value{IndicatorType::kCidr4, 0, nullptr, {}}};
  std::vector<Snapshot::BatchHit> hits;
  EXPECT_EQ(empty->matchBatch(batch, 4, hits), 0u);
  EXPECT_TRUE(hits.empty());
}

}  // namespace
}  // namespace riposte::intel

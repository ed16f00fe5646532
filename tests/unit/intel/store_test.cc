#include "riposte/intel/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <random>
#include <set>
#include <thread>

#include "riposte/intel/builder.h"

namespace riposte::intel {
namespace {

const Timestamp kNow = *parseRfc3339("2026-01-10T00:00:00Z");

Indicator ind(std::string_view raw, std::string source, std::optional<uint8_t> confidence = 80) {
  auto v = classify(raw);
  EXPECT_TRUE(v.isOk()) << raw;
  Indicator i;
  i.type = v->type;
  i.value = v->value;
  i.source = std::move(source);
  i.confidence = confidence;
  i.last_seen = kNow;
  return i;
}

BuildOptions opts() {
  BuildOptions o;
  o.now = kNow;
  return o;
}

std::vector<IndicatorMatch> look(const Snapshot& s, std::string_view v) { return s.lookup(v); }

TEST(IntelStore, ExactMatchesPerType) {
  SnapshotBuilder b(opts());
  for (const char* v :
       {"8.8.4.4", "2a00:1450::1", "evil.example.net", "http://evil.example.net/x",
        "d41d8cd98f00b204e9800998ecf8427e", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "bad@evil.example.net"}) {
    b.add(ind(v, "feed"));
  }
  auto s = b.build();
  EXPECT_EQ(s->size(), 8u);
  EXPECT_EQ(look(*s, "8.8.4.4").size(), 1u);
  EXPECT_TRUE(look(*s, "8.8.4.5").empty());
  EXPECT_EQ(look(*s, "2A00:1450:0::1").at(0).value, "2a00:1450::1");
  EXPECT_TRUE(look(*s, "2a00:1450::2").empty());
  EXPECT_EQ(look(*s, "D41D8CD98F00B204E9800998ECF8427E").at(0).type, IndicatorType::kMd5);
  EXPECT_TRUE(look(*s, "d41d8cd98f00b204e9800998ecf8427f").empty());
  EXPECT_EQ(look(*s, "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709").at(0).type, IndicatorType::kSha1);
  EXPECT_EQ(look(*s, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").size(),
            1u);
  // A URL matches itself and its listed host.
  auto url = look(*s, "HTTP://Evil.Example.NET:80/x#top");
  ASSERT_EQ(url.size(), 2u);
  EXPECT_TRUE(look(*s, "http://evil.example.org/x").empty());
  // An e-mail address matches itself and its domain.
  EXPECT_EQ(look(*s, "bad@evil.example.net").size(), 2u);
}

TEST(IntelStore, ParentDomains) {
  SnapshotBuilder b(opts());
  b.add(ind("evil.com", "a"));
  b.add(ind("b.evil.com", "b"));
  b.add(ind("other.org", "a"));
  auto s = b.build();
  std::vector<Hit> hits;
  EXPECT_EQ(s->matchDomain("a.b.evil.com", hits), 2u);
  hits.clear();
  EXPECT_EQ(s->matchDomain("evil.com", hits), 1u);
  hits.clear();
  EXPECT_EQ(s->matchDomain("notevil.com", hits), 0u);
  EXPECT_EQ(s->matchDomain("com", hits), 0u);
  EXPECT_EQ(s->matchDomain("x.other.org", hits), 1u);
  EXPECT_EQ(s->describe(hits.back()).value, "other.org");
}

TEST(IntelStore, CidrsReturnEveryEnclosingRange) {
  SnapshotBuilder b(opts());
  b.add(ind("45.0.0.0/8", "a"));
  b.add(ind("45.10.0.0/16", "a"));
  b.add(ind("45.10.20.0/24", "b"));
  b.add(ind("45.10.20.7", "c"));
  b.add(ind("46.0.0.0/31", "a"));
  b.add(ind("255.255.255.0/24", "a"));
  b.add(ind("2a01:4f8::/32", "a"));
  b.add(ind("2a01:4f8:1::/48", "a"));
  auto s = b.build();
  std::vector<Hit> hits;
  EXPECT_EQ(s->matchIp(*IpAddress::parse("45.10.20.7"), hits), 4u);
  hits.clear();
  EXPECT_EQ(s->matchIp(*IpAddress::parse("45.10.20.8"), hits), 3u);
  hits.clear();
  EXPECT_EQ(s->matchIp(*IpAddress::parse("45.10.21.1"), hits), 2u);
  hits.clear();
  EXPECT_EQ(s->matchIp(*IpAddress::parse("45.255.255.255"), hits), 1u);
  hits.clear();
  EXPECT_EQ(s->matchIp(*IpAddress::parse("44.255.255.255"), hits), 0u);
  EXPECT_EQ(s->matchIp(*IpAddress::parse("46.0.0.1"), hits), 1u);
  hits.clear();
  EXPECT_EQ(s->matchIp(*IpAddress::parse("46.0.0.2"), hits), 0u);
  EXPECT_EQ(s->matchIp(*IpAddress::parse("255.255.255.255"), hits), 1u);
  hits.clear();
  EXPECT_EQ(s->matchIp(*IpAddress::parse("2a01:4f8:1::5"), hits), 2u);
  hits.clear();
  EXPECT_EQ(s->matchIp(*IpAddress::parse("2a01:4f8:2::5"), hits), 1u);
  hits.clear();
  EXPECT_EQ(s->matchIp(*IpAddress::parse("2a01:4f9::5"), hits), 0u);
  // A CIDR value matches the same and enclosing CIDRs, not narrower ones.
  auto m = look(*s, "45.10.0.0/16");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].value, "45.0.0.0/8");
  EXPECT_EQ(m[1].value, "45.10.0.0/16");
}

TEST(IntelStore, CidrIndexAgreesWithLinearScan) {
  // Random nested and adjacent CIDRs against a brute-force check.
  std::mt19937 rng(7);
  SnapshotBuilder b(opts());
  std::vector<Cidr> cidrs;
  for (int i = 0; i < 400; ++i) {
    const uint32_t base = 0x2d000000u | (rng() & 0x00ffffffu);  // inside 45.0.0.0/8
    const int prefix = 8 + static_cast<int>(rng() % 25);
    IpAddress ip;
    ip.bytes = {uint8_t(base >> 24), uint8_t(base >> 16), uint8_t(base >> 8), uint8_t(base)};
    auto c = Cidr::parse(ip.toString() + "/" + std::to_string(prefix));
    ASSERT_TRUE(c);
    cidrs.push_back(*c);
    b.add(ind(c->toString(), "r"));
  }
  auto s = b.build();
  std::vector<Hit> hits;
  for (int i = 0; i < 5000; ++i) {
    const uint32_t a = 0x2c000000u + (rng() % 0x02000000u);
    IpAddress ip;
    ip.bytes = {uint8_t(a >> 24), uint8_t(a >> 16), uint8_t(a >> 8), uint8_t(a)};
    std::set<std::string> expect;
    for (const auto& c : cidrs) {
      if (c.contains(ip)) expect.insert(c.prefix == 32 ? c.base.toString() : c.toString());
    }
    hits.clear();
    s->matchIp(ip, hits);
    std::set<std::string> got;
    for (const auto& h : hits) got.insert(s->describe(h).value);
    ASSERT_EQ(got, expect) << ip.toString();
  }
}

TEST(IntelStore, BatchedLookupsMatchSingleLookups) {
  std::mt19937_64 rng(11);
  BuildOptions o = opts();
  o.apply_known_good = false;
  SnapshotBuilder b(o);
  std::vector<uint32_t> ips;
  std::vector<std::string> names;
  std::vector<std::array<uint8_t, 32>> digests;
  auto hex = [](const std::array<uint8_t, 32>& d) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (uint8_t c : d) {
      s += kHex[c >> 4];
      s += kHex[c & 15];
    }
    return s;
  };
  for (int i = 0; i < 3000; ++i) {
    const auto ip = static_cast<uint32_t>(rng());
    ips.push_back(ip);
    Indicator x;
    x.source = "s";
    x.type = IndicatorType::kIpv4;
    x.value =
        IpAddress{false, {uint8_t(ip >> 24), uint8_t(ip >> 16), uint8_t(ip >> 8), uint8_t(ip)}}
            .toString();
    if (i % 3 == 0) b.add(x);
    if (i % 7 == 0) {
      x.type = IndicatorType::kCidr4;
      x.value = Cidr::parse(x.value + "/" + std::to_string(16 + i % 13))->toString();
      b.add(x);
    }
    names.push_back("h" + std::to_string(i % 50) + ".d" + std::to_string(i) + ".example" +
                    std::to_string(i % 5) + ".net");
    if (i % 4 == 0) {
      x.type = IndicatorType::kDomain;
      x.value = names.back().substr(names.back().find('.') + 1);  // the parent
      b.add(x);
    }
    std::array<uint8_t, 32> d{};
    for (auto& c : d) c = static_cast<uint8_t>(rng());
    digests.push_back(d);
    if (i % 2 == 0) {
      x.type = IndicatorType::kSha256;
      x.value = hex(d);
      b.add(x);
    }
  }
  auto s = b.build();
  auto key = [](uint32_t index, const Hit& h) {
    return std::to_string(index) + ":" + std::to_string(h.entry) + ":" + std::to_string(h.score);
  };
  std::vector<Snapshot::BatchHit> batch;
  std::vector<Hit> single;
  std::vector<std::string> want, got;
  s->matchIpv4Batch(ips.data(), ips.size(), batch);
  for (const auto& bh : batch) got.push_back(key(bh.index, bh.hit));
  for (uint32_t i = 0; i < ips.size(); ++i) {
    single.clear();
    s->matchIpv4(ips[i], single);
    for (const auto& h : single) want.push_back(key(i, h));
  }
  EXPECT_EQ(got, want);
  EXPECT_GT(want.size(), 1000u);

  std::vector<std::string_view> views(names.begin(), names.end());
  batch.clear();
  got.clear();
  want.clear();
  s->matchDomainBatch(views.data(), views.size(), batch);
  for (const auto& bh : batch) got.push_back(key(bh.index, bh.hit));
  for (uint32_t i = 0; i < views.size(); ++i) {
    single.clear();
    s->matchDomain(views[i], single);
    for (const auto& h : single) want.push_back(key(i, h));
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(want.size(), 750u);

  std::vector<const uint8_t*> ptrs;
  for (const auto& d : digests) ptrs.push_back(d.data());
  batch.clear();
  got.clear();
  want.clear();
  s->matchHashBatch(IndicatorType::kSha256, ptrs.data(), ptrs.size(), batch);
  for (const auto& bh : batch) got.push_back(key(bh.index, bh.hit));
  for (uint32_t i = 0; i < ptrs.size(); ++i) {
    single.clear();
    s->matchHash(IndicatorType::kSha256, ptrs[i], single);
    for (const auto& h : single) want.push_back(key(i, h));
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(want.size(), 1500u);
}

TEST(IntelStore, MergesSourcesAndScores) {
  BuildOptions o = opts();
  o.sources["trusted"] = SourcePolicy{1.0, 90};
  o.sources["weak"] = SourcePolicy{0.2, 50};
  SnapshotBuilder b(o);
  Indicator a = ind("evil.example.net", "trusted", 90);
  a.tags = {"c2"};
  a.reference = "pulse-1";
  a.tlp = Tlp::kGreen;
  Indicator w = ind("evil.example.net", "weak", 50);
  Indicator again = ind("evil.example.net", "trusted", 60);
  again.tags = {"botnet"};
  b.add(a);
  b.add(w);
  b.add(again);
  b.add(ind("weak.example.net", "weak", 50));
  auto s = b.build();
  EXPECT_EQ(b.report().merged, 2u);
  auto m = look(*s, "evil.example.net");
  ASSERT_EQ(m.size(), 1u);
  ASSERT_EQ(m[0].sources.size(), 2u);
  const auto& t = m[0].sources[0].source == "trusted" ? m[0].sources[0] : m[0].sources[1];
  EXPECT_EQ(t.confidence, 90);  // highest of the two reports
  EXPECT_EQ(t.tags, (std::vector<std::string>{"botnet", "c2"}));
  EXPECT_EQ(t.reference, "pulse-1");
  EXPECT_EQ(t.tlp, Tlp::kGreen);
  // 1 - (1 - 0.9)(1 - 0.2*0.5) = 0.91
  EXPECT_EQ(m[0].score, 91);
  auto weak = look(*s, "weak.example.net");
  ASSERT_EQ(weak.size(), 1u);
  EXPECT_EQ(weak[0].score, 10);
  auto stats = s->stats();
  EXPECT_EQ(stats.indicators, 2u);
  EXPECT_EQ(stats.per_source.at("weak"), 2u);
  EXPECT_EQ(stats.per_source.at("trusted"), 1u);
  EXPECT_EQ(stats.per_type.at("domain"), 2u);
  EXPECT_GT(stats.memory_bytes, 0u);
}

TEST(IntelStore, AgeDecaysByTypeHalfLife) {
  BuildOptions o = opts();
  o.half_life[static_cast<size_t>(IndicatorType::kIpv4)] = std::chrono::hours(24);
  o.half_life[static_cast<size_t>(IndicatorType::kSha256)] = std::chrono::hours(24 * 100);
  SnapshotBuilder b(o);
  Indicator ip = ind("8.8.4.4", "f", 100);
  ip.last_seen = kNow - std::chrono::hours(48);
  Indicator h = ind("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "f", 100);
  h.last_seen = kNow - std::chrono::hours(48);
  Indicator fresh = ind("8.8.8.8", "f", 100);
  b.add(ip);
  b.add(h);
  b.add(fresh);
  auto s = b.build();
  EXPECT_EQ(look(*s, "8.8.4.4").at(0).score, 25);  // two half-lives
  EXPECT_EQ(look(*s, "8.8.8.8").at(0).score, 100);
  EXPECT_EQ(look(*s, h.value).at(0).score,
            static_cast<int>(std::lround(100 * std::exp2(-2.0 / 100))));
}

TEST(IntelStore, DropsExpiredRevokedAndKnownGood) {
  KnownGoodOptions kgo;
  kgo.domains = {"example.com"};
  BuildOptions o = opts();
  o.known_good = *KnownGood::create(kgo);
  SnapshotBuilder b(o);
  Indicator expired = ind("8.8.4.4", "f");
  expired.valid_until = kNow - std::chrono::seconds(1);
  Indicator live = ind("8.8.8.8", "f");
  live.valid_until = kNow + std::chrono::hours(1);
  Indicator revoked = ind("9.9.9.9", "f");
  revoked.revoked = true;
  Indicator future = ind("1.1.1.1", "f");
  future.valid_from = kNow + std::chrono::hours(1);
  b.add(expired);
  b.add(live);
  b.add(revoked);
  b.add(future);
  b.add(ind("192.168.1.10", "f"));
  b.add(ind("10.0.0.0/8", "f"));
  b.add(ind("203.0.113.9", "f"));
  b.add(ind("www.example.com", "f"));
  Indicator junk;
  junk.type = IndicatorType::kSha256;
  junk.value = "nothex";
  b.add(junk);
  auto s = b.build();
  const auto& r = b.report();
  EXPECT_EQ(r.added, 9u);
  EXPECT_EQ(r.indicators, 1u);
  EXPECT_EQ(r.dropped_expired, 1u);
  EXPECT_EQ(r.dropped_revoked, 1u);
  EXPECT_EQ(r.dropped_not_yet_valid, 1u);
  EXPECT_EQ(r.rejected_known_good, 4u);
  EXPECT_EQ(r.rejected_by_reason.at("private"), 2u);
  EXPECT_EQ(r.rejected_by_reason.at("documentation"), 1u);
  EXPECT_EQ(r.rejected_by_reason.at("configured-domain"), 1u);
  EXPECT_EQ(r.invalid, 1u);
  EXPECT_EQ(s->size(), 1u);
  EXPECT_EQ(s->nextExpiry(), live.valid_until);
  EXPECT_EQ(look(*s, "8.8.8.8").at(0).valid_until, live.valid_until);
  EXPECT_TRUE(look(*s, "8.8.4.4").empty());

  // Documentation ranges are accepted when asked for, or with the filter off.
  BuildOptions off = opts();
  off.apply_known_good = false;
  SnapshotBuilder b2(off);
  b2.add(ind("203.0.113.9", "f"));
  EXPECT_EQ(b2.build()->size(), 1u);
}

TEST(IntelStore, ExportsEveryIndicatorAndSource) {
  SnapshotBuilder b(opts());
  b.add(ind("8.8.4.4", "a"));
  b.add(ind("8.8.4.4", "b"));
  b.add(ind("2a01:4f8::/32", "a"));
  auto s = b.build();
  std::multiset<std::string> seen;
  s->forEachIndicator([&](const Indicator& i) { seen.insert(i.value + "@" + i.source); });
  EXPECT_EQ(seen, (std::multiset<std::string>{"8.8.4.4@a", "8.8.4.4@b", "2a01:4f8::/32@a"}));
}

TEST(IntelStore, FailedReloadKeepsPreviousSnapshot) {
  Store store;
  EXPECT_EQ(store.snapshot()->size(), 0u);
  SnapshotBuilder b(opts());
  b.add(ind("8.8.4.4", "a"));
  store.publish(b.build());
  const uint64_t gen = store.generation();
  Status st = store.reload([]() -> Result<std::shared_ptr<const Snapshot>> {
    return Status::parseError("feed x line 3: garbage");
  });
  EXPECT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("line 3"), std::string::npos);
  EXPECT_EQ(store.generation(), gen);
  EXPECT_EQ(store.snapshot()->size(), 1u);
  EXPECT_EQ(store.snapshot()->lookup("8.8.4.4").size(), 1u);
}

TEST(IntelStore, LookupsContinueDuringReloads) {
  Store store;
  auto make = [](int n) {
    SnapshotBuilder b(opts());
    for (int i = 0; i < n; ++i) {
      Indicator x;
      x.type = IndicatorType::kIpv4;
      x.value = "45.1." + std::to_string(i / 256) + "." + std::to_string(i % 256);
      x.source = "s";
      b.add(x);
    }
    return b.build();
  };
  store.publish(make(1000));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> lookups{0};
  std::atomic<uint64_t> misses{0};
  std::thread reader([&] {
    std::vector<Hit> hits;
    auto snap = store.snapshot();
    uint64_t gen = store.generation();
    while (!stop.load(std::memory_order_relaxed)) {
      if (store.generation() != gen) {
        gen = store.generation();
        snap = store.snapshot();
      }
      hits.clear();
      // 45.1.0.1 is in every snapshot.
      if (snap->matchIpv4(0x2d010001u, hits) != 1) misses.fetch_add(1);
      lookups.fetch_add(1, std::memory_order_relaxed);
    }
  });
  for (int r = 0; r < 20; ++r) {
    ASSERT_TRUE(store
                    .reload([&]() -> Result<std::shared_ptr<const Snapshot>> {
                      return make(1000 + r * 100);
                    })
                    .isOk());
  }
  while (lookups.load() < 1000) std::this_thread::yield();
  stop = true;
  reader.join();
  EXPECT_EQ(misses.load(), 0u);
  EXPECT_EQ(store.snapshot()->size(), 2900u);
  EXPECT_GE(store.generation(), 21u);
}

// A reader that drops the last reference to a replaced snapshot does not free it (that would
// stall a detection thread for tens of milliseconds on a full store): the store's reclaim thread
// does, shortly after. A snapshot no reader holds is freed by the publisher at once.
TEST(IntelStore, ReadersNeverFreeAReplacedSnapshot) {
  auto make = [](const std::string& v) {
    SnapshotBuilder b(opts());
    Indicator x;
    x.type = IndicatorType::kIpv4;
    x.value = v;
    x.source = "s";
    b.add(x);
    return b.build();
  };
  Store store;
  {
    auto unheld = make("45.1.0.1");
    std::weak_ptr<const Snapshot> w = unheld;
    store.publish(std::move(unheld));
    store.publish(make("45.1.0.2"));
    EXPECT_TRUE(w.expired());  // nobody held it: freed by publish()
  }
  auto held = store.snapshot();  // a reader's cached pointer
  std::weak_ptr<const Snapshot> w = held;
  store.publish(make("45.1.0.3"));
  std::thread reader([&] { held = store.snapshot(); });  // the reader moves on
  reader.join();
  EXPECT_FALSE(w.expired());  // not freed by the reader
  EXPECT_EQ(held->size(), 1u);
  const auto t0 = std::chrono::steady_clock::now();
  while (!w.expired() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(w.expired());  // freed by the reclaim thread
  std::vector<Hit> hits;
  EXPECT_EQ(store.snapshot()->matchIpv4(0x2d010003u, hits), 1u);
}

}  // namespace
}  // namespace riposte::intel

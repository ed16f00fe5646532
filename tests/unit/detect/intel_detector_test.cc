#include "riposte/detect/intel_detector.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "riposte/intel/builder.h"

namespace riposte {
namespace {

const Timestamp kNow = *parseRfc3339("2026-01-10T00:00:00Z");

std::shared_ptr<const intel::Snapshot> snapshot() {
  intel::BuildOptions o;
  o.now = kNow;
  o.apply_known_good = false;
  intel::SnapshotBuilder b(o);
  auto add = [&](std::string_view raw, uint8_t confidence) {
    auto v = intel::classify(raw);
    ASSERT_TRUE(v.isOk()) << raw;
    intel::Indicator i;
    i.type = v->type;
    i.value = v->value;
    i.source = "feed";
    i.confidence = confidence;
    i.last_seen = kNow;
    b.add(i);
  };
  add("203.0.113.7", 90);
  add("203.0.113.0/24", 40);
  add("2001:db8::/32", 90);
  add("evil.example", 50);
  add(std::string(64, 'a'), 30);  // sha256
  add(std::string(32, 'b'), 35);  // md5
  return b.build();
}

std::vector<Finding> run(IntelDetector& d, const Event& e) {
  std::vector<Finding> out;
  d.onEvent(e, [&](Finding&& f) { out.push_back(std::move(f)); });
  return out;
}

TEST(IntelDetector, EveryFieldOfAnEventInFieldOrder) {
  IntelDetector d(IntelDetectorConfig{}, snapshot());
  Event e;
  e.setTimestamp(kNow);
  e.set(Field::kSourceIp, "198.51.100.9");
  e.set(Field::kDestinationIp, "203.0.113.7");
  e.set(Field::kDnsQuestion, "cdn.evil.example");
  e.set(Field::kTlsSni, "good.example");
  const std::string sha256(64, 'A');  // upper case hex is the same digest
  const std::string md5(32, 'b');
  e.set(Field::kFileHashSha256, sha256);  // the event holds views
  e.set(Field::kFileHashMd5, md5);
  const auto f = run(d, e);
  ASSERT_EQ(f.size(), 5u);
  // destination.ip: the address, then its CIDR; the address is the target and may be blocked.
  EXPECT_NE(f[0].reason.find("destination.ip 203.0.113.7 matches ipv4 indicator 203.0.113.7"),
            std::string::npos)
      << f[0].reason;
  EXPECT_EQ(f[0].entity.value, "203.0.113.7");
  EXPECT_EQ(f[0].suggested_action, "block");
  EXPECT_NE(f[1].reason.find("203.0.113.0/24"), std::string::npos) << f[1].reason;
  EXPECT_EQ(f[1].suggested_action, "alert");  // score 40 < 70
  // The domain's listed parent, then the hashes (md5 before sha256: field order); the source
  // host is the target, alert only.
  EXPECT_NE(f[2].reason.find("cdn.evil.example matches domain indicator evil.example"),
            std::string::npos)
      << f[2].reason;
  EXPECT_NE(f[3].reason.find("md5"), std::string::npos) << f[3].reason;
  EXPECT_NE(f[4].reason.find("sha256"), std::string::npos) << f[4].reason;
  for (size_t i = 2; i < 5; ++i) {
    EXPECT_EQ(f[i].entity.value, "198.51.100.9");
    EXPECT_EQ(f[i].suggested_action, "alert");
  }
  // The same event again within repeat_after: nothing new.
  EXPECT_TRUE(run(d, e).empty());
}

TEST(IntelDetector, Ipv6SourceAndValuesThatAreNotValues) {
  IntelDetector d(IntelDetectorConfig{}, snapshot());
  Event e;
  e.setTimestamp(kNow);
  e.set(Field::kSourceIp, "2001:db8::1");
  e.set(Field::kDestinationIp, "not an address");
  e.set(Field::kFileHashSha256, "zz");  // not a digest: skipped
  const auto f = run(d, e);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].entity.value, "2001:db8::1");
  EXPECT_EQ(f[0].suggested_action, "block");
  EXPECT_NE(f[0].reason.find("2001:db8::/32"), std::string::npos) << f[0].reason;
  Event none;
  none.setTimestamp(kNow);
  EXPECT_TRUE(run(d, none).empty());
}

}  // namespace
}  // namespace riposte

#include "riposte/ml/feature_extractor.h"

#include <gtest/gtest.h>

#include <string>

namespace riposte::ml {
namespace {

float feat(const EntityFeatureExtractor::View* v, EntityFeature f) {
  return v->features[static_cast<size_t>(f)];
}

Event authEvent(std::string_view ip, std::string_view user, bool failed, int64_t t_s) {
  Event e;
  e.setKind(EventKind::kAuth);
  e.setTimestamp(Timestamp::fromSeconds(t_s));
  e.set(Field::kSourceIp, ip);
  e.set(Field::kUserName, user);
  e.set(Field::kEventOutcome, failed ? "failure" : "success");
  return e;
}

TEST(FeatureExtractor, KeyedByUserCountsTheSourcesTheUserCameFrom) {
  ExtractorConfig c;
  c.key = Field::kUserName;
  EntityFeatureExtractor x(c);
  const EntityFeatureExtractor::View* v = nullptr;
  // One account tried from five addresses, two of them twice.
  const char* ips[] = {"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.1",
                       "203.0.113.4", "203.0.113.5", "203.0.113.2"};
  for (int i = 0; i < 7; ++i) v = x.observe(authEvent(ips[i], "admin", true, 1000 + i));
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->entity, "admin");
  EXPECT_EQ(v->events, 7u);
  EXPECT_EQ(feat(v, EntityFeature::kAuthFailures), 7);
  EXPECT_EQ(feat(v, EntityFeature::kDistinctUsers), 5);  // distinct_sources
  EXPECT_FLOAT_EQ(feat(v, EntityFeature::kNewValueShare), 5.0f / 7.0f);
  // Events without a user name are not an entity's.
  Event no_user;
  no_user.setKind(EventKind::kSsh);
  no_user.set(Field::kSourceIp, "203.0.113.9");
  EXPECT_EQ(x.observe(no_user), nullptr);
  EXPECT_EQ(x.entities(), 1u);
  EXPECT_EQ(entityWindowSchema("user.name").features[3], "distinct_sources");
  EXPECT_EQ(entityWindowSchema("source.ip").features[3], "distinct_users");
}

TEST(FeatureExtractor, AuthFeatures) {
  EntityFeatureExtractor x({});
  const char* users[] = {"root", "admin", "root", "oracle"};
  const EntityFeatureExtractor::View* v = nullptr;
  for (int i = 0; i < 4; ++i) v = x.observe(authEvent("10.0.0.1", users[i], i != 3, 1000 + 2 * i));
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->entity, "10.0.0.1");
  EXPECT_EQ(v->events, 4u);
  EXPECT_EQ(feat(v, EntityFeature::kAuthFailures), 3);
  EXPECT_FLOAT_EQ(feat(v, EntityFeature::kAuthFailureRatio), 0.75f);
  EXPECT_EQ(feat(v, EntityFeature::kDistinctUsers), 3);
  // 4 events over 6 s: the rate uses at least one minute.
  EXPECT_FLOAT_EQ(feat(v, EntityFeature::kEventRate), 4.0f);
  // Gaps of exactly 2 s: mean 2, no variation.
  EXPECT_FLOAT_EQ(feat(v, EntityFeature::kInterArrivalMean), 2.0f);
  EXPECT_FLOAT_EQ(feat(v, EntityFeature::kInterArrivalCv), 0.0f);
  // root, admin, oracle were new; the second root was not.
  EXPECT_FLOAT_EQ(feat(v, EntityFeature::kNewValueShare), 0.75f);

  // Another entity trying the same names sees nothing new.
  const EntityFeatureExtractor::View* w = x.observe(authEvent("10.0.0.2", "root", true, 1010));
  EXPECT_EQ(w->entity, "10.0.0.2");
  EXPECT_FLOAT_EQ(feat(w, EntityFeature::kNewValueShare), 0.0f);
  EXPECT_EQ(x.entities(), 2u);

  Event no_key;
  no_key.setKind(EventKind::kAuth);
  EXPECT_EQ(x.observe(no_key), nullptr);
}

TEST(FeatureExtractor, HttpFeaturesAndIrregularGaps) {
  EntityFeatureExtractor x({});
  const char* paths[] = {"/", "/a", "/b", "/a", "/admin"};
  const char* statuses[] = {"200", "404", "404", "500", "403"};
  const int64_t times[] = {0, 1, 2, 10, 30};
  const EntityFeatureExtractor::View* v = nullptr;
  for (int i = 0; i < 5; ++i) {
    Event e;
    e.setKind(EventKind::kHttp);
    e.setTimestamp(Timestamp::fromSeconds(5000 + times[i]));
    e.set(Field::kSourceIp, "192.0.2.7");
    e.set(Field::kUrlPath, paths[i]);
    e.set(Field::kHttpStatus, statuses[i]);
    e.set(Field::kHttpBytes, "100");
    e.set(Field::kUserAgent, i < 3 ? "curl" : "sqlmap");
    e.set(Field::kDestinationPort, "443");
    v = x.observe(e);
  }
  EXPECT_EQ(feat(v, EntityFeature::kDistinctPaths), 4);
  EXPECT_FLOAT_EQ(feat(v, EntityFeature::kHttp4xxRatio), 0.6f);
  EXPECT_FLOAT_EQ(feat(v, EntityFeature::kHttp5xxRatio), 0.2f);
  EXPECT_EQ(feat(v, EntityFeature::kBytes), 500);
  EXPECT_EQ(feat(v, EntityFeature::kDistinctUserAgents), 2);
  EXPECT_EQ(feat(v, EntityFeature::kDistinctDestPorts), 1);
  EXPECT_EQ(feat(v, EntityFeature::kAuthFailures), 0);
  // Gaps 1, 1, 8, 20: mean 7.5, sample stddev ≈ 8.96.
  EXPECT_FLOAT_EQ(feat(v, EntityFeature::kInterArrivalMean), 7.5f);
  EXPECT_NEAR(feat(v, EntityFeature::kInterArrivalCv), 8.9629 / 7.5, 1e-3);
}

TEST(FeatureExtractor, WindowsCloseAndAreRecorded) {
  ExtractorConfig c;
  c.window = std::chrono::seconds(60);
  c.record = true;
  c.record_min_events = 2;
  EntityFeatureExtractor x(c);
  for (int i = 0; i < 5; ++i) x.observe(authEvent("10.0.0.1", "root", true, 100 + i));
  x.observe(authEvent("10.0.0.9", "root", true, 100));  // one event: not recorded
  // Past the window: the first window closes, a new one starts with this event.
  const auto* v = x.observe(authEvent("10.0.0.1", "root", true, 200));
  EXPECT_EQ(v->events, 1u);
  auto closed = x.takeClosed();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].entity, "10.0.0.1");
  EXPECT_EQ(closed[0].events, 5u);
  EXPECT_EQ(closed[0].window_end, Timestamp::fromSeconds(104));
  ASSERT_EQ(closed[0].values.size(), kEntityFeatureCount);
  EXPECT_EQ(closed[0].values[static_cast<size_t>(EntityFeature::kAuthFailures)], 5);
  EXPECT_TRUE(x.takeClosed().empty());
  // Idle entities expire (10.0.0.9 last seen at 100).
  x.expire(Timestamp::fromSeconds(230));
  EXPECT_EQ(x.entities(), 1u);
  x.expire(Timestamp::fromSeconds(400));
  EXPECT_EQ(x.entities(), 0u);
}

TEST(FeatureExtractor, BoundedMemory) {
  ExtractorConfig c;
  c.max_entities = 100;
  EntityFeatureExtractor x(c);
  std::vector<std::string> ips;
  for (int i = 0; i < 1000; ++i)
    ips.push_back("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  for (int i = 0; i < 1000; ++i) x.observe(authEvent(ips[i], "u", false, 1000 + i));
  EXPECT_LE(x.entities(), 100u);
  EXPECT_GE(x.evicted(), 900u);
  // Distinct counts saturate.
  std::vector<std::string> users;
  for (int i = 0; i < 500; ++i) users.push_back("user" + std::to_string(i));
  const EntityFeatureExtractor::View* v = nullptr;
  for (int i = 0; i < 500; ++i) v = x.observe(authEvent("10.9.9.9", users[i], true, 5000));
  EXPECT_EQ(feat(v, EntityFeature::kDistinctUsers),
            static_cast<float>(EntityFeatureExtractor::kDistinctCap));
}

TEST(FeatureExtractor, UserAsEntity) {
  ExtractorConfig c;
  c.key = Field::kUserName;
  EntityFeatureExtractor x(c);
  x.observe(authEvent("10.0.0.1", "alice", true, 10));
  const auto* v = x.observe(authEvent("10.0.0.2", "alice", true, 11));
  EXPECT_EQ(v->entity, "alice");
  EXPECT_EQ(v->events, 2u);
}

}  // namespace
}  // namespace riposte::ml

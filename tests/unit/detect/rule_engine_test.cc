#include "riposte/detect/rules/rule_engine.h"

#include <gtest/gtest.h>

#include <deque>

#include "riposte/detect/rules/rule_loader.h"

namespace riposte::rules {
namespace {

class RuleEngineTest : public ::testing::Test {
 protected:
  void load(const std::string& yaml) {
    auto r = loadRuleText(yaml, "t.yaml");
    ASSERT_FALSE(r.hasErrors()) << r.toJson();
    engine_ = std::make_unique<RuleEngine>("rules", std::move(r.rules));
  }

  // Feeds one auth event; returns the number of findings so far.
  size_t feed(int64_t t, const std::string& ip, const std::string& user = "root",
              const char* outcome = "failure", EventKind kind = EventKind::kAuth) {
    keep_.push_back(ip);
    const std::string& ipv = keep_.back();
    keep_.push_back(user);
    const std::string& uv = keep_.back();
    Event e;
    e.setKind(kind);
    e.setTimestamp(Timestamp::fromSeconds(t));
    e.set(Field::kSourceIp, ipv);
    e.set(Field::kUserName, uv);
    e.set(Field::kEventOutcome, outcome);
    e.setRaw(uv);
    engine_->onEvent(e, [this](Finding&& f) { findings_.push_back(std::move(f)); });
    return findings_.size();
  }

  std::unique_ptr<RuleEngine> engine_;
  std::deque<std::string> keep_;
  std::vector<Finding> findings_;
};

TEST_F(RuleEngineTest, LeakyBucketOverflowsOnCapacityPlusOneWithinTheLeak) {
  load(
      "rules:\n  - id: bf\n    kinds: [auth]\n    match: {event.outcome: failure}\n"
      "    aggregate: {type: leaky, capacity: 5, leak: 10s, blackhole: 1m}\n"
      "    reason: '{count} failures from {source.ip} ({rule})'\n");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(feed(1000 + i, "198.51.100.1"), 0u);
  EXPECT_EQ(feed(1005, "198.51.100.1"), 1u);
  EXPECT_EQ(findings_[0].reason, "6 failures from 198.51.100.1 (bf)");
  EXPECT_EQ(findings_[0].event_count, 6u);
  EXPECT_EQ(findings_[0].first_seen.seconds(), 1000);
  // Blackhole: the same source is ignored for a minute, then counted afresh.
  for (int i = 0; i < 10; ++i) feed(1010 + i, "198.51.100.1");
  EXPECT_EQ(findings_.size(), 1u);
  for (int i = 0; i < 6; ++i) feed(1070 + i, "198.51.100.1");
  EXPECT_EQ(findings_.size(), 2u);
}

TEST_F(RuleEngineTest, LeakyBucketDrainsForSlowSources) {
  load(
      "rules:\n  - id: bf\n    kinds: [auth]\n    match: {event.outcome: failure}\n"
      "    aggregate: {type: leaky, capacity: 5, leak: 10s}\n");
  for (int i = 0; i < 50; ++i) feed(1000 + i * 10, "198.51.100.2");  // one per leak period
  EXPECT_TRUE(findings_.empty());
}

TEST_F(RuleEngineTest, DistinctCountsOnlyNewValues) {
  load(
      "rules:\n  - id: enum\n    kinds: [auth]\n    match: {event.outcome: failure}\n"
      "    aggregate: {type: distinct, distinct: user.name, threshold: 3, window: 1m}\n");
  for (int i = 0; i < 10; ++i) feed(1000 + i, "198.51.100.3", "root");
  EXPECT_TRUE(findings_.empty());
  feed(1011, "198.51.100.3", "admin");
  EXPECT_TRUE(findings_.empty());
  feed(1012, "198.51.100.3", "oracle");
  ASSERT_EQ(findings_.size(), 1u);
  EXPECT_EQ(findings_[0].detector, "enum");
}

TEST_F(RuleEngineTest, KindsIndexAndSelectionFilter) {
  load(
      "rules:\n  - id: t\n    kinds: [auth]\n    match: {event.outcome: failure, user.name: "
      "{not_in: [svc]}}\n"
      "    aggregate: {type: trigger}\n");
  feed(1, "198.51.100.4", "svc");
  feed(2, "198.51.100.4", "root", "success");
  feed(3, "198.51.100.4", "root", "failure", EventKind::kHttp);
  EXPECT_TRUE(findings_.empty());
  feed(4, "198.51.100.4", "root");
  EXPECT_EQ(findings_.size(), 1u);
  EXPECT_EQ(engine_->stats(0).matches, 1u);
}

TEST_F(RuleEngineTest, ShadowAndDisabledModes) {
  load(
      "rules:\n  - id: s\n    mode: shadow\n    kinds: [auth]\n    match: {event.outcome: "
      "failure}\n"
      "    aggregate: {type: trigger}\n"
      "  - id: d\n    mode: disabled\n    kinds: [auth]\n    match: {event.outcome: failure}\n"
      "    aggregate: {type: trigger}\n");
  feed(1, "198.51.100.5");
  ASSERT_EQ(findings_.size(), 1u);
  EXPECT_EQ(findings_[0].detector, "s");
  EXPECT_TRUE(findings_[0].shadow);
}

TEST_F(RuleEngineTest, Ipv6RangeKeyGroupsBySlash64) {
  load(
      "rules:\n  - id: v6\n    kinds: [auth]\n    match: {event.outcome: failure}\n"
      "    aggregate: {type: count, threshold: 3, window: 1m, ipv6_prefix: 64}\n");
  feed(1, "2001:db8:1:2::1");
  feed(2, "2001:db8:1:2::ab");
  feed(3, "2001:db8:1:2:ffff::9");
  ASSERT_EQ(findings_.size(), 1u);
  EXPECT_EQ(findings_[0].entity.type, TargetType::kCidr);
  EXPECT_EQ(findings_[0].entity.value, "2001:db8:1:2::/64");
}

TEST_F(RuleEngineTest, OperatorsOnFields) {
  load(R"(rules:
  - id: ops
    kinds: [http]
    match:
      all:
        - source.ip: {cidr: [203.0.113.0/24], not_cidr: [203.0.113.128/25]}
        - http.response.status_code: {gte: 400}
        - url.path: {regex: '(?i)\.(env|git)$'}
        - any:
            - user_agent.original: {startswith: curl}
            - user_agent.original: {endswith: bot, nocase: true}
        - url.query: {exists: false}
    aggregate: {type: trigger}
)");
  Event e;
  e.setKind(EventKind::kHttp);
  e.setTimestamp(Timestamp::fromSeconds(1));
  e.set(Field::kSourceIp, "203.0.113.7");
  e.set(Field::kHttpStatus, "404");
  e.set(Field::kUrlPath, "/app/.ENV");
  e.set(Field::kUserAgent, "EvilBOT");
  auto sink = [this](Finding&& f) { findings_.push_back(std::move(f)); };
  engine_->onEvent(e, sink);
  EXPECT_EQ(findings_.size(), 1u);
  e.set(Field::kSourceIp, "203.0.113.200");  // in the excluded half
  engine_->onEvent(e, sink);
  e.set(Field::kSourceIp, "203.0.113.8");
  e.set(Field::kUrlQuery, "a=1");  // exists: false fails
  engine_->onEvent(e, sink);
  e.set(Field::kUrlQuery, {});
  e.set(Field::kHttpStatus, "200");
  engine_->onEvent(e, sink);
  EXPECT_EQ(findings_.size(), 1u);
}

}  // namespace
}  // namespace riposte::rules

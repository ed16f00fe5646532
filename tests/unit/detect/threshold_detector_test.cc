#include "riposte/detect/threshold_detector.h"

#include <gtest/gtest.h>

#include <deque>

namespace riposte {
namespace {

class ThresholdTest : public ::testing::Test {
 protected:
  ThresholdTest() {
    cfg_.name = "bf";
    cfg_.filter.allowKind(EventKind::kAuth);
    cfg_.filter.setOutcome("failure");
    cfg_.threshold = 5;
    cfg_.window = std::chrono::seconds(60);
  }

  void feed(ThresholdDetector& d, const std::string& ip, int64_t t, const char* outcome = "failure",
            uint32_t repeat = 1, EventKind kind = EventKind::kAuth) {
    store_.push_back(ip);
    Event e;
    e.setKind(kind);
    e.set(Field::kSourceIp, store_.back());
    e.set(Field::kEventOutcome, outcome);
    e.setTimestamp(Timestamp::fromSeconds(t));
    e.setRepeat(repeat);
    store_.push_back("raw " + std::to_string(t));
    e.setRaw(store_.back());
    d.onEvent(e, [this](Finding&& f) { findings_.push_back(std::move(f)); });
  }

  ThresholdConfig cfg_;
  std::deque<std::string> store_;
  std::vector<Finding> findings_;
};

TEST_F(ThresholdTest, FiresAtThresholdWithinWindow) {
  ThresholdDetector d(cfg_);
  for (int i = 0; i < 4; ++i) feed(d, "198.51.100.1", 1000 + i);
  EXPECT_TRUE(findings_.empty());
  feed(d, "198.51.100.1", 1010);
  ASSERT_EQ(findings_.size(), 1u);
  const Finding& f = findings_[0];
  EXPECT_EQ(f.entity.value, "198.51.100.1");
  EXPECT_EQ(f.detector, "bf");
  EXPECT_EQ(f.event_count, 5u);
  EXPECT_EQ(f.first_seen.seconds(), 1000);
  EXPECT_EQ(f.last_seen.seconds(), 1010);
  EXPECT_EQ(f.evidence.size(), 5u);
  EXPECT_FALSE(f.id.empty());
  EXPECT_EQ(d.trackedKeys(), 0u);  // state restarts after a finding
}

TEST_F(ThresholdTest, EventsSpreadBeyondTheWindowDoNotFire) {
  ThresholdDetector d(cfg_);
  for (int i = 0; i < 20; ++i) feed(d, "198.51.100.2", 1000 + i * 16);  // 4 per 60 s at most
  EXPECT_TRUE(findings_.empty());
}

TEST_F(ThresholdTest, KeysAreIndependentAndFiltersApply) {
  ThresholdDetector d(cfg_);
  for (int i = 0; i < 4; ++i) {
    feed(d, "198.51.100.3", 1000 + i);
    feed(d, "198.51.100.4", 1000 + i);
    feed(d, "198.51.100.3", 1000 + i, "success");
    feed(d, "198.51.100.3", 1000 + i, "failure", 1, EventKind::kHttp);
  }
  EXPECT_TRUE(findings_.empty());
  feed(d, "198.51.100.4", 1005);
  ASSERT_EQ(findings_.size(), 1u);
  EXPECT_EQ(findings_[0].entity.value, "198.51.100.4");
}

TEST_F(ThresholdTest, RepeatedMessagesCountManyTimes) {
  ThresholdDetector d(cfg_);
  feed(d, "198.51.100.5", 1000, "failure", 5);
  ASSERT_EQ(findings_.size(), 1u);
  EXPECT_EQ(findings_[0].event_count, 5u);
}

TEST_F(ThresholdTest, ExpireDropsIdleKeys) {
  ThresholdDetector d(cfg_);
  feed(d, "198.51.100.6", 1000);
  feed(d, "198.51.100.7", 1100);
  EXPECT_EQ(d.trackedKeys(), 2u);
  d.expire(Timestamp::fromSeconds(1120));
  EXPECT_EQ(d.trackedKeys(), 1u);
}

TEST_F(ThresholdTest, EvidenceIsBounded) {
  cfg_.threshold = 100;
  cfg_.max_evidence = 7;
  ThresholdDetector d(cfg_);
  for (int i = 0; i < 100; ++i) feed(d, "198.51.100.8", 1000);
  ASSERT_EQ(findings_.size(), 1u);
  EXPECT_EQ(findings_[0].evidence.size(), 7u);
  EXPECT_EQ(findings_[0].event_count, 100u);
}

}  // namespace
}  // namespace riposte

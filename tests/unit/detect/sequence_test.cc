// Sequences (Riposte `sequence:`) and Sigma correlation rules compiled onto the aggregations.
#include <gtest/gtest.h>

#include <deque>

#include "riposte/detect/rules/rule_engine.h"
#include "riposte/detect/rules/rule_loader.h"
#include "riposte/detect/rules/sigma.h"

namespace riposte::rules {
namespace {

class SequenceTest : public ::testing::Test {
 protected:
  void load(const std::string& text) {
    auto r = loadRuleText(text, "t.yaml");
    ASSERT_FALSE(r.hasErrors()) << r.toJson();
    loaded_ = r;
    engine_ = std::make_unique<RuleEngine>("rules", std::move(r.rules));
  }

  // One sshd-like auth event.
  size_t feed(int64_t t, const std::string& ip, const char* action,
              const std::string& user = "root") {
    keep_.push_back(ip);
    const std::string& ipv = keep_.back();
    keep_.push_back(user);
    const std::string& uv = keep_.back();
    Event e;
    e.setKind(EventKind::kAuth);
    e.setTimestamp(Timestamp::fromSeconds(t));
    e.set(Field::kSourceIp, ipv);
    e.set(Field::kUserName, uv);
    e.set(Field::kEventAction, action);
    e.set(Field::kEventDataset, "sshd");
    e.setRaw(action);
    engine_->onEvent(e, [this](Finding&& f) { findings_.push_back(std::move(f)); });
    return findings_.size();
  }

  LoadResult loaded_;
  std::unique_ptr<RuleEngine> engine_;
  std::deque<std::string> keep_;
  std::vector<Finding> findings_;
};

const char* kFailThenSuccess =
    "rules:\n"
    "  - id: bf-then-success\n"
    "    kinds: [auth]\n"
    "    sequence:\n"
    "      window: 10m\n"
    "      steps:\n"
    "        - {name: failures, match: {event.action: auth_failed}, count: 3, within: 1m}\n"
    "        - {name: success, match: {event.action: auth_success}}\n"
    "    aggregate: {key: source.ip, blackhole: 1h}\n"
    "    severity: 8\n"
    "    reason: 'login after failures from {source.ip} ({count} events)'\n";

TEST_F(SequenceTest, OrderedStepsFromTheSameKeyWithinTheWindow) {
  load(kFailThenSuccess);
  const Rule& r = engine_->ruleSet().rules()[0];
  EXPECT_EQ(r.aggregation.type, AggregationType::kSequence);
  ASSERT_EQ(r.aggregation.steps.size(), 2u);
  EXPECT_EQ(r.aggregation.steps[0].count, 3u);
  // A success before the failures does not count; three failures then a success do.
  feed(1000, "198.51.100.1", "auth_success");
  for (int i = 0; i < 3; ++i) feed(1001 + i, "198.51.100.1", "auth_failed");
  EXPECT_EQ(findings_.size(), 0u);
  feed(1100, "198.51.100.2", "auth_success");  // another key
  EXPECT_EQ(findings_.size(), 0u);
  feed(1200, "198.51.100.1", "auth_success");
  ASSERT_EQ(findings_.size(), 1u);
  EXPECT_EQ(findings_[0].detector, "bf-then-success");
  EXPECT_EQ(findings_[0].entity.value, "198.51.100.1");
  EXPECT_EQ(findings_[0].severity, 8);
  EXPECT_EQ(findings_[0].first_seen.seconds(), 1000);
  EXPECT_EQ(findings_[0].reason, "login after failures from 198.51.100.1 (5 events)");
  // Blackhole: the key is quiet for an hour.
  for (int i = 0; i < 3; ++i) feed(1300 + i, "198.51.100.1", "auth_failed");
  feed(1310, "198.51.100.1", "auth_success");
  EXPECT_EQ(findings_.size(), 1u);
}

TEST_F(SequenceTest, StepCountNeedsItsEventsWithinItsOwnWindow) {
  load(kFailThenSuccess);
  for (int i = 0; i < 3; ++i) feed(1000 + i * 40, "198.51.100.3", "auth_failed");  // 80 s apart
  feed(1100, "198.51.100.3", "auth_success");
  EXPECT_EQ(findings_.size(), 0u);
}

TEST_F(SequenceTest, TheWholeSequenceMustFitTheWindow) {
  load(kFailThenSuccess);
  for (int i = 0; i < 3; ++i) feed(1000 + i, "198.51.100.4", "auth_failed");
  feed(1000 + 11 * 60, "198.51.100.4", "auth_success");  // 11 minutes later
  EXPECT_EQ(findings_.size(), 0u);
  for (int i = 0; i < 3; ++i) feed(2000 + i, "198.51.100.4", "auth_failed");
  feed(2000 + 9 * 60, "198.51.100.4", "auth_success");
  EXPECT_EQ(findings_.size(), 1u);
}

TEST_F(SequenceTest, UnorderedNeedsEveryStepInAnyOrder) {
  load(
      "rules:\n  - id: recon\n    kinds: [auth]\n    sequence:\n      window: 5m\n"
      "      ordered: false\n      steps:\n"
      "        - match: {event.action: invalid_user}\n"
      "        - match: {event.action: kex_failed}\n"
      "        - match: {event.action: auth_failed}\n");
  feed(1000, "198.51.100.5", "auth_failed");
  feed(1010, "198.51.100.5", "invalid_user");
  EXPECT_EQ(findings_.size(), 0u);
  feed(1020, "198.51.100.5", "kex_failed");
  EXPECT_EQ(findings_.size(), 1u);
  // Out of the window: the first step is too old by the time the others arrive.
  feed(2000, "198.51.100.6", "auth_failed");
  feed(2400, "198.51.100.6", "invalid_user");
  feed(2410, "198.51.100.6", "kex_failed");
  EXPECT_EQ(findings_.size(), 1u);
}

TEST_F(SequenceTest, UnorderedThresholdTakesSomeOfTheSteps) {
  load(
      "rules:\n  - id: two-of-three\n    kinds: [auth]\n    sequence:\n      window: 5m\n"
      "      ordered: false\n      threshold: 2\n      steps:\n"
      "        - match: {event.action: invalid_user}\n"
      "        - match: {event.action: kex_failed}\n"
      "        - match: {event.action: auth_failed}\n");
  feed(1000, "198.51.100.7", "auth_failed");
  feed(1001, "198.51.100.7", "auth_failed");
  EXPECT_EQ(findings_.size(), 0u);
  feed(1002, "198.51.100.7", "kex_failed");
  EXPECT_EQ(findings_.size(), 1u);
}

TEST_F(SequenceTest, SequenceErrorsHaveCodes) {
  struct Case {
    const char* yaml;
    const char* code;
  } cases[] = {
      {"rules:\n  - id: s\n    kinds: [auth]\n    sequence: {steps: [{match: {event.action: "
       "a}}]}\n",
       "R009"},  // no window
      {"rules:\n  - id: s\n    kinds: [auth]\n    sequence: {window: 1m, steps: []}\n", "R009"},
      {"rules:\n  - id: s\n    kinds: [auth]\n    sequence: {window: 1m, stepz: []}\n", "R001"},
      {"rules:\n  - id: s\n    kinds: [auth]\n    sequence: {window: 1m, steps: [{match: "
       "{event.action: a}, "
       "cnt: 2}]}\n",
       "R001"},
      {"rules:\n  - id: s\n    kinds: [auth]\n    sequence: {window: 1m, steps: [{match: "
       "{event.action: a}}]}\n"
       "    aggregate: {type: count, window: 1m}\n",
       "R005"},
  };
  for (const auto& c : cases) {
    auto r = loadRuleText(c.yaml, "t.yaml");
    ASSERT_TRUE(r.hasErrors()) << c.yaml;
    EXPECT_EQ(r.diagnostics[0].code, c.code) << r.toJson();
  }
}

// ---- Sigma correlations ----

const char* kSigmaBase =
    "title: Failed SSH login\n"
    "id: failed-ssh\n"
    "name: failed_login\n"
    "logsource: {product: linux, service: sshd}\n"
    "detection:\n"
    "  selection: {event.action: auth_failed}\n"
    "  condition: selection\n"
    "---\n"
    "title: Successful SSH login\n"
    "id: ok-ssh\n"
    "name: successful_login\n"
    "logsource: {product: linux, service: sshd}\n"
    "detection:\n"
    "  selection: {event.action: auth_success}\n"
    "  condition: selection\n";

TEST_F(SequenceTest, SigmaEventCountBecomesACountAggregation) {
  load(std::string(kSigmaBase) +
       "---\ntitle: Many failures\nid: many\ncorrelation:\n  type: event_count\n"
       "  rules: [failed_login]\n  group-by: [source.ip]\n  timespan: 1m\n"
       "  condition: {gte: 5}\nlevel: high\n");
  // The referenced rule is part of the correlation, not a rule of its own; ok-ssh (not
  // referenced) stays.
  ASSERT_EQ(engine_->ruleSet().rules().size(), 2u) << loaded_.toJson();
  EXPECT_EQ(loaded_.sigma.referenced_only, 1u);
  EXPECT_EQ(engine_->ruleSet().rules()[0].id, "ok-ssh");
  const Rule& r = engine_->ruleSet().rules()[1];
  EXPECT_EQ(r.id, "many");
  EXPECT_EQ(r.aggregation.type, AggregationType::kCount);
  EXPECT_EQ(r.aggregation.threshold, 5u);
  for (int i = 0; i < 4; ++i) feed(1000 + i, "198.51.100.10", "auth_failed");
  EXPECT_EQ(findings_.size(), 0u);
  feed(1100, "198.51.100.10", "auth_failed");  // the window slid: 2 in the last minute
  EXPECT_EQ(findings_.size(), 0u);
  for (int i = 0; i < 3; ++i) feed(1101 + i, "198.51.100.10", "auth_failed");
  EXPECT_EQ(findings_.size(), 0u);
  feed(1104, "198.51.100.10", "auth_failed");
  ASSERT_EQ(findings_.size(), 1u);
  EXPECT_EQ(findings_[0].severity, 7);
}

TEST_F(SequenceTest, SigmaOkSshStaysAStandaloneRuleWhenNotReferenced) {
  auto r =
      loadRuleText(std::string(kSigmaBase) +
                       "---\ntitle: Many failures\nid: many\ncorrelation:\n"
                       "  type: event_count\n  rules: [failed_login]\n  group-by: [source.ip]\n"
                       "  timespan: 1m\n  condition: {gt: 4}\n",
                   "t.yml");
  ASSERT_FALSE(r.hasErrors()) << r.toJson();
  std::vector<std::string> ids;
  for (const auto& x : r.rules) ids.push_back(x.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"ok-ssh", "many"}));
  EXPECT_EQ(r.rules[1].aggregation.threshold, 5u);  // gt 4
}

TEST_F(SequenceTest, SigmaValueCountBecomesDistinct) {
  load(std::string(kSigmaBase) +
       "---\ntitle: Many users\nid: users\ncorrelation:\n  type: value_count\n"
       "  rules: failed_login\n  group-by: source.ip\n  timespan: 10m\n"
       "  condition: {field: user.name, gte: 3}\n");
  const Rule& r = engine_->ruleSet().rules().back();
  EXPECT_EQ(r.aggregation.type, AggregationType::kDistinct);
  ASSERT_TRUE(r.aggregation.distinct.has_value());
  EXPECT_EQ(r.aggregation.distinct->name, "user.name");
  for (int i = 0; i < 5; ++i) feed(1000 + i, "198.51.100.11", "auth_failed", "root");
  feed(1010, "198.51.100.11", "auth_failed", "admin");
  EXPECT_EQ(findings_.size(), 0u);
  feed(1011, "198.51.100.11", "auth_failed", "oracle");
  EXPECT_EQ(findings_.size(), 1u);
}

TEST_F(SequenceTest, SigmaTemporalOrderedChainsAnEventCount) {
  // The specification's example: many failed logins, then a success, same key, within 10m.
  load(std::string(kSigmaBase) +
       "---\ntitle: Many failures\nid: many\nname: multiple_failed_login\ncorrelation:\n"
       "  type: event_count\n  rules: [failed_login]\n  group-by: [source.ip]\n"
       "  timespan: 10m\n  condition: {gte: 10}\n"
       "---\ntitle: Brute force success\nid: bf-success\ncorrelation:\n"
       "  type: temporal_ordered\n  rules: [multiple_failed_login, successful_login]\n"
       "  group-by: [source.ip]\n  timespan: 10m\nlevel: critical\n");
  ASSERT_EQ(engine_->ruleSet().rules().size(), 1u) << loaded_.toJson();
  const Rule& r = engine_->ruleSet().rules()[0];
  EXPECT_EQ(r.id, "bf-success");
  ASSERT_EQ(r.aggregation.steps.size(), 2u);
  EXPECT_TRUE(r.aggregation.ordered);
  EXPECT_EQ(r.aggregation.steps[0].count, 10u);
  for (int i = 0; i < 9; ++i) feed(1000 + i, "198.51.100.12", "auth_failed");
  feed(1050, "198.51.100.12", "auth_success");
  EXPECT_EQ(findings_.size(), 0u);  // nine failures are not enough
  feed(1060, "198.51.100.12", "auth_failed");
  feed(1070, "198.51.100.12", "auth_success");
  ASSERT_EQ(findings_.size(), 1u);
  EXPECT_EQ(findings_[0].severity, 9);
}

TEST_F(SequenceTest, SigmaTemporalIsUnordered) {
  load(std::string(kSigmaBase) +
       "---\ntitle: Both\nid: both\ncorrelation:\n  type: temporal\n"
       "  rules: [failed-ssh, ok-ssh]\n  group-by: [user.name]\n  timespan: 5m\n");
  feed(1000, "198.51.100.13", "auth_success", "alice");
  feed(1010, "198.51.100.14", "auth_failed", "alice");  // other address, same user
  ASSERT_EQ(findings_.size(), 1u);
  EXPECT_EQ(findings_[0].entity.type, TargetType::kUser);
  EXPECT_EQ(findings_[0].entity.value, "alice");
}

TEST_F(SequenceTest, SigmaCorrelationProblems) {
  struct Case {
    std::string tail;
    const char* code;
    bool error;
  } cases[] = {
      {"  type: event_count\n  rules: [nope]\n  group-by: [source.ip]\n  timespan: 1m\n"
       "  condition: {gte: 2}\n",
       "S008", true},
      {"  type: value_sum\n  rules: [failed_login]\n  group-by: [source.ip]\n  timespan: 1m\n"
       "  condition: {field: x, gte: 2}\n",
       "S007", false},
      {"  type: event_count\n  rules: [failed_login]\n  group-by: [source.ip]\n  timespan: 1m\n"
       "  condition: {lt: 2}\n",
       "S007", false},
      {"  type: event_count\n  rules: [failed_login]\n  group-by: [source.ip]\n"
       "  condition: {gte: 2}\n",
       "R009", true},
      {"  type: event_count\n  rules: [failed_login]\n  group-by: [source.ip]\n  timespan: 1m\n"
       "  condition: {gte: 2}\n  aliases: {ip: {failed_login: source.ip}}\n",
       "S007", false},
      {"  type: event_count\n  rules: [failed_login]\n  group-by: [cs-cookie]\n  timespan: 1m\n"
       "  condition: {gte: 2}\n",
       "S002", false},
  };
  for (const auto& c : cases) {
    auto r = loadRuleText(std::string(kSigmaBase) + "---\ntitle: C\nid: c\ncorrelation:\n" + c.tail,
                          "t.yml");
    EXPECT_EQ(r.hasErrors(), c.error) << r.toJson();
    bool found = false;
    for (const auto& d : r.diagnostics) found = found || d.code == c.code;
    EXPECT_TRUE(found) << c.code << " in " << r.toJson();
    if (!c.error) {
      // The base rules still load (no correlation hides them).
      EXPECT_EQ(r.rules.size(), 2u) << r.toJson();
    }
  }
}

}  // namespace
}  // namespace riposte::rules

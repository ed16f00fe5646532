// Escalating durations for repeat offenders (counted from the decision history in the store)
// and IPv6 widening, in the policy and through the whole engine into the audit log.
#include <gtest/gtest.h>

#include "riposte/core/ids.h"
#include "riposte/core/registry.h"
#include "riposte/engine/engine.h"
#include "riposte/respond/policy.h"
#include "riposte/store/sqlite_store.h"
#include "support/test_support.h"

namespace riposte {
namespace {

using std::chrono::hours;

constexpr Duration kDay = hours(24);

Finding findingOn(const std::string& value, TargetType type = TargetType::kIp) {
  Finding f;
  f.id = newId();
  f.detector = "ssh-bruteforce";
  f.entity = {type, value};
  f.reason = "10 failed logins";
  f.event_count = 10;
  return f;
}

// A decision that happened `ago` before `now`, in a given state.
Decision past(const std::string& value, Timestamp now, Duration ago, DecisionState state,
              const std::string& action = "block", TargetType type = TargetType::kIp) {
  Decision d;
  d.id = newId(now - ago);
  d.action = action;
  d.target = {type, value};
  d.created = now - ago;
  d.expires = d.created + hours(1);
  d.state = state;
  d.reason = "earlier";
  return d;
}

class PolicyEscalationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteStore::open((dir_.path() / "r.db").string());
    ASSERT_TRUE(s.isOk());
    store_ = std::move(*s);
  }
  PolicyConfig ladder() {
    PolicyConfig c;
    c.tuning.escalation = {hours(1), hours(4), kDay, 7 * kDay};
    c.tuning.escalation_lookback = 30 * kDay;
    return c;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  const Timestamp now_ = Timestamp::now();
};

TEST_F(PolicyEscalationTest, LadderFollowsTheStoredHistory) {
  Policy p(ladder());
  p.setHistory(store_.get());
  Decision d;
  ASSERT_EQ(p.decide(findingOn("203.0.113.5"), now_, d), PolicyOutcome::kDecided);
  EXPECT_EQ(d.expires - d.created, hours(1));
  EXPECT_EQ(d.reason, "10 failed logins [offence 1 within 30d: 1h]");

  // Two earlier offences count; a revoked one (a person said it was wrong), a failed one, one
  // older than the look-back, one by another action and one on another target do not.
  for (const auto& prior : {past("203.0.113.6", now_, hours(5), DecisionState::kExpired),
                            past("203.0.113.6", now_, 10 * kDay, DecisionState::kExpired),
                            past("203.0.113.6", now_, hours(2), DecisionState::kRevoked),
                            past("203.0.113.6", now_, hours(3), DecisionState::kFailed),
                            past("203.0.113.6", now_, 31 * kDay, DecisionState::kExpired),
                            past("203.0.113.6", now_, hours(1), DecisionState::kExpired, "alert"),
                            past("203.0.113.7", now_, hours(1), DecisionState::kExpired)}) {
    ASSERT_TRUE(store_->saveDecision(prior).isOk());
  }
  EXPECT_EQ(p.priorOffences("block", {TargetType::kIp, "203.0.113.6"}, now_, 30 * kDay), 2u);
  ASSERT_EQ(p.decide(findingOn("203.0.113.6"), now_, d), PolicyOutcome::kDecided);
  EXPECT_EQ(d.expires - d.created, kDay);
  EXPECT_NE(d.reason.find("offence 3 within 30d: 1d"), std::string::npos) << d.reason;

  // Beyond the ladder the last step holds.
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(
        store_->saveDecision(past("198.51.100.9", now_, hours(i + 2), DecisionState::kExpired))
            .isOk());
  }
  ASSERT_EQ(p.decide(findingOn("198.51.100.9"), now_, d), PolicyOutcome::kDecided);
  EXPECT_EQ(d.expires - d.created, 7 * kDay);
  EXPECT_NE(d.reason.find("offence 7"), std::string::npos) << d.reason;

  // A rule's own duration is a floor.
  Finding long_rule = findingOn("192.0.2.77");
  long_rule.duration = hours(12);
  ASSERT_EQ(p.decide(long_rule, now_, d), PolicyOutcome::kDecided);
  EXPECT_EQ(d.expires - d.created, hours(12));
}

TEST_F(PolicyEscalationTest, WithoutALadderNothingChanges) {
  PolicyConfig c;
  c.default_duration = hours(4);
  Policy p(c);
  p.setHistory(store_.get());
  ASSERT_TRUE(
      store_->saveDecision(past("203.0.113.6", now_, hours(5), DecisionState::kExpired)).isOk());
  Decision d;
  ASSERT_EQ(p.decide(findingOn("203.0.113.6"), now_, d), PolicyOutcome::kDecided);
  EXPECT_EQ(d.expires - d.created, hours(4));
  EXPECT_EQ(d.reason, "10 failed logins");
  EXPECT_EQ(d.target.value, "203.0.113.6");
}

TEST_F(PolicyEscalationTest, Ipv6IsWidenedToTheConfiguredPrefix) {
  PolicyConfig c;
  c.tuning.ipv6_prefix = 64;
  ASSERT_TRUE(c.allowlist.add("2001:db8:ffff::1").isOk());
  c.tuning_by_action["alert"].ipv6_prefix = 128;  // alerts name the exact address
  Policy p(c);
  Decision d;
  ASSERT_EQ(p.decide(findingOn("2001:db8:1:2:aaaa::5"), now_, d), PolicyOutcome::kDecided);
  EXPECT_EQ(d.target.type, TargetType::kCidr);
  EXPECT_EQ(d.target.value, "2001:db8:1:2::/64");
  EXPECT_EQ(d.reason,
            "10 failed logins [IPv6 widened to 2001:db8:1:2::/64 from 2001:db8:1:2:aaaa::5]");
  // Another address of the same /64 is already covered.
  Decision d2;
  EXPECT_EQ(p.decide(findingOn("2001:db8:1:2::77"), now_, d2), PolicyOutcome::kAlreadyActive);
  // IPv4 is untouched; a wider range stays as it is.
  ASSERT_EQ(p.decide(findingOn("203.0.113.5"), now_, d2), PolicyOutcome::kDecided);
  EXPECT_EQ(d2.target.value, "203.0.113.5");
  ASSERT_EQ(p.decide(findingOn("2001:db8:7::/48", TargetType::kCidr), now_, d2),
            PolicyOutcome::kDecided);
  EXPECT_EQ(d2.target.value, "2001:db8:7::/48");
  // A /64 that holds an allowlisted address is not widened: the address alone is decided.
  ASSERT_EQ(p.decide(findingOn("2001:db8:ffff::9"), now_, d2), PolicyOutcome::kDecided);
  EXPECT_EQ(d2.target.value, "2001:db8:ffff::9");
  EXPECT_NE(d2.reason.find("not widened to /64: 2001:db8:ffff::/64 touches the allowlist"),
            std::string::npos)
      << d2.reason;
  EXPECT_EQ(p.decide(findingOn("2001:db8:ffff::1"), now_, d2), PolicyOutcome::kAllowlisted);
  // Per decision action: alerts are not widened.
  Finding alert = findingOn("2001:db8:5::5");
  alert.suggested_action = "alert";
  ASSERT_EQ(p.decide(alert, now_, d2), PolicyOutcome::kDecided);
  EXPECT_EQ(d2.target.value, "2001:db8:5::5");
}

TEST(ResponseTuningConfig, ParsedAndValidatedWithPositions) {
  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  auto ok = parseConfig(R"(
response:
  escalation: {durations: [1h, 4h, 24h, 7d], lookback: 14d}
  ipv6_prefix: 64
  by_action:
    alert: {ipv6_prefix: 128}
    block: {escalation: [2h, 1d]}
)",
                        "t.yaml", &reg);
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  EXPECT_EQ(ok->tuning.escalation, (std::vector<Duration>{hours(1), hours(4), kDay, 7 * kDay}));
  EXPECT_EQ(ok->tuning.escalation_lookback, 14 * kDay);
  EXPECT_EQ(ok->tuning.ipv6_prefix, 64u);
  EXPECT_EQ(ok->tuning_by_action.at("alert").ipv6_prefix, 128u);
  EXPECT_EQ(ok->tuning_by_action.at("alert").escalation.size(), 4u);  // inherited
  EXPECT_EQ(ok->tuning_by_action.at("block").escalation, (std::vector<Duration>{hours(2), kDay}));
  EXPECT_EQ(ok->tuning_by_action.at("block").ipv6_prefix, 64u);  // inherited
  EXPECT_EQ(ok->tuning_by_action.at("block").escalation_lookback, 14 * kDay);

  for (const auto& [yaml, where] : std::vector<std::pair<std::string, std::string>>{
           {"response:\n  escalation: [4h, 1h]\n", "response.escalation[1]"},
           {"response:\n  escalation: [1h, soon]\n", "response.escalation[1]"},
           {"response:\n  ipv6_prefix: 0\n", "response.ipv6_prefix"},
           {"response:\n  by_action: {block: {ipv6_prefix: 129}}\n",
            "response.by_action.block.ipv6_prefix"},
           {"response:\n  by_action: {block: {duration: 1h}}\n", "response.by_action.block"},
           {"response:\n  escalation: {lookback: 1d}\n", "response.escalation.durations"}}) {
    auto bad = parseConfig(yaml, "t.yaml", &reg);
    ASSERT_FALSE(bad.isOk()) << yaml;
    EXPECT_NE(bad.status().message().find(where), std::string::npos)
        << yaml << " -> " << bad.status().toString();
  }
}

// The whole path: sshd lines → detector → policy → stored decision and its audit entry.
TEST(EngineEscalation, RepeatOffenderAndIpv6WideningReachTheAuditLog) {
  testing::TempDir dir;
  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  auto store = SqliteStore::open((dir.path() / "r.db").string());
  ASSERT_TRUE(store.isOk());
  auto cfg = parseConfig(R"(
detectors:
  - {name: ssh, type: threshold, kinds: [auth], outcome: failure, threshold: 1}
actions:
  - {name: log, type: log, path: )" +
                             (dir.path() / "log.jsonl").string() +
                             R"(}
response:
  escalation: {durations: [1h, 4h, 24h], lookback: 30d}
  ipv6_prefix: 64
)",
                         "t.yaml", &reg);
  ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
  auto e = Engine::create(*cfg, reg, store->get(), EngineOptions{});
  ASSERT_TRUE(e.isOk()) << e.status().toString();
  auto parser = (*e)->parser("sshd");
  ASSERT_TRUE(parser.isOk());
  auto attack = [&](const std::string& ip) {
    ParseContext ctx;
    ctx.year = 2026;
    (*e)->process(**parser, ctx,
                  SourceLine{"Feb 12 14:10:22 host1 sshd[16378]: Failed password for root from " +
                                 ip + " port 53502 ssh2",
                             "test",
                             0,
                             {},
                             false});
  };
  auto createdFor = [&](const std::string& target) {
    std::vector<AuditEntry> out;
    const auto audit = (*store)->listAudit(0, 100000);
    for (const auto& a : *audit) {
      if (a.kind == "decision.created" && a.target == target) out.push_back(a);
    }
    return out;
  };
  attack("203.0.113.5");
  (*e)->drain();
  // The block ends; the same address comes back: the second step.
  (*e)->tick(Timestamp::now() + hours(2));
  attack("203.0.113.5");
  (*e)->drain();
  auto entries = createdFor("203.0.113.5");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_NE(entries[0].reason.find("offence 1 within 30d: 1h"), std::string::npos)
      << entries[0].reason;
  EXPECT_NE(entries[1].reason.find("offence 2 within 30d: 4h"), std::string::npos)
      << entries[1].reason;
  DecisionFilter f;
  f.target = "203.0.113.5";
  f.state = DecisionState::kActive;
  auto active = (*store)->listDecisions(f);
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ(active->front().expires - active->front().created, hours(4));

  attack("2001:db8:1:2::5");
  attack("2001:db8:1:2::6");  // same /64: a duplicate, not a second decision
  (*e)->drain();
  auto v6 = createdFor("2001:db8:1:2::/64");
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_NE(v6[0].reason.find("IPv6 widened to 2001:db8:1:2::/64 from 2001:db8:1:2::5"),
            std::string::npos)
      << v6[0].reason;
  EXPECT_EQ((*e)->stats().duplicates, 1u);
  EXPECT_TRUE(verifyAuditChain(*(*store)->listAudit(0, 100000)).isOk());
}

}  // namespace
}  // namespace riposte

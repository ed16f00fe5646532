// The engine's response path: actions through the executor, audit of their results, manual
// mode when an action fails beyond its retries, the circuit breaker, and restore in one batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>
#include <set>

#include "riposte/core/ids.h"
#include "riposte/core/registry.h"
#include "riposte/engine/approval.h"
#include "riposte/engine/engine.h"
#include "riposte/store/sqlite_store.h"
#include "support/test_support.h"

namespace riposte {
namespace {

// Shared state of the fake enforcing action the test registers.
struct FakeState {
  std::mutex mu;
  std::vector<std::string> applied;  // target values
  std::atomic<int> fail{0};          // fail every call while > 0
  std::atomic<int> batches{0};
  std::atomic<size_t> batch_size{0};
  void reset() {
    std::lock_guard<std::mutex> l(mu);
    applied.clear();
    fail = 0;
    batches = 0;
    batch_size = 0;
  }
};
FakeState g_fake;

class FakeBlock : public Action {
 public:
  explicit FakeBlock(std::string n) : name_(std::move(n)) {}
  std::string_view name() const override { return name_; }
  Status apply(const Decision& d) override {
    if (g_fake.fail > 0) return Status::unavailable("firewall unreachable");
    std::lock_guard<std::mutex> l(g_fake.mu);
    g_fake.applied.push_back(d.target.value);
    return Status::ok();
  }
  Status applyBatch(const std::vector<Decision>& ds) override {
    if (g_fake.fail > 0) return Status::unavailable("firewall unreachable");
    ++g_fake.batches;
    g_fake.batch_size += ds.size();
    std::lock_guard<std::mutex> l(g_fake.mu);
    for (const auto& d : ds) g_fake.applied.push_back(d.target.value);
    return Status::ok();
  }
  Status undo(const Decision&) override { return Status::ok(); }
  bool enforcing() const override { return true; }

 private:
  std::string name_;
};

class EngineResponseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_fake.reset();
    ASSERT_TRUE(registerBuiltins(reg_).isOk());
    ASSERT_TRUE(reg_.actions
                    .add("fakeblock", "test",
                         [](const ComponentConfig& c, const FactoryContext&) -> Result<ActionPtr> {
                           return ActionPtr(new FakeBlock(c.name));
                         })
                    .isOk());
    auto s = SqliteStore::open((dir_.path() / "r.db").string());
    ASSERT_TRUE(s.isOk());
    store_ = std::move(*s);
  }

  void makeEngine(const std::string& response_extra) {
    notify_path_ = (dir_.path() / "notify.jsonl").string();
    const std::string yaml = R"(
detectors:
  - name: ssh
    type: threshold
    kinds: [auth]
    outcome: failure
    threshold: 1
actions:
  - name: fw
    type: fakeblock
  - name: admins
    type: log
    path: )" + notify_path_ + R"(
response:
  default_duration: 1h
  allowlist: [192.0.2.250]
  action_timeout: 2s
  action_attempts: 2
  retry_backoff: 10ms
  notify: [admins]
)" + response_extra;
    auto cfg = parseConfig(yaml, "test.yaml", &reg_);
    ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
    EngineOptions eo;
    eo.run_actions = true;
    auto e = Engine::create(*cfg, reg_, store_.get(), eo);
    ASSERT_TRUE(e.isOk()) << e.status().toString();
    engine_ = std::move(*e);
    auto p = engine_->parser("sshd");
    ASSERT_TRUE(p.isOk());
    parser_ = *p;
  }

  void attack(const std::string& ip) {
    const std::string line = "Feb 12 14:10:22 host1 sshd[16378]: Failed password for root from " +
                             ip + " port 53502 ssh2";
    ParseContext ctx;
    ctx.year = 2026;
    engine_->process(*parser_, ctx, SourceLine{line, "test", 0, {}, false});
  }

  std::vector<std::string> auditKinds() {
    std::vector<std::string> out;
    auto a = store_->listAudit(0, 100000);
    EXPECT_TRUE(a.isOk());
    for (const auto& e : *a) out.push_back(e.kind);
    return out;
  }
  size_t count(const std::string& kind) {
    auto k = auditKinds();
    return static_cast<size_t>(std::count(k.begin(), k.end(), kind));
  }
  size_t decisionsIn(DecisionState s) {
    DecisionFilter f;
    f.state = s;
    return store_->listDecisions(f)->size();
  }

  testing::TempDir dir_;
  Registries reg_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Engine> engine_;
  Parser* parser_ = nullptr;
  std::string notify_path_;
};

TEST_F(EngineResponseTest, ActionsRunThroughTheExecutorAndAreAudited) {
  makeEngine("");
  attack("203.0.113.5");
  attack("203.0.113.6");
  attack("192.0.2.250");  // allowlisted: never reaches an action
  engine_->drain();
  {
    std::lock_guard<std::mutex> l(g_fake.mu);
    EXPECT_EQ(std::set<std::string>(g_fake.applied.begin(), g_fake.applied.end()),
              (std::set<std::string>{"203.0.113.5", "203.0.113.6"}));
  }
  EXPECT_EQ(count("action.applied"), 4u);  // two decisions x (fw, admins log)
  EXPECT_EQ(count("decision.refused.allowlisted"), 1u);
  EXPECT_FALSE(engine_->manualMode());
  EXPECT_TRUE(verifyAuditChain(*store_->listAudit(0, 100000)).isOk());
}

TEST_F(EngineResponseTest, FailureBeyondRetriesSwitchesToManualModeAndNotifies) {
  makeEngine("");
  g_fake.fail = 1;
  attack("203.0.113.5");
  engine_->drain();
  EXPECT_TRUE(engine_->manualMode());
  EXPECT_EQ(count("action.failed"), 1u);
  EXPECT_EQ(count("mode.manual"), 1u);
  EXPECT_EQ(decisionsIn(DecisionState::kFailed), 1u);
  auto mode = store_->loadMode();
  ASSERT_TRUE(mode.isOk());
  EXPECT_TRUE(mode->manual);
  EXPECT_NE(mode->reason.find("firewall unreachable"), std::string::npos) << mode->reason;
  EXPECT_NE(testing::readFile(notify_path_).find("manual mode"), std::string::npos);
  EXPECT_EQ(count("notify.sent"), 1u);

  // Now decisions are proposed, not enforced; alerts still go out.
  g_fake.fail = 0;
  attack("203.0.113.9");
  engine_->drain();
  EXPECT_EQ(decisionsIn(DecisionState::kPendingApproval), 1u);
  EXPECT_EQ(count("decision.proposed"), 1u);
  {
    std::lock_guard<std::mutex> l(g_fake.mu);
    EXPECT_TRUE(g_fake.applied.empty());
  }
  // Leaving manual mode is explicit and audited.
  ASSERT_TRUE(engine_->leaveManualMode("cli:test").isOk());
  EXPECT_FALSE(store_->loadMode()->manual);
  EXPECT_EQ(count("mode.auto"), 1u);
  attack("203.0.113.10");
  engine_->drain();
  {
    std::lock_guard<std::mutex> l(g_fake.mu);
    EXPECT_EQ(g_fake.applied, std::vector<std::string>{"203.0.113.10"});
  }
  EXPECT_TRUE(verifyAuditChain(*store_->listAudit(0, 100000)).isOk());
}

TEST_F(EngineResponseTest, ManualModeSurvivesARestartAndTickPicksUpCliChanges) {
  makeEngine("");
  engine_->enterManualMode("test", "cli:test");
  engine_.reset();
  makeEngine("");
  EXPECT_TRUE(engine_->manualMode());
  // Another process (the CLI) resumes auto mode; tick() picks it up.
  EngineMode m;
  m.manual = false;
  m.actor = "cli:other";
  ASSERT_TRUE(store_->saveMode(m).isOk());
  engine_->tick(Timestamp::now());
  EXPECT_FALSE(engine_->manualMode());
}

TEST_F(EngineResponseTest, DryRunModeRecordsDecisionsAndEnforcesNothing) {
  makeEngine("");
  ASSERT_TRUE(engine_->setMode("dry-run", "", "api:root").isOk());
  EXPECT_TRUE(engine_->dryRunMode());
  EXPECT_EQ(engine_->modeName(), "dry-run");
  EXPECT_EQ(store_->loadMode()->name(), "dry-run");
  EXPECT_EQ(count("mode.dry_run"), 1u);
  attack("203.0.113.5");
  attack("203.0.113.5");  // a duplicate stays quiet in dry-run too
  engine_->drain();
  {
    std::lock_guard<std::mutex> l(g_fake.mu);
    EXPECT_TRUE(g_fake.applied.empty()) << "dry-run enforced a decision";
  }
  EXPECT_EQ(decisionsIn(DecisionState::kDryRun), 1u);
  EXPECT_EQ(decisionsIn(DecisionState::kActive), 0u);
  EXPECT_EQ(count("decision.dry_run"), 1u);
  EXPECT_EQ(count("action.dry_run"), 2u);  // fw and the admins log, neither run
  EXPECT_EQ(count("action.applied"), 0u);
  EXPECT_EQ(engine_->stats().dry_run, 1u);
  EXPECT_TRUE(engine_->stats().dry_run_mode);

  // Persisted: a restart stays in dry-run, and restore never enforces a dry-run decision.
  engine_.reset();
  makeEngine("");
  EXPECT_TRUE(engine_->dryRunMode());
  ASSERT_TRUE(engine_->restore().isOk());
  engine_->drain();
  {
    std::lock_guard<std::mutex> l(g_fake.mu);
    EXPECT_TRUE(g_fake.applied.empty());
  }
  // A person's decision is enforced in dry-run mode.
  Decision manual;
  manual.id = newId();
  manual.target = {TargetType::kIp, "198.51.100.7"};
  manual.created = Timestamp::now();
  manual.expires = Timestamp::now() + std::chrono::hours(1);
  ASSERT_TRUE(engine_->addManualDecision(manual, "api:root").isOk());
  engine_->drain();
  {
    std::lock_guard<std::mutex> l(g_fake.mu);
    EXPECT_EQ(g_fake.applied, std::vector<std::string>{"198.51.100.7"});
  }
  // Back to auto: the dry-run decision no longer holds the target, the next finding is enforced.
  attack("203.0.113.5");
  ASSERT_TRUE(engine_->setMode("auto", "", "api:root").isOk());
  EXPECT_FALSE(engine_->dryRunMode());
  attack("203.0.113.5");
  engine_->drain();
  {
    std::lock_guard<std::mutex> l(g_fake.mu);
    EXPECT_EQ(g_fake.applied, (std::vector<std::string>{"198.51.100.7", "203.0.113.5"}));
  }
  EXPECT_EQ(decisionsIn(DecisionState::kActive), 2u);
  EXPECT_EQ(count("mode.auto"), 1u);
  EXPECT_FALSE(engine_->setMode("off", "", "api:root").isOk());
  EXPECT_TRUE(verifyAuditChain(*store_->listAudit(0, 100000)).isOk());
}

TEST_F(EngineResponseTest, CircuitBreakerCapsBlocksPerMinute) {
  makeEngine("  max_blocks_per_minute: 3\n");
  for (int i = 1; i <= 6; ++i) attack("203.0.113." + std::to_string(i));
  engine_->drain();
  {
    std::lock_guard<std::mutex> l(g_fake.mu);
    EXPECT_EQ(g_fake.applied.size(), 3u) << "the breaker let more blocks through than its cap";
  }
  EXPECT_EQ(count("breaker.tripped"), 1u);
  EXPECT_TRUE(engine_->manualMode());
  EXPECT_EQ(decisionsIn(DecisionState::kPendingApproval), 3u);
  EXPECT_NE(testing::readFile(notify_path_).find("circuit breaker"), std::string::npos);
  // Alerts kept going for the proposed decisions (the log action is not enforcing).
  EXPECT_EQ(count("action.applied"), 3u + 6u);
}

TEST_F(EngineResponseTest, CircuitBreakerCapsActiveBlocks) {
  makeEngine("  max_active_blocks: 2\n");
  for (int i = 1; i <= 4; ++i) attack("203.0.113." + std::to_string(i));
  engine_->drain();
  std::lock_guard<std::mutex> l(g_fake.mu);
  EXPECT_LE(g_fake.applied.size(), 2u);
  EXPECT_EQ(count("breaker.tripped"), 1u);
}

TEST_F(EngineResponseTest, RestoreAppliesActiveDecisionsInOneBatch) {
  makeEngine("");
  for (int i = 0; i < 500; ++i) {
    Decision d;
    d.id = "d" + std::to_string(i);
    d.target.type = TargetType::kIp;
    d.target.value = "10.9." + std::to_string(i / 250) + "." + std::to_string(i % 250);
    d.created = Timestamp::now();
    d.expires = d.created + std::chrono::hours(1);
    ASSERT_TRUE(store_->saveDecision(d).isOk());
  }
  engine_.reset();
  makeEngine("");
  ASSERT_TRUE(engine_->restore().isOk());
  engine_->drain();
  EXPECT_EQ(g_fake.batches.load(), 1);
  EXPECT_EQ(g_fake.batch_size.load(), 500u);
  EXPECT_EQ(count("action.restored"), 1u);  // fw; alerts are not re-sent on restart
  EXPECT_EQ(testing::readFile(notify_path_).find("would-enforce"), std::string::npos);
  // Restoring again (a second restart of the same process) changes nothing.
  ASSERT_TRUE(engine_->restore().isOk());
  engine_->drain();
  EXPECT_EQ(g_fake.batches.load(), 1);
}

// Property: over many random decisions (detector findings, manual decisions, restored
// decisions), no allowlisted address ever reaches an action.
TEST_F(EngineResponseTest, AllowlistedAddressesNeverReachAnAction) {
  makeEngine("  max_blocks_per_minute: 0\n  max_active_blocks: 0\n");
  engine_.reset();
  // Rebuild with a richer allowlist.
  const std::string yaml = R"(
detectors:
  - name: ssh
    type: threshold
    kinds: [auth]
    outcome: failure
    threshold: 1
actions:
  - name: fw
    type: fakeblock
response:
  default_duration: 1h
  max_blocks_per_minute: 0
  max_active_blocks: 0
  allowlist: [192.0.2.0/28, 198.51.100.7, "2001:db8::/64"]
)";
  auto cfg = parseConfig(yaml, "test.yaml", &reg_);
  ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
  CidrList allow;
  for (const auto& a : cfg->allowlist) ASSERT_TRUE(allow.add(a).isOk());
  // Some restored decisions on allowlisted targets sit in the store (e.g. added before the
  // allowlist changed).
  std::mt19937 rng(12345);
  auto randomIp = [&]() -> std::string {
    switch (rng() % 4) {
      case 0: return "192.0.2." + std::to_string(rng() % 32);  // half inside /28
      case 1: return rng() % 2 ? "198.51.100.7" : "198.51.100." + std::to_string(rng() % 16);
      case 2: return "2001:db8::" + std::to_string(rng() % 100 + 1);  // all inside /64
      default: return "2001:db8:1::" + std::to_string(rng() % 100 + 1);
    }
  };
  for (int i = 0; i < 200; ++i) {
    Decision d;
    d.id = "stored" + std::to_string(i);
    d.target = {TargetType::kIp, randomIp()};
    d.created = Timestamp::now();
    d.expires = d.created + std::chrono::hours(1);
    ASSERT_TRUE(store_->saveDecision(d).isOk());
  }
  EngineOptions eo;
  auto e = Engine::create(*cfg, reg_, store_.get(), eo);
  ASSERT_TRUE(e.isOk());
  engine_ = std::move(*e);
  parser_ = *engine_->parser("sshd");
  ASSERT_TRUE(engine_->restore().isOk());
  size_t refused_manual = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string ip = randomIp();
    if (rng() % 3 == 0) {
      Decision d;
      d.id = "m" + std::to_string(i);
      d.target = {TargetType::kIp, ip};
      d.created = Timestamp::now();
      d.expires = d.created + std::chrono::hours(1);
      if (!engine_->addManualDecision(d, "cli:test").isOk()) ++refused_manual;
    } else {
      attack(ip);
    }
  }
  engine_->drain();
  std::lock_guard<std::mutex> l(g_fake.mu);
  size_t applied = 0;
  for (const auto& t : g_fake.applied) {
    ++applied;
    EXPECT_FALSE(allow.contains(t)) << t << " is allowlisted but reached an action";
  }
  EXPECT_GT(applied, 0u);  // the property is not vacuous
  EXPECT_GT(refused_manual, 0u);
  EXPECT_EQ(g_fake.batches.load(), 1);
}

}  // namespace
}  // namespace riposte

namespace riposte {
namespace {

std::vector<std::string> appliedTargets() {
  std::lock_guard<std::mutex> l(g_fake.mu);
  return g_fake.applied;
}

// High-risk decisions wait for a second confirmation; nobody answering means the default.
TEST_F(EngineResponseTest, HighRiskDecisionsWaitForApprovalThenTakeTheDefault) {
  makeEngine("  approval: {actions: [block], targets: [], timeout: 10m, default: reject}\n");
  attack("203.0.113.5");
  engine_->drain();
  EXPECT_TRUE(appliedTargets().empty());  // not enforced
  ASSERT_EQ(decisionsIn(DecisionState::kPendingApproval), 1u);
  EXPECT_FALSE(engine_->manualMode());  // this is not manual mode
  auto audit = store_->listAudit(0, 100);
  ASSERT_TRUE(audit.isOk());
  bool explained = false;
  for (const auto& a : *audit) {
    explained = explained ||
                (a.kind == "decision.proposed" && a.reason.find("high risk") != std::string::npos &&
                 a.reason.find("then reject") != std::string::npos);
  }
  EXPECT_TRUE(explained);

  const Timestamp now = Timestamp::now();
  EXPECT_EQ(
      settleExpiredApprovals(*engine_, *store_, engine_->config(), now + std::chrono::minutes(5)),
      0u);
  EXPECT_EQ(decisionsIn(DecisionState::kPendingApproval), 1u);
  EXPECT_EQ(
      settleExpiredApprovals(*engine_, *store_, engine_->config(), now + std::chrono::minutes(11)),
      1u);
  EXPECT_EQ(decisionsIn(DecisionState::kPendingApproval), 0u);
  EXPECT_EQ(decisionsIn(DecisionState::kRevoked), 1u);
  engine_->drain();
  EXPECT_TRUE(appliedTargets().empty());
  auto rejected = store_->listAudit(0, 100);
  bool by_timeout = false;
  for (const auto& a : *rejected) {
    by_timeout =
        by_timeout || (a.kind == "decision.rejected" && a.actor == "engine:approval-timeout");
  }
  EXPECT_TRUE(by_timeout);
  // Settled once: a second pass finds nothing.
  EXPECT_EQ(
      settleExpiredApprovals(*engine_, *store_, engine_->config(), now + std::chrono::minutes(20)),
      0u);
}

TEST_F(EngineResponseTest, AnApprovalDefaultingToApproveEnforcesOnce) {
  makeEngine("  approval: {actions: [block], timeout: 1m, default: approve}\n");
  attack("203.0.113.7");
  engine_->drain();
  ASSERT_EQ(decisionsIn(DecisionState::kPendingApproval), 1u);
  const Timestamp later = Timestamp::now() + std::chrono::minutes(2);
  EXPECT_EQ(settleExpiredApprovals(*engine_, *store_, engine_->config(), later), 1u);
  EXPECT_EQ(settleExpiredApprovals(*engine_, *store_, engine_->config(), later), 0u);
  engine_->drain();
  EXPECT_EQ(appliedTargets(), std::vector<std::string>{"203.0.113.7"});
  EXPECT_EQ(decisionsIn(DecisionState::kActive), 1u);
}

TEST_F(EngineResponseTest, LowRiskDecisionsAreEnforcedWithoutApproval) {
  makeEngine("");  // default tiers: ranges, users and hosts are high risk; single addresses not
  attack("203.0.113.8");
  engine_->drain();
  EXPECT_EQ(appliedTargets(), std::vector<std::string>{"203.0.113.8"});
  EXPECT_EQ(decisionsIn(DecisionState::kPendingApproval), 0u);
}

TEST(ApprovalConfig, BadTiersAreNamedWithTheirPosition) {
  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  auto c = parseConfig("response:\n  approval:\n    targets: [cidr, subnet]\n    default: maybe\n",
                       "a.yaml", &reg);
  ASSERT_FALSE(c.isOk());
  EXPECT_NE(c.status().message().find("a.yaml:3"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("subnet"), std::string::npos);
  EXPECT_NE(c.status().message().find("response.approval.default"), std::string::npos);
}

}  // namespace
}  // namespace riposte

namespace riposte {
namespace {

TEST(ApprovalTiers, RangesWiderThanOneSubscriberAreHighRisk) {
  Config c;  // defaults: cidr, user and host are high risk
  Decision d;
  d.action = "block";
  d.target = {TargetType::kIp, "203.0.113.9"};
  EXPECT_FALSE(needsApproval(d, c));
  d.target = {TargetType::kCidr, "2001:db8:1:2::/64"};  // IPv6 widening: one subscriber
  EXPECT_FALSE(needsApproval(d, c));
  d.target = {TargetType::kCidr, "2001:db8::/48"};
  EXPECT_TRUE(needsApproval(d, c));
  d.target = {TargetType::kCidr, "203.0.113.0/24"};
  EXPECT_TRUE(needsApproval(d, c));
  d.target = {TargetType::kUser, "alice"};
  EXPECT_TRUE(needsApproval(d, c));
  c.approval_targets = {"user"};
  d.target = {TargetType::kCidr, "203.0.113.0/24"};
  EXPECT_FALSE(needsApproval(d, c));
  c.approval_actions = {"block"};
  EXPECT_TRUE(needsApproval(d, c));
}

}  // namespace
}  // namespace riposte

// The ipset and iptables actions for real: two network namespaces joined by a veth pair; the
// action runs its programs in the "server" namespace and the client's TCP connections are
// dropped while a block is in force, and flow again after undo, after the element's timeout
// (ipset), after the engine expires the decision (iptables), and until reconcile repairs state
// changed behind the action's back.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "riposte/core/ids.h"
#include "riposte/core/registry.h"
#include "riposte/engine/engine.h"
#include "riposte/respond/ipset_action.h"
#include "riposte/respond/iptables_action.h"
#include "riposte/store/sqlite_store.h"
#include "support/netns.h"
#include "support/test_support.h"

namespace riposte {
namespace {

using testing::NetnsGuard;
using testing::NetnsPair;
using testing::tcpConnectFrom;
using testing::TcpListener;

constexpr int kPort = 18023;

Decision blockFor(const std::string& value, Duration lifetime, TargetType type = TargetType::kIp) {
  Decision d;
  d.id = newId();
  d.target = {type, value};
  d.created = Timestamp::now();
  d.expires = d.created + lifetime;
  d.reason = "test";
  return d;
}

// Why these tests cannot run here, or empty.
std::string missingTools() {
  if (geteuid() != 0) return "not root: the ipset/iptables tests need CAP_NET_ADMIN";
  for (const char* p : {"/usr/sbin/ipset", "/usr/sbin/iptables", "/usr/sbin/ip6tables",
                        "/usr/sbin/iptables-restore", "/usr/sbin/ip6tables-restore"}) {
    if (access(p, X_OK) != 0) return std::string("no ") + p + " binary";
  }
  return "";
}

class FirewallNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = missingTools(); !why.empty()) GTEST_SKIP() << why;
    ns_ = std::make_unique<NetnsPair>(subnet_++ % 200 + 1);
    if (!ns_->error().empty()) GTEST_SKIP() << ns_->error();
    guard_ = std::make_unique<NetnsGuard>(ns_->server());
    if (!guard_->ok()) GTEST_SKIP() << "the kernel refused setns into " << ns_->server();
    listener_ = std::make_unique<TcpListener>(ns_->serverIp(), kPort);
    ASSERT_TRUE(listener_->ok());
    ASSERT_TRUE(reachable());  // the test's own precondition
  }
  void TearDown() override {
    listener_.reset();
    guard_.reset();
    ns_.reset();
  }
  bool reachable() { return tcpConnectFrom(ns_->client(), ns_->serverIp(), kPort); }
  std::string inServer(const std::vector<std::string>& argv) {
    std::string out;
    EXPECT_EQ(ns_->execInServer(argv, &out), 0) << out;
    return out;
  }

  static inline int subnet_ = 100;
  std::unique_ptr<NetnsPair> ns_;
  std::unique_ptr<NetnsGuard> guard_;
  std::unique_ptr<TcpListener> listener_;
};

class IpsetActionTest : public FirewallNetnsTest {
 protected:
  void SetUp() override {
    FirewallNetnsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto a = IpsetAction::create("ipset", IpsetConfig{});
    ASSERT_TRUE(a.isOk()) << a.status().toString();
    action_ = std::move(*a);
  }
  void TearDown() override {
    if (action_) (void)action_->dropAll();
    action_.reset();
    FirewallNetnsTest::TearDown();
  }
  std::unique_ptr<IpsetAction> action_;
};

TEST_F(IpsetActionTest, BlocksAfterApplyAndFlowsAfterUndo) {
  const Decision d = blockFor(ns_->clientIp(), std::chrono::minutes(5));
  EXPECT_EQ(action_->verify(d).code(), StatusCode::kNotFound);
  ASSERT_TRUE(action_->apply(d).isOk());
  EXPECT_TRUE(action_->verify(d).isOk());
  EXPECT_FALSE(reachable()) << "traffic from a blocked address still flows";
  // What the kernel holds, as ipset itself shows it: a hash:net set with a per-element timeout.
  const std::string list = inServer({"ipset", "list", "riposte4"});
  EXPECT_NE(list.find("Type: hash:net"), std::string::npos) << list;
  EXPECT_NE(list.find(ns_->clientIp() + " timeout "), std::string::npos) << list;
  EXPECT_EQ(ns_->execInServer({"ipset", "test", "riposte4", ns_->clientIp()}), 0);
  // The rule that references the set, once per hook however often the action starts.
  const std::string rules = inServer({"iptables", "-S", "INPUT"});
  EXPECT_NE(rules.find("--match-set riposte4 src -j DROP"), std::string::npos) << rules;
  // Idempotent: applying twice changes nothing (one element, one rule).
  ASSERT_TRUE(action_->apply(d).isOk());
  auto els = action_->listElements();
  ASSERT_TRUE(els.isOk());
  EXPECT_EQ(*els, std::set<std::string>{ns_->clientIp()});
  auto again = IpsetAction::create("ipset", IpsetConfig{});
  ASSERT_TRUE((*again)->ensureSetup().isOk());
  const std::string rules2 = inServer({"iptables", "-S", "INPUT"});
  EXPECT_EQ(rules2.find("riposte4"), rules2.rfind("riposte4")) << rules2;

  ASSERT_TRUE(action_->undo(d).isOk());
  EXPECT_TRUE(reachable()) << "traffic still dropped after undo";
  EXPECT_EQ(action_->verify(d).code(), StatusCode::kNotFound);
  EXPECT_TRUE(action_->undo(d).isOk());  // undoing what is not there is fine
}

TEST_F(IpsetActionTest, RangesAndIpv6) {
  const std::string net = ns_->clientIp().substr(0, ns_->clientIp().rfind('.')) + ".0/30";
  const Decision r = blockFor(net, std::chrono::minutes(5), TargetType::kCidr);
  const Decision v6 = blockFor("2001:db8:0:0::17", std::chrono::minutes(5));
  const Decision v6net = blockFor("2001:db8:1:2::/64", std::chrono::minutes(5), TargetType::kCidr);
  ASSERT_TRUE(action_->applyBatch({r, v6, v6net}).isOk());
  EXPECT_FALSE(reachable());
  EXPECT_TRUE(action_->verify(v6).isOk());
  const std::string list6 = inServer({"ipset", "list", "riposte6"});
  EXPECT_NE(list6.find("family inet6"), std::string::npos) << list6;
  EXPECT_NE(list6.find("2001:db8::17 timeout"), std::string::npos) << list6;
  EXPECT_NE(list6.find("2001:db8:1:2::/64 timeout"), std::string::npos) << list6;
  const std::string rules6 = inServer({"ip6tables", "-S", "INPUT"});
  EXPECT_NE(rules6.find("--match-set riposte6 src -j DROP"), std::string::npos) << rules6;
  auto els = action_->listElements();
  ASSERT_TRUE(els.isOk());
  EXPECT_EQ(*els, (std::set<std::string>{net, "2001:db8::17", "2001:db8:1:2::/64"}));
  ASSERT_TRUE(action_->undo(r).isOk());
  EXPECT_TRUE(reachable());
}

TEST_F(IpsetActionTest, FlowsAgainWhenTheElementTimesOut) {
  const Decision d = blockFor(ns_->clientIp(), std::chrono::seconds(2));
  ASSERT_TRUE(action_->apply(d).isOk());
  EXPECT_FALSE(reachable());
  std::this_thread::sleep_for(std::chrono::milliseconds(2600));
  EXPECT_TRUE(reachable()) << "the kernel did not expire the element";
  EXPECT_EQ(action_->verify(d).code(), StatusCode::kNotFound);
}

TEST_F(IpsetActionTest, ReconcileRepairsDrift) {
  const Decision d = blockFor(ns_->clientIp(), std::chrono::minutes(5));
  ASSERT_TRUE(action_->apply(d).isOk());
  inServer({"ipset", "del", "riposte4", ns_->clientIp()});
  EXPECT_TRUE(reachable()) << "manual delete did not unblock";
  inServer({"ipset", "add", "riposte4", "198.51.100.7", "timeout", "3600"});
  auto rep = action_->reconcile({d});
  ASSERT_TRUE(rep.isOk()) << rep.status().toString();
  EXPECT_EQ(rep->readded, 1u);
  EXPECT_EQ(rep->removed, 1u);
  EXPECT_FALSE(reachable()) << "reconcile did not re-add the vanished element";
  EXPECT_EQ(*action_->listElements(), std::set<std::string>{ns_->clientIp()});
  inServer({"ipset", "flush", "riposte4"});
  EXPECT_TRUE(reachable());
  rep = action_->reconcile({d});
  ASSERT_TRUE(rep.isOk());
  EXPECT_EQ(rep->readded, 1u);
  EXPECT_FALSE(reachable());
  rep = action_->reconcile({d});
  ASSERT_TRUE(rep.isOk());
  EXPECT_EQ(rep->readded + rep->removed, 0u);
}

TEST_F(IpsetActionTest, BatchOfManyInOneRestore) {
  std::vector<Decision> ds;
  for (int i = 0; i < 5000; ++i) {
    ds.push_back(blockFor("203.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1),
                          std::chrono::minutes(10)));
  }
  ds.push_back(blockFor(ns_->clientIp(), std::chrono::minutes(10)));
  ds.push_back(blockFor("2001:db8::7", std::chrono::minutes(10)));
  ASSERT_TRUE(action_->applyBatch(ds).isOk());
  EXPECT_EQ(action_->listElements()->size(), ds.size());
  EXPECT_FALSE(reachable());
  ASSERT_TRUE(action_->applyBatch(ds).isOk());  // a restart re-applies: nothing doubles
  EXPECT_EQ(action_->listElements()->size(), ds.size());
}

class IptablesActionTest : public FirewallNetnsTest {
 protected:
  void SetUp() override {
    FirewallNetnsTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto a = IptablesAction::create("iptables", IptablesConfig{});
    ASSERT_TRUE(a.isOk()) << a.status().toString();
    action_ = std::move(*a);
  }
  void TearDown() override {
    if (action_) (void)action_->dropAll();
    action_.reset();
    FirewallNetnsTest::TearDown();
  }
  std::unique_ptr<IptablesAction> action_;
};

TEST_F(IptablesActionTest, BlocksAfterApplyAndFlowsAfterUndo) {
  const Decision d = blockFor(ns_->clientIp(), std::chrono::minutes(5));
  EXPECT_EQ(action_->verify(d).code(), StatusCode::kNotFound);
  ASSERT_TRUE(action_->apply(d).isOk());
  EXPECT_TRUE(action_->verify(d).isOk());
  EXPECT_FALSE(reachable()) << "traffic from a blocked address still flows";
  const std::string chain = inServer({"iptables", "-S", "RIPOSTE"});
  EXPECT_NE(chain.find("-A RIPOSTE -s " + ns_->clientIp() + "/32 -j DROP"), std::string::npos)
      << chain;
  const std::string input = inServer({"iptables", "-S", "INPUT"});
  EXPECT_NE(input.find("-A INPUT -j RIPOSTE"), std::string::npos) << input;
  ASSERT_TRUE(action_->apply(d).isOk());  // idempotent: still one rule
  const std::string chain2 = inServer({"iptables", "-S", "RIPOSTE"});
  EXPECT_EQ(chain2.find(ns_->clientIp()), chain2.rfind(ns_->clientIp())) << chain2;

  ASSERT_TRUE(action_->undo(d).isOk());
  EXPECT_TRUE(reachable()) << "traffic still dropped after undo";
  EXPECT_EQ(action_->verify(d).code(), StatusCode::kNotFound);
  EXPECT_TRUE(action_->undo(d).isOk());
}

TEST_F(IptablesActionTest, RangesAndIpv6) {
  const std::string net = ns_->clientIp().substr(0, ns_->clientIp().rfind('.')) + ".0/30";
  const Decision r = blockFor(net, std::chrono::minutes(5), TargetType::kCidr);
  const Decision v6 = blockFor("2001:db8::17", std::chrono::minutes(5));
  const Decision v6net = blockFor("2001:db8:1:2::/64", std::chrono::minutes(5), TargetType::kCidr);
  ASSERT_TRUE(action_->applyBatch({r, v6, v6net}).isOk());
  EXPECT_FALSE(reachable());
  EXPECT_TRUE(action_->verify(v6net).isOk());
  const std::string chain6 = inServer({"ip6tables", "-S", "RIPOSTE"});
  EXPECT_NE(chain6.find("-A RIPOSTE -s 2001:db8::17/128 -j DROP"), std::string::npos) << chain6;
  EXPECT_NE(chain6.find("-A RIPOSTE -s 2001:db8:1:2::/64 -j DROP"), std::string::npos) << chain6;
  EXPECT_EQ(*action_->listTargets(),
            (std::set<std::string>{net, "2001:db8::17", "2001:db8:1:2::/64"}));
  ASSERT_TRUE(action_->undo(r).isOk());
  EXPECT_TRUE(reachable());
}

TEST_F(IptablesActionTest, ReconcileRepairsDriftAndBatchesDoNotDouble) {
  std::vector<Decision> ds;
  for (int i = 0; i < 300; ++i) {
    ds.push_back(
        blockFor("203.0.113." + std::to_string(i % 250 + 1) + "", std::chrono::minutes(5)));
  }
  ds.push_back(blockFor(ns_->clientIp(), std::chrono::minutes(5)));
  ASSERT_TRUE(action_->applyBatch(ds).isOk());
  ASSERT_TRUE(action_->applyBatch(ds).isOk());
  EXPECT_EQ(action_->listTargets()->size(), 251u);  // 250 distinct + the client
  EXPECT_FALSE(reachable());
  inServer({"iptables", "-D", "RIPOSTE", "-s", ns_->clientIp(), "-j", "DROP"});
  EXPECT_TRUE(reachable());
  inServer({"iptables", "-A", "RIPOSTE", "-s", "198.51.100.7", "-j", "DROP"});
  auto rep = action_->reconcile(ds);
  ASSERT_TRUE(rep.isOk()) << rep.status().toString();
  EXPECT_EQ(rep->readded, 1u);
  EXPECT_EQ(rep->removed, 1u);
  EXPECT_FALSE(reachable());
  EXPECT_EQ(action_->listTargets()->count("198.51.100.7"), 0u);
  rep = action_->reconcile(ds);
  ASSERT_TRUE(rep.isOk());
  EXPECT_EQ(rep->readded + rep->removed, 0u);
}

// Rules have no kernel timeout: the engine's tick undoes an expired decision.
TEST_F(IptablesActionTest, EngineExpiryUndoesTheRule) {
  action_.reset();
  testing::TempDir dir;
  const std::string yaml = "actions:\n  - {name: fw, type: iptables}\n";
  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  auto cfg = parseConfig(yaml, "t.yaml", &reg);
  ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
  auto store = SqliteStore::open((dir.path() / "r.db").string());
  ASSERT_TRUE(store.isOk()) << store.status().toString();
  auto eng = Engine::create(*cfg, reg, store->get(), EngineOptions{});
  ASSERT_TRUE(eng.isOk()) << eng.status().toString();
  Decision d = blockFor(ns_->clientIp(), std::chrono::seconds(2));
  ASSERT_TRUE((*eng)->addManualDecision(d, "cli:test").isOk());
  (*eng)->drain();
  EXPECT_FALSE(reachable());
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  EXPECT_FALSE(reachable()) << "an iptables rule vanished before the engine expired it";
  (*eng)->tick(Timestamp::now());
  (*eng)->drain();
  EXPECT_TRUE(reachable()) << "the engine's expiry did not undo the rule";
  auto a = IptablesAction::create("fw", IptablesConfig{});
  action_ = std::move(*a);
  EXPECT_TRUE(action_->listTargets()->empty());
}

TEST(FirewallActionTargets, RefusesUsersAndBadConfig) {
  auto a = IpsetAction::create("ipset", IpsetConfig{});
  ASSERT_TRUE(a.isOk());
  const Decision user = blockFor("root", std::chrono::minutes(1), TargetType::kUser);
  EXPECT_EQ((*a)->apply(user).code(), StatusCode::kInvalidArgument);
  auto t = IptablesAction::create("iptables", IptablesConfig{});
  ASSERT_TRUE(t.isOk());
  EXPECT_EQ((*t)->apply(user).code(), StatusCode::kInvalidArgument);
  IpsetConfig bad;
  bad.set4 = "bad name; rm -rf /";
  EXPECT_FALSE(IpsetAction::create("ipset", bad).isOk());
  IptablesConfig badc;
  badc.ip6tables = "ip6tables";  // relative: refused (no PATH lookup, no shell)
  EXPECT_FALSE(IptablesAction::create("iptables", badc).isOk());
}

}  // namespace
}  // namespace riposte

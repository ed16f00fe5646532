// The nftables action for real: two network namespaces joined by a veth pair; the action runs
// in the "server" namespace and the client's TCP connections are dropped while a block is in
// force, and flow again after undo, after the element's timeout, and until reconcile repairs a
// set emptied behind the action's back.
#include "riposte/respond/nftables_action.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "riposte/core/ids.h"
#include "support/netns.h"

namespace riposte {
namespace {

using testing::NetnsGuard;
using testing::NetnsPair;
using testing::tcpConnectFrom;
using testing::TcpListener;

constexpr int kPort = 18022;

Decision blockFor(const std::string& value, Duration lifetime, TargetType type = TargetType::kIp) {
  Decision d;
  d.id = newId();
  d.target = {type, value};
  d.created = Timestamp::now();
  d.expires = d.created + lifetime;
  d.reason = "test";
  return d;
}

class NftablesActionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ns_ = std::make_unique<NetnsPair>(subnet_++ % 200 + 1);
    if (!ns_->error().empty()) GTEST_SKIP() << ns_->error();
    guard_ = std::make_unique<NetnsGuard>(ns_->server());
    if (!guard_->ok()) GTEST_SKIP() << "the kernel refused setns into " << ns_->server();
    listener_ = std::make_unique<TcpListener>(ns_->serverIp(), kPort);
    ASSERT_TRUE(listener_->ok());
    auto a = NftablesAction::create("fw", NftablesConfig{});
    ASSERT_TRUE(a.isOk()) << a.status().toString();
    action_ = std::move(*a);
    // Traffic flows before anything is blocked (the test's own precondition).
    ASSERT_TRUE(reachable());
  }
  void TearDown() override {
    action_.reset();
    listener_.reset();
    guard_.reset();
    ns_.reset();
  }
  bool reachable() { return tcpConnectFrom(ns_->client(), ns_->serverIp(), kPort); }

  static inline int subnet_ = 0;
  std::unique_ptr<NetnsPair> ns_;
  std::unique_ptr<NetnsGuard> guard_;
  std::unique_ptr<TcpListener> listener_;
  std::unique_ptr<NftablesAction> action_;
};

TEST_F(NftablesActionTest, BlocksAfterApplyAndFlowsAfterUndo) {
  const Decision d = blockFor(ns_->clientIp(), std::chrono::minutes(5));
  EXPECT_EQ(action_->verify(d).code(), StatusCode::kNotFound);
  ASSERT_TRUE(action_->apply(d).isOk());
  EXPECT_TRUE(action_->verify(d).isOk());
  EXPECT_FALSE(reachable()) << "traffic from a blocked address still flows";
  // Idempotent: applying twice changes nothing (one element).
  ASSERT_TRUE(action_->apply(d).isOk());
  auto els = action_->listElements();
  ASSERT_TRUE(els.isOk());
  EXPECT_EQ(els->size(), 1u);
  EXPECT_EQ(els->count(ns_->clientIp()), 1u);

  ASSERT_TRUE(action_->undo(d).isOk());
  EXPECT_TRUE(reachable()) << "traffic still dropped after undo";
  EXPECT_EQ(action_->verify(d).code(), StatusCode::kNotFound);
  // Undoing what is not there is fine.
  EXPECT_TRUE(action_->undo(d).isOk());
}

TEST_F(NftablesActionTest, RangesBlockToo) {
  const Decision d = blockFor(ns_->clientIp().substr(0, ns_->clientIp().rfind('.')) + ".0/30",
                              std::chrono::minutes(5), TargetType::kCidr);
  ASSERT_TRUE(action_->apply(d).isOk());
  EXPECT_TRUE(action_->verify(d).isOk());
  EXPECT_FALSE(reachable());
  ASSERT_TRUE(action_->undo(d).isOk());
  EXPECT_TRUE(reachable());
}

TEST_F(NftablesActionTest, FlowsAgainWhenTheElementTimesOut) {
  const Decision d = blockFor(ns_->clientIp(), std::chrono::seconds(2));
  ASSERT_TRUE(action_->apply(d).isOk());
  EXPECT_FALSE(reachable());
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));
  EXPECT_TRUE(reachable()) << "the kernel did not expire the element";
  EXPECT_EQ(action_->verify(d).code(), StatusCode::kNotFound);
}

TEST_F(NftablesActionTest, ManualDeleteUnblocksAndReconcileRepairs) {
  const Decision d = blockFor(ns_->clientIp(), std::chrono::minutes(5));
  ASSERT_TRUE(action_->apply(d).isOk());
  EXPECT_FALSE(reachable());
  // Someone deletes the element behind Riposte's back.
  std::string out;
  ASSERT_EQ(ns_->execInServer({"nft", "delete", "element", "inet", "riposte", "blocked4", "{",
                               ns_->clientIp(), "}"},
                              &out),
            0)
      << out;
  EXPECT_TRUE(reachable()) << "manual delete did not unblock";
  // And adds one no decision explains.
  ASSERT_EQ(ns_->execInServer({"nft", "add", "element", "inet", "riposte", "blocked4", "{",
                               "198.51.100.7", "timeout", "1h", "}"},
                              &out),
            0)
      << out;
  auto rep = action_->reconcile({d});
  ASSERT_TRUE(rep.isOk()) << rep.status().toString();
  EXPECT_EQ(rep->readded, 1u);
  EXPECT_EQ(rep->removed, 1u);
  EXPECT_FALSE(reachable()) << "reconcile did not re-add the vanished element";
  auto els = action_->listElements();
  ASSERT_TRUE(els.isOk());
  EXPECT_EQ(*els, std::set<std::string>{ns_->clientIp()});

  // A set flushed entirely is repaired the same way.
  ASSERT_EQ(ns_->execInServer({"nft", "flush", "set", "inet", "riposte", "blocked4"}, &out), 0);
  EXPECT_TRUE(reachable());
  rep = action_->reconcile({d});
  ASSERT_TRUE(rep.isOk());
  EXPECT_EQ(rep->readded, 1u);
  EXPECT_FALSE(reachable());
  // Nothing to do when in step.
  rep = action_->reconcile({d});
  ASSERT_TRUE(rep.isOk());
  EXPECT_EQ(rep->readded + rep->removed, 0u);
}

TEST_F(NftablesActionTest, BatchAddsManyInOneTransaction) {
  std::vector<Decision> ds;
  for (int i = 0; i < 2000; ++i) {
    ds.push_back(blockFor("203.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1),
                          std::chrono::minutes(10)));
  }
  ds.push_back(blockFor("2001:db8::7", std::chrono::minutes(10)));
  ds.push_back(blockFor(ns_->clientIp(), std::chrono::minutes(10)));
  ASSERT_TRUE(action_->applyBatch(ds).isOk());
  auto els = action_->listElements();
  ASSERT_TRUE(els.isOk());
  EXPECT_EQ(els->size(), ds.size());
  EXPECT_EQ(els->count("2001:db8::7"), 1u);
  EXPECT_FALSE(reachable());
  // Re-applying the batch (a restart) changes nothing.
  ASSERT_TRUE(action_->applyBatch(ds).isOk());
  EXPECT_EQ(action_->listElements()->size(), ds.size());
}

// Batches are sent in nft's own syntax; a table named like one of its keywords ("drop" is a
// valid table name in our configuration) cannot be written in it, and gets the same batch in
// the JSON form: addresses and ranges of both families, with their timeouts, in either case.
TEST_F(NftablesActionTest, BatchesReachTheSetsWhateverTheTableIsCalled) {
  for (const std::string table : {"riposte", "drop"}) {
    SCOPED_TRACE(table);
    NftablesConfig cfg;
    cfg.table = table;
    auto made = NftablesAction::create("fw-" + table, cfg);
    ASSERT_TRUE(made.isOk()) << made.status().toString();
    auto& a = *made;
    const std::vector<Decision> ds = {
        blockFor(ns_->clientIp(), std::chrono::minutes(10)),
        blockFor("2001:db8::5", std::chrono::minutes(10)),
        blockFor("198.51.100.0/24", std::chrono::minutes(10), TargetType::kCidr),
        blockFor("2001:db8:2::/48", std::chrono::minutes(10), TargetType::kCidr),
    };
    Status st = a->applyBatch(ds);
    ASSERT_TRUE(st.isOk()) << st.toString();
    EXPECT_FALSE(reachable());
    auto els = a->listElements();
    ASSERT_TRUE(els.isOk()) << els.status().toString();
    EXPECT_EQ(*els, (std::set<std::string>{ns_->clientIp(), "2001:db8::5", "198.51.100.0/24",
                                           "2001:db8:2::/48"}));
    std::string out;
    // (nft's command line cannot name such a table either: the whole ruleset, as JSON.)
    ASSERT_EQ(ns_->execInServer({"nft", "-j", "list", "ruleset"}, &out), 0);
    EXPECT_NE(out.find("\"expires\""), std::string::npos) << "elements without timeout: " << out;
    ASSERT_TRUE(a->dropTable().isOk());
    EXPECT_TRUE(reachable());
  }
}

// Single addresses go to the hash sets blocked4/blocked6, ranges to the interval sets
// ranges4/ranges6; reconcile and listing see all four.
TEST_F(NftablesActionTest, AddressesInHashSetsRangesInIntervalSets) {
  const Decision addr = blockFor(ns_->clientIp(), std::chrono::minutes(10));
  const Decision range = blockFor("198.51.100.0/24", std::chrono::minutes(10), TargetType::kCidr);
  const Decision range6 = blockFor("2001:db8:1::/48", std::chrono::minutes(10), TargetType::kCidr);
  const Decision addr6 = blockFor("2001:db8::9", std::chrono::minutes(10));
  ASSERT_TRUE(action_->applyBatch({addr, range, range6, addr6}).isOk());
  EXPECT_FALSE(reachable());
  std::string out;
  ASSERT_EQ(ns_->execInServer({"nft", "list", "set", "inet", "riposte", "blocked4"}, &out), 0);
  EXPECT_EQ(out.find("interval"), std::string::npos) << out;
  EXPECT_NE(out.find(ns_->clientIp()), std::string::npos) << out;
  EXPECT_EQ(out.find("198.51.100.0"), std::string::npos) << out;
  ASSERT_EQ(ns_->execInServer({"nft", "list", "set", "inet", "riposte", "ranges4"}, &out), 0);
  EXPECT_NE(out.find("interval"), std::string::npos) << out;
  EXPECT_NE(out.find("198.51.100.0/24"), std::string::npos) << out;
  ASSERT_EQ(ns_->execInServer({"nft", "list", "set", "inet", "riposte", "ranges6"}, &out), 0);
  EXPECT_NE(out.find("2001:db8:1::/48"), std::string::npos) << out;
  for (const auto& d : {addr, range, range6, addr6}) {
    EXPECT_TRUE(action_->verify(d).isOk()) << d.target.value;
  }
  auto els = action_->listElements();
  ASSERT_TRUE(els.isOk());
  EXPECT_EQ(*els, (std::set<std::string>{ns_->clientIp(), "198.51.100.0/24", "2001:db8:1::/48",
                                         "2001:db8::9"}));
  // The range's decision ended: reconcile removes it from the interval set, keeps the rest.
  auto rep = action_->reconcile({addr, range6, addr6});
  ASSERT_TRUE(rep.isOk()) << rep.status().toString();
  EXPECT_EQ(rep->removed, 1u);
  EXPECT_EQ(action_->verify(range).code(), StatusCode::kNotFound);
  EXPECT_TRUE(action_->verify(addr).isOk());
  // A range blocks traffic from inside it.
  ASSERT_TRUE(action_->undo(addr).isOk());
  EXPECT_TRUE(reachable());
  const std::string ip = ns_->clientIp();
  const Decision around =
      blockFor(ip.substr(0, ip.rfind('.')) + ".0/24", std::chrono::minutes(10), TargetType::kCidr);
  ASSERT_TRUE(action_->apply(around).isOk());
  EXPECT_FALSE(reachable());
}

// A table made by an earlier version (addresses in interval sets) is brought to the current
// layout on first use: the address sets are replaced, the rules re-made, and blocking works.
TEST_F(NftablesActionTest, ReplacesTheAddressSetsOfTheEarlierLayout) {
  std::string out;
  const std::string old_layout = R"(add table inet riposte
add set inet riposte blocked4 { type ipv4_addr; flags timeout,interval; }
add set inet riposte blocked6 { type ipv6_addr; flags timeout,interval; }
add chain inet riposte input { type filter hook input priority -10; policy accept; }
add rule inet riposte input ip saddr @blocked4 drop
add rule inet riposte input ip6 saddr @blocked6 drop
add element inet riposte blocked4 { 198.51.100.0/24 timeout 1h }
)";
  const std::string file = ::testing::TempDir() + "/rp-old-layout.nft";
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(old_layout.c_str(), f);
    std::fclose(f);
  }
  ASSERT_EQ(ns_->execInServer({"nft", "-f", file}, &out), 0) << out;
  std::remove(file.c_str());
  const Decision d = blockFor(ns_->clientIp(), std::chrono::minutes(5));
  Status st = action_->apply(d);
  ASSERT_TRUE(st.isOk()) << st.toString();
  EXPECT_FALSE(reachable());
  ASSERT_EQ(ns_->execInServer({"nft", "list", "set", "inet", "riposte", "blocked4"}, &out), 0);
  EXPECT_EQ(out.find("interval"), std::string::npos) << out;
  auto els = action_->listElements();
  ASSERT_TRUE(els.isOk());
  EXPECT_EQ(*els, std::set<std::string>{ns_->clientIp()});
}

TEST(NftablesActionTargets, RefusesUsers) {
  auto a = NftablesAction::create("fw", NftablesConfig{});
  ASSERT_TRUE(a.isOk());
  Decision d = blockFor("root", std::chrono::minutes(1), TargetType::kUser);
  // Refused before touching the kernel for the target (setup may still fail outside root).
  Status st = (*a)->apply(d);
  EXPECT_FALSE(st.isOk());
}

}  // namespace
}  // namespace riposte

// Per-action dry run with real components: an engine with the nftables action in dry run and a
// JSON webhook running normally, in a network namespace. The webhook fires; the firewall is not
// touched (no table, traffic flows); the audit says what the firewall would have done. The same
// engine without the flag blocks (the test can tell the difference).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "riposte/core/registry.h"
#include "riposte/engine/engine.h"
#include "riposte/store/sqlite_store.h"
#include "support/http_server.h"
#include "support/netns.h"
#include "support/test_support.h"

namespace riposte {
namespace {

using testing::NetnsGuard;
using testing::NetnsPair;

constexpr int kPort = 18026;

std::vector<AuditEntry> entries(Store& s, const std::string& kind) {
  std::vector<AuditEntry> out;
  auto all = s.listAudit(0, 100000);
  if (!all) return out;
  for (auto& e : *all) {
    if (e.kind == kind) out.push_back(std::move(e));
  }
  return out;
}

TEST(PerActionDryRun, FirewallOnlySaysWhatItWouldDoWhileTheWebhookFires) {
  if (geteuid() != 0) GTEST_SKIP() << "not root: the test needs CAP_NET_ADMIN";
  if (access("/usr/sbin/nft", X_OK) != 0) GTEST_SKIP() << "no /usr/sbin/nft binary";
  NetnsPair ns(234);
  if (!ns.error().empty()) GTEST_SKIP() << ns.error();
  NetnsGuard guard(ns.server());  // the engine's threads are started here, so they run inside
  if (!guard.ok()) GTEST_SKIP() << "the kernel refused setns into " << ns.server();
  testing::TcpListener listener(ns.serverIp(), kPort);
  ASSERT_TRUE(listener.ok());
  auto reachable = [&] { return testing::tcpConnectFrom(ns.client(), ns.serverIp(), kPort); };
  ASSERT_TRUE(reachable());
  auto tableExists = [&] {
    return ns.execInServer({"nft", "list", "table", "inet", "rpdry"}) == 0;
  };
  testing::HttpServer hook;  // on the namespace's loopback

  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  testing::TempDir dir;
  auto opened = SqliteStore::open((dir.path() / "r.db").string());
  ASSERT_TRUE(opened.isOk());
  std::unique_ptr<SqliteStore> store = std::move(*opened);
  auto makeEngine = [&](bool dry) -> std::unique_ptr<Engine> {
    const std::string yaml = R"(
detectors:
  - {name: ssh, type: threshold, kinds: [auth], outcome: failure, threshold: 1}
actions:
  - {name: fw, type: nftables, table: rpdry, dry_run: )" +
                             std::string(dry ? "true" : "false") + R"(}
  - {name: hook, type: webhook, url: ")" +
                             hook.url("/hook") + R"("}
response:
  default_duration: 4h
  max_blocks_per_minute: 0
)";
    auto cfg = parseConfig(yaml, "dry.yaml", &reg);
    EXPECT_TRUE(cfg.isOk()) << cfg.status().toString();
    if (!cfg.isOk()) return nullptr;
    auto e = Engine::create(*cfg, reg, store.get(), EngineOptions{});
    EXPECT_TRUE(e.isOk()) << e.status().toString();
    return e.isOk() ? std::move(*e) : nullptr;
  };
  auto attack = [&](Engine& e, const std::string& ip) {
    ParseContext ctx;
    ctx.year = 2026;
    const std::string line =
        "Feb 12 14:10:22 host1 sshd[7]: Failed password for root from " + ip + " port 5 ssh2";
    e.process(**e.parser("sshd"), ctx, SourceLine{line, "test", 0, {}, false});
  };

  auto engine = makeEngine(true);
  ASSERT_NE(engine, nullptr);
  attack(*engine, ns.clientIp());
  engine->drain();
  // The webhook ran; the firewall was never touched and traffic flows.
  auto reqs = hook.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_NE(reqs[0].body.find(ns.clientIp()), std::string::npos) << reqs[0].body;
  EXPECT_FALSE(tableExists()) << "a dry-run nftables action created its table";
  EXPECT_TRUE(reachable()) << "a dry-run block dropped traffic";
  // The decision is stored active; the audit marks what fw would have done.
  DecisionFilter f;
  f.state = DecisionState::kActive;
  auto active = store->listDecisions(f);
  ASSERT_TRUE(active.isOk());
  ASSERT_EQ(active->size(), 1u);
  auto dry = entries(*store, "action.dry_run");
  ASSERT_EQ(dry.size(), 1u);
  EXPECT_EQ(dry[0].reason, "fw: would block " + ns.clientIp() + " for 4h");
  EXPECT_EQ(dry[0].target, ns.clientIp());
  auto applied = entries(*store, "action.applied");
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].reason, "hook");
  EXPECT_FALSE(engine->manualMode());
  EXPECT_EQ(engine->stats().actions_applied, 1u);  // the webhook only

  // A restart restores through the dry-run action: said, not done.
  engine.reset();
  engine = makeEngine(true);
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(engine->restore().isOk());
  engine->drain();
  dry = entries(*store, "action.dry_run");
  ASSERT_EQ(dry.size(), 2u);
  EXPECT_EQ(dry[1].reason, "fw: would re-apply 1 decisions (restore)");
  EXPECT_FALSE(tableExists());

  // Revoking: the webhook is told, fw says what it would undo.
  ASSERT_TRUE(engine->revokeDecision(active->front().id, "cli:test", "").isOk());
  engine->drain();
  dry = entries(*store, "action.dry_run");
  ASSERT_EQ(dry.size(), 3u);
  EXPECT_EQ(dry[2].reason, "fw: would undo block on " + ns.clientIp());
  EXPECT_EQ(hook.requests().size(), 2u);
  EXPECT_TRUE(verifyAuditChain(*store->listAudit(0, 100000)).isOk());

  // The control: the same engine without dry_run blocks for real.
  engine.reset();
  engine = makeEngine(false);
  ASSERT_NE(engine, nullptr);
  attack(*engine, ns.clientIp());
  engine->drain();
  EXPECT_TRUE(tableExists());
  EXPECT_FALSE(reachable()) << "the control engine did not block";
  EXPECT_EQ(entries(*store, "action.dry_run").size(), 3u);
  engine.reset();
  ns.execInServer({"nft", "delete", "table", "inet", "rpdry"});
}

TEST(PerActionDryRun, TheFlagIsValidatedWithItsPosition) {
  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  auto ok =
      parseConfig("actions:\n  - {name: fw, type: nftables, dry_run: true}\n", "t.yaml", &reg);
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  for (const std::string type : {"nftables", "log", "exec"}) {
    const std::string yaml = "actions:\n  - name: a\n    type: " + type +
                             "\n    command: [/bin/true]\n    dry_run: maybe\n";
    auto bad = parseConfig(
        type == "exec" ? yaml
                       : "actions:\n  - name: a\n    type: " + type + "\n    dry_run: maybe\n",
        "t.yaml", &reg);
    ASSERT_FALSE(bad.isOk()) << type;
    const std::string msg = bad.status().message();
    EXPECT_NE(msg.find("actions[0].dry_run"), std::string::npos) << msg;
    EXPECT_NE(msg.find("true or false"), std::string::npos) << msg;
    EXPECT_NE(msg.find("t.yaml:"), std::string::npos) << msg;  // with its position
  }
}

}  // namespace
}  // namespace riposte

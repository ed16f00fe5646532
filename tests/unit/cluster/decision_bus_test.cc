// Decision fan-out between engines through a real redis-server: a decision on node A is
// enforced by node B (observed through B's `log` action), through B's policy (allowlist wins,
// duplicates ignored); revocations follow; a message B missed is repaired by reconcile; a Redis
// restart degrades and then recovers.
#include "riposte/cluster/decision_bus.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "riposte/core/ids.h"
#include "riposte/core/registry.h"
#include "riposte/engine/engine.h"
#include "riposte/engine/serve.h"
#include "riposte/net/redis_client.h"
#include "support/redis_server.h"

namespace riposte::cluster {
namespace {

using std::chrono::milliseconds;

Registries& registries() {
  static Registries* r = [] {
    auto* x = new Registries;
    (void)registerBuiltins(*x);
    return x;
  }();
  return *r;
}

// One node: its own store, engine (log action to a file) and bus. The test thread is the
// engine thread: pump() delivers what the bus received.
struct Node {
  testing::TempDir dir;
  Config cfg;
  StorePtr store;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<DecisionBus> bus;

  Node(const testing::RedisServer& server, const std::string& name, const std::string& extra = "") {
    const std::string yaml =
        "store:\n  path: " + (dir.path() / "r.db").string() +
        "\nactions:\n  - name: log\n    type: log\n    path: " + actionsFile().string() +
        "\ncluster:\n  redis: " + server.url() + "\n  node: " + name +
        "\n  reconcile_interval: 200ms\n" + extra;
    auto c = parseConfig(yaml, name + ".yaml", &registries());
    EXPECT_TRUE(c.isOk()) << c.status().toString();
    cfg = *c;
    auto s = openStore(cfg, registries());
    EXPECT_TRUE(s.isOk()) << s.status().toString();
    store = std::move(*s);
    EngineOptions eo;
    auto e = Engine::create(cfg, registries(), store.get(), eo);
    EXPECT_TRUE(e.isOk()) << e.status().toString();
    engine = std::move(*e);
    auto o = DecisionBusOptions::fromConfig(cfg);
    EXPECT_TRUE(o.isOk() && o->has_value());
    DecisionBusOptions opts = **o;
    opts.redis.connect_timeout = milliseconds(200);
    opts.redis.backoff_initial = milliseconds(10);
    opts.redis.backoff_max = milliseconds(200);
    bus = std::make_unique<DecisionBus>(std::move(opts));
    engine->setDecisionListener([this](const Decision& d) { bus->publishDecision(d); });
  }

  std::filesystem::path actionsFile() const { return dir.path() / "actions.jsonl"; }
  void pump() { bus->deliver(*engine, store.get()); }
  // Lines of the log action that mention `target` with `what` (would-enforce / would-undo).
  size_t logged(const std::string& what, const std::string& target) {
    engine->drain();
    size_t n = 0;
    for (const auto& l : testing::readLines(actionsFile())) {
      if (l.find(what) != std::string::npos && l.find("\"" + target + "\"") != std::string::npos)
        ++n;
    }
    return n;
  }
  std::optional<Decision> find(const std::string& id) {
    DecisionFilter f;
    f.limit = 100000;
    auto all = store->listDecisions(f);
    if (!all) return std::nullopt;
    for (auto& d : *all) {
      if (d.id == id) return d;
    }
    return std::nullopt;
  }
  bool audited(const std::string& kind) {
    auto a = store->listAudit(0, 100000);
    if (!a) return false;
    for (const auto& e : *a) {
      if (e.kind == kind) return true;
    }
    return false;
  }
};

Decision makeDecision(const std::string& target, Duration lifetime = std::chrono::hours(1)) {
  const Timestamp now = Timestamp::now();
  Decision d;
  d.id = newId(now);
  d.target = {TargetType::kIp, target};
  d.detector = "test";
  d.reason = "seen attacking";
  d.first_seen = d.last_seen = d.created = now;
  d.expires = now + lifetime;
  return d;
}

// Pumps every node until `pred` holds (or `timeout_ms`).
bool pumpUntil(std::initializer_list<Node*> nodes, const std::function<bool()>& pred,
               int timeout_ms = 20000) {
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    for (Node* n : nodes) n->pump();
    if (pred()) return true;
    nodes.begin()[0]->bus->waitForInbound(milliseconds(5));
  }
  return false;
}

bool connected(Node& n) { return n.bus->health().connected; }

TEST(ClusterWire, RoundTripsADecisionAndRejectsGarbage) {
  WireMessage m;
  m.type = WireMessage::Type::kRevoke;
  m.node = "edge-1";
  m.instance = "edge-1/abc";
  m.decision = makeDecision("2001:db8::7");
  m.decision.target.type = TargetType::kIp;
  m.decision.origin = "cli:alice";
  m.decision.events = 12;
  m.decision.finding_id = "F1";
  m.decision.expires.offset_minutes = 120;
  auto back = decodeWire(encodeWire(m));
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_EQ(back->type, m.type);
  EXPECT_EQ(back->node, "edge-1");
  EXPECT_EQ(back->instance, "edge-1/abc");
  EXPECT_EQ(back->decision.id, m.decision.id);
  EXPECT_EQ(back->decision.target, m.decision.target);
  EXPECT_EQ(back->decision.expires, m.decision.expires);
  EXPECT_EQ(back->decision.expires.offset_minutes, 120);
  EXPECT_EQ(back->decision.origin, "cli:alice");
  EXPECT_EQ(back->decision.events, 12u);
  EXPECT_EQ(back->decision.finding_id, "F1");
  for (const char* bad : {"", "[]", "{\"v\":2}", "{\"v\":1,\"type\":\"x\"}",
                          "{\"v\":1,\"type\":\"decision\",\"id\":\"a\"}"}) {
    EXPECT_FALSE(decodeWire(bad).isOk()) << bad;
  }
}

TEST(ClusterConfig, IsValidatedWithPositions) {
  std::vector<ConfigDiagnostic> diags;
  auto bad = parseConfig(
      "cluster:\n  redis: redis://h:notaport\n  node: \"a b\"\n  reconcile_interval: 1ms\n"
      "  peers: 3\n",
      "c.yaml", nullptr, &diags);
  ASSERT_FALSE(bad.isOk());
  std::string all;
  for (const auto& d : diags) all += d.toString() + "\n";
  EXPECT_NE(all.find("c.yaml:2:10: cluster.redis: redis URL: bad port 'notaport'"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("c.yaml:3:9: cluster.node"), std::string::npos) << all;
  EXPECT_NE(all.find("cluster.reconcile_interval: must be at least 100ms"), std::string::npos)
      << all;
  EXPECT_NE(all.find("peers"), std::string::npos) << all;
  diags.clear();
  EXPECT_FALSE(parseConfig("cluster:\n  node: a\n", "c.yaml", nullptr, &diags).isOk());
  ASSERT_FALSE(diags.empty());
  EXPECT_NE(diags[0].toString().find("redis"), std::string::npos) << diags[0].toString();

  auto good =
      parseConfig("cluster:\n  redis: redis://10.1.2.3:7000\n  node: edge-2\n", "c.yaml", nullptr);
  ASSERT_TRUE(good.isOk()) << good.status().toString();
  auto o = DecisionBusOptions::fromConfig(*good);
  ASSERT_TRUE(o.isOk() && o->has_value());
  EXPECT_EQ((*o)->node, "edge-2");
  EXPECT_EQ((*o)->redis.port, 7000);
  EXPECT_EQ((*o)->reconcile_interval, milliseconds(5000));
  auto none = DecisionBusOptions::fromConfig(Config{});
  ASSERT_TRUE(none.isOk());
  EXPECT_FALSE(none->has_value());
}

TEST(DecisionBus, DecisionOnAIsEnforcedByBWellUnderASecond) {
  RIPOSTE_REQUIRE_REDIS(server);
  Node a(server, "a"), b(server, "b");
  a.bus->start();
  b.bus->start();
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return connected(a) && connected(b); }));
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return b.bus->health().reconciles > 0; }));

  Decision d = makeDecision("45.12.0.9");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(a.engine->addManualDecision(d, "cli:test").isOk());
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return b.logged("would-enforce", "45.12.0.9") == 1; }))
      << testing::readFile(b.actionsFile());
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, milliseconds(500));
  // B stored it under the same id, audited where it came from; A did not apply its own.
  auto local = b.find(d.id);
  ASSERT_TRUE(local.has_value());
  EXPECT_EQ(local->state, DecisionState::kActive);
  EXPECT_EQ(local->expires, d.expires);
  EXPECT_TRUE(b.audited("decision.received"));
  EXPECT_EQ(b.engine->stats().remote_applied, 1u);
  EXPECT_EQ(a.engine->stats().remote_applied, 0u);
  EXPECT_EQ(a.logged("would-enforce", "45.12.0.9"), 1u);
  // A later reconcile does not apply it again.
  const uint64_t reconciles = b.bus->health().reconciles;
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return b.bus->health().reconciles > reconciles; }));
  EXPECT_EQ(b.logged("would-enforce", "45.12.0.9"), 1u);
  EXPECT_EQ(b.engine->stats().remote_applied, 1u);
  // Redis holds it with its expiry.
  net::RedisClient c(a.bus->options().redis);
  auto score = c.command({"ZSCORE", a.bus->expiryKey(), d.id});
  ASSERT_TRUE(score.isOk());
  EXPECT_EQ(score->str, std::to_string(d.expires.micros / 1000));
}

TEST(DecisionBus, AllowlistWinsAndDuplicatesAreIgnored) {
  RIPOSTE_REQUIRE_REDIS(server);
  Node a(server, "a"), b(server, "b", "response:\n  allowlist: [45.12.0.0/16]\n");
  a.bus->start();
  b.bus->start();
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return connected(a) && connected(b); }));
  ASSERT_TRUE(a.engine->addManualDecision(makeDecision("45.12.3.4"), "cli:test").isOk());
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return b.engine->stats().remote_allowlisted >= 1; }));
  EXPECT_EQ(b.logged("would-enforce", "45.12.3.4"), 0u);
  EXPECT_TRUE(b.audited("decision.refused.allowlisted"));
  EXPECT_EQ(a.logged("would-enforce", "45.12.3.4"), 1u);  // A's own allowlist has no such range

  // B blocked 91.0.0.1 itself; A's decision on the same target is a duplicate there.
  ASSERT_TRUE(b.engine->addManualDecision(makeDecision("91.0.0.1"), "cli:test").isOk());
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return a.engine->stats().remote_applied == 1; }));
  // ...and A has it from B already, so A's own attempt is refused by A's policy too.
  Decision again = makeDecision("91.0.0.1");
  b.bus->publishDecision(again);  // as if another node had decided it as well
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return a.engine->stats().remote_duplicates >= 1; }));
  EXPECT_EQ(a.logged("would-enforce", "91.0.0.1"), 1u);
  EXPECT_EQ(b.logged("would-enforce", "91.0.0.1"), 1u);
}

TEST(DecisionBus, RevocationReachesEveryNode) {
  RIPOSTE_REQUIRE_REDIS(server);
  Node a(server, "a"), b(server, "b");
  a.bus->start();
  b.bus->start();
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return connected(a) && connected(b); }));
  Decision d = makeDecision("45.12.0.10");
  ASSERT_TRUE(a.engine->addManualDecision(d, "cli:test").isOk());
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return b.logged("would-enforce", "45.12.0.10") == 1; }));
  // What `riposte decisions delete` does on A: revoke in A's store, publish.
  ASSERT_TRUE(a.store->updateDecisionState(d.id, DecisionState::kRevoked).isOk());
  a.bus->publishRevocation(d);
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return b.logged("would-undo", "45.12.0.10") == 1; }))
      << testing::readFile(b.actionsFile());
  EXPECT_EQ(b.find(d.id)->state, DecisionState::kRevoked);
  EXPECT_EQ(b.engine->stats().remote_revoked, 1u);
  EXPECT_TRUE(b.audited("decision.revoked"));
  // A revoked decision is never resurrected by a later reconcile; a new decision on the target
  // is allowed again.
  const uint64_t reconciles = b.bus->health().reconciles;
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return b.bus->health().reconciles > reconciles; }));
  EXPECT_EQ(b.find(d.id)->state, DecisionState::kRevoked);
  ASSERT_TRUE(a.engine->addManualDecision(makeDecision("45.12.0.10"), "cli:test").isOk());
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return b.logged("would-enforce", "45.12.0.10") == 2; }));
}

TEST(DecisionBus, MessagesMissedWhileDisconnectedAreRepairedByReconcile) {
  RIPOSTE_REQUIRE_REDIS(server);
  Node a(server, "a"), b(server, "b");
  a.bus->start();
  ASSERT_TRUE(pumpUntil({&a}, [&] { return connected(a); }));
  // B is not connected: it misses both the decision and, later, a revocation.
  Decision kept = makeDecision("45.12.0.20");
  Decision revoked = makeDecision("45.12.0.21");
  ASSERT_TRUE(a.engine->addManualDecision(kept, "cli:test").isOk());
  ASSERT_TRUE(a.engine->addManualDecision(revoked, "cli:test").isOk());
  // At least both (a reconcile on A's first connection may publish them once more).
  ASSERT_TRUE(pumpUntil({&a}, [&] { return a.bus->health().published >= 2; }));
  b.bus->start();
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] {
    return b.logged("would-enforce", "45.12.0.20") == 1 &&
           b.logged("would-enforce", "45.12.0.21") == 1;
  })) << testing::readFile(b.actionsFile());
  EXPECT_GE(b.bus->health().repaired, 2u);
  EXPECT_EQ(b.bus->health().received, 0u);  // nothing came by pub/sub

  b.bus->stop();
  ASSERT_TRUE(a.store->updateDecisionState(revoked.id, DecisionState::kRevoked).isOk());
  const uint64_t published = a.bus->health().published;
  a.bus->publishRevocation(revoked);
  ASSERT_TRUE(pumpUntil({&a}, [&] { return a.bus->health().published > published; }));
  b.bus->start();
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return b.logged("would-undo", "45.12.0.21") == 1; }));
  EXPECT_EQ(b.find(revoked.id)->state, DecisionState::kRevoked);
  EXPECT_EQ(b.find(kept.id)->state, DecisionState::kActive);
}

TEST(DecisionBus, RedisOutageDegradesKeepsEnforcingLocallyAndRecovers) {
  RIPOSTE_REQUIRE_REDIS(server);
  Node a(server, "a"), b(server, "b");
  a.bus->start();
  b.bus->start();
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return connected(a) && connected(b); }));
  Decision before = makeDecision("45.12.0.30");
  ASSERT_TRUE(a.engine->addManualDecision(before, "cli:test").isOk());
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return b.logged("would-enforce", "45.12.0.30") == 1; }));

  server.stop();  // no persistence: Redis comes back empty
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return a.bus->health().degraded; }));
  Decision during = makeDecision("45.12.0.31");
  ASSERT_TRUE(a.engine->addManualDecision(during, "cli:test").isOk());
  // Enforced locally at once; degraded state reported (log + audit) after a second.
  EXPECT_EQ(a.logged("would-enforce", "45.12.0.31"), 1u);
  ASSERT_TRUE(pumpUntil(
      {&a, &b}, [&] { return a.audited("cluster.degraded"); }, 5000));
  EXPECT_EQ(a.bus->health().pending, 1u);
  EXPECT_FALSE(a.bus->health().last_error.empty());

  ASSERT_TRUE(server.start());
  ASSERT_TRUE(pumpUntil(
      {&a, &b}, [&] { return b.logged("would-enforce", "45.12.0.31") == 1; }, 10000))
      << testing::readFile(b.actionsFile());
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] { return a.audited("cluster.recovered"); }));
  // Everything queued while Redis was down (and what reconcile republishes) goes out.
  EXPECT_TRUE(pumpUntil({&a, &b}, [&] { return a.bus->health().pending == 0; }));
  // Redis lost the earlier decision; the nodes that hold it published it again.
  net::RedisClient c(a.bus->options().redis);
  ASSERT_TRUE(pumpUntil({&a, &b}, [&] {
    auto r = c.command({"HEXISTS", a.bus->stateKey(), before.id});
    return r.isOk() && r->integer == 1;
  }));
  EXPECT_EQ(b.logged("would-enforce", "45.12.0.30"), 1u);  // not applied twice
}

}  // namespace
}  // namespace riposte::cluster

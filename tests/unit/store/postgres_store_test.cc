// What only the PostgreSQL store does: day partitions and retention, configuration, the
// migrate command, and degraded operation while the server is down or restarting.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "riposte/core/config.h"
#include "riposte/core/ids.h"
#include "riposte/core/registry.h"
#include "riposte/engine/serve.h"
#include "unit/store/store_backends.h"

namespace riposte {
namespace {

using testing::PgServer;
using testing::TempDir;

constexpr int64_t kDay = 86'400;

Timestamp dayStart(int64_t days_from_today) {
  return Timestamp::fromSeconds((Timestamp::now().seconds() / kDay + days_from_today) * kDay);
}

std::vector<EvidenceEvent> eventsAt(Timestamp t, int n, const std::string& tag) {
  std::vector<EvidenceEvent> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    out[static_cast<size_t>(i)].timestamp = t + std::chrono::seconds(i);
    out[static_cast<size_t>(i)].source = tag;
    out[static_cast<size_t>(i)].raw = tag + " " + std::to_string(i);
  }
  return out;
}

// A fresh database on the shared server, or a skip when PostgreSQL is absent.
#define RIPOSTE_PG_DATABASE(url)                                                            \
  if (!PgServer::binDir())                                                                  \
    GTEST_SKIP() << "postgresql absent: initdb/postgres not found (install postgresql, or " \
                    "set RIPOSTE_PG_BIN)";                                                  \
  std::string url##_err;                                                                    \
  PgServer* url##_server = PgServer::shared(&url##_err);                                    \
  ASSERT_NE(url##_server, nullptr) << url##_err;                                            \
  const std::string url =                                                                   \
      url##_server->createDatabase(PgServer::uniqueDatabaseName(), &url##_err);             \
  ASSERT_FALSE(url.empty()) << url##_err

TEST(PostgresStore, EventLogIsPartitionedByDayWithRetention) {
  RIPOSTE_PG_DATABASE(url);
  TempDir dir;
  PostgresStoreOptions o;
  o.url = url;
  o.spill_path = (dir.path() / "spill.jsonl").string();
  o.retention_days = 3;
  auto s = PostgresStore::open(o);
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  PostgresStore& st = **s;
  EXPECT_TRUE(st.eventPartitions()->empty());

  // One batch spanning three days: today, yesterday and two days ago.
  std::vector<EvidenceEvent> batch;
  for (int d : {0, -1, -2}) {
    auto evs = eventsAt(dayStart(d), 100, "day" + std::to_string(-d));
    batch.insert(batch.end(), evs.begin(), evs.end());
  }
  // Older than the retention window: not kept.
  auto old = eventsAt(dayStart(-10), 5, "old");
  batch.insert(batch.end(), old.begin(), old.end());
  ASSERT_TRUE(st.appendEvents(batch).isOk());
  auto parts = st.eventPartitions();
  ASSERT_TRUE(parts.isOk()) << parts.status().toString();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ(*st.countEvents(dayStart(-2), dayStart(1)), 300);
  EXPECT_EQ(*st.countEvents(dayStart(-20), dayStart(-5)), 0);
  // Each day's rows are in that day's partition.
  auto rows = st.queryForTest("SELECT COUNT(*) FROM " + parts->back());
  ASSERT_TRUE(rows.isOk());
  EXPECT_EQ((*rows)[0][0], "100");

  // Three days later only today's partition is inside the window (days >= today - 3); the
  // other two are dropped whole.
  auto dropped = st.applyRetention(Timestamp::now() + std::chrono::hours(72));
  ASSERT_TRUE(dropped.isOk()) << dropped.status().toString();
  EXPECT_EQ(*dropped, 2);
  EXPECT_EQ(st.eventPartitions()->size(), 1u);
  EXPECT_EQ(*st.countEvents(dayStart(-2), dayStart(1)), 100);
  // A later batch for a dropped day re-creates its partition (it is still inside the window
  // for the real clock).
  ASSERT_TRUE(st.appendEvents(eventsAt(dayStart(-1), 7, "again")).isOk());
  EXPECT_EQ(*st.countEvents(dayStart(-1), dayStart(0)), 7);
}

TEST(PostgresStore, AuditTableRefusesTruncate) {
  RIPOSTE_PG_DATABASE(url);
  TempDir dir;
  PostgresStoreOptions o;
  o.url = url;
  o.spill_path = (dir.path() / "spill.jsonl").string();
  auto s = PostgresStore::open(o);
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  AuditEntry e;
  e.actor = "engine";
  e.kind = "k";
  ASSERT_TRUE((*s)->appendAudit(e).isOk());
  auto st = (*s)->execForTest("TRUNCATE audit");
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("append-only"), std::string::npos) << st.message();
  EXPECT_EQ((*s)->listAudit(0, 10)->size(), 1u);
}

TEST(PostgresStore, UnreachableAtOpenIsAClearError) {
  TempDir dir;
  PostgresStoreOptions o;
  o.url = "host=127.0.0.1 port=1 user=riposte dbname=riposte";  // nothing listens on port 1
  o.spill_path = (dir.path() / "spill.jsonl").string();
  o.connect_timeout_s = 2;
  auto s = PostgresStore::open(o);
  ASSERT_FALSE(s.isOk());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(s.status().message().find("postgres"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(o.spill_path));  // nothing left behind
}

TEST(PostgresStore, ConfigNamesTheStoreKeysWithPositions) {
  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  std::vector<ConfigDiagnostic> diags;
  auto c = parseConfig("store:\n  type: postgres\n  retention_days: -1\n  bogus: 1\n", "r.yaml",
                       &reg, &diags);
  ASSERT_FALSE(c.isOk());
  const std::string msg = c.status().message();
  EXPECT_NE(msg.find("r.yaml:2:3: store.url: is required"), std::string::npos) << msg;
  EXPECT_NE(msg.find("r.yaml:3:19: store.retention_days"), std::string::npos) << msg;
  EXPECT_NE(msg.find("r.yaml:4:3: store.bogus: unknown key"), std::string::npos) << msg;
  // sqlite does not take a url.
  auto d = parseConfig("store:\n  type: sqlite\n  url: x\n", "s.yaml", &reg, nullptr);
  ASSERT_FALSE(d.isOk());
  EXPECT_NE(d.status().message().find("s.yaml:3:3: store.url: unknown key"), std::string::npos)
      << d.status().message();
}

TEST(PostgresStore, MigrateCommandAndServeConfigOpenTheDatabase) {
  RIPOSTE_PG_DATABASE(url);
  TempDir dir;
  const auto cfg = dir.path() / "riposte.yaml";
  {
    std::ofstream out(cfg);
    out << "engine:\n  data_dir: " << (dir.path() / "var").string()
        << "\nstore:\n  type: postgres\n  url: \"${RIPOSTE_TEST_PG_URL}\"\n"
        << "  retention_days: 7\n";
  }
  ::setenv("RIPOSTE_TEST_PG_URL", url.c_str(), 1);
  auto r = testing::runRiposte({"db", "migrate", "--config", cfg.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("store postgres: schema version " +
                       std::to_string(PostgresStore::latestSchemaVersion())),
            std::string::npos)
      << r.out;
  // Again: nothing left to apply, same version.
  r = testing::runRiposte({"db", "migrate", "--config", cfg.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  auto c = loadConfig(cfg.string(), &reg);
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  auto s = openStore(*c, reg);
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  EXPECT_EQ((*s)->schemaVersion(), PostgresStore::latestSchemaVersion());
  EXPECT_FALSE((*s)->degraded());
}

// ---- degraded operation: a server of its own, stopped and restarted mid-run ----

struct Written {
  std::vector<Decision> decisions;
  std::vector<AuditEntry> audit;
  int findings = 0;
  int events = 0;
};

// Writes one "round" as the engine would: a finding, a decision, its audit entry, an event
// batch and an offset.
void writeRound(Store& s, int i, Written& w) {
  Finding f;
  f.id = newId();
  f.detector = "ssh-bruteforce";
  f.entity = {TargetType::kIp, "203.0.113." + std::to_string(i % 250)};
  f.evidence.push_back({Timestamp::now(), "auth.log", static_cast<uint64_t>(i), "raw", "{}"});
  ASSERT_TRUE(s.saveFinding(f).isOk());
  ++w.findings;
  Decision d;
  d.id = newId();
  d.target = f.entity;
  d.detector = f.detector;
  d.finding_id = f.id;
  d.reason = "round " + std::to_string(i);
  d.created = Timestamp::now();
  d.expires = d.created + std::chrono::hours(4);
  ASSERT_TRUE(s.saveDecision(d).isOk());
  w.decisions.push_back(d);
  AuditEntry a;
  a.actor = "engine";
  a.kind = "decision.created";
  a.target = d.target.value;
  a.reason = d.reason;
  a.details_json = d.toJson();
  ASSERT_TRUE(s.appendAudit(a).isOk());
  w.audit.push_back(a);
  auto evs = eventsAt(Timestamp::now(), 50, "round" + std::to_string(i));
  ASSERT_TRUE(s.appendEvents(evs).isOk());
  w.events += 50;
  ASSERT_TRUE(s.saveOffset("auth", "/var/log/auth.log", 1, static_cast<uint64_t>(i)).isOk());
}

void expectEverythingArrived(PostgresStore& s, const Written& w, Timestamp from) {
  EXPECT_EQ(*s.countFindings(), w.findings);
  auto ds = s.listDecisions({});
  ASSERT_TRUE(ds.isOk()) << ds.status().toString();
  ASSERT_EQ(ds->size(), w.decisions.size());
  for (size_t i = 0; i < w.decisions.size(); ++i) {
    bool found = false;
    for (const auto& d : *ds)
      found = found || (d.id == w.decisions[i].id && d.reason == w.decisions[i].reason);
    EXPECT_TRUE(found) << "decision " << i << " missing";
  }
  auto audit = s.listAudit(0, 100000);
  ASSERT_TRUE(audit.isOk());
  ASSERT_EQ(audit->size(), w.audit.size());
  EXPECT_TRUE(verifyAuditChain(*audit).isOk()) << verifyAuditChain(*audit).message();
  for (size_t i = 0; i < w.audit.size(); ++i) {
    EXPECT_EQ((*audit)[i].reason, w.audit[i].reason) << "audit order at " << i;
  }
  EXPECT_EQ(*s.countEvents(from, Timestamp::now() + std::chrono::hours(1)), w.events);
  auto off = s.loadOffset("auth", "/var/log/auth.log");
  ASSERT_TRUE(off.isOk() && off->has_value());
  EXPECT_EQ((*off)->second, w.decisions.size() - 1);
}

TEST(PostgresStoreDegraded, KeepsAcceptingWhileTheServerIsDownAndCatchesUp) {
  RIPOSTE_REQUIRE_POSTGRES(server);
  TempDir dir;
  PostgresStoreOptions o;
  o.url = server->url();
  o.spill_path = (dir.path() / "spill.jsonl").string();
  o.retry_interval = std::chrono::milliseconds(100);
  o.connect_timeout_s = 2;
  auto s = PostgresStore::open(o);
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  PostgresStore& st = **s;
  const Timestamp from = Timestamp::now() - std::chrono::seconds(1);
  Written w;
  for (int i = 0; i < 10; ++i) writeRound(st, i, w);
  EXPECT_FALSE(st.degraded());

  ASSERT_TRUE(server->stop());
  for (int i = 10; i < 40; ++i) writeRound(st, i, w);
  StoreHealth h = st.health();
  EXPECT_TRUE(h.degraded);
  EXPECT_FALSE(h.reason.empty());
  EXPECT_GE(h.pending_writes, 30u * 5);
  EXPECT_GT(h.pending_bytes, 0u);
  // Reads say so instead of answering from a stale view.
  EXPECT_EQ(st.listDecisions({}).status().code(), StatusCode::kUnavailable);

  // Restart: the store reconnects by itself, replays in order, and is healthy again.
  std::string err;
  ASSERT_TRUE(server->restart(&err)) << err;
  ASSERT_TRUE(st.waitHealthy(std::chrono::seconds(30))) << st.health().reason;
  h = st.health();
  EXPECT_EQ(h.pending_writes, 0u);
  EXPECT_GE(h.replayed_writes, 30u * 5);
  for (int i = 40; i < 45; ++i) writeRound(st, i, w);
  expectEverythingArrived(st, w, from);
  EXPECT_EQ(std::filesystem::file_size(o.spill_path), 0u);
}

TEST(PostgresStoreDegraded, JournalLeftByAnExitIsReplayedByTheNextOpen) {
  RIPOSTE_REQUIRE_POSTGRES(server);
  TempDir dir;
  PostgresStoreOptions o;
  o.url = server->url();
  o.spill_path = (dir.path() / "spill.jsonl").string();
  o.retry_interval = std::chrono::seconds(60);  // no background catch-up in this test
  o.connect_timeout_s = 2;
  const Timestamp from = Timestamp::now() - std::chrono::seconds(1);
  Written w;
  {
    auto s = PostgresStore::open(o);
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    for (int i = 0; i < 3; ++i) writeRound(**s, i, w);
    ASSERT_TRUE(server->stop());
    for (int i = 3; i < 20; ++i) writeRound(**s, i, w);
    EXPECT_TRUE((*s)->degraded());
  }  // the process "exits" degraded: only the journal has rounds 3..19
  std::string err;
  ASSERT_TRUE(server->restart(&err)) << err;
  auto s = PostgresStore::open(o);
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  EXPECT_FALSE((*s)->degraded());
  expectEverythingArrived(**s, w, from);
}

// A decision stored with its finding and audit entry while the server is down is one journal
// entry, replayed as one transaction: one the database refuses at replay leaves nothing of
// itself behind, and the others arrive whole with the chain intact.
TEST(PostgresStoreDegraded, DecisionWithAuditIsOneEntryReplayedAllOrNothing) {
  RIPOSTE_REQUIRE_POSTGRES(server);
  TempDir dir;
  PostgresStoreOptions o;
  o.url = server->url();
  o.spill_path = (dir.path() / "spill.jsonl").string();
  o.retry_interval = std::chrono::milliseconds(100);
  o.connect_timeout_s = 2;
  auto s = PostgresStore::open(o);
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  PostgresStore& st = **s;
  // The database will refuse the audit entry whose reason is "refuse me".
  ASSERT_TRUE(st.execForTest("CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                             "$$ BEGIN IF NEW.reason = 'refuse me' THEN RAISE EXCEPTION "
                             "'refused'; END IF; RETURN NEW; END $$; CREATE TRIGGER audit_refuse "
                             "BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_refuse()")
                  .isOk());
  auto save = [&](int i, const std::string& reason, Finding& f, Decision& d) {
    f.id = newId();
    f.detector = "ssh-bruteforce";
    f.entity = {TargetType::kIp, "198.51.100." + std::to_string(i)};
    f.evidence.push_back({Timestamp::now(), "auth.log", static_cast<uint64_t>(i), "raw", "{}"});
    d.id = newId();
    d.target = f.entity;
    d.finding_id = f.id;
    d.reason = reason;
    d.created = Timestamp::now();
    d.expires = d.created + std::chrono::hours(1);
    AuditEntry a;
    a.actor = "engine";
    a.kind = "decision.created";
    a.target = d.target.value;
    a.reason = reason;
    a.details_json = d.toJson();
    return st.saveDecisionWithAudit(&f, d, a);
  };
  Finding f0;
  Decision d0;
  ASSERT_TRUE(save(0, "before", f0, d0).isOk());

  ASSERT_TRUE(server->stop());
  std::vector<Finding> fs(6);
  std::vector<Decision> ds(6);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(save(i + 1, i == 2 ? "refuse me" : "while down", fs[i], ds[i]).isOk());
  }
  EXPECT_TRUE(st.degraded());
  EXPECT_EQ(st.health().pending_writes, 6u);  // one entry per decision, not three

  std::string err;
  ASSERT_TRUE(server->restart(&err)) << err;
  ASSERT_TRUE(st.waitHealthy(std::chrono::seconds(30))) << st.health().reason;
  EXPECT_EQ(*st.countFindings(), 6);
  for (int i = 0; i < 6; ++i) {
    auto got = st.getDecision(ds[i].id);
    ASSERT_TRUE(got.isOk()) << got.status().toString();
    EXPECT_EQ(got->has_value(), i != 2) << "decision " << i;
    EXPECT_EQ(st.getFinding(fs[i].id)->has_value(), i != 2) << "finding " << i;
  }
  auto refused =
      st.queryForTest("SELECT COUNT(*) FROM events WHERE finding_id = '" + fs[2].id + "'");
  ASSERT_TRUE(refused.isOk());
  EXPECT_EQ((*refused)[0][0], "0");
  auto audit = st.listAudit(0, 100);
  ASSERT_TRUE(audit.isOk());
  ASSERT_EQ(audit->size(), 6u);
  EXPECT_TRUE(verifyAuditChain(*audit).isOk()) << verifyAuditChain(*audit).message();
  for (const auto& e : *audit) EXPECT_NE(e.reason, "refuse me");
}

// Opened while the server is down (serve): the store starts degraded, takes every write, and
// connects, applies the migrations and replays the journal once the server comes up.
TEST(PostgresStoreDegraded, StartsWhileTheServerIsDownAndCatchesUp) {
  RIPOSTE_REQUIRE_POSTGRES(server);
  ASSERT_TRUE(server->stop());
  TempDir dir;
  PostgresStoreOptions o;
  o.url = server->url();
  o.spill_path = (dir.path() / "spill.jsonl").string();
  o.retry_interval = std::chrono::milliseconds(100);
  o.connect_timeout_s = 2;
  // Without start_unreachable (the CLI's commands) it is still the connection error.
  auto refused = PostgresStore::open(o);
  ASSERT_FALSE(refused.isOk());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  o.start_unreachable = true;
  auto s = PostgresStore::open(o);
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  PostgresStore& st = **s;
  StoreHealth h = st.health();
  EXPECT_TRUE(h.degraded);
  EXPECT_FALSE(h.reason.empty());
  EXPECT_EQ(st.schemaVersion(), 0);
  EXPECT_EQ(st.listDecisions({}).status().code(), StatusCode::kUnavailable);
  const Timestamp from = Timestamp::now() - std::chrono::seconds(1);
  Written w;
  for (int i = 0; i < 12; ++i) writeRound(st, i, w);
  Finding f;
  f.id = newId();
  f.detector = "ssh-bruteforce";
  f.entity = {TargetType::kIp, "192.0.2.77"};
  Decision d;
  d.id = newId();
  d.target = f.entity;
  d.finding_id = f.id;
  d.reason = "with audit";
  d.created = Timestamp::now();
  d.expires = d.created + std::chrono::hours(1);
  AuditEntry a;
  a.actor = "engine";
  a.kind = "decision.created";
  a.target = d.target.value;
  a.reason = d.reason;
  ASSERT_TRUE(st.saveDecisionWithAudit(&f, d, a).isOk());
  w.findings += 1;
  w.decisions.push_back(d);
  w.audit.push_back(a);
  EXPECT_EQ(st.health().pending_writes, 12u * 5 + 1);
  // Still down a little later: still degraded, nothing lost.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(st.degraded());

  std::string err;
  ASSERT_TRUE(server->restart(&err)) << err;
  ASSERT_TRUE(st.waitHealthy(std::chrono::seconds(30))) << st.health().reason;
  EXPECT_EQ(st.schemaVersion(), PostgresStore::latestSchemaVersion());
  EXPECT_EQ(st.health().pending_writes, 0u);
  EXPECT_GE(st.health().replayed_writes, 12u * 5 + 1);
  for (int i = 12; i < 15; ++i) writeRound(st, i, w);
  auto offset = st.loadOffset("auth", "/var/log/auth.log");
  ASSERT_TRUE(offset.isOk() && offset->has_value());
  EXPECT_EQ((*offset)->second, 14u);
  // The last round's offset is the one expectEverythingArrived looks for.
  ASSERT_TRUE(st.saveOffset("auth", "/var/log/auth.log", 1, w.decisions.size() - 1).isOk());
  expectEverythingArrived(st, w, from);
  auto reopened = PostgresStore::open(o);
  ASSERT_TRUE(reopened.isOk()) << reopened.status().toString();
  EXPECT_FALSE((*reopened)->degraded());
  EXPECT_EQ((*reopened)->schemaVersion(), PostgresStore::latestSchemaVersion());
}

TEST(PostgresStoreDegraded, TheJournalIsBounded) {
  RIPOSTE_REQUIRE_POSTGRES(server);
  TempDir dir;
  PostgresStoreOptions o;
  o.url = server->url();
  o.spill_path = (dir.path() / "spill.jsonl").string();
  o.spill_max_bytes = 4096;
  o.retry_interval = std::chrono::seconds(60);
  o.connect_timeout_s = 2;
  auto s = PostgresStore::open(o);
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  ASSERT_TRUE(server->stop());
  int accepted = 0;
  Status last;
  for (int i = 0; i < 100; ++i) {
    last = (*s)->saveOffset("auth", "/var/log/auth.log", 1, static_cast<uint64_t>(i));
    if (!last.isOk()) break;
    ++accepted;
  }
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, 100);
  EXPECT_EQ(last.code(), StatusCode::kResourceExhausted) << last.toString();
  EXPECT_EQ((*s)->health().rejected_writes, 1u);
  EXPECT_LE(std::filesystem::file_size(o.spill_path), 4096u);
  // What was accepted arrives once the server is back.
  std::string err;
  ASSERT_TRUE(server->restart(&err)) << err;
  s->reset();
  auto again = PostgresStore::open(o);
  ASSERT_TRUE(again.isOk()) << again.status().toString();
  auto off = (*again)->loadOffset("auth", "/var/log/auth.log");
  ASSERT_TRUE(off.isOk() && off->has_value());
  EXPECT_EQ((*off)->second, static_cast<uint64_t>(accepted - 1));
}

// `riposte serve` started while PostgreSQL is down: it serves, detects and enforces (the log
// action runs), and once the server comes up the schema is created and the decision, its
// finding and the audit chain arrive.
TEST(PostgresStoreDegraded, ServeStartsWithoutTheDatabaseAndCatchesUp) {
  RIPOSTE_REQUIRE_POSTGRES(server);
  ASSERT_TRUE(server->stop());
  TempDir dir;
  const auto log = dir.path() / "auth.log";
  const auto actions = dir.path() / "actions.jsonl";
  const auto cfg = dir.path() / "riposte.yaml";
  std::ofstream(log) << "";
  std::ofstream(cfg) << "engine:\n  data_dir: " << (dir.path() / "var").string() << "\n"
                     << "store:\n  type: postgres\n  url: \"" << server->url() << "\"\n"
                     << "  retry_interval: 200ms\n  connect_timeout: 1s\n"
                     << "sources:\n  - name: auth\n    type: file\n    path: " << log.string()
                     << "\n    parser: sshd\n    start_at: end\n    year: 2025\n"
                     << "detectors:\n  - name: ssh-bruteforce\n    type: threshold\n"
                     << "    kinds: [auth]\n    outcome: failure\n    threshold: 3\n"
                     << "    window: 60s\n"
                     << "actions:\n  - name: log\n    type: log\n    path: " << actions.string()
                     << "\n";
  testing::BackgroundRiposte serve({"serve", "--config", cfg.string()});
  ASSERT_TRUE(
      testing::waitFor([&] { return serve.err().find("serving") != std::string::npos; }, 30000))
      << serve.err();
  EXPECT_NE(serve.err().find("postgres store DEGRADED"), std::string::npos) << serve.err();
  for (int i = 1; i <= 3; ++i) {
    std::ofstream(log, std::ios::app)
        << "Mar  3 10:15:4" << i << " web1 sshd[12" << i
        << "]: Failed password for root from 203.0.113.9 port 5124" << i << " ssh2\n";
  }
  ASSERT_TRUE(testing::waitFor([&] {
    return testing::readFile(actions).find("203.0.113.9") != std::string::npos;
  })) << serve.err();
  ASSERT_TRUE(serve.running()) << serve.err();

  std::string err;
  ASSERT_TRUE(server->restart(&err)) << err;
  ASSERT_TRUE(testing::waitFor(
      [&] { return serve.err().find("postgres store recovered") != std::string::npos; }, 30000))
      << serve.err();
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.err();

  auto list = testing::runRiposte({"decisions", "list", "--config", cfg.string()});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("\"target\":\"203.0.113.9\""), std::string::npos) << list.out;
  auto verify = testing::runRiposte({"audit", "verify", "--config", cfg.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  auto show =
      testing::runRiposte({"audit", "show", "--config", cfg.string(), "--kind", "decision."});
  EXPECT_NE(show.out.find("203.0.113.9"), std::string::npos) << show.out;

  // The loads serve recorded while the database was down arrived with the rest.
  auto history = testing::runRiposte({"config", "history", "--config", cfg.string()});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  auto lines = nlohmann::json::parse(history.out.substr(0, history.out.find('\n')), nullptr, false);
  ASSERT_TRUE(lines.is_object()) << history.out;
  EXPECT_EQ(lines["actor"], "engine");
  EXPECT_EQ(lines["files"], nlohmann::json::array({cfg.string()}));
  EXPECT_EQ(lines["changed"], true);
  const std::string id = std::to_string(lines["id"].get<int64_t>());
  auto one = testing::runRiposte({"config", "history", "--config", cfg.string(), "--id", id});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  auto full = nlohmann::json::parse(one.out, nullptr, false);
  ASSERT_TRUE(full.is_object()) << one.out;
  EXPECT_EQ(full["content"].get<std::string>().rfind("=== " + cfg.string() + "\nengine:\n", 0), 0u)
      << one.out;
  auto rules = testing::runRiposte({"rules", "history", "--config", cfg.string()});
  ASSERT_EQ(rules.exit_code, 0) << rules.err;
  EXPECT_EQ(std::count(rules.out.begin(), rules.out.end(), '\n'), 1) << rules.out;
  EXPECT_NE(rules.out.find("\"summary\":\"0 rule(s) loaded\""), std::string::npos) << rules.out;
  EXPECT_NE(
      testing::runRiposte({"config", "history", "--config", cfg.string(), "--id", "999"}).exit_code,
      0);
}

}  // namespace
}  // namespace riposte

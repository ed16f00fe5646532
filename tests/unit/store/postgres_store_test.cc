// What only the PostgreSQL store does: day partitions and retention, configuration, the
// migrate command, and degraded operation while the server is down or restarting.
#include <gtest/gtest.h>

#include <fstream>

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

}  // namespace
}  // namespace riposte

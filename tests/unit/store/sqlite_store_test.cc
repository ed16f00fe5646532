#include "riposte/store/sqlite_store.h"

#include <gtest/gtest.h>

#include "riposte/core/ids.h"
#include "support/test_support.h"

namespace riposte {
namespace {

Decision makeDecision(const std::string& ip, int64_t created_s, int64_t ttl_s) {
  Decision d;
  d.id = newId();
  d.target = {TargetType::kIp, ip};
  d.detector = "ssh-bruteforce";
  d.reason = "test";
  d.finding_id = "f1";
  d.events = 6;
  d.first_seen = {created_s * 1'000'000 - 5'000'000, 60};
  d.last_seen = {created_s * 1'000'000, 60};
  d.created = Timestamp::fromSeconds(created_s);
  d.expires = Timestamp::fromSeconds(created_s + ttl_s);
  return d;
}

TEST(SqliteStore, MigratesAndReopensAtTheSameVersion) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "r.db").string();
  {
    auto s = SqliteStore::open(path);
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    EXPECT_EQ((*s)->schemaVersion(), SqliteStore::latestSchemaVersion());
    ASSERT_TRUE((*s)->saveDecision(makeDecision("198.51.100.1", 1000, 60)).isOk());
  }
  auto s = SqliteStore::open(path);
  ASSERT_TRUE(s.isOk());
  EXPECT_EQ((*s)->schemaVersion(), SqliteStore::latestSchemaVersion());
  auto ds = (*s)->listDecisions({});
  ASSERT_TRUE(ds.isOk());
  ASSERT_EQ(ds->size(), 1u);
  EXPECT_EQ((*ds)[0].target.value, "198.51.100.1");
  EXPECT_EQ((*ds)[0].first_seen.offset_minutes, 60);  // the zone survives
}

TEST(SqliteStore, RefusesAFileFromANewerBuild) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "r.db").string();
  {
    auto s = SqliteStore::open(path);
    ASSERT_TRUE(s.isOk());
    ASSERT_TRUE((*s)->execForTest("INSERT INTO schema_migrations VALUES (999, 0)").isOk());
  }
  auto s = SqliteStore::open(path);
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.status().message().find("newer"), std::string::npos);
}

TEST(SqliteStore, DecisionLifecycleAndExpiry) {
  auto s = SqliteStore::open(":memory:");
  ASSERT_TRUE(s.isOk());
  Decision a = makeDecision("198.51.100.1", 1000, 60);
  Decision b = makeDecision("198.51.100.2", 1000, 600);
  ASSERT_TRUE((*s)->saveDecision(a).isOk());
  ASSERT_TRUE((*s)->saveDecision(b).isOk());
  auto exp = (*s)->expiredDecisions(Timestamp::fromSeconds(1100));
  ASSERT_TRUE(exp.isOk());
  ASSERT_EQ(exp->size(), 1u);
  EXPECT_EQ((*exp)[0].id, a.id);
  ASSERT_TRUE((*s)->updateDecisionState(a.id, DecisionState::kExpired).isOk());
  EXPECT_TRUE((*s)->expiredDecisions(Timestamp::fromSeconds(1100))->empty());
  EXPECT_EQ((*s)->updateDecisionState("nope", DecisionState::kExpired).code(),
            StatusCode::kNotFound);
  DecisionFilter active;
  active.state = DecisionState::kActive;
  auto act = (*s)->listDecisions(active);
  ASSERT_EQ(act->size(), 1u);
  EXPECT_EQ((*act)[0].target.value, "198.51.100.2");
}

TEST(SqliteStore, FindingsKeepTheirEvidence) {
  auto s = SqliteStore::open(":memory:");
  ASSERT_TRUE(s.isOk());
  Finding f;
  f.id = newId();
  f.detector = "d";
  f.entity = {TargetType::kIp, "198.51.100.9"};
  f.evidence.push_back({Timestamp::fromSeconds(5), "auth.log", 42, "line one", "{}"});
  f.evidence.push_back({Timestamp::fromSeconds(6), "auth.log", 99, "line two", "{}"});
  ASSERT_TRUE((*s)->saveFinding(f).isOk());
  EXPECT_EQ(*(*s)->countFindings(), 1);
}

TEST(AuditChain, DetectsEditsRemovalsAndReordering) {
  testing::TempDir dir;
  auto s = SqliteStore::open((dir.path() / "a.db").string());
  ASSERT_TRUE(s.isOk());
  for (int i = 0; i < 5; ++i) {
    AuditEntry e;
    e.actor = "engine";
    e.kind = "decision.created";
    e.target = "198.51.100." + std::to_string(i);
    e.reason = "r" + std::to_string(i);
    ASSERT_TRUE((*s)->appendAudit(e).isOk());
    EXPECT_EQ(e.seq, i + 1);
  }
  auto all = (*s)->listAudit(0, 100);
  ASSERT_EQ(all->size(), 5u);
  EXPECT_TRUE(verifyAuditChain(*all).isOk());
  EXPECT_EQ((*all)[1].prev_hash, (*all)[0].hash);

  // The store itself refuses edits.
  EXPECT_FALSE((*s)->execForTest("UPDATE audit SET reason = 'x' WHERE seq = 2").isOk());
  EXPECT_FALSE((*s)->execForTest("DELETE FROM audit WHERE seq = 2").isOk());

  auto edited = *all;
  edited[2].reason = "changed";
  Status st = verifyAuditChain(edited);
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("audit entry 3"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("edited"), std::string::npos);

  auto removed = *all;
  removed.erase(removed.begin() + 1);
  st = verifyAuditChain(removed);
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("audit entry 3"), std::string::npos) << st.message();

  auto reordered = *all;
  std::swap(reordered[3], reordered[4]);
  st = verifyAuditChain(reordered);
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("audit entry 5"), std::string::npos) << st.message();

  // An edit that also recomputes the entry's own hash still breaks the next link.
  auto forged = *all;
  forged[1].reason = "forged";
  forged[1].hash = auditEntryHash(forged[1]);
  st = verifyAuditChain(forged);
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("audit entry 3"), std::string::npos) << st.message();
}

TEST(SqliteStore, OffsetsRoundTrip) {
  auto s = SqliteStore::open(":memory:");
  ASSERT_TRUE(s.isOk());
  EXPECT_FALSE((*s)->loadOffset("auth", "/var/log/auth.log")->has_value());
  ASSERT_TRUE((*s)->saveOffset("auth", "/var/log/auth.log", 77, 1234).isOk());
  ASSERT_TRUE((*s)->saveOffset("auth", "/var/log/auth.log", 78, 10).isOk());
  auto o = (*s)->loadOffset("auth", "/var/log/auth.log");
  ASSERT_TRUE(o.isOk() && o->has_value());
  EXPECT_EQ((*o)->first, 78u);
  EXPECT_EQ((*o)->second, 10u);
}

}  // namespace
}  // namespace riposte

// The Store contract, run against every backend (SQLite and PostgreSQL).
#include <gtest/gtest.h>

#include <thread>

#include "riposte/core/ids.h"
#include "unit/store/store_backends.h"

namespace riposte {
namespace {

using testing::StoreBackend;

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

AuditEntry makeAudit(int i) {
  AuditEntry e;
  e.actor = "engine";
  e.kind = "decision.created";
  e.target = "198.51.100." + std::to_string(i);
  e.reason = "r" + std::to_string(i);
  e.details_json = R"({"n":)" + std::to_string(i) + "}";
  return e;
}

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend_ = std::make_unique<StoreBackend>(GetParam());
    bool skip = false;
    const std::string why = backend_->prepare(&skip);
    if (skip) GTEST_SKIP() << why;
    ASSERT_TRUE(why.empty()) << why;
    auto s = backend_->open();
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = std::move(*s);
  }

  Store& store() { return *store_; }
  int64_t count(const std::string& sql) {
    auto rows = StoreBackend::query(*store_, sql);
    EXPECT_TRUE(rows.isOk()) << rows.status().toString();
    if (!rows || rows->empty() || (*rows)[0].empty()) return -1;
    return std::stoll((*rows)[0][0]);
  }

  std::unique_ptr<StoreBackend> backend_;
  StorePtr store_;
};

TEST_P(StoreContract, MigratesAndReopensAtTheSameVersion) {
  EXPECT_EQ(store().schemaVersion(), backend_->latestVersion());
  ASSERT_TRUE(store().saveDecision(makeDecision("198.51.100.1", 1000, 60)).isOk());
  store_.reset();
  auto s = backend_->open();
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  store_ = std::move(*s);
  EXPECT_EQ(store().schemaVersion(), backend_->latestVersion());
  auto ds = store().listDecisions({});
  ASSERT_TRUE(ds.isOk());
  ASSERT_EQ(ds->size(), 1u);
  EXPECT_EQ((*ds)[0].target.value, "198.51.100.1");
  EXPECT_EQ((*ds)[0].first_seen.offset_minutes, 60);  // the zone survives
  EXPECT_EQ(count("SELECT COUNT(*) FROM schema_migrations"), backend_->latestVersion());
}

TEST_P(StoreContract, RefusesADatabaseFromANewerBuild) {
  ASSERT_TRUE(
      StoreBackend::exec(store(), "INSERT INTO schema_migrations(version, applied) VALUES (999, 0)")
          .isOk());
  store_.reset();
  auto s = backend_->open();
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.status().message().find("newer"), std::string::npos) << s.status().toString();
}

TEST_P(StoreContract, DecisionLifecycleAndExpiry) {
  Decision a = makeDecision("198.51.100.1", 1000, 60);
  Decision b = makeDecision("198.51.100.2", 1000, 600);
  a.reason = "tab\there, quote ' and \"double\", backslash \\ and é";
  ASSERT_TRUE(store().saveDecision(a).isOk());
  ASSERT_TRUE(store().saveDecision(b).isOk());
  auto exp = store().expiredDecisions(Timestamp::fromSeconds(1100));
  ASSERT_TRUE(exp.isOk()) << exp.status().toString();
  ASSERT_EQ(exp->size(), 1u);
  EXPECT_EQ((*exp)[0].id, a.id);
  EXPECT_EQ((*exp)[0].reason, a.reason);
  EXPECT_EQ((*exp)[0].expires.micros, a.expires.micros);
  ASSERT_TRUE(store().updateDecisionState(a.id, DecisionState::kExpired).isOk());
  EXPECT_TRUE(store().expiredDecisions(Timestamp::fromSeconds(1100))->empty());
  EXPECT_EQ(store().updateDecisionState("nope", DecisionState::kExpired).code(),
            StatusCode::kNotFound);
  DecisionFilter active;
  active.state = DecisionState::kActive;
  auto act = store().listDecisions(active);
  ASSERT_EQ(act->size(), 1u);
  EXPECT_EQ((*act)[0].target.value, "198.51.100.2");
  DecisionFilter by_target;
  by_target.state = DecisionState::kExpired;
  by_target.target = "198.51.100.1";
  auto t = store().listDecisions(by_target);
  ASSERT_EQ(t->size(), 1u);
  EXPECT_EQ((*t)[0].id, a.id);
  // Saving again updates in place.
  b.state = DecisionState::kRevoked;
  ASSERT_TRUE(store().saveDecision(b).isOk());
  EXPECT_EQ(store().listDecisions({})->size(), 2u);
  DecisionFilter revoked;
  revoked.state = DecisionState::kRevoked;
  EXPECT_EQ(store().listDecisions(revoked)->size(), 1u);
}

TEST_P(StoreContract, FindingsKeepTheirEvidenceAndReplaceItWhenSavedAgain) {
  Finding f;
  f.id = newId();
  f.detector = "d";
  f.entity = {TargetType::kIp, "198.51.100.9"};
  f.score = 0.875;
  f.labels = {"T1110"};
  f.evidence.push_back({Timestamp::fromSeconds(5), "auth.log", 42, "line one", "{}"});
  f.evidence.push_back({Timestamp::fromSeconds(6), "auth.log", 99, "line two\twith tab", "{}"});
  ASSERT_TRUE(store().saveFinding(f).isOk());
  EXPECT_EQ(*store().countFindings(), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events WHERE finding_id = '" + f.id + "'"), 2);
  f.evidence.push_back({Timestamp::fromSeconds(7), "auth.log", 150, "line three", "{}"});
  f.event_count = 3;
  auto saved = store().saveFinding(f);
  ASSERT_TRUE(saved.isOk()) << saved.toString();
  EXPECT_EQ(*store().countFindings(), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events WHERE finding_id = '" + f.id + "'"), 3);
  EXPECT_EQ(count("SELECT event_count FROM findings"), 3);
}

TEST_P(StoreContract, AuditChainIsAppendOnlyAndDetectsTampering) {
  for (int i = 0; i < 5; ++i) {
    AuditEntry e = makeAudit(i);
    ASSERT_TRUE(store().appendAudit(e).isOk());
    EXPECT_EQ(e.seq, i + 1);
    EXPECT_EQ(e.hash, auditEntryHash(e));
  }
  auto all = store().listAudit(0, 100);
  ASSERT_TRUE(all.isOk()) << all.status().toString();
  ASSERT_EQ(all->size(), 5u);
  EXPECT_TRUE(verifyAuditChain(*all).isOk());
  EXPECT_EQ((*all)[1].prev_hash, (*all)[0].hash);
  EXPECT_EQ(store().listAudit(3, 100)->size(), 2u);

  // The database itself refuses edits and removals.
  EXPECT_FALSE(StoreBackend::exec(store(), "UPDATE audit SET reason = 'x' WHERE seq = 2").isOk());
  EXPECT_FALSE(StoreBackend::exec(store(), "DELETE FROM audit WHERE seq = 2").isOk());
  ASSERT_TRUE(verifyAuditChain(*store().listAudit(0, 100)).isOk());

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

TEST_P(StoreContract, AuditChainSurvivesReopenAndConcurrentWriters) {
  AuditEntry first = makeAudit(0);
  ASSERT_TRUE(store().appendAudit(first).isOk());
  store_.reset();
  auto s = backend_->open();
  ASSERT_TRUE(s.isOk());
  store_ = std::move(*s);
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        AuditEntry e = makeAudit(t * 100 + i);
        if (!store().appendAudit(e).isOk()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto all = store().listAudit(0, 1000);
  ASSERT_TRUE(all.isOk());
  ASSERT_EQ(all->size(), static_cast<size_t>(1 + kThreads * kEach));
  EXPECT_EQ((*all)[1].prev_hash, first.hash);
  EXPECT_TRUE(verifyAuditChain(*all).isOk()) << verifyAuditChain(*all).message();
}

TEST_P(StoreContract, ModeRoundTrips) {
  auto m = store().loadMode();
  ASSERT_TRUE(m.isOk());
  EXPECT_FALSE(m->manual);
  EngineMode manual;
  manual.manual = true;
  manual.reason = "breaker tripped";
  manual.actor = "engine";
  manual.since = Timestamp::fromSeconds(1234);
  ASSERT_TRUE(store().saveMode(manual).isOk());
  m = store().loadMode();
  EXPECT_TRUE(m->manual);
  EXPECT_EQ(m->reason, "breaker tripped");
  EXPECT_EQ(m->since.micros, manual.since.micros);
}

TEST_P(StoreContract, OffsetsRoundTrip) {
  EXPECT_FALSE(store().loadOffset("auth", "/var/log/auth.log")->has_value());
  ASSERT_TRUE(store().saveOffset("auth", "/var/log/auth.log", 77, 1234).isOk());
  ASSERT_TRUE(store().saveOffset("auth", "/var/log/auth.log", 78, 10).isOk());
  auto o = store().loadOffset("auth", "/var/log/auth.log");
  ASSERT_TRUE(o.isOk() && o->has_value());
  EXPECT_EQ((*o)->first, 78u);
  EXPECT_EQ((*o)->second, 10u);
}

TEST_P(StoreContract, EventBatchesArriveWholeWithAwkwardText) {
  const int64_t day = 86'400;
  const Timestamp t0 = Timestamp::fromSeconds((Timestamp::now().seconds() / day) * day);
  std::vector<EvidenceEvent> batch;
  for (int i = 0; i < 1000; ++i) {
    EvidenceEvent e;
    e.timestamp = {t0.micros + i * 1'000'000, 120};
    e.source = "auth.log";
    e.offset = static_cast<uint64_t>(i) * 80;
    e.raw = "line " + std::to_string(i) + "\twith\\backslash\nand newline \\N";
    e.fields_json = R"({"source.ip":"198.51.100.)" + std::to_string(i % 250) + "\"}";
    batch.push_back(std::move(e));
  }
  ASSERT_TRUE(store().appendEvents(batch).isOk());
  ASSERT_TRUE(store().appendEvents({}).isOk());
  // A second batch, one second before the first: counted by time range.
  std::vector<EvidenceEvent> earlier(10);
  for (auto& e : earlier) {
    e.timestamp = t0 - std::chrono::seconds(1);
    e.source = "x";
    e.raw = "bad utf-8 \xff\xfe and fine";
  }
  ASSERT_TRUE(store().appendEvents(earlier).isOk());
  EXPECT_EQ(*store().countEvents(t0, t0 + std::chrono::seconds(1000)), 1000);
  EXPECT_EQ(*store().countEvents(t0, t0 + std::chrono::seconds(10)), 10);
  EXPECT_EQ(*store().countEvents(t0 - std::chrono::seconds(1), t0), 10);
  auto rows = StoreBackend::query(
      store(), "SELECT raw, tz FROM event_log WHERE ts = " + std::to_string(t0.micros + 7'000'000));
  ASSERT_TRUE(rows.isOk());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0][0], "line 7\twith\\backslash\nand newline \\N");
  EXPECT_EQ((*rows)[0][1], "120");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace riposte

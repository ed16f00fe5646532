// The Store contract, run against every backend (SQLite and PostgreSQL).
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <thread>

#include "riposte/core/ids.h"
#include "riposte/engine/config_history.h"
#include "riposte/store/behavior_store.h"
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

// Listing without an order (restore) returns the same decisions as the ordered listing.
TEST_P(StoreContract, UnorderedListingHoldsTheSameDecisions) {
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    Decision d = makeDecision("198.51.100." + std::to_string(i), 2000 - i, 600);
    if (i % 5 == 0) d.state = DecisionState::kExpired;
    if (d.state == DecisionState::kActive) ids.insert(d.id);
    ASSERT_TRUE(store().saveDecision(d).isOk());
  }
  DecisionFilter f;
  f.state = DecisionState::kActive;
  auto ordered = store().listDecisions(f);
  ASSERT_TRUE(ordered.isOk());
  ASSERT_EQ(ordered->size(), ids.size());
  for (size_t i = 1; i < ordered->size(); ++i) {
    EXPECT_LE((*ordered)[i - 1].created.micros, (*ordered)[i].created.micros);
  }
  f.ordered = false;
  auto any = store().listDecisions(f);
  ASSERT_TRUE(any.isOk()) << any.status().toString();
  std::set<std::string> got;
  for (const auto& d : *any) got.insert(d.id);
  EXPECT_EQ(got, ids);
  f.limit = 3;
  EXPECT_EQ(store().listDecisions(f)->size(), 3u);
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

TEST_P(StoreContract, DecisionWithAuditStoresFindingDecisionAndAuditEntry) {
  AuditEntry before = makeAudit(0);
  ASSERT_TRUE(store().appendAudit(before).isOk());

  Finding f;
  f.id = newId();
  f.detector = "ssh-bruteforce";
  f.entity = {TargetType::kUser, "root"};  // not an address: the evidence's fields give it
  f.evidence.push_back({Timestamp::fromSeconds(5), "auth.log", 1, "one",
                        R"({"event.kind":"auth","msg":"say \"hi\"","source.ip":"203.0.113.7"})"});
  f.evidence.push_back({Timestamp::fromSeconds(6), "auth.log", 2, "two", ""});
  Decision d = makeDecision("203.0.113.7", 1000, 3600);
  d.finding_id = f.id;
  AuditEntry a = makeAudit(1);
  a.details_json = d.toJson();
  Status st = store().saveDecisionWithAudit(&f, d, a);
  ASSERT_TRUE(st.isOk()) << st.toString();
  EXPECT_EQ(a.seq, 2);
  EXPECT_EQ(a.prev_hash, before.hash);
  EXPECT_EQ(a.hash, auditEntryHash(a));
  EXPECT_EQ(*store().countFindings(), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events WHERE finding_id = '" + f.id + "'"), 2);
  auto got = store().getDecision(d.id);
  ASSERT_TRUE(got.isOk() && got->has_value());
  EXPECT_EQ((*got)->finding_id, f.id);
  EXPECT_EQ((*got)->state, DecisionState::kActive);
  EventQuery eq;
  eq.source_ip = "203.0.113.7";
  eq.kind = "auth";
  EXPECT_EQ(store().searchEvents(eq)->size(), 2u);

  // Without a finding (a decision made by a person): the decision and its entry only.
  Decision manual = makeDecision("203.0.113.8", 1000, 3600);
  AuditEntry b = makeAudit(2);
  ASSERT_TRUE(store().saveDecisionWithAudit(nullptr, manual, b).isOk());
  EXPECT_EQ(b.seq, 3);
  EXPECT_EQ(b.prev_hash, a.hash);
  EXPECT_EQ(*store().countFindings(), 1);
  EXPECT_TRUE(store().getDecision(manual.id)->has_value());
  auto chain = store().listAudit(0, 10);
  ASSERT_TRUE(chain.isOk());
  ASSERT_EQ(chain->size(), 3u);
  EXPECT_EQ((*chain)[1].kind, "decision.created");
  EXPECT_EQ((*chain)[1].details_json, d.toJson());
  EXPECT_TRUE(verifyAuditChain(*chain).isOk());
}

// Both backends write the three in one transaction: when the audit entry cannot be written (a
// trigger refuses it here), neither the finding, its evidence nor the decision is left behind.
TEST_P(StoreContract, DecisionWithAuditIsAllOrNothing) {
  AuditEntry first = makeAudit(0);
  ASSERT_TRUE(store().appendAudit(first).isOk());
  const bool pg = GetParam() == "postgres";
  ASSERT_TRUE(
      StoreBackend::exec(store(), pg ? "CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE "
                                       "plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the "
                                       "test'; END $$; CREATE TRIGGER audit_refuse BEFORE INSERT "
                                       "ON audit FOR EACH ROW EXECUTE FUNCTION audit_refuse()"
                                     : "CREATE TRIGGER audit_refuse BEFORE INSERT ON audit "
                                       "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
          .isOk());
  Finding f;
  f.id = newId();
  f.detector = "d";
  f.entity = {TargetType::kIp, "203.0.113.9"};
  f.evidence.push_back({Timestamp::fromSeconds(5), "auth.log", 1, "one", "{}"});
  Decision d = makeDecision("203.0.113.9", 1000, 3600);
  d.finding_id = f.id;
  AuditEntry a = makeAudit(1);
  Status st = store().saveDecisionWithAudit(&f, d, a);
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("refused by the test"), std::string::npos) << st.message();
  EXPECT_EQ(*store().countFindings(), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 0);
  EXPECT_FALSE(store().getDecision(d.id)->has_value());
  EXPECT_EQ(store().listAudit(0, 10)->size(), 1u);
  EXPECT_FALSE(store().degraded());  // a refusal is an error, not an outage
  // The store is usable afterwards (no transaction left open), and the chain goes on from the
  // entry before the refused one.
  ASSERT_TRUE(
      StoreBackend::exec(store(), "DROP TRIGGER audit_refuse" + std::string(pg ? " ON audit" : ""))
          .isOk());
  AuditEntry again = makeAudit(2);
  st = store().saveDecisionWithAudit(&f, d, again);
  ASSERT_TRUE(st.isOk()) << st.toString();
  EXPECT_EQ(again.seq, 2);
  EXPECT_EQ(again.prev_hash, first.hash);
  EXPECT_EQ(*store().countFindings(), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 1);
  EXPECT_TRUE(store().getDecision(d.id)->has_value());
  auto chain = store().listAudit(0, 10);
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_TRUE(verifyAuditChain(*chain).isOk());
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
  EngineMode dry;
  dry.dry_run = true;
  dry.reason = "rule trial";
  ASSERT_TRUE(store().saveMode(dry).isOk());
  m = store().loadMode();
  EXPECT_TRUE(m->dry_run);
  EXPECT_FALSE(m->manual);
  EXPECT_EQ(m->name(), "dry-run");
}

TEST_P(StoreContract, RuleModesRoundTrip) {
  auto none = store().loadRuleModes();
  ASSERT_TRUE(none.isOk()) << none.status().toString();
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(store().saveRuleMode({"ssh-bf", "shadow", "api:root", Timestamp{5, 0}}).isOk());
  ASSERT_TRUE(store().saveRuleMode({"web-scan", "disabled", "api:root", Timestamp{6, 0}}).isOk());
  ASSERT_TRUE(store().saveRuleMode({"ssh-bf", "disabled", "api:ann", Timestamp{7, 0}}).isOk());
  auto got = store().loadRuleModes();
  ASSERT_TRUE(got.isOk());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].rule_id, "ssh-bf");
  EXPECT_EQ((*got)[0].mode, "disabled");
  EXPECT_EQ((*got)[0].actor, "api:ann");
  EXPECT_EQ((*got)[0].since.micros, 7);
  ASSERT_TRUE(store().deleteRuleMode("ssh-bf").isOk());
  ASSERT_TRUE(store().deleteRuleMode("never-set").isOk());
  got = store().loadRuleModes();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].rule_id, "web-scan");
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

// The API's views: pages newest first with cursors, counts, findings marked false positive,
// evidence searched by address, kind and text, audit filtered by kind prefix.
TEST_P(StoreContract, ApiViewsPageFilterAndCount) {
  std::vector<Decision> ds;
  for (int i = 0; i < 5; ++i) {
    ds.push_back(makeDecision("198.51.100." + std::to_string(i), 1000 + i, 3600));
    ds.back().id = "01DEC" + std::to_string(i);  // ordered as ids made at these times would be
    if (i == 4) ds.back().state = DecisionState::kRevoked;
    if (i == 3) ds.back().action = "alert";
    ASSERT_TRUE(store().saveDecision(ds.back()).isOk());
  }
  auto one = store().getDecision(ds[2].id);
  ASSERT_TRUE(one.isOk()) << one.status().toString();
  ASSERT_TRUE(one->has_value());
  EXPECT_EQ((*one)->target.value, "198.51.100.2");
  EXPECT_FALSE(store().getDecision("nope")->has_value());

  DecisionQuery q;
  q.state = DecisionState::kActive;
  q.limit = 2;
  auto page1 = store().queryDecisions(q);
  ASSERT_TRUE(page1.isOk()) << page1.status().toString();
  ASSERT_EQ(page1->size(), 2u);
  EXPECT_EQ((*page1)[0].id, ds[3].id);  // newest first
  q.before_id = page1->back().id;
  auto page2 = store().queryDecisions(q);
  ASSERT_EQ(page2->size(), 2u);
  EXPECT_EQ((*page2)[1].id, ds[0].id);
  q = DecisionQuery{};
  q.action = "alert";
  EXPECT_EQ(store().queryDecisions(q)->size(), 1u);
  EXPECT_EQ(*store().countDecisionsInState(DecisionState::kActive), 4);
  auto counts = store().countDecisions();
  ASSERT_TRUE(counts.isOk());
  int64_t block_active = 0;
  for (const auto& c : *counts) {
    if (c.action == "block" && c.state == DecisionState::kActive) block_active = c.count;
  }
  EXPECT_EQ(block_active, 3);

  Finding f;
  f.id = newId();
  f.detector = "ssh-bruteforce";
  f.entity = {TargetType::kIp, "203.0.113.5"};
  f.labels = {"T1110"};
  f.evidence.push_back({Timestamp::fromSeconds(5), "auth.log", 1, "Failed password for root", ""});
  f.evidence.push_back({Timestamp::fromSeconds(6), "auth.log", 2, "Failed password for admin",
                        R"({"source.ip":"203.0.113.5","event.kind":"auth"})"});
  ASSERT_TRUE(store().saveFinding(f).isOk());
  auto fl = store().listFindings(FindingQuery{});
  ASSERT_TRUE(fl.isOk()) << fl.status().toString();
  ASSERT_EQ(fl->size(), 1u);
  EXPECT_EQ((*fl)[0].finding.labels, std::vector<std::string>{"T1110"});
  EXPECT_FALSE((*fl)[0].false_positive);
  ASSERT_TRUE(store().setFindingFalsePositive(f.id, true).isOk());
  EXPECT_TRUE((*store().getFinding(f.id))->false_positive);
  EXPECT_EQ(store().setFindingFalsePositive("nope", true).code(), StatusCode::kNotFound);
  FindingQuery fq;
  fq.false_positive = false;
  EXPECT_TRUE(store().listFindings(fq)->empty());

  EventQuery eq;
  eq.source_ip = "203.0.113.5";
  EXPECT_EQ(store().searchEvents(eq)->size(), 2u);  // both events take the finding's address
  eq = EventQuery{};
  eq.kind = "auth";
  EXPECT_EQ(store().searchEvents(eq)->size(), 2u);
  eq = EventQuery{};
  eq.text = "admin";
  auto ev = store().searchEvents(eq);
  ASSERT_TRUE(ev.isOk()) << ev.status().toString();
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_EQ((*ev)[0].event.raw, "Failed password for admin");
  EXPECT_EQ((*ev)[0].finding_id, f.id);

  for (int i = 0; i < 3; ++i) {
    AuditEntry a = makeAudit(i);
    if (i == 2) a.kind = "mode.manual";
    ASSERT_TRUE(store().appendAudit(a).isOk());
  }
  AuditQuery aq;
  aq.kind = "decision.";
  auto au = store().queryAudit(aq);
  ASSERT_TRUE(au.isOk()) << au.status().toString();
  ASSERT_EQ(au->size(), 2u);
  EXPECT_GT((*au)[0].seq, (*au)[1].seq);  // newest first
  aq.kind = "mode.manual";
  EXPECT_EQ(store().queryAudit(aq)->size(), 1u);
}

TEST_P(StoreContract, AccountsSessionsAndTokens) {
  UserRecord u{"alice", "analyst", "$argon2id$x", Timestamp::fromSeconds(10), false};
  ASSERT_TRUE(store().createUser(u).isOk());
  EXPECT_EQ(store().createUser(u).code(), StatusCode::kAlreadyExists);
  u.role = "admin";
  ASSERT_TRUE(store().updateUser(u).isOk());
  EXPECT_EQ((*store().getUser("alice"))->role, "admin");
  EXPECT_EQ(store().updateUser(UserRecord{"bob", "viewer", "h", {}, false}).code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(store().createUser(UserRecord{"carol", "viewer", "h", {}, false}).isOk());
  EXPECT_EQ(store().listUsers()->size(), 2u);

  SessionRecord sess{"s-hash", "alice", "csrf", Timestamp::now(),
                     Timestamp::now() + std::chrono::hours(1)};
  ASSERT_TRUE(store().saveSession(sess).isOk());
  auto got = store().getSession("s-hash");
  ASSERT_TRUE(got.isOk() && got->has_value()) << got.status().toString();
  EXPECT_EQ((*got)->user, "alice");
  EXPECT_EQ((*got)->csrf, "csrf");

  TokenRecord t{"tok1", "alice", "ci", "t-hash", Timestamp::fromSeconds(20), {}, false};
  ASSERT_TRUE(store().saveToken(t).isOk());
  ASSERT_TRUE(store().touchToken("tok1", Timestamp::fromSeconds(30)).isOk());
  auto tok = store().getTokenByHash("t-hash");
  ASSERT_TRUE(tok.isOk() && tok->has_value());
  EXPECT_EQ((*tok)->last_used.micros, Timestamp::fromSeconds(30).micros);
  ASSERT_TRUE(store().revokeToken("tok1").isOk());
  EXPECT_TRUE((*store().getTokenByHash("t-hash"))->revoked);
  EXPECT_EQ(store().revokeToken("nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(store().listTokens()->size(), 1u);

  // A deleted user takes its sessions and tokens along.
  ASSERT_TRUE(store().deleteUser("alice").isOk());
  EXPECT_FALSE(store().getSession("s-hash")->has_value());
  EXPECT_TRUE(store().listTokens()->empty());
  EXPECT_EQ(store().deleteUser("alice").code(), StatusCode::kNotFound);
  ASSERT_TRUE(store()
                  .saveSession({"s2", "carol", "c", Timestamp::now(),
                                Timestamp::now() + std::chrono::hours(1)})
                  .isOk());
  ASSERT_TRUE(store().deleteUserSessions("carol").isOk());
  EXPECT_FALSE(store().getSession("s2")->has_value());
}

Incident makeIncident(const std::string& id, const std::string& ip, int64_t last_s,
                      IncidentStatus status) {
  Incident i;
  i.id = id;
  i.key = "ip:" + ip;
  i.target = {TargetType::kIp, ip};
  i.title = "ssh-bruteforce, intel on " + ip;
  i.severity = 8;
  i.finding_severity = 7;
  i.status = status;
  i.first_seen = Timestamp::fromSeconds(last_s - 60);
  i.last_seen = Timestamp::fromSeconds(last_s);
  i.created = Timestamp::fromSeconds(last_s - 30);
  i.updated = Timestamp::fromSeconds(last_s);
  i.finding_count = 2;
  i.detectors = {"ssh-bruteforce", "intel"};
  i.labels = {"T1110", "T1595"};
  i.decision_ids = {"d-" + id};
  return i;
}

TEST_P(StoreContract, IncidentsRoundTripPageAndFilter) {
  // Ids are time-ordered in production; here their order is what the pages follow.
  ASSERT_TRUE(store()
                  .saveIncident(makeIncident("inc-1", "203.0.113.7", 1000, IncidentStatus::kOpen))
                  .isOk());
  ASSERT_TRUE(
      store()
          .saveIncident(makeIncident("inc-2", "203.0.113.8", 2000, IncidentStatus::kAcknowledged))
          .isOk());
  ASSERT_TRUE(store()
                  .saveIncident(makeIncident("inc-3", "203.0.113.7", 3000, IncidentStatus::kClosed))
                  .isOk());
  // Saving again replaces the row (the correlator's extend and a person's status change).
  Incident changed = makeIncident("inc-1", "203.0.113.7", 1500, IncidentStatus::kAcknowledged);
  changed.finding_count = 5;
  changed.labels.push_back("T1021");
  changed.status_by = "api:alice";
  changed.status_at = Timestamp::fromSeconds(1600);
  changed.status_note = "looking — \"quoted\"";
  ASSERT_TRUE(store().saveIncident(changed).isOk());

  auto got = store().getIncident("inc-1");
  ASSERT_TRUE(got.isOk()) << got.status().toString();
  ASSERT_TRUE(got->has_value());
  const Incident& g = **got;
  EXPECT_EQ(g.key, "ip:203.0.113.7");
  EXPECT_EQ(g.target.value, "203.0.113.7");
  EXPECT_EQ(g.target.type, TargetType::kIp);
  EXPECT_EQ(g.status, IncidentStatus::kAcknowledged);
  EXPECT_EQ(g.finding_count, 5u);
  EXPECT_EQ(g.severity, 8);
  EXPECT_EQ(g.finding_severity, 7);
  EXPECT_EQ(g.last_seen, Timestamp::fromSeconds(1500));
  EXPECT_EQ(g.detectors, (std::vector<std::string>{"ssh-bruteforce", "intel"}));
  EXPECT_EQ(g.labels, (std::vector<std::string>{"T1110", "T1595", "T1021"}));
  EXPECT_EQ(g.decision_ids, (std::vector<std::string>{"d-inc-1"}));
  EXPECT_EQ(g.status_by, "api:alice");
  EXPECT_EQ(g.status_at, Timestamp::fromSeconds(1600));
  EXPECT_EQ(g.status_note, changed.status_note);
  EXPECT_EQ(count("SELECT COUNT(*) FROM incidents"), 3);

  auto none = store().getIncident("nope");
  ASSERT_TRUE(none.isOk());
  EXPECT_FALSE(none->has_value());

  auto ids = [](const std::vector<Incident>& v) {
    std::vector<std::string> out;
    for (const auto& i : v) out.push_back(i.id);
    return out;
  };
  IncidentQuery q;
  auto all = store().listIncidents(q);
  ASSERT_TRUE(all.isOk()) << all.status().toString();
  EXPECT_EQ(ids(*all), (std::vector<std::string>{"inc-3", "inc-2", "inc-1"}));
  q.limit = 2;
  auto page1 = store().listIncidents(q);
  ASSERT_TRUE(page1.isOk());
  EXPECT_EQ(ids(*page1), (std::vector<std::string>{"inc-3", "inc-2"}));
  q.before_id = page1->back().id;
  auto page2 = store().listIncidents(q);
  ASSERT_TRUE(page2.isOk());
  EXPECT_EQ(ids(*page2), (std::vector<std::string>{"inc-1"}));

  IncidentQuery by_status;
  by_status.status = IncidentStatus::kAcknowledged;
  EXPECT_EQ(ids(*store().listIncidents(by_status)), (std::vector<std::string>{"inc-2", "inc-1"}));
  IncidentQuery by_target;
  by_target.target = "203.0.113.7";
  EXPECT_EQ(ids(*store().listIncidents(by_target)), (std::vector<std::string>{"inc-3", "inc-1"}));
  IncidentQuery since;
  since.since = Timestamp::fromSeconds(2000);
  EXPECT_EQ(ids(*store().listIncidents(since)), (std::vector<std::string>{"inc-3", "inc-2"}));

  // Not closed, most recently seen first: what the correlator continues after a restart.
  auto open = store().openIncidents(10);
  ASSERT_TRUE(open.isOk()) << open.status().toString();
  EXPECT_EQ(ids(*open), (std::vector<std::string>{"inc-2", "inc-1"}));
  auto one = store().openIncidents(1);
  ASSERT_TRUE(one.isOk());
  EXPECT_EQ(ids(*one), (std::vector<std::string>{"inc-2"}));
}

TEST_P(StoreContract, AnEngineCopyNeverUndoesANewerStatusChange) {
  Incident engine = makeIncident("inc-1", "203.0.113.7", 1000, IncidentStatus::kOpen);
  ASSERT_TRUE(store().saveIncident(engine).isOk());
  Incident person = engine;  // the CLI closes it behind the engine's back
  person.status = IncidentStatus::kClosed;
  person.status_by = "cli:root";
  person.status_at = Timestamp::fromSeconds(5000);
  person.status_note = "done";
  ASSERT_TRUE(store().saveIncident(person).isOk());
  engine.finding_count = 9;  // the engine extends its older copy
  engine.last_seen = Timestamp::fromSeconds(1100);
  ASSERT_TRUE(store().saveIncident(engine).isOk());
  auto got = store().getIncident("inc-1");
  ASSERT_TRUE(got.isOk() && got->has_value());
  EXPECT_EQ((*got)->finding_count, 9u);
  EXPECT_EQ((*got)->last_seen, Timestamp::fromSeconds(1100));
  EXPECT_EQ((*got)->status, IncidentStatus::kClosed);
  EXPECT_EQ((*got)->status_by, "cli:root");
  EXPECT_EQ((*got)->status_note, "done");
  EXPECT_EQ((*got)->status_at, Timestamp::fromSeconds(5000));
  // A newer change wins again.
  engine.status = IncidentStatus::kAcknowledged;
  engine.status_by = "api:alice";
  engine.status_at = Timestamp::fromSeconds(6000);
  ASSERT_TRUE(store().saveIncident(engine).isOk());
  EXPECT_EQ((*store().getIncident("inc-1"))->status_by, "api:alice");
}

TEST_P(StoreContract, IncidentFindingLinksKeepOrderAndIgnoreRepeats) {
  ASSERT_TRUE(store()
                  .saveIncident(makeIncident("inc-1", "203.0.113.7", 1000, IncidentStatus::kOpen))
                  .isOk());
  for (const char* f : {"f-b", "f-a", "f-c", "f-a"}) {
    ASSERT_TRUE(store().linkIncidentFinding("inc-1", f).isOk()) << f;
  }
  ASSERT_TRUE(store().linkIncidentFinding("inc-2", "f-a").isOk());
  auto links = store().incidentFindings("inc-1");
  ASSERT_TRUE(links.isOk()) << links.status().toString();
  EXPECT_EQ(*links, (std::vector<std::string>{"f-b", "f-a", "f-c"}));
  auto other = store().incidentFindings("inc-2");
  ASSERT_TRUE(other.isOk());
  EXPECT_EQ(*other, (std::vector<std::string>{"f-a"}));
  auto none = store().incidentFindings("inc-9");
  ASSERT_TRUE(none.isOk());
  EXPECT_TRUE(none->empty());
  // Reopened: still there.
  store_.reset();
  auto s = backend_->open();
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  store_ = std::move(*s);
  auto again = store().incidentFindings("inc-1");
  ASSERT_TRUE(again.isOk());
  EXPECT_EQ(again->size(), 3u);
  auto inc = store().getIncident("inc-1");
  ASSERT_TRUE(inc.isOk() && inc->has_value());
  EXPECT_EQ((*inc)->title, "ssh-bruteforce, intel on 203.0.113.7");
}

TEST_P(StoreContract, ConfigHistoryRoundTripsNewestFirst) {
  auto* h = dynamic_cast<ConfigHistoryStore*>(&store());
  ASSERT_NE(h, nullptr);
  auto none = h->listConfigHistory({});
  ASSERT_TRUE(none.isOk()) << none.status().toString();
  EXPECT_TRUE(none->empty());
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    ConfigHistoryRecord r;
    r.kind = i % 2 == 0 ? "rules" : "config";
    r.time = Timestamp::fromSeconds(100 + i);
    r.actor = i == 4 ? "api:ann" : "engine";
    r.hash = std::string(64, static_cast<char>('a' + i));
    r.files = {"/etc/riposte/rules/ssh.yaml", "/etc/riposte/rules/web \"x\".yaml"};
    r.changed = i != 2;
    r.content = i != 2 ? "=== /etc/riposte/rules/ssh.yaml\nrules: []\n" + std::to_string(i) : "";
    r.diff = i == 4 ? "--- a/x\n+++ b/x\n@@ -1,1 +1,1 @@\n-old\n+new\n" : "";
    r.summary = std::to_string(i) + " rule(s) loaded";
    ASSERT_TRUE(h->saveConfigHistory(r).isOk());
    EXPECT_GT(r.id, ids.empty() ? 0 : ids.back());
    ids.push_back(r.id);
  }
  ConfigHistoryQuery q;
  q.kind = "rules";
  auto rules = h->listConfigHistory(q);
  ASSERT_TRUE(rules.isOk()) << rules.status().toString();
  ASSERT_EQ(rules->size(), 3u);
  EXPECT_EQ((*rules)[0].id, ids[4]);
  EXPECT_EQ((*rules)[1].id, ids[2]);
  EXPECT_EQ((*rules)[2].id, ids[0]);
  EXPECT_EQ((*rules)[0].actor, "api:ann");
  EXPECT_EQ((*rules)[0].time.micros, Timestamp::fromSeconds(104).micros);
  EXPECT_EQ((*rules)[0].files.size(), 2u);
  EXPECT_EQ((*rules)[0].files[1], "/etc/riposte/rules/web \"x\".yaml");
  EXPECT_EQ((*rules)[0].diff, "--- a/x\n+++ b/x\n@@ -1,1 +1,1 @@\n-old\n+new\n");
  EXPECT_FALSE((*rules)[1].changed);
  EXPECT_TRUE((*rules)[1].content.empty());
  // A page after an id; a limit.
  q.before_id = ids[4];
  q.limit = 1;
  auto page = h->listConfigHistory(q);
  ASSERT_TRUE(page.isOk());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, ids[2]);
  EXPECT_EQ(h->listConfigHistory({})->size(), 5u);
  auto one = h->getConfigHistory(ids[1]);
  ASSERT_TRUE(one.isOk() && one->has_value()) << one.status().toString();
  EXPECT_EQ((*one)->kind, "config");
  EXPECT_EQ((*one)->hash, std::string(64, 'b'));
  EXPECT_EQ((*one)->summary, "1 rule(s) loaded");
  EXPECT_EQ((*one)->content, "=== /etc/riposte/rules/ssh.yaml\nrules: []\n1");
  auto missing = h->getConfigHistory(ids.back() + 100);
  ASSERT_TRUE(missing.isOk());
  EXPECT_FALSE(missing->has_value());
}

// recordLoad over the store: the first load keeps the text, an identical one only its hash,
// an edited one the text and a diff against the last text.
TEST_P(StoreContract, RecordLoadKeepsTextOnlyWhenChangedWithADiff) {
  auto* h = dynamic_cast<ConfigHistoryStore*>(&store());
  ASSERT_NE(h, nullptr);
  testing::TempDir dir;
  const auto a = (dir.path() / "a.yaml").string();
  const auto b = (dir.path() / "b.yaml").string();
  std::ofstream(a) << "one\ntwo\nthree\n";
  std::ofstream(b) << "bee\n";
  ConfigHistoryRecord first;
  ASSERT_TRUE(recordLoad(store(), "rules", "engine", {a, b}, "2 rule(s) loaded", &first).isOk());
  EXPECT_TRUE(first.changed);
  EXPECT_EQ(first.content, "=== " + a + "\none\ntwo\nthree\n=== " + b + "\nbee\n");
  EXPECT_TRUE(first.diff.empty());
  ConfigHistoryRecord same;
  ASSERT_TRUE(
      recordLoad(store(), "rules", "signal:SIGHUP", {a, b}, "2 rule(s) loaded", &same).isOk());
  EXPECT_FALSE(same.changed);
  EXPECT_EQ(same.hash, first.hash);
  EXPECT_TRUE(same.content.empty());
  std::ofstream(a) << "one\nTWO\nthree\n";
  ConfigHistoryRecord edited;
  ASSERT_TRUE(recordLoad(store(), "rules", "api:ann", {a, b}, "2 rule(s) loaded", &edited).isOk());
  EXPECT_TRUE(edited.changed);
  EXPECT_NE(edited.hash, first.hash);
  EXPECT_EQ(edited.diff,
            "--- a/" + a + "\n+++ b/" + a + "\n@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n");
  // Another kind has its own history.
  ConfigHistoryRecord cfg;
  ASSERT_TRUE(recordLoad(store(), "config", "engine", {b}, "configuration loaded", &cfg).isOk());
  EXPECT_TRUE(cfg.changed);
  auto stored = h->getConfigHistory(edited.id);
  ASSERT_TRUE(stored.isOk() && stored->has_value());
  EXPECT_EQ((*stored)->diff, edited.diff);
  EXPECT_EQ((*stored)->actor, "api:ann");
  ConfigHistoryQuery q;
  q.kind = "rules";
  EXPECT_EQ(h->listConfigHistory(q)->size(), 3u);
}

TEST_P(StoreContract, FeatureVectorsRoundTripNewestFirst) {
  std::vector<FeatureVectorRecord> batch;
  for (int i = 0; i < 4; ++i) {
    FeatureVectorRecord r;
    r.schema = i == 3 ? "other" : "ssh";
    r.schema_version = 2;
    r.entity_field = "source.ip";
    r.entity = "203.0.113." + std::to_string(i);
    r.window_start = Timestamp::fromSeconds(1000 + 60 * i);
    r.window_end = Timestamp::fromSeconds(1060 + 60 * i);
    r.events = static_cast<uint32_t>(10 + i);
    r.values = {0.5f * static_cast<float>(i), -1.25f, 3.0e-7f, static_cast<float>(i)};
    batch.push_back(r);
  }
  ASSERT_TRUE(store().saveFeatureVectors(batch).isOk());
  auto got = store().listFeatureVectors("ssh", 2, "source.ip", 2);
  ASSERT_TRUE(got.isOk()) << got.status().toString();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].entity, "203.0.113.2");
  EXPECT_EQ((*got)[1].entity, "203.0.113.1");
  EXPECT_EQ((*got)[0].values, batch[2].values);
  EXPECT_EQ((*got)[0].events, 12u);
  EXPECT_EQ((*got)[0].window_start.micros, batch[2].window_start.micros);
  EXPECT_EQ(store().listFeatureVectors("ssh", 1, "source.ip", 10)->size(), 0u);
  EXPECT_EQ(store().listFeatureVectors("other", 2, "source.ip", 10)->size(), 1u);
  auto deleted = store().deleteFeatureVectorsBefore(Timestamp::fromSeconds(1150));
  ASSERT_TRUE(deleted.isOk());
  EXPECT_EQ(*deleted, 2);  // windows ending at 1060 and 1120
  EXPECT_EQ(store().listFeatureVectors("ssh", 2, "source.ip", 10)->size(), 1u);
}

TEST_P(StoreContract, BehaviorHistoryUpsertsLoadsListsAndPrunes) {
  auto* bs = dynamic_cast<BehaviorStore*>(&store());
  ASSERT_NE(bs, nullptr);
  std::string binary("\x00\x01\xff\xfe history", 12);
  ASSERT_TRUE(
      bs->saveBehavior({{"ip:198.51.100.7", Timestamp::fromSeconds(100), binary},
                        {"user:root", Timestamp::fromSeconds(200), "r1"},
                        {"pair:192.0.2.5>203.0.113.9:443", Timestamp::fromSeconds(300), ""}})
          .isOk());
  auto r = bs->loadBehavior("ip:198.51.100.7");
  ASSERT_TRUE(r.isOk() && r->has_value()) << r.status().toString();
  EXPECT_EQ((*r)->data, binary);
  EXPECT_EQ((*r)->last_seen.micros, Timestamp::fromSeconds(100).micros);
  // Upsert replaces.
  ASSERT_TRUE(bs->saveBehavior({{"user:root", Timestamp::fromSeconds(250), "r2"}}).isOk());
  EXPECT_EQ((*bs->loadBehavior("user:root"))->data, "r2");
  EXPECT_FALSE(bs->loadBehavior("user:nobody")->has_value());
  std::set<std::string> keys;
  ASSERT_TRUE(bs->forEachBehaviorKey([&](std::string_view k) { keys.emplace(k); }).isOk());
  EXPECT_EQ(keys, (std::set<std::string>{"ip:198.51.100.7", "user:root",
                                         "pair:192.0.2.5>203.0.113.9:443"}));
  auto pruned = bs->pruneBehavior(Timestamp::fromSeconds(260));
  ASSERT_TRUE(pruned.isOk());
  EXPECT_EQ(*pruned, 2);
  EXPECT_FALSE(bs->loadBehavior("ip:198.51.100.7")->has_value());
  EXPECT_TRUE(bs->loadBehavior("pair:192.0.2.5>203.0.113.9:443")->has_value());
  // Reopened: still there.
  store_.reset();
  auto s = backend_->open();
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  store_ = std::move(*s);
  bs = dynamic_cast<BehaviorStore*>(&store());
  ASSERT_NE(bs, nullptr);
  EXPECT_TRUE(bs->loadBehavior("pair:192.0.2.5>203.0.113.9:443")->has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace riposte

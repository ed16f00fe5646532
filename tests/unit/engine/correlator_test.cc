// The correlator: findings grouped into incidents by target and gap, the severity rule, closed
// incidents never extended, and a restart that continues the open ones.
#include "riposte/engine/correlator.h"

#include <gtest/gtest.h>

#include "riposte/core/ids.h"
#include "riposte/core/registry.h"
#include "riposte/engine/engine.h"
#include "riposte/store/sqlite_store.h"
#include "support/test_support.h"

namespace riposte {
namespace {

constexpr int64_t kT0 = 1'770'000'000;  // seconds

Finding finding(const std::string& detector, const std::string& target, int64_t at_s,
                int severity = 5, std::vector<std::string> labels = {}) {
  Finding f;
  f.id = newId(Timestamp::fromSeconds(at_s));
  f.detector = detector;
  f.entity = {TargetType::kIp, target};
  f.severity = severity;
  f.first_seen = Timestamp::fromSeconds(at_s - 10);
  f.last_seen = Timestamp::fromSeconds(at_s);
  f.labels = std::move(labels);
  return f;
}

class CorrelatorTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    store_.reset();
    auto s = SqliteStore::open((dir_.path() / "c.db").string());
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = std::move(*s);
  }
  std::unique_ptr<Correlator> make(CorrelatorOptions o = {}) {
    auto c = std::make_unique<Correlator>(o, store_.get());
    EXPECT_TRUE(c->load().isOk());
    return c;
  }
  // Adds and returns a copy (the pointer is only valid until the next call).
  Incident add(Correlator& c, const Finding& f, const std::string& decision = "") {
    const Incident* i = c.add(f, decision, Timestamp::now());
    EXPECT_NE(i, nullptr);
    return i != nullptr ? *i : Incident{};
  }
  Incident stored(const std::string& id) {
    auto g = store_->getIncident(id);
    EXPECT_TRUE(g.isOk() && g->has_value()) << id;
    return g.isOk() && g->has_value() ? **g : Incident{};
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(CorrelatorTest, GroupsFindingsByTarget) {
  auto c = make();
  const Incident a1 = add(*c, finding("ssh-bruteforce", "203.0.113.7", kT0), "d1");
  const Incident b = add(*c, finding("ssh-bruteforce", "203.0.113.8", kT0 + 5));
  const Incident a2 = add(*c, finding("intel", "203.0.113.7", kT0 + 60, 5, {"T1595"}), "d2");
  EXPECT_NE(a1.id, b.id);
  EXPECT_EQ(a1.id, a2.id);
  EXPECT_EQ(a2.finding_count, 2u);
  EXPECT_EQ(a2.key, "ip:203.0.113.7");
  EXPECT_EQ(a2.title, "ssh-bruteforce, intel on 203.0.113.7");
  EXPECT_EQ(a2.decision_ids, (std::vector<std::string>{"d1", "d2"}));
  EXPECT_EQ(a2.labels, (std::vector<std::string>{"T1595"}));
  EXPECT_EQ(a2.first_seen, Timestamp::fromSeconds(kT0 - 10));
  EXPECT_EQ(a2.last_seen, Timestamp::fromSeconds(kT0 + 60));
  EXPECT_EQ(c->stats().opened, 2u);
  EXPECT_EQ(c->stats().extended, 1u);
  // Written through: the row and both links.
  const Incident s = stored(a1.id);
  EXPECT_EQ(s.finding_count, 2u);
  EXPECT_EQ(s.detectors, (std::vector<std::string>{"ssh-bruteforce", "intel"}));
  EXPECT_EQ(store_->incidentFindings(a1.id)->size(), 2u);
  EXPECT_EQ(store_->incidentFindings(b.id)->size(), 1u);
}

TEST_F(CorrelatorTest, AGapLongerThanConfiguredOpensANewIncident) {
  CorrelatorOptions o;
  o.gap = std::chrono::minutes(60);
  auto c = make(o);
  const Incident first = add(*c, finding("ssh", "198.51.100.1", kT0));
  // 50 minutes later (its first event 49m50s after the incident's last): the same incident.
  const Incident same = add(*c, finding("ssh", "198.51.100.1", kT0 + 50 * 60));
  EXPECT_EQ(same.id, first.id);
  // 61 minutes after that incident's last finding: a new one; the old stays open, not extended.
  const Incident next = add(*c, finding("ssh", "198.51.100.1", kT0 + 50 * 60 + 61 * 60 + 10));
  EXPECT_NE(next.id, first.id);
  EXPECT_EQ(next.finding_count, 1u);
  EXPECT_EQ(stored(first.id).finding_count, 2u);
  EXPECT_EQ(stored(first.id).status, IncidentStatus::kOpen);
}

TEST_F(CorrelatorTest, AClosedIncidentIsNotExtendedAnAcknowledgedOneIs) {
  auto c = make();
  const Incident i = add(*c, finding("ssh", "198.51.100.2", kT0));
  auto acked = c->setStatus(i.id, IncidentStatus::kAcknowledged, "api:alice", "on it",
                            Timestamp::fromSeconds(kT0 + 1));
  ASSERT_TRUE(acked.isOk()) << acked.status().toString();
  EXPECT_EQ(acked->status_by, "api:alice");
  const Incident still = add(*c, finding("ssh", "198.51.100.2", kT0 + 30));
  EXPECT_EQ(still.id, i.id);
  EXPECT_EQ(still.status, IncidentStatus::kAcknowledged);
  EXPECT_EQ(still.finding_count, 2u);

  auto closed = c->setStatus(i.id, IncidentStatus::kClosed, "api:bob", "blocked, done",
                             Timestamp::fromSeconds(kT0 + 40));
  ASSERT_TRUE(closed.isOk());
  const Incident fresh = add(*c, finding("ssh", "198.51.100.2", kT0 + 50));
  EXPECT_NE(fresh.id, i.id);
  EXPECT_EQ(fresh.status, IncidentStatus::kOpen);
  const Incident old = stored(i.id);
  EXPECT_EQ(old.status, IncidentStatus::kClosed);
  EXPECT_EQ(old.finding_count, 2u);
  EXPECT_EQ(old.status_by, "api:bob");
  EXPECT_EQ(old.status_note, "blocked, done");
  // Closed is final; an unknown id is not found.
  EXPECT_EQ(
      c->setStatus(i.id, IncidentStatus::kOpen, "api:bob", "", Timestamp::now()).status().code(),
      StatusCode::kFailedPrecondition);
  EXPECT_EQ(c->setStatus("nope", IncidentStatus::kClosed, "api:bob", "", Timestamp::now())
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_F(CorrelatorTest, StatusChangesReachIncidentsNoLongerInMemory) {
  CorrelatorOptions o;
  o.gap = std::chrono::minutes(1);
  auto c = make(o);
  const Incident old = add(*c, finding("ssh", "198.51.100.3", kT0));
  // Enough later findings on other targets for a sweep to drop the old one from memory.
  for (int i = 0; i < 1100; ++i) {
    add(*c, finding("ssh", "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250),
                    kT0 + 3600 + i));
  }
  EXPECT_LT(c->inMemory(), 1100u + 1u);
  auto r = c->setStatus(old.id, IncidentStatus::kClosed, "cli:root", "", Timestamp::now());
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(stored(old.id).status, IncidentStatus::kClosed);
}

TEST_F(CorrelatorTest, StatusChangesWrittenByAnotherProcessArePickedUp) {
  auto c = make();
  const Incident i = add(*c, finding("ssh", "198.51.100.4", kT0));
  const Incident j = add(*c, finding("ssh", "198.51.100.5", kT0));
  Incident closed = stored(i.id);  // `riposte incidents close` writes the store directly
  closed.status = IncidentStatus::kClosed;
  closed.status_by = "cli:root";
  closed.status_at = Timestamp::now();
  ASSERT_TRUE(store_->saveIncident(closed).isOk());
  Incident acked = stored(j.id);
  acked.status = IncidentStatus::kAcknowledged;
  acked.status_by = "cli:root";
  acked.status_at = Timestamp::now();
  ASSERT_TRUE(store_->saveIncident(acked).isOk());
  EXPECT_EQ(c->syncStatus(Timestamp::now(), Duration(0)), 2u);
  EXPECT_EQ(c->syncStatus(Timestamp::now(), Duration(0)), 0u);  // already applied
  const Incident fresh = add(*c, finding("ssh", "198.51.100.4", kT0 + 30));
  EXPECT_NE(fresh.id, i.id);
  const Incident grown = add(*c, finding("ssh", "198.51.100.5", kT0 + 30));
  EXPECT_EQ(grown.id, j.id);
  EXPECT_EQ(grown.status, IncidentStatus::kAcknowledged);
  EXPECT_EQ(stored(j.id).status_by, "cli:root");
  EXPECT_EQ(stored(i.id).finding_count, 1u);
}

TEST_F(CorrelatorTest, SeverityIsTheMaximumRaisedOneStepForTwoDetectors) {
  auto c = make();
  add(*c, finding("ssh", "192.0.2.10", kT0, 5));
  Incident i = add(*c, finding("ssh", "192.0.2.10", kT0 + 1, 7));
  EXPECT_EQ(i.severity, 7);  // one detector: the maximum
  EXPECT_EQ(i.finding_severity, 7);
  i = add(*c, finding("ssh", "192.0.2.10", kT0 + 2, 4));
  EXPECT_EQ(i.severity, 7);  // a lower one changes nothing
  i = add(*c, finding("intel", "192.0.2.10", kT0 + 3, 3));
  EXPECT_EQ(i.severity, 8);  // two distinct detectors: one step up
  EXPECT_EQ(i.finding_severity, 7);
  i = add(*c, finding("web-scan", "192.0.2.10", kT0 + 4, 10));
  EXPECT_EQ(i.severity, 10);  // never above 10
  EXPECT_EQ(i.title, "ssh, intel, web-scan on 192.0.2.10");
  i = add(*c, finding("port-scan", "192.0.2.10", kT0 + 5, 1));
  EXPECT_EQ(i.title, "ssh, intel, web-scan +1 more on 192.0.2.10");
}

TEST_F(CorrelatorTest, ARestartContinuesOpenIncidentsButNotClosedOnes) {
  std::string open_id, closed_id;
  {
    auto c = make();
    open_id = add(*c, finding("ssh", "203.0.113.20", kT0)).id;
    closed_id = add(*c, finding("ssh", "203.0.113.21", kT0)).id;
    ASSERT_TRUE(
        c->setStatus(closed_id, IncidentStatus::kClosed, "api:a", "", Timestamp::now()).isOk());
  }
  reopen();
  auto c = make();
  EXPECT_EQ(c->inMemory(), 1u);
  const Incident cont = add(*c, finding("intel", "203.0.113.20", kT0 + 120));
  EXPECT_EQ(cont.id, open_id);
  EXPECT_EQ(cont.finding_count, 2u);
  EXPECT_EQ(cont.detectors, (std::vector<std::string>{"ssh", "intel"}));
  const Incident fresh = add(*c, finding("ssh", "203.0.113.21", kT0 + 120));
  EXPECT_NE(fresh.id, closed_id);
  EXPECT_EQ(store_->incidentFindings(open_id)->size(), 2u);
}

TEST_F(CorrelatorTest, IPv6AddressesShareTheRangeThePolicyWidensTo) {
  CorrelatorOptions o;
  o.ipv6_prefix = 64;
  auto c = make(o);
  const Incident a = add(*c, finding("ssh", "2001:db8:1:2::10", kT0));
  const Incident b = add(*c, finding("ssh", "2001:db8:1:2:ffff::1", kT0 + 1));
  const Incident other = add(*c, finding("ssh", "2001:db8:1:3::10", kT0 + 2));
  const Incident v4 = add(*c, finding("ssh", "192.0.2.1", kT0 + 3));
  EXPECT_EQ(a.id, b.id);
  EXPECT_NE(a.id, other.id);
  EXPECT_EQ(a.key, "cidr:2001:db8:1:2::/64");
  EXPECT_EQ(a.target.type, TargetType::kCidr);
  EXPECT_EQ(v4.key, "ip:192.0.2.1");

  Target t;  // not widened (128): each address its own key
  EXPECT_EQ(Correlator::keyFor({TargetType::kIp, "2001:db8::1"}, 128, &t), "ip:2001:db8::1");
  EXPECT_EQ(Correlator::keyFor({TargetType::kUser, "root"}, 64, &t), "user:root");
  EXPECT_EQ(t.type, TargetType::kUser);
}

TEST_F(CorrelatorTest, ShadowFindingsAndFindingsWithoutATargetAreNotCorrelated) {
  auto c = make();
  Finding shadow = finding("ssh", "203.0.113.30", kT0);
  shadow.shadow = true;
  EXPECT_EQ(c->add(shadow, "", Timestamp::now()), nullptr);
  Finding empty = finding("ssh", "", kT0);
  EXPECT_EQ(c->add(empty, "", Timestamp::now()), nullptr);
  EXPECT_EQ(c->inMemory(), 0u);
  EXPECT_TRUE(store_->listIncidents({})->empty());
}

TEST_F(CorrelatorTest, MemoryIsBoundedByMaxOpen) {
  CorrelatorOptions o;
  o.max_open = 64;
  auto c = make(o);
  for (int i = 0; i < 500; ++i) {
    add(*c,
        finding("ssh", "10.1." + std::to_string(i / 200) + "." + std::to_string(i % 200), kT0 + i));
  }
  EXPECT_LE(c->inMemory(), 64u);
  IncidentQuery all;
  all.limit = 1000;
  EXPECT_EQ(store_->listIncidents(all)->size(), 500u);
}

// The engine's part: incidents from a real pipeline, linked to the decisions taken, streamed.
TEST(EngineIncidents, FindingsFromThePipelineBecomeIncidentsWithTheirDecisions) {
  testing::TempDir dir;
  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  auto s = SqliteStore::open((dir.path() / "e.db").string());
  ASSERT_TRUE(s.isOk());
  auto store = std::move(*s);
  const std::string yaml = R"(
detectors:
  - name: ssh-bruteforce
    type: threshold
    kinds: [auth]
    outcome: failure
    threshold: 2
incidents:
  gap: 30m
)";
  auto cfg = parseConfig(yaml, "test.yaml", &reg);
  ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
  EXPECT_EQ(cfg->incident_gap, std::chrono::minutes(30));
  EngineOptions eo;
  eo.run_actions = false;
  eo.decide_at_event_time = true;
  auto e = Engine::create(*cfg, reg, store.get(), eo);
  ASSERT_TRUE(e.isOk()) << e.status().toString();
  std::vector<std::string> streamed;
  (*e)->setEventHook([&](std::string_view type, const std::string& json) {
    if (type == "incident") streamed.push_back(json);
  });
  auto p = (*e)->parser("sshd");
  ASSERT_TRUE(p.isOk());
  ParseContext ctx;
  ctx.year = 2026;
  for (int i = 0; i < 4; ++i) {
    const std::string line = "Feb 12 14:10:2" + std::to_string(i) +
                             " host1 sshd[16378]: Failed password for root from 203.0.113.9 "
                             "port 53502 ssh2";
    (*e)->process(**p, ctx, SourceLine{line, "test", 0, {}, false});
  }
  auto list = store->listIncidents({});
  ASSERT_TRUE(list.isOk());
  ASSERT_EQ(list->size(), 1u);
  const Incident& inc = list->front();
  EXPECT_EQ(inc.target.value, "203.0.113.9");
  EXPECT_GE(inc.finding_count, 1u);
  ASSERT_EQ(inc.decision_ids.size(), 1u);  // the first finding was decided, later ones duplicates
  auto d = store->getDecision(inc.decision_ids[0]);
  ASSERT_TRUE(d.isOk() && d->has_value());
  EXPECT_EQ((*d)->target.value, "203.0.113.9");
  EXPECT_EQ(streamed.size(), inc.finding_count);

  auto r = (*e)->setIncidentStatus(inc.id, IncidentStatus::kAcknowledged, "api:alice", "mine");
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  auto audit = store->listAudit(0, 1000);
  ASSERT_TRUE(audit.isOk());
  ASSERT_FALSE(audit->empty());
  EXPECT_EQ(audit->back().kind, "incident.status");
  EXPECT_EQ(audit->back().actor, "api:alice");
  EXPECT_EQ(audit->back().reason, "open -> acknowledged: mine");
  EXPECT_NE(streamed.back().find("\"acknowledged\""), std::string::npos);
}

TEST(EngineIncidents, DisabledMeansNoIncidents) {
  testing::TempDir dir;
  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  auto opened = SqliteStore::open((dir.path() / "e.db").string());
  ASSERT_TRUE(opened.isOk());
  auto store = std::move(*opened);
  auto cfg = parseConfig(R"(
detectors:
  - name: ssh
    type: threshold
    kinds: [auth]
    outcome: failure
    threshold: 1
incidents:
  enabled: false
)",
                         "test.yaml", &reg);
  ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
  EngineOptions eo;
  eo.run_actions = false;
  auto e = Engine::create(*cfg, reg, store.get(), eo);
  ASSERT_TRUE(e.isOk());
  auto p = (*e)->parser("sshd");
  ParseContext ctx;
  ctx.year = 2026;
  (*e)->process(**p, ctx,
                SourceLine{"Feb 12 14:10:22 host1 sshd[1]: Failed password for root from "
                           "203.0.113.9 port 1 ssh2",
                           "test",
                           0,
                           {},
                           false});
  EXPECT_EQ((*e)->correlator(), nullptr);
  EXPECT_TRUE(store->listIncidents({})->empty());
  EXPECT_EQ((*e)->setIncidentStatus("x", IncidentStatus::kClosed, "a", "").status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(IncidentConfig, BadValuesAreReportedWithTheirPositions) {
  std::vector<ConfigDiagnostic> diags;
  auto cfg = parseConfig("incidents:\n  gap: 0s\n  max_open: 3\n  window: 1h\n", "t.yaml", nullptr,
                         &diags);
  ASSERT_FALSE(cfg.isOk());
  std::string all;
  for (const auto& d : diags) all += d.toString() + "\n";
  EXPECT_NE(all.find("t.yaml:2:8: incidents.gap: must be at least 1s"), std::string::npos) << all;
  EXPECT_NE(all.find("t.yaml:3:13: incidents.max_open"), std::string::npos) << all;
  EXPECT_NE(all.find("t.yaml:4:3: incidents.window: unknown key"), std::string::npos) << all;
  auto ok = parseConfig("incidents:\n  gap: 2h\n  max_open: 1000\n", "t.yaml", nullptr);
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  EXPECT_EQ(ok->incident_gap, std::chrono::hours(2));
  EXPECT_EQ(ok->incidents_max_open, 1000u);
  EXPECT_TRUE(ok->incidents_enabled);
}

}  // namespace
}  // namespace riposte

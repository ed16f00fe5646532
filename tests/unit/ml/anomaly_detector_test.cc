// The anomaly detector: model loading (refused models leave the engine running without one), the
// decision ladder, shadow mode, recording feature vectors, and rules deciding first.
#include "riposte/detect/anomaly_detector.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>

#include "riposte/core/registry.h"
#include "riposte/engine/engine.h"
#include "riposte/store/sqlite_store.h"
#include "support/test_support.h"

namespace riposte {
namespace {

using ml::EntityFeature;

// A model of quiet entities: few events, rare failures, one user, irregular gaps.
std::string writeModel(const std::filesystem::path& dir, const std::string& entity) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> x;
  for (int i = 0; i < 3000; ++i) {
    float v[ml::kEntityFeatureCount] = {};
    const float auth = 1 + std::floor(u(rng) * 4);
    const float fail = std::floor(u(rng) * 1.5f);
    v[size_t(EntityFeature::kEventRate)] = 0.1f + 2 * u(rng);
    v[size_t(EntityFeature::kAuthFailures)] = fail;
    v[size_t(EntityFeature::kAuthFailureRatio)] = fail / auth;
    v[size_t(EntityFeature::kDistinctUsers)] = 1;
    v[size_t(EntityFeature::kInterArrivalMean)] = 20 + 100 * u(rng);
    v[size_t(EntityFeature::kInterArrivalCv)] = 0.3f + u(rng);
    v[size_t(EntityFeature::kNewValueShare)] = 0.5f * u(rng);
    x.insert(x.end(), v, v + ml::kEntityFeatureCount);
  }
  ml::Model m;
  m.schema = ml::entityWindowSchema(entity);
  auto f = ml::IsolationForest::train(x.data(), 3000, ml::kEntityFeatureCount, {});
  EXPECT_TRUE(f.isOk());
  m.forest = std::move(*f);
  m.training.rows = 3000;
  m.training.source = "test";
  const auto path = (dir / (entity + ".model")).string();
  EXPECT_TRUE(ml::saveModel(m, path).isOk());
  return path;
}

Event failure(std::string_view ip, std::string_view user, int64_t t) {
  Event e;
  e.setKind(EventKind::kAuth);
  e.setTimestamp(Timestamp::fromSeconds(t));
  e.set(Field::kSourceIp, ip);
  e.set(Field::kUserName, user);
  e.set(Field::kEventOutcome, "failure");
  return e;
}

const char* kUsers[] = {"root",   "admin",  "oracle",  "test",     "guest",  "ubuntu", "pi",
                        "user",   "ftp",    "mysql",   "www",      "git",    "deploy", "ansible",
                        "nagios", "backup", "support", "postgres", "hadoop", "demo"};

class AnomalyDetectorTest : public ::testing::Test {
 protected:
  void SetUp() override { model_path_ = writeModel(dir_.path(), "source.ip"); }

  std::unique_ptr<AnomalyDetector> make(double alert, double block, bool shadow = false) {
    AnomalyDetectorConfig c;
    c.model_path = model_path_;
    c.alert_threshold = alert;
    c.block_threshold = block;
    c.min_events = 10;
    c.shadow = shadow;
    auto m = AnomalyDetector::loadModelFor(c);
    EXPECT_TRUE(m.isOk()) << m.status().toString();
    return std::make_unique<AnomalyDetector>(c, *m, nullptr);
  }

  // Ten failed logins, one a second, each for another user name.
  std::vector<Finding> attack(AnomalyDetector& d, std::string_view ip = "203.0.113.9") {
    std::vector<Finding> out;
    for (int i = 0; i < 10; ++i) {
      d.onEvent(failure(ip, kUsers[i], 1000 + i), [&](Finding&& f) { out.push_back(f); });
    }
    return out;
  }

  testing::TempDir dir_;
  std::string model_path_;
};

TEST_F(AnomalyDetectorTest, LadderBlockAlertMonitor) {
  // Learn the attacker's score with thresholds that report anything.
  auto probe = make(0.0, 1.0);
  auto found = attack(*probe);
  ASSERT_EQ(found.size(), 1u);  // scored once at 10 events
  const double s = found[0].score;
  EXPECT_GT(s, 0.6) << "a password-spraying source should look anomalous";
  EXPECT_EQ(found[0].suggested_action, "alert");
  EXPECT_TRUE(found[0].fallback);

  // A quiet source with the same number of events scores lower.
  {
    auto quiet = make(0.0, 1.0);
    std::vector<Finding> q;
    for (int i = 0; i < 10; ++i) {
      Event e = failure("198.51.100.4", "alice", 1000 + 45 * i + (i % 3) * 17);
      if (i % 4 != 0) e.set(Field::kEventOutcome, "success");
      quiet->onEvent(e, [&](Finding&& f) { q.push_back(f); });
    }
    ASSERT_EQ(q.size(), 1u);
    EXPECT_LT(q[0].score, s);
  }

  auto blocker = make(0.0, s - 1e-6);
  auto b = attack(*blocker);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].suggested_action, "block");
  EXPECT_EQ(b[0].entity.value, "203.0.113.9");
  EXPECT_EQ(b[0].event_count, 10u);
  EXPECT_NE(b[0].reason.find("block threshold"), std::string::npos) << b[0].reason;
  ASSERT_EQ(b[0].evidence.size(), 1u);
  EXPECT_NE(b[0].evidence[0].fields_json.find("\"distinct_users\":10"), std::string::npos)
      << b[0].evidence[0].fields_json;
  EXPECT_EQ(blocker->stats().blocks, 1u);

  auto alerter = make(s - 1e-6, std::min(1.0, s + 1e-6));
  auto a = attack(*alerter);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].suggested_action, "alert");
  EXPECT_FALSE(a[0].shadow);

  auto monitor = make(std::min(1.0, s + 1e-6), 1.0);
  EXPECT_TRUE(attack(*monitor).empty());
  EXPECT_EQ(monitor->stats().monitored, 1u);
  EXPECT_EQ(monitor->stats().alerts + monitor->stats().blocks, 0u);

  auto shadow = make(0.0, s - 1e-6, /*shadow=*/true);
  auto sh = attack(*shadow);
  ASSERT_EQ(sh.size(), 1u);
  EXPECT_TRUE(sh[0].shadow);
  EXPECT_EQ(sh[0].suggested_action, "block");
}

TEST_F(AnomalyDetectorTest, RefusedModelsLeaveTheDetectorRunningWithoutOne) {
  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  // Corrupt: one byte changed.
  std::string bytes = testing::readFile(model_path_);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 1);
  const auto corrupt = (dir_.path() / "corrupt.model").string();
  std::ofstream(corrupt, std::ios::binary) << bytes;
  const auto user_model = writeModel(dir_.path(), "user.name");
  for (const std::string& path : {corrupt, user_model, (dir_.path() / "missing").string()}) {
    const std::string yaml =
        "detectors:\n  - name: ml\n    type: anomaly\n    model: " + path + "\n";
    auto cfg = parseConfig(yaml, "t.yaml", &reg);
    ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
    FactoryContext ctx{&*cfg, nullptr};
    auto det = reg.detectors.create(cfg->detectors[0], ctx);
    ASSERT_TRUE(det.isOk()) << path << ": " << det.status().toString();
    auto* a = dynamic_cast<AnomalyDetector*>(det->get());
    ASSERT_NE(a, nullptr);
    EXPECT_FALSE(a->hasModel()) << path;
    // Events still flow.
    for (int i = 0; i < 20; ++i)
      a->onEvent(failure("203.0.113.1", "root", i),
                 [](Finding&&) { FAIL() << "no model, no findings"; });
  }
  AnomalyDetectorConfig c;
  c.model_path = user_model;
  auto refused = AnomalyDetector::loadModelFor(c);
  ASSERT_FALSE(refused.isOk());
  EXPECT_NE(refused.status().message().find("keyed by 'user.name'"), std::string::npos)
      << refused.status().message();
  c.entity = Field::kUserName;
  EXPECT_TRUE(AnomalyDetector::loadModelFor(c).isOk());
}

// Two anomaly detectors from one configuration, one per entity: the address that sprays user
// names is scored by the source.ip one, the account tried from many addresses by the user.name
// one (target type user, its own model).
TEST_F(AnomalyDetectorTest, SourceAndUserEntitiesFromOneConfig) {
  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  const auto user_model = writeModel(dir_.path(), "user.name");
  const std::string yaml = R"(
detectors:
  - name: ml-ip
    type: anomaly
    model: )" + model_path_ +
                           R"(
    min_events: 10
    alert_threshold: 0
  - name: ml-user
    type: anomaly
    entity: user.name
    model: )" + user_model +
                           R"(
    min_events: 10
    alert_threshold: 0
)";
  auto cfg = parseConfig(yaml, "t.yaml", &reg);
  ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
  ASSERT_EQ(cfg->detectors.size(), 2u);
  FactoryContext ctx{&*cfg, nullptr};
  auto ip_det = reg.detectors.create(cfg->detectors[0], ctx);
  auto user_det = reg.detectors.create(cfg->detectors[1], ctx);
  ASSERT_TRUE(ip_det.isOk() && user_det.isOk());
  auto* by_ip = dynamic_cast<AnomalyDetector*>(ip_det->get());
  auto* by_user = dynamic_cast<AnomalyDetector*>(user_det->get());
  ASSERT_TRUE(by_ip != nullptr && by_user != nullptr);
  ASSERT_TRUE(by_ip->hasModel());
  ASSERT_TRUE(by_user->hasModel()) << "the user.name model was refused";

  std::vector<Finding> found;
  auto sink = [&](Finding&& f) { found.push_back(std::move(f)); };
  // 203.0.113.9 tries ten user names; "deploy" is tried from ten addresses (one attempt each).
  for (int i = 0; i < 10; ++i) {
    for (Detector* d : {ip_det->get(), user_det->get()}) {
      d->onEvent(failure("203.0.113.9", kUsers[i], 1000 + i), sink);
      d->onEvent(failure("198.51.100." + std::to_string(20 + i), "deploy", 1000 + i), sink);
    }
  }
  std::map<std::string, const Finding*> by;
  for (const auto& f : found) by[f.detector + "|" + f.entity.value] = &f;
  ASSERT_TRUE(by.count("ml-ip|203.0.113.9")) << found.size();
  ASSERT_TRUE(by.count("ml-user|deploy")) << found.size();
  const Finding u = *by["ml-user|deploy"];  // a copy: `found` grows below
  EXPECT_EQ(u.entity.type, TargetType::kUser);
  EXPECT_EQ(u.event_count, 10u);
  EXPECT_GT(u.score, 0.0);
  EXPECT_NE(u.evidence[0].fields_json.find("\"distinct_sources\":10"), std::string::npos)
      << u.evidence[0].fields_json;
  EXPECT_EQ(by["ml-ip|203.0.113.9"]->entity.type, TargetType::kIp);
  by.clear();
  // Each address of the spread attempt has one event: none is scored by the source.ip detector,
  // and 203.0.113.9's users have one attempt each: none is scored by the user.name detector.
  EXPECT_EQ(by_ip->stats().scored, 1u);
  EXPECT_EQ(by_user->stats().scored, 1u);
  // An account used ten times from one address at a human pace scores lower than the spread.
  for (int i = 0; i < 10; ++i) {
    Event e = failure("198.51.100.4", "carol", 2000 + 45 * i + (i % 3) * 17);
    if (i % 4 != 0) e.set(Field::kEventOutcome, "success");
    by_user->onEvent(e, sink);
  }
  ASSERT_EQ(found.back().entity.value, "carol");
  EXPECT_LT(found.back().score, u.score);
}

TEST_F(AnomalyDetectorTest, ConfigIsValidated) {
  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  std::vector<ConfigDiagnostic> diags;
  auto cfg = parseConfig(
      "detectors:\n  - name: ml\n    type: anomaly\n    block_threshold: 1.5\n    mode: loud\n"
      "    entity: host.name\n    colour: red\n",
      "t.yaml", &reg, &diags);
  ASSERT_FALSE(cfg.isOk());
  std::string all;
  for (const auto& d : diags) all += d.toString() + "\n";
  EXPECT_NE(all.find("block_threshold"), std::string::npos) << all;
  EXPECT_NE(all.find("mode"), std::string::npos) << all;
  EXPECT_NE(all.find("entity"), std::string::npos) << all;
  EXPECT_NE(all.find("colour"), std::string::npos) << all;
}

TEST_F(AnomalyDetectorTest, RecordsClosedWindowsInTheStore) {
  auto store = SqliteStore::open((dir_.path() / "s.db").string());
  ASSERT_TRUE(store.isOk());
  AnomalyDetectorConfig c;
  c.record = true;
  c.record_min_events = 3;
  c.window = std::chrono::seconds(60);
  {
    AnomalyDetector d(c, nullptr, store->get());
    for (int w = 0; w < 3; ++w) {
      for (int i = 0; i < 5; ++i) {
        d.onEvent(failure("203.0.113.7", kUsers[i], 1000 + w * 100 + i), [](Finding&&) {});
      }
    }
    d.expire(Timestamp::fromSeconds(1150));  // flushes the two closed windows
    auto recs = (*store)->listFeatureVectors(ml::kEntityWindowSchemaName, ml::kEntityWindowVersion,
                                             "source.ip", 100);
    ASSERT_TRUE(recs.isOk()) << recs.status().toString();
    ASSERT_EQ(recs->size(), 2u);
    EXPECT_EQ((*recs)[0].events, 5u);
    EXPECT_EQ((*recs)[0].values[size_t(EntityFeature::kDistinctUsers)], 5);
  }  // the open window is closed and written on destruction
  auto recs = (*store)->listFeatureVectors(ml::kEntityWindowSchemaName, ml::kEntityWindowVersion,
                                           "source.ip", 100);
  ASSERT_TRUE(recs.isOk());
  EXPECT_EQ(recs->size(), 3u);
  EXPECT_EQ(*(*store)->deleteFeatureVectorsBefore(Timestamp::fromSeconds(1150)), 2);
}

// Rules decide first: with a rule and the model both firing on the same event, the decision is
// the rule's, whichever order the detectors are configured in; and the model never adds a block
// on an entity a rule only alerted on.
TEST_F(AnomalyDetectorTest, RulesDecideFirst) {
  for (const std::string rule_action : {"block", "alert"}) {
    Registries reg;
    ASSERT_TRUE(registerBuiltins(reg).isOk());
    testing::TempDir d;
    auto store = SqliteStore::open((d.path() / "e.db").string());
    ASSERT_TRUE(store.isOk());
    const std::string yaml = R"(
detectors:
  - name: ml
    type: anomaly
    model: )" + model_path_ + R"(
    min_events: 3
    alert_threshold: 0
    block_threshold: 0
  - name: ssh-rule
    type: threshold
    kinds: [auth]
    outcome: failure
    threshold: 3
    action: )" + rule_action +
                             "\n";
    auto cfg = parseConfig(yaml, "t.yaml", &reg);
    ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
    EngineOptions eo;
    eo.run_actions = false;
    eo.decide_at_event_time = true;
    auto engine = Engine::create(*cfg, reg, store->get(), eo);
    ASSERT_TRUE(engine.isOk()) << engine.status().toString();
    auto p = (*engine)->parser("sshd");
    ASSERT_TRUE(p.isOk());
    for (int i = 0; i < 3; ++i) {
      const std::string line = "Feb 12 14:10:2" + std::to_string(i) +
                               " host1 sshd[16378]: Failed password for root from 203.0.113.50 "
                               "port 53502 ssh2";
      ParseContext ctx;
      ctx.year = 2026;
      (*engine)->process(**p, ctx, SourceLine{line, "test", 0, "test"});
    }
    DecisionFilter f;
    auto ds = (*store)->listDecisions(f);
    ASSERT_TRUE(ds.isOk());
    ASSERT_EQ(ds->size(), 1u) << rule_action;
    EXPECT_EQ((*ds)[0].detector, "ssh-rule");
    EXPECT_EQ((*ds)[0].action, rule_action);
    EXPECT_EQ((*engine)->stats().findings, 2u);  // the model's finding is stored, not acted on
    EXPECT_EQ((*engine)->stats().duplicates, 1u);
  }
}

}  // namespace
}  // namespace riposte

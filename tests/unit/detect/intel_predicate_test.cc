// Intel predicates in rules: loaded from YAML, evaluated against a store built here.
#include "riposte/detect/rules/intel_predicate.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <deque>

#include "riposte/core/registry.h"
#include "riposte/detect/intel_detector.h"
#include "riposte/detect/rules/rule_engine.h"
#include "riposte/detect/rules/rule_loader.h"
#include "riposte/detect/shared_intel.h"
#include "riposte/intel/builder.h"
#include "riposte/intel/persistence.h"
#include "support/test_support.h"

namespace riposte::rules {
namespace {

const Timestamp kNow = *parseRfc3339("2026-01-10T00:00:00Z");

struct Ind {
  std::string value;
  uint8_t confidence;
  std::string source = "feed";
  std::vector<std::string> tags = {};
};

std::shared_ptr<const intel::Snapshot> build(const std::vector<Ind>& inds) {
  intel::BuildOptions o;
  o.now = kNow;
  o.apply_known_good = false;
  intel::SnapshotBuilder b(o);
  for (const auto& x : inds) {
    auto v = intel::classify(x.value);
    EXPECT_TRUE(v.isOk()) << x.value;
    if (!v) continue;
    intel::Indicator i;
    i.type = v->type;
    i.value = v->value;
    i.source = x.source;
    i.confidence = x.confidence;
    i.tags = x.tags;
    i.last_seen = kNow;
    b.add(i);
  }
  return b.build();
}

class IntelPredicateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_shared<intel::Store>();
    store_->publish(build({
        {"203.0.113.7", 90, "feodo", {"botnet", "c2"}},
        {"198.51.100.0/24", 80, "spamhaus"},
        {"192.0.2.10", 40, "feed", {"tor"}},
        {"evil.example", 70, "urlhaus"},
        {std::string(64, 'a'), 95, "malware-bazaar"},
        {"http://bad.example/dropper.sh", 85, "urlhaus"},
    }));
  }

  void load(const std::string& yaml) {
    auto r = loadRuleText(yaml, "t.yaml");
    ASSERT_FALSE(r.hasErrors()) << r.toJson();
    view_ = std::make_shared<IntelView>(store_);
    EXPECT_GT(bindIntel(r.rules, view_), 0u);
    engine_ = std::make_unique<RuleEngine>("rules", std::move(r.rules));
    engine_->setIntel(view_);
  }

  size_t feed(int64_t t, const std::string& ip, const std::string& domain = "",
              const std::string& outcome = "failure", const std::string& hash = "") {
    for (const auto* s : {&ip, &domain, &outcome, &hash}) keep_.push_back(*s);
    const size_t n = keep_.size();
    Event e;
    e.setKind(EventKind::kAuth);
    e.setTimestamp(Timestamp::fromSeconds(t));
    e.set(Field::kSourceIp, keep_[n - 4]);
    if (!domain.empty()) e.set(Field::kUrlDomain, keep_[n - 3]);
    e.set(Field::kEventOutcome, keep_[n - 2]);
    if (!hash.empty()) e.set(Field::kFileHashSha256, keep_[n - 1]);
    e.setRaw(keep_[n - 4]);
    engine_->onEvent(e, [this](Finding&& f) { findings_.push_back(std::move(f)); });
    return findings_.size();
  }

  std::shared_ptr<intel::Store> store_;
  std::shared_ptr<IntelView> view_;
  std::unique_ptr<RuleEngine> engine_;
  std::deque<std::string> keep_;
  std::vector<Finding> findings_;
};

constexpr const char* kTrigger = R"(
rules:
  - id: r
    kinds: [auth]
    match:
      %s
    aggregate: {type: trigger}
    reason: "{intel}"
)";

std::string rule(const std::string& match) {
  std::string s = kTrigger;
  s.replace(s.find("%s"), 2, match);
  return s;
}

TEST_F(IntelPredicateTest, ScoreThreshold) {
  load(rule("source.ip: {intel: {min_score: 60}}"));
  EXPECT_EQ(feed(1, "203.0.113.7"), 1u);  // 90
  EXPECT_EQ(feed(2, "192.0.2.10"), 1u);   // 40: below
  load(rule("source.ip: {intel: true}"));
  EXPECT_EQ(feed(3, "192.0.2.10"), 2u);  // any score
}

TEST_F(IntelPredicateTest, TagAndSourceFilters) {
  load(rule("source.ip: {intel: {tag: TOR}}"));  // tags compare without case
  EXPECT_EQ(feed(1, "192.0.2.10"), 1u);
  EXPECT_EQ(feed(2, "203.0.113.7"), 1u);  // listed, but not tagged tor
  load(rule("source.ip: {intel: {tag: [tor, c2], min_score: 50}}"));
  EXPECT_EQ(feed(3, "192.0.2.10"), 1u);  // tor but 40 < 50
  EXPECT_EQ(feed(4, "203.0.113.7"), 2u);
  load(rule("source.ip: {intel: {source: spamhaus}}"));
  EXPECT_EQ(feed(5, "203.0.113.7"), 2u);
  EXPECT_EQ(feed(6, "198.51.100.44"), 3u);
}

TEST_F(IntelPredicateTest, MissesAndNegation) {
  load(rule("source.ip: {intel: true}"));
  EXPECT_EQ(feed(1, "198.18.0.1"), 0u);
  EXPECT_EQ(feed(2, "not-an-address"), 0u);
  load(rule("source.ip: {not_intel: true}"));
  EXPECT_EQ(feed(3, "198.18.0.1"), 1u);
  EXPECT_EQ(feed(4, "203.0.113.7"), 1u);
}

TEST_F(IntelPredicateTest, CidrParentDomainHashAndUrl) {
  load(rule("source.ip: {intel: true}"));
  EXPECT_EQ(feed(1, "198.51.100.200"), 1u);  // within the listed /24
  EXPECT_NE(findings_.back().reason.find("198.51.100.0/24"), std::string::npos)
      << findings_.back().reason;
  load(rule("url.domain: {intel: true}"));
  EXPECT_EQ(feed(2, "198.18.0.1", "Cdn.Evil.Example."), 2u);  // listed parent, any case
  EXPECT_NE(findings_.back().reason.find("matches domain indicator evil.example"),
            std::string::npos)
      << findings_.back().reason;
  EXPECT_EQ(feed(3, "198.18.0.1", "evil.example.org"), 2u);
  load(rule("file.hash.sha256: {intel: true}"));
  EXPECT_EQ(feed(4, "198.18.0.1", "", "failure", std::string(64, 'A')), 3u);
  EXPECT_EQ(feed(5, "198.18.0.1", "", "failure", std::string(64, 'b')), 3u);
  load(rule("url.domain: {intel: {source: urlhaus}}"));
  // A URL value: the URL indicator and the host.
  EXPECT_EQ(feed(6, "198.18.0.1", "HTTP://bad.example/dropper.sh"), 4u);
  EXPECT_NE(findings_.back().reason.find("url indicator http://bad.example/dropper.sh"),
            std::string::npos)
      << findings_.back().reason;
  EXPECT_EQ(feed(7, "198.18.0.1", "https://x.evil.example/a"), 5u);
}

TEST_F(IntelPredicateTest, FindingNamesTheIndicator) {
  load(R"(
rules:
  - id: intel-hit-with-failures
    kinds: [auth]
    match:
      event.outcome: failure
      source.ip: {intel: {min_score: 60}}
    aggregate: {type: count, threshold: 2, window: 1m}
    labels: [T1110]
    reason: "{count} failures: {intel}"
)");
  EXPECT_EQ(feed(1, "203.0.113.7"), 0u);
  EXPECT_EQ(feed(2, "203.0.113.7", "", "success"), 0u);  // not a failure
  EXPECT_EQ(feed(3, "203.0.113.7"), 1u);
  const Finding& f = findings_[0];
  EXPECT_EQ(f.reason,
            "2 failures: source.ip 203.0.113.7 matches ipv4 indicator 203.0.113.7 (score 90, "
            "sources: feodo)");
  EXPECT_EQ(f.labels, (std::vector<std::string>{"T1110", "threat-intel", "botnet", "c2"}));
  ASSERT_FALSE(f.evidence.empty());
  const auto fields = nlohmann::json::parse(f.evidence.back().fields_json);
  EXPECT_EQ(fields["threat.indicator"]["value"], "203.0.113.7");
  EXPECT_EQ(fields["threat.indicator"]["score"], 90);
  EXPECT_EQ(fields["threat.indicator"]["sources"][0]["source"], "feodo");
}

TEST_F(IntelPredicateTest, ANewSnapshotIsSeenWithoutARuleReload) {
  load(rule("source.ip: {intel: {min_score: 50}}"));
  EXPECT_EQ(feed(1, "198.18.0.9"), 0u);
  store_->publish(build({{"198.18.0.9", 75, "fresh"}}));
  EXPECT_EQ(feed(2, "198.18.0.9"), 1u);
  EXPECT_NE(findings_.back().reason.find("sources: fresh"), std::string::npos);
  EXPECT_EQ(feed(3, "203.0.113.7"), 1u);  // gone from the new snapshot
  store_->publish(build({}));
  EXPECT_EQ(feed(4, "198.18.0.9"), 1u);
}

TEST_F(IntelPredicateTest, UnboundPredicatesNeverHold) {
  auto r = loadRuleText(rule("source.ip: {intel: true}"), "t.yaml");
  ASSERT_FALSE(r.hasErrors()) << r.toJson();
  ASSERT_EQ(r.rules.size(), 1u);
  EXPECT_TRUE(r.rules[0].intel);
  RuleEngine engine("rules", std::move(r.rules));
  Event e;
  e.setKind(EventKind::kAuth);
  e.setTimestamp(Timestamp::fromSeconds(1));
  e.set(Field::kSourceIp, "203.0.113.7");
  size_t n = 0;
  engine.onEvent(e, [&](Finding&&) { ++n; });
  EXPECT_EQ(n, 0u);
}

TEST(IntelPredicateDiagnostics, PositionsAndCodes) {
  auto check = [](const std::string& match, const std::string& code, int line, int column,
                  const std::string& words) {
    auto r = loadRuleText(rule(match), "t.yaml");
    ASSERT_TRUE(r.hasErrors()) << match;
    const auto& d = r.diagnostics.front();
    EXPECT_EQ(d.code, code) << d.toString();
    EXPECT_EQ(d.line, line) << d.toString();
    EXPECT_EQ(d.column, column) << d.toString();
    EXPECT_NE(d.message.find(words), std::string::npos) << d.toString();
    EXPECT_EQ(d.rule, "r");
  };
  // The match is on line 6, written from column 7.
  check("source.ip: {intel: {min_score: 60, score: 3}}", "R001", 6, 42, "unknown key 'score'");
  check("source.ip: {intel: {min_score: 101}}", "R005", 6, 38, "min_score");
  check("source.ip: {intel: {min_score: high}}", "R005", 6, 38, "min_score");
  check("source.ip: {intel: false}", "R005", 6, 26, "not_intel");
  check("source.ip: {intel: [a]}", "R005", 6, 26, "intel takes true");
  check("source.ip: {intel: {tag: []}}", "R005", 6, 32, "tag");
  check("sourceip: {intel: true}", "R002", 6, 7, "unknown field");
  check("source.ip: {inteel: true}", "R003", 6, 19, "intel");
}

// The engine's detectors share one store per database: the intel detector and the rules.
TEST(SharedIntel, OneStorePerDatabaseForEveryDetector) {
  testing::TempDir dir;
  const std::string db = (dir.path() / "intel.db").string();
  {
    auto idb = intel::IntelDb::open(db);
    ASSERT_TRUE(idb.isOk()) << idb.status().toString();
  }
  const std::string yaml = "detectors:\n  - name: intel\n    type: intel\n    db: " + db +
                           "\n  - name: rules\n    type: rules\n    paths: [x]\n";
  std::vector<ConfigDiagnostic> diags;
  auto cfg = parseConfig(yaml, "c.yaml", nullptr, &diags);
  ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
  EXPECT_EQ(rulesIntelDb(&*cfg), db);
  FactoryContext ctx{&*cfg};
  ctx.fetch_feeds = false;
  ctx.intel = std::make_shared<IntelHub>();
  auto a = sharedIntelFor(ctx, db, "detectors[0]");
  auto b = sharedIntelFor(ctx, db, "detectors[1]");
  ASSERT_TRUE(a.isOk()) << a.status().toString();
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ((*a)->store().get(), (*b)->store().get());
  // Without a hub, each caller opens its own.
  FactoryContext alone{&*cfg};
  alone.fetch_feeds = false;
  auto c = sharedIntelFor(alone, db, "x");
  ASSERT_TRUE(c.isOk());
  EXPECT_NE(c->get(), a->get());
}

TEST(SharedIntel, RulesWithoutAnIntelDetectorReadIntelDbOrNothing) {
  testing::TempDir dir;
  const std::string db = (dir.path() / "missing.db").string();
  auto cfg = parseConfig("intel:\n  db: " + db + "\n", "c.yaml", nullptr, nullptr);
  ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
  EXPECT_EQ(rulesIntelDb(&*cfg), db);
  auto s = SharedIntel::open(&*cfg, db, false, "rules");
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  EXPECT_EQ((*s)->store()->snapshot()->size(), 0u);
  EXPECT_FALSE(std::filesystem::exists(db));  // not created
  EXPECT_EQ(rulesIntelDb(nullptr), "var/intel.db");
}

}  // namespace
}  // namespace riposte::rules

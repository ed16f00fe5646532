#include "riposte/behavior/longterm_detector.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <set>

#include "riposte/detect/rules/rule_engine.h"
#include "riposte/detect/rules/rule_loader.h"
#include "riposte/store/sqlite_store.h"
#include "support/test_support.h"

namespace riposte {
namespace {

constexpr int64_t kT0 = 1740787200;  // 2025-03-01T00:00:00Z

struct Fed {
  EventKind kind = EventKind::kAuth;
  int64_t ms = 0;
  std::string src, user, outcome, dst, port;
  std::string action = {};
};

class LongTermTest : public ::testing::Test {
 protected:
  LongTermTest() { cfg_.max_hot_entities = 100'000; }

  static Fed auth(int64_t s, std::string src, std::string user, std::string outcome) {
    return Fed{
        EventKind::kAuth, s * 1000, std::move(src), std::move(user), std::move(outcome), "", ""};
  }
  // A pre-authentication probe (sshd: no identification string, banner or kex error).
  static Fed probe(int64_t s, std::string src) {
    return Fed{EventKind::kSsh, s * 1000, std::move(src), "", "failure", "", ""};
  }
  static Fed conn(int64_t ms, std::string src, std::string dst, std::string port) {
    return Fed{EventKind::kFlow, ms, std::move(src), "", "", std::move(dst), std::move(port)};
  }

  // Feeds events (in time order) to every detector given, the way the engine does.
  void run(const std::vector<Fed>& events, std::vector<Detector*> ds) {
    Event e;
    int64_t last_expiry = 0;
    for (const auto& f : events) {
      e.clear();
      e.setKind(f.kind);
      e.setTimestamp(Timestamp{f.ms * 1000, 0});
      e.set(Field::kSourceIp, f.src);
      if (!f.user.empty()) e.set(Field::kUserName, f.user);
      if (!f.outcome.empty()) e.set(Field::kEventOutcome, f.outcome);
      if (!f.dst.empty()) e.set(Field::kDestinationIp, f.dst);
      if (!f.port.empty()) e.set(Field::kDestinationPort, f.port);
      if (!f.action.empty()) e.set(Field::kEventAction, f.action);
      e.setRaw("line");
      for (Detector* d : ds) {
        d->onEvent(e, [&](Finding&& x) { findings_.push_back(std::move(x)); });
      }
      if (f.ms - last_expiry > 60'000) {
        for (Detector* d : ds) d->expire(e.timestamp());
        last_expiry = f.ms;
      }
    }
  }

  static void sortByTime(std::vector<Fed>& v) {
    std::stable_sort(v.begin(), v.end(), [](const Fed& a, const Fed& b) { return a.ms < b.ms; });
  }

  std::set<std::string> targets(const std::string& label, const std::string& detector = "") const {
    std::set<std::string> s;
    for (const auto& f : findings_) {
      if (!detector.empty() && f.detector != detector) continue;
      if (label.empty() || std::find(f.labels.begin(), f.labels.end(), label) != f.labels.end()) {
        s.insert(f.entity.value);
      }
    }
    return s;
  }

  // A slow brute force: one failure every 12 minutes for two days (240 failures).
  static std::vector<Fed> slowBruteForce(const std::string& ip) {
    std::vector<Fed> v;
    for (int64_t t = 0; t < 2 * 86400; t += 720) v.push_back(auth(kT0 + t, ip, "root", "failure"));
    return v;
  }

  // Benign users over 30 days: a login or two a day, a typo (then the right password) on some
  // days, twice on a few.
  static std::vector<Fed> benignTypos(int users) {
    std::vector<Fed> v;
    for (int u = 0; u < users; ++u) {
      const std::string ip = "198.51.100." + std::to_string(10 + u);
      const std::string name = "user" + std::to_string(u);
      for (int d = 0; d < 30; ++d) {
        int64_t t = kT0 + d * 86400 + 8 * 3600 + u * 60;
        if ((d + u) % 3 == 0) v.push_back(auth(t++, ip, name, "failure"));
        if ((d + u) % 10 == 0) v.push_back(auth(t++, ip, name, "failure"));
        v.push_back(auth(t + 5, ip, name, "success"));
        v.push_back(auth(t + 9 * 3600, ip, name, "success"));
      }
    }
    sortByTime(v);
    return v;
  }

  LongTermConfig cfg_;
  std::vector<Finding> findings_;
};

TEST_F(LongTermTest, SlowBruteForceNoShortWindowRuleSeesIsCaught) {
  auto rules = rules::loadRuleFiles({std::string(RIPOSTE_SOURCE_DIR) + "/rules"});
  for (const auto& d : rules.diagnostics) {
    ASSERT_NE(d.severity, rules::RuleDiagnostic::Severity::kError) << d.toString();
  }
  rules::RuleEngine engine("rules", std::move(rules.rules));
  LongTermDetector lt(cfg_, nullptr);
  auto events = slowBruteForce("203.0.113.20");
  auto benign = benignTypos(3);
  events.insert(events.end(), benign.begin(), benign.end());
  sortByTime(events);
  run(events, {&engine, &lt});
  EXPECT_TRUE(targets("", "rules").empty()) << "a short-window rule fired on the slow attack";
  EXPECT_EQ(targets("slow-bruteforce"), std::set<std::string>{"203.0.113.20"});
  const Finding* f = nullptr;
  for (const auto& x : findings_) {
    if (x.detector == "longterm" && f == nullptr) f = &x;  // the first
  }
  ASSERT_NE(f, nullptr);
  // Reported once the history is long enough (20 failures at 12 min = the 4th hour), with its
  // evidence: the days and hours and how many events.
  EXPECT_EQ(f->event_count, 20u);
  EXPECT_EQ(f->suggested_action, "block");
  EXPECT_NE(f->reason.find("20 failed attempts over 4 hour(s)"), std::string::npos) << f->reason;
  EXPECT_NE(f->reason.find("2025-03-01: 20 failures"), std::string::npos) << f->reason;
  ASSERT_EQ(f->evidence.size(), 2u);
  EXPECT_EQ(f->evidence[1].source, "longterm:history");
  EXPECT_NE(f->evidence[1].raw.find("\"hour\":\"2025-03-01T01:00:00Z\""), std::string::npos);
  // Not reported again within repeat_after (24 h), again after it.
  EXPECT_EQ(std::count_if(findings_.begin(), findings_.end(),
                          [](const Finding& x) { return x.detector == "longterm"; }),
            2);
}

TEST_F(LongTermTest, BenignUsersWhoMistypeAreNotFlaggedOverThirtyDays) {
  LongTermDetector lt(cfg_, nullptr);
  run(benignTypos(20), {&lt});
  EXPECT_TRUE(findings_.empty()) << findings_.front().reason;
}

TEST_F(LongTermTest, AnalysisWaitsForMinRecords) {
  cfg_.slow_bruteforce.min_failures = 3;
  cfg_.min_records = 10;
  LongTermDetector lt(cfg_, nullptr);
  std::vector<Fed> v;
  for (int i = 0; i < 9; ++i) v.push_back(auth(kT0 + i * 3600, "203.0.113.30", "root", "failure"));
  run(v, {&lt});
  EXPECT_TRUE(findings_.empty());
  run({auth(kT0 + 10 * 3600, "203.0.113.30", "root", "failure")}, {&lt});
  EXPECT_EQ(targets("slow-bruteforce"), std::set<std::string>{"203.0.113.30"});
}

TEST_F(LongTermTest, DistributedBruteForceIsCaughtThroughTheAccount) {
  LongTermDetector lt(cfg_, nullptr);
  std::vector<Fed> v;
  std::set<std::string> sources;
  for (int i = 0; i < 60; ++i) {
    const std::string ip = "203.0.113." + std::to_string(100 + i);
    sources.insert(ip);
    for (int k = 0; k < 1 + i % 3; ++k) {
      v.push_back(auth(kT0 + (i * 2837 + k * 7919) % (2 * 86400), ip, "admin", "failure"));
    }
  }
  // The account's owner logs in (one typo) from the office during the attack.
  v.push_back(auth(kT0 + 36000, "198.51.100.7", "admin", "failure"));
  v.push_back(auth(kT0 + 36010, "198.51.100.7", "admin", "success"));
  auto benign = benignTypos(5);
  v.insert(v.end(), benign.begin(), benign.end());
  sortByTime(v);
  run(v, {&lt});
  EXPECT_EQ(targets("distributed-bruteforce").count("admin"), 1u);
  std::set<std::string> flagged;
  for (const auto& f : findings_) {
    if (f.entity.type == TargetType::kIp) flagged.insert(f.entity.value);
  }
  EXPECT_EQ(flagged, sources);  // every source, and neither the owner nor the benign users
  for (const auto& f : findings_) {
    if (f.entity.type == TargetType::kUser) {
      EXPECT_EQ(f.suggested_action, "alert");
      EXPECT_NE(f.reason.find("sources that never logged in"), std::string::npos);
    }
  }
  // No per-address analysis fires: each source has at most 3 failures.
  EXPECT_TRUE(targets("slow-bruteforce").empty());
}

TEST_F(LongTermTest, AFewSourcesFailingOnAnAccountAreNotADistributedAttack) {
  LongTermDetector lt(cfg_, nullptr);
  std::vector<Fed> v;
  for (int i = 0; i < 10; ++i) {  // below min_sources (20)
    v.push_back(auth(kT0 + i * 600, "203.0.113." + std::to_string(100 + i), "admin", "failure"));
  }
  run(v, {&lt});
  EXPECT_TRUE(findings_.empty());
}

TEST_F(LongTermTest, BeaconingIsCaughtAndJitteryFlowsAreNot) {
  LongTermDetector lt(cfg_, nullptr);
  std::vector<Fed> v;
  uint64_t s = 7;
  auto rnd = [&s] {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  };
  // A beacon every 60 s +- 2 s, with a missed beat now and then.
  for (int i = 0; i < 180; ++i) {
    if (i % 23 == 5) continue;
    v.push_back(conn((kT0 + i * 60) * 1000 + static_cast<int64_t>(rnd() % 4000) - 2000,
                     "192.0.2.100", "203.0.113.200", "443"));
  }
  // Browsing: exponential-looking gaps to the same server.
  int64_t t = kT0 * 1000;
  for (int i = 0; i < 300; ++i) {
    t += 1000 + static_cast<int64_t>(rnd() % 120'000) * static_cast<int64_t>(rnd() % 3);
    v.push_back(conn(t, "192.0.2.10", "198.51.100.160", "443"));
  }
  // A polling agent with +-50 % jitter.
  for (int i = 0; i < 48; ++i) {
    v.push_back(conn((kT0 + i * 3600 + static_cast<int64_t>(rnd() % 3600) - 1800) * 1000,
                     "192.0.2.11", "198.51.100.140", "443"));
  }
  // Strictly periodic NTP is on an ignored port.
  for (int i = 0; i < 100; ++i) {
    v.push_back(conn((kT0 + i * 1024) * 1000, "192.0.2.12", "198.51.100.123", "123"));
  }
  sortByTime(v);
  run(v, {&lt});
  EXPECT_EQ(targets("beaconing"), std::set<std::string>{"192.0.2.100"});
  ASSERT_FALSE(findings_.empty());
  const Finding& f = findings_.front();
  EXPECT_NE(f.reason.find("to 203.0.113.200:443"), std::string::npos) << f.reason;
  EXPECT_NE(f.reason.find("every 60."), std::string::npos) << f.reason;
  EXPECT_NE(f.evidence.back().raw.find("intervals_ms"), std::string::npos);
  EXPECT_EQ(f.suggested_action, "alert");
}

TEST_F(LongTermTest, SharpDepartureFromTheBaselineIsReported) {
  cfg_.slow_bruteforce.enabled = false;
  LongTermDetector lt(cfg_, nullptr);
  std::vector<Fed> v;
  // Three connections an hour for two days, then 400 in one hour.
  for (int h = 0; h < 48; ++h) {
    for (int k = 0; k < 3; ++k) {
      v.push_back(conn((kT0 + h * 3600 + k * 700 + h) * 1000, "192.0.2.20",
                       "198.51.100." + std::to_string(150 + k), "443"));
    }
  }
  for (int k = 0; k < 400; ++k) {
    v.push_back(conn((kT0 + 48 * 3600 + k * 8) * 1000, "192.0.2.20",
                     "198.51.100." + std::to_string(150 + k % 40), "443"));
  }
  run(v, {&lt});
  ASSERT_EQ(targets("baseline-departure"), std::set<std::string>{"192.0.2.20"});
  for (const auto& f : findings_) {
    if (f.labels.front() != "baseline-departure") continue;
    EXPECT_EQ(f.event_count, 100u);  // reported when the hour reached the trigger
    EXPECT_NE(f.reason.find("mean of 3.0 per active hour over 48 hour(s)"), std::string::npos)
        << f.reason;
  }
}

TEST_F(LongTermTest, RestartInTheMiddleOfATwoDayReplayLosesNoHistory) {
  std::vector<Fed> v = slowBruteForce("203.0.113.21");
  auto slow2 = slowBruteForce("203.0.113.22");
  for (auto& f : slow2) f.ms += 3 * 3600 * 1000;  // starts later, crosses the restart point
  v.insert(v.end(), slow2.begin(), slow2.end());
  for (int i = 0; i < 30; ++i) {
    v.push_back(
        auth(kT0 + 20000 + i * 5000, "203.0.113." + std::to_string(100 + i), "oracle", "failure"));
  }
  sortByTime(v);
  auto summary = [](const std::vector<Finding>& fs) {
    std::multiset<std::string> s;
    for (const auto& f : fs) {
      s.insert(f.labels.front() + " " + f.entity.value + " " + std::to_string(f.event_count) + " " +
               std::to_string(f.last_seen.micros));
    }
    return s;
  };
  // One run.
  testing::TempDir dir;
  {
    auto store = SqliteStore::open((dir.path() / "one.db").string());
    ASSERT_TRUE(store.isOk());
    LongTermDetector lt(cfg_, store->get());
    run(v, {&lt});
    lt.flush();
  }
  const auto one = summary(findings_);
  ASSERT_FALSE(one.empty());
  findings_.clear();
  // The same events in two runs over one store, the first stopping after 5 hours.
  const auto mid = std::find_if(v.begin(), v.end(),
                                [](const Fed& f) { return f.ms >= (kT0 + 5 * 3600) * 1000; });
  std::vector<Fed> first(v.begin(), mid), second(mid, v.end());
  const std::string db = (dir.path() / "two.db").string();
  {
    auto store = SqliteStore::open(db);
    ASSERT_TRUE(store.isOk());
    LongTermDetector lt(cfg_, store->get());
    run(first, {&lt});
    lt.flush();
  }
  {
    auto store = SqliteStore::open(db);
    ASSERT_TRUE(store.isOk());
    LongTermDetector lt(cfg_, store->get());
    EXPECT_EQ(lt.hotEntities(), 0u);  // nothing carried over but the store
    run(second, {&lt});
    lt.flush();
  }
  EXPECT_EQ(summary(findings_), one);
}

TEST_F(LongTermTest, SlowScannerIsCaughtAndBenignClientsAreNot) {
  std::vector<Fed> v;
  // A scanner: three probes over a day, never authenticating.
  v.push_back(probe(kT0 + 3600 + 100, "203.0.113.60"));
  v.push_back(probe(kT0 + 5 * 3600 + 200, "203.0.113.60"));
  v.push_back(probe(kT0 + 20 * 3600, "203.0.113.60"));
  // Two probes within seconds: one hour only, left to the short-window rules.
  v.push_back(probe(kT0 + 7200 + 10, "203.0.113.61"));
  v.push_back(probe(kT0 + 7200 + 25, "203.0.113.61"));
  // A user whose client twice gave up before authenticating, on a day it also logged in.
  v.push_back(auth(kT0 + 8 * 3600, "198.51.100.40", "alice", "success"));
  v.push_back(probe(kT0 + 9 * 3600, "198.51.100.40"));
  v.push_back(probe(kT0 + 15 * 3600, "198.51.100.40"));
  // Password guessing with a couple of probes: a brute force, not reconnaissance.
  for (int i = 0; i < 6; ++i)
    v.push_back(auth(kT0 + 3 * 3600 + i * 1800, "203.0.113.62", "root", "failure"));
  v.push_back(probe(kT0 + 4 * 3600 + 1, "203.0.113.62"));
  v.push_back(probe(kT0 + 6 * 3600 + 1, "203.0.113.62"));
  // sshd's "Connection closed by IP [preauth]" (kind auth, no user) is a probe; pam_unix's
  // failure without a user name is part of a password attempt, not one.
  for (int h : {2, 9}) {
    Fed closed = auth(kT0 + h * 3600, "203.0.113.63", "", "failure");
    closed.action = "connection_closed";
    v.push_back(closed);
    Fed pam = auth(kT0 + h * 3600 + 5, "203.0.113.64", "", "failure");
    pam.action = "pam_auth_failure";
    v.push_back(pam);
  }
  auto benign = benignTypos(5);
  v.insert(v.end(), benign.begin(), benign.end());
  sortByTime(v);
  LongTermDetector lt(cfg_, nullptr);
  run(v, {&lt});
  EXPECT_EQ(targets("scanner"), (std::set<std::string>{"203.0.113.60", "203.0.113.63"}));
  findings_.erase(std::remove_if(findings_.begin(), findings_.end(),
                                 [](const Finding& x) { return x.entity.value == "203.0.113.63"; }),
                  findings_.end());
  const Finding* f = nullptr;
  for (const auto& x : findings_) {
    if (x.entity.value == "203.0.113.60") {
      EXPECT_EQ(f, nullptr) << "reported twice within repeat_after";
      f = &x;
    }
  }
  ASSERT_NE(f, nullptr);
  // Reported at the second probe, in the second hour with probes.
  EXPECT_EQ(f->event_count, 2u);
  EXPECT_EQ(f->suggested_action, "block");
  EXPECT_EQ(f->last_seen, (Timestamp{(kT0 + 5 * 3600 + 200) * 1'000'000, 0}));
  EXPECT_NE(f->reason.find("2 pre-authentication probe(s) in 2 different hour(s) between "
                           "2025-03-01T01:00:00Z and 2025-03-01T05:00:00Z"),
            std::string::npos)
      << f->reason;
  ASSERT_EQ(f->evidence.size(), 2u);
  EXPECT_NE(f->evidence[1].raw.find("\"probe_hours\":2"), std::string::npos) << f->evidence[1].raw;
  EXPECT_NE(f->evidence[1].raw.find("\"hour\":\"2025-03-01T05:00:00Z\",\"new_peers\":0,\"other\":0,"
                                    "\"probes\":1"),
            std::string::npos)
      << f->evidence[1].raw;

  // min_probes and min_hours are honoured; the analysis can be switched off.
  findings_.clear();
  cfg_.scanner.min_probes = 3;
  LongTermDetector three(cfg_, nullptr);
  run(v, {&three});
  ASSERT_EQ(targets("scanner"), std::set<std::string>{"203.0.113.60"});
  findings_.clear();
  cfg_.scanner.min_probes = 2;
  cfg_.scanner.min_hours = 1;
  LongTermDetector one_hour(cfg_, nullptr);
  run(v, {&one_hour});
  EXPECT_EQ(targets("scanner"),
            (std::set<std::string>{"203.0.113.60", "203.0.113.61", "203.0.113.63"}));
  findings_.clear();
  cfg_.scanner.enabled = false;
  LongTermDetector off(cfg_, nullptr);
  run(v, {&off});
  EXPECT_TRUE(targets("scanner").empty());
}

TEST_F(LongTermTest, ScannerIsRememberedAcrossARestart) {
  testing::TempDir dir;
  const std::string db = (dir.path() / "lt.db").string();
  {
    auto store = SqliteStore::open(db);
    ASSERT_TRUE(store.isOk());
    LongTermDetector lt(cfg_, store->get());
    run({probe(kT0 + 100, "203.0.113.70")}, {&lt});
  }
  auto store = SqliteStore::open(db);
  ASSERT_TRUE(store.isOk());
  LongTermDetector lt(cfg_, store->get());
  run({probe(kT0 + 4 * 3600, "203.0.113.70")}, {&lt});
  EXPECT_EQ(targets("scanner"), std::set<std::string>{"203.0.113.70"});
}

TEST_F(LongTermTest, ConfigIsValidatedWithPositions) {
  YAML::Node n = YAML::Load(R"(
name: lt
type: longterm
retention: 10m
slow_bruteforce: {min_failures: 0}
scanner: {min_hours: 0, colour: red}
beaconing: {min_interval: 1h, max_interval: 1m}
kinds: [auth, nonsense]
bogus: 1
)");
  ComponentConfig c{"lt", "longterm", "detectors[0]", n};
  std::vector<ConfigDiagnostic> diags;
  ConfigReader rd("x.yaml", &diags);
  (void)LongTermConfig::fromConfig(c, rd);
  std::string all;
  for (const auto& d : diags) all += d.toString() + "\n";
  EXPECT_NE(all.find("bogus"), std::string::npos) << all;
  EXPECT_NE(all.find("retention"), std::string::npos) << all;
  EXPECT_NE(all.find("min_failures"), std::string::npos) << all;
  EXPECT_NE(all.find("nonsense"), std::string::npos) << all;
  EXPECT_NE(all.find("min_interval"), std::string::npos) << all;
  EXPECT_NE(all.find("scanner.min_hours"), std::string::npos) << all;
  EXPECT_NE(all.find("colour"), std::string::npos) << all;
  EXPECT_NE(all.find("x.yaml:"), std::string::npos) << all;
}

}  // namespace
}  // namespace riposte

// End-to-end: `riposte serve` tails a file, decides, stores, audits, and stops cleanly.
#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>

#include "riposte/store/sqlite_store.h"
#include "support/test_support.h"

namespace riposte {
namespace {

using testing::runRiposte;

void append(const std::filesystem::path& p, const std::string& s) {
  std::ofstream(p, std::ios::app) << s;
}

std::string failure(int i, const std::string& ip) {
  return "Mar  3 10:15:4" + std::to_string(i) + " web1 sshd[12" + std::to_string(i) +
         "]: Failed password for root from " + ip + " port 5124" + std::to_string(i) + " ssh2\n";
}

TEST(ServeE2E, TailsDecidesPersistsAndStopsOnSigterm) {
  testing::TempDir dir;
  const auto log = dir.path() / "auth.log";
  const auto db = dir.path() / "r.db";
  const auto actions = dir.path() / "actions.jsonl";
  append(log, failure(0, "198.51.100.66"));  // before start: skipped (start_at end)
  const auto cfg = dir.path() / "riposte.yaml";
  std::ofstream(cfg)
      << "store:\n  path: " << db.string() << "\n"
      << "sources:\n  - name: auth\n    type: file\n    path: " << log.string()
      << "\n    parser: sshd\n    start_at: end\n    year: 2025\n"
      << "detectors:\n  - name: ssh-bruteforce\n    type: threshold\n"
      << "    kinds: [auth]\n    outcome: failure\n    threshold: 3\n    window: 60s\n"
      << "actions:\n  - name: log\n    type: log\n    path: " << actions.string() << "\n";
  testing::BackgroundRiposte serve({"serve", "--config", cfg.string()});
  ASSERT_TRUE(testing::waitFor([&] { return serve.err().find("serving") != std::string::npos; }))
      << serve.err();
  for (int i = 1; i <= 3; ++i) append(log, failure(i, "203.0.113.9"));
  ASSERT_TRUE(testing::waitFor([&] {
    return testing::readFile(actions).find("203.0.113.9") != std::string::npos;
  })) << serve.err();
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.err();
  EXPECT_NE(serve.err().find("stopping"), std::string::npos);

  // What was decided is in the store, audited, and the chain verifies.
  auto list = runRiposte({"decisions", "list", "--config", cfg.string()});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("\"target\":\"203.0.113.9\""), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("198.51.100.66"), std::string::npos);
  auto verify = runRiposte({"audit", "verify", "--config", cfg.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find("audit chain OK"), std::string::npos);
  auto show = runRiposte({"audit", "show", "--config", cfg.string(), "--kind", "action.applied"});
  EXPECT_NE(show.out.find("203.0.113.9"), std::string::npos) << show.out;

  // A restart resumes after the last line read: the same lines are not decided twice, and the
  // active decision is re-applied.
  testing::BackgroundRiposte again({"serve", "--config", cfg.string()});
  ASSERT_TRUE(testing::waitFor([&] { return again.err().find("serving") != std::string::npos; }));
  EXPECT_NE(again.err().find("re-applied 1 active decisions"), std::string::npos) << again.err();
  EXPECT_EQ(again.stop(SIGINT), 0);
  list = runRiposte({"decisions", "list", "--config", cfg.string(), "--state", "all"});
  EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), 1) << list.out;
}

TEST(ServeE2E, ManualDecisionsAndTamperDetection) {
  testing::TempDir dir;
  const auto cfg = dir.path() / "riposte.yaml";
  const auto db = dir.path() / "r.db";
  std::ofstream(cfg) << "store:\n  path: " << db.string() << "\n"
                     << "response:\n  allowlist: [192.0.2.0/24]\n";
  auto add = runRiposte({"decisions", "add", "--config", cfg.string(), "203.0.113.44", "-d", "1h",
                         "-r", "seen in our honeypot"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  auto refused = runRiposte({"decisions", "add", "--config", cfg.string(), "192.0.2.7"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("allowlisted"), std::string::npos) << refused.err;
  auto del = runRiposte({"decisions", "delete", "--config", cfg.string(), "203.0.113.44"});
  ASSERT_EQ(del.exit_code, 0) << del.err;
  EXPECT_NE(del.out.find("\"state\":\"revoked\""), std::string::npos) << del.out;
  auto list = runRiposte({"decisions", "list", "--config", cfg.string()});
  EXPECT_EQ(list.out.find("203.0.113.44"), std::string::npos) << "revoked must not be active";
  EXPECT_EQ(runRiposte({"audit", "verify", "--config", cfg.string()}).exit_code, 0);

  // Someone with write access to the file edits an entry behind Riposte's back.
  {
    auto s = SqliteStore::open(db.string());
    ASSERT_TRUE(s.isOk());
    ASSERT_TRUE((*s)->execForTest("DROP TRIGGER audit_no_update; "
                                  "UPDATE audit SET reason = 'nothing to see' WHERE seq = 1")
                    .isOk());
  }
  auto verify = runRiposte({"audit", "verify", "--config", cfg.string()});
  EXPECT_EQ(verify.exit_code, 3);
  EXPECT_NE(verify.err.find("audit entry 1"), std::string::npos) << verify.err;
}

}  // namespace
}  // namespace riposte

namespace riposte {
namespace {

std::string authFailure(const std::string& user, const std::string& ip) {
  return "Mar  3 10:15:40 web1 sshd[1200]: Failed password for " + user + " from " + ip +
         " port 51240 ssh2\n";
}

void writeRule(const std::filesystem::path& p, const std::string& user) {
  std::ofstream(p) << "rules:\n  - id: deny-" << user << "\n    kinds: [auth]\n    match:\n"
                   << "      user.name: " << user << "\n    severity: 5\n    action: block\n"
                   << "    reason: \"{source.ip} tried " << user << "\"\n";
}

// SIGHUP reloads the rule files; a broken file is refused and the running rules stay.
TEST(ServeE2E, SighupReloadsRulesAndKeepsThemWhenTheFileIsBad) {
  testing::TempDir dir;
  const auto log = dir.path() / "auth.log";
  const auto rules = dir.path() / "rules.yaml";
  const auto actions = dir.path() / "actions.jsonl";
  append(log, "");
  writeRule(rules, "alice");
  const auto cfg = dir.path() / "riposte.yaml";
  std::ofstream(cfg) << "store:\n  path: " << (dir.path() / "r.db").string() << "\n"
                     << "sources:\n  - name: auth\n    type: file\n    path: " << log.string()
                     << "\n    parser: sshd\n    start_at: end\n    year: 2025\n"
                     << "detectors:\n  - name: rules\n    type: rules\n    paths: ["
                     << rules.string() << "]\n"
                     << "actions:\n  - name: log\n    type: log\n    path: " << actions.string()
                     << "\n";
  testing::BackgroundRiposte serve({"serve", "--config", cfg.string()});
  ASSERT_TRUE(testing::waitFor([&] { return serve.err().find("serving") != std::string::npos; }))
      << serve.err();
  auto decided = [&](const std::string& ip) {
    return testing::readFile(actions).find("\"" + ip + "\"") != std::string::npos;
  };
  // Lines are handled in order: once .2 is decided, .1 (root) was seen and left alone.
  append(log, authFailure("root", "203.0.113.1") + authFailure("alice", "203.0.113.2"));
  ASSERT_TRUE(testing::waitFor([&] { return decided("203.0.113.2"); })) << serve.err();
  EXPECT_FALSE(decided("203.0.113.1"));

  std::ofstream(rules) << "rules:\n  - id: broken\n    match: [\n";
  serve.signal(SIGHUP);
  ASSERT_TRUE(testing::waitFor([&] {
    return serve.err().find("rules not reloaded on SIGHUP") != std::string::npos;
  })) << serve.err();
  EXPECT_NE(serve.err().find("rules.yaml"), std::string::npos) << serve.err();
  append(log, authFailure("alice", "203.0.113.3"));
  ASSERT_TRUE(testing::waitFor([&] { return decided("203.0.113.3"); })) << serve.err();

  writeRule(rules, "root");
  serve.signal(SIGHUP);
  ASSERT_TRUE(testing::waitFor([&] {
    return serve.err().find("rules reloaded on SIGHUP") != std::string::npos;
  })) << serve.err();
  append(log, authFailure("alice", "203.0.113.5") + authFailure("root", "203.0.113.4"));
  ASSERT_TRUE(testing::waitFor([&] { return decided("203.0.113.4"); })) << serve.err();
  EXPECT_FALSE(decided("203.0.113.5"));
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.err();
  auto audit = runRiposte({"audit", "show", "--config", cfg.string(), "--kind", "rules.reloaded"});
  EXPECT_NE(audit.out.find("signal:SIGHUP"), std::string::npos) << audit.out;
}

}  // namespace
}  // namespace riposte

namespace riposte {
namespace {

// store.event_log: every parsed event reaches the store's event log, unparsed lines do not.
TEST(ServeE2E, EventLogKeepsEveryParsedEvent) {
  testing::TempDir dir;
  const auto log = dir.path() / "auth.log";
  const auto db = dir.path() / "r.db";
  append(log, "");
  const auto cfg = dir.path() / "riposte.yaml";
  std::ofstream(cfg) << "store:\n  path: " << db.string() << "\n  event_log: true\n"
                     << "sources:\n  - name: auth\n    type: file\n    path: " << log.string()
                     << "\n    parser: sshd\n    start_at: end\n    year: 2025\n";
  testing::BackgroundRiposte serve({"serve", "--config", cfg.string()});
  ASSERT_TRUE(testing::waitFor([&] { return serve.err().find("serving") != std::string::npos; }))
      << serve.err();
  for (int i = 0; i < 25; ++i) append(log, failure(i % 10, "198.51.100." + std::to_string(i)));
  append(log, "this is not an sshd line\n");
  auto store = SqliteStore::open(db.string());
  ASSERT_TRUE(store.isOk());
  const Timestamp from = *parseRfc3339("2025-01-01T00:00:00Z");
  const Timestamp to = *parseRfc3339("2026-01-01T00:00:00Z");
  // Written at the next one-second tick, without waiting for a full batch or the stop.
  EXPECT_TRUE(testing::waitFor([&] {
    auto n = (*store)->countEvents(from, to);
    return n.isOk() && *n == 25;
  })) << serve.err();
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.err();
  EXPECT_NE(serve.err().find("event log: 25 event(s) written"), std::string::npos) << serve.err();
  EXPECT_EQ(*(*store)->countEvents(from, to), 25);
}

}  // namespace
}  // namespace riposte

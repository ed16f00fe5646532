// Crash test: `riposte serve` with the nftables action in a network namespace is killed with
// SIGKILL after its decisions are stored. Meanwhile the kernel set loses its elements (as after
// a reboot) but keeps one whose decision has expired while Riposte was down (as if the kernel
// never timed it out). After
// a restart, every active decision is enforced again — once, in one restore batch — the expired
// one is undone, a proposal made in manual mode is still pending and not enforced, and the audit
// chain verifies.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "riposte/store/sqlite_store.h"
#include "support/netns.h"
#include "support/test_support.h"

namespace riposte {
namespace {

using testing::NetnsGuard;
using testing::NetnsPair;
using testing::runRiposte;

constexpr int kPort = 18024;

void append(const std::filesystem::path& p, const std::string& s) {
  std::ofstream(p, std::ios::app) << s;
}

std::string failure(const std::string& user, const std::string& ip) {
  return "Mar  3 10:15:40 web1 sshd[1234]: Failed password for " + user + " from " + ip +
         " port 51240 ssh2\n";
}

// The IPv4 elements of an nftables set, as `nft` itself lists them, each as often as listed.
std::multiset<std::string> kernelElements(const NetnsPair& ns, const std::string& table) {
  std::string out;
  if (ns.execInServer({"nft", "list", "set", "inet", table, "blocked4"}, &out) != 0) return {};
  std::multiset<std::string> els;
  const size_t open = out.find("elements = {");
  if (open == std::string::npos) return els;
  std::string body = out.substr(open + 12, out.find('}', open) - open - 12);
  for (auto& c : body) {
    if (c == ',' || c == '\n' || c == '\t') c = ' ';
  }
  std::istringstream in(body);
  for (std::string tok; in >> tok;) {
    if (tok.find('.') != std::string::npos &&
        tok.find_first_not_of("0123456789./") == std::string::npos) {
      els.insert(tok);
    }
  }
  return els;
}

std::set<std::string> kernelSet(const NetnsPair& ns, const std::string& table = "rpcrash") {
  const auto m = kernelElements(ns, table);
  return {m.begin(), m.end()};
}

TEST(CrashRestore, KillNineThenRestartReappliesActiveAndUndoesExpired) {
  if (geteuid() != 0) GTEST_SKIP() << "not root: the crash test needs CAP_NET_ADMIN";
  if (access("/usr/sbin/nft", X_OK) != 0) GTEST_SKIP() << "no /usr/sbin/nft binary";
  NetnsPair ns(231);
  if (!ns.error().empty()) GTEST_SKIP() << ns.error();
  // serve is forked from this thread, so it runs in the server namespace.
  NetnsGuard guard(ns.server());
  if (!guard.ok()) GTEST_SKIP() << "the kernel refused setns into " << ns.server();
  testing::TcpListener listener(ns.serverIp(), kPort);
  ASSERT_TRUE(listener.ok());
  auto reachable = [&] { return testing::tcpConnectFrom(ns.client(), ns.serverIp(), kPort); };
  ASSERT_TRUE(reachable());

  testing::TempDir dir;
  const auto log = dir.path() / "auth.log";
  const auto rules = dir.path() / "rules.yaml";
  const auto cfg = dir.path() / "riposte.yaml";
  append(log, "");
  std::ofstream(rules) << R"(rules:
  - id: ssh-root
    kinds: [auth]
    match: {event.outcome: failure, user.name: root}
    duration: 1h
    reason: "failed root login from {source.ip}"
  - id: ssh-guest
    kinds: [auth]
    match: {event.outcome: failure, user.name: guest}
    duration: 10m
    reason: "failed guest login from {source.ip}"
)";
  std::ofstream(cfg) << "store:\n  path: " << (dir.path() / "r.db").string() << "\n"
                     << "sources:\n  - {name: auth, type: file, path: " << log.string()
                     << ", parser: sshd, start_at: beginning, year: 2026}\n"
                     << "detectors:\n  - {name: rules, type: rules, paths: [" << rules.string()
                     << "]}\n"
                     << "actions:\n  - {name: fw, type: nftables, table: rpcrash}\n"
                     << "response:\n  reconcile_interval: 1h\n"  // only restore repairs here
                     << "  max_blocks_per_minute: 0\n";
  auto check = runRiposte({"config", "check", cfg.string()});
  ASSERT_EQ(check.exit_code, 0) << check.err << check.out;

  // The long decisions: the client and 20 others; the short one: 198.51.100.77.
  std::set<std::string> active = {ns.clientIp()};
  std::string lines = failure("root", ns.clientIp());
  for (int i = 1; i <= 20; ++i) {
    active.insert("203.0.113." + std::to_string(i));
    lines += failure("root", "203.0.113." + std::to_string(i));
  }
  lines += failure("guest", "198.51.100.77");
  {
    testing::BackgroundRiposte serve({"serve", "--config", cfg.string()});
    ASSERT_TRUE(
        testing::waitFor([&] { return serve.err().find("serving") != std::string::npos; }, 30000))
        << serve.err();
    append(log, lines);
    std::set<std::string> all = active;
    all.insert("198.51.100.77");
    ASSERT_TRUE(testing::waitFor([&] { return kernelSet(ns) == all; }, 30000)) << serve.err();
    EXPECT_FALSE(reachable());
    // Manual mode: the next finding is proposed (pending-approval), not enforced.
    auto manual = runRiposte({"mode", "manual", "--config", cfg.string()});
    ASSERT_EQ(manual.exit_code, 0) << manual.err;
    ASSERT_TRUE(testing::waitFor(
        [&] { return serve.err().find("MANUAL MODE") != std::string::npos; }, 30000))
        << serve.err();
    append(log, failure("root", "192.0.2.150"));
    ASSERT_TRUE(testing::waitFor(
        [&] {
          auto l = runRiposte(
              {"decisions", "list", "--config", cfg.string(), "--state", "pending-approval"});
          return l.out.find("192.0.2.150") != std::string::npos;
        },
        30000))
        << serve.err();
    EXPECT_EQ(serve.stop(SIGKILL), 128 + SIGKILL);
  }

  // While Riposte is down the short decision's time runs out (written into the store rather
  // than waited for, so the test does not depend on how fast a loaded machine runs it), and
  // the set loses everything (a reboot) except a stale element of that decision, which the
  // kernel would not time out for an hour.
  {
    auto store = SqliteStore::open((dir.path() / "r.db").string());
    ASSERT_TRUE(store.isOk()) << store.status().toString();
    DecisionFilter f;
    f.target = "198.51.100.77";
    auto ds = (*store)->listDecisions(f);
    ASSERT_TRUE(ds.isOk());
    ASSERT_EQ(ds->size(), 1u);
    Decision d = ds->front();
    ASSERT_EQ(d.state, DecisionState::kActive);
    d.expires = Timestamp::now() - std::chrono::seconds(1);
    ASSERT_TRUE((*store)->saveDecision(d).isOk());
  }
  std::string out;
  ASSERT_EQ(ns.execInServer({"nft", "flush", "set", "inet", "rpcrash", "blocked4"}, &out), 0)
      << out;
  ASSERT_EQ(ns.execInServer({"nft", "add", "element", "inet", "rpcrash", "blocked4", "{",
                             "198.51.100.77", "timeout", "1h", "}"},
                            &out),
            0)
      << out;
  EXPECT_TRUE(reachable());

  testing::BackgroundRiposte again({"serve", "--config", cfg.string()});
  ASSERT_TRUE(
      testing::waitFor([&] { return again.err().find("serving") != std::string::npos; }, 30000))
      << again.err();
  ASSERT_TRUE(testing::waitFor([&] { return kernelSet(ns) == active; }, 30000))
      << "kernel: " << kernelSet(ns).size() << " elements\n"
      << again.err();
  EXPECT_FALSE(reachable()) << "the client is not blocked again after the restart";
  EXPECT_NE(again.err().find("re-applied 21 active decisions"), std::string::npos) << again.err();
  EXPECT_EQ(again.stop(SIGTERM), 0) << again.err();

  // The store agrees: 21 active, the short one expired, the proposal still pending, manual mode
  // kept, and exactly one restore batch of 21 decisions.
  auto list = [&](const std::string& state) {
    return runRiposte({"decisions", "list", "--config", cfg.string(), "--state", state}).out;
  };
  const std::string act = list("active");
  EXPECT_EQ(std::count(act.begin(), act.end(), '\n'), 21) << act;
  EXPECT_NE(list("expired").find("198.51.100.77"), std::string::npos);
  const std::string pending = list("pending-approval");
  EXPECT_NE(pending.find("192.0.2.150"), std::string::npos) << pending;
  EXPECT_EQ(kernelSet(ns).count("192.0.2.150"), 0u);
  auto mode = runRiposte({"mode", "status", "--config", cfg.string()});
  EXPECT_NE(mode.out.find("manual"), std::string::npos) << mode.out;
  auto restored =
      runRiposte({"audit", "show", "--config", cfg.string(), "--kind", "action.restored"});
  EXPECT_EQ(std::count(restored.out.begin(), restored.out.end(), '\n'), 1) << restored.out;
  EXPECT_NE(restored.out.find("21 decisions"), std::string::npos) << restored.out;
  auto undone = runRiposte({"audit", "show", "--config", cfg.string(), "--kind", "action.undone"});
  EXPECT_NE(undone.out.find("198.51.100.77"), std::string::npos) << undone.out;
  auto verify = runRiposte({"audit", "verify", "--config", cfg.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.err << verify.out;
  ns.execInServer({"nft", "delete", "table", "inet", "rpcrash"});
}

// How many decisions the store holds (read-only, beside a running serve), or -1.
int64_t storedDecisions(const std::filesystem::path& db) {
  sqlite3* h = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(h, 1000);
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(h, "SELECT count(*) FROM decisions", -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
      n = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(h);
  return n;
}

// SIGKILL while a large batch of decisions is being stored and applied: a log of 1500 failed
// logins from distinct addresses (one in ten for the user "admin", whose decisions need a second
// confirmation) is appended at once, and serve is killed as soon as the store holds some but not
// all of them. While it is down, 40 decisions made before the batch run out of time, their
// elements left in the kernel set as stale. After the restart (which reads the batch again, the
// file offset being saved per read): every active decision is in the kernel set exactly once and
// nothing else is, the expired ones are undone, every pending approval is still pending (none
// twice, none enforced), every address was decided once, and the audit chain verifies.
TEST(CrashRestore, KillNineMidBatchThenRestartEnforcesEveryActiveDecisionOnce) {
  if (geteuid() != 0) GTEST_SKIP() << "not root: the crash test needs CAP_NET_ADMIN";
  if (access("/usr/sbin/nft", X_OK) != 0) GTEST_SKIP() << "no /usr/sbin/nft binary";
  NetnsPair ns(233);
  if (!ns.error().empty()) GTEST_SKIP() << ns.error();
  NetnsGuard guard(ns.server());
  if (!guard.ok()) GTEST_SKIP() << "the kernel refused setns into " << ns.server();

  constexpr int kBatch = 1500;
  constexpr size_t kExpire = 40;
  testing::TempDir dir;
  const auto log = dir.path() / "auth.log";
  const auto rules = dir.path() / "rules.yaml";
  const auto cfg = dir.path() / "riposte.yaml";
  const auto db = dir.path() / "r.db";
  append(log, "");
  std::ofstream(rules) << R"(rules:
  - id: ssh-root
    kinds: [auth]
    match: {event.outcome: failure, user.name: root}
    duration: 1h
    reason: "failed root login from {source.ip}"
  - id: ssh-admin
    kinds: [auth]
    match: {event.outcome: failure, user.name: admin}
    action: review
    duration: 1h
    reason: "failed admin login from {source.ip}"
)";
  std::ofstream(cfg) << "store:\n  path: " << db.string() << "\n"
                     << "sources:\n  - {name: auth, type: file, path: " << log.string()
                     << ", parser: sshd, start_at: beginning, year: 2026}\n"
                     << "detectors:\n  - {name: rules, type: rules, paths: [" << rules.string()
                     << "]}\n"
                     << "actions:\n  - {name: fw, type: nftables, table: rpmid}\n"
                     << "response:\n  reconcile_interval: 1h\n"  // only restore repairs here
                     << "  max_blocks_per_minute: 0\n  max_active_blocks: 0\n"
                     << "  approval: {actions: [review], timeout: 1h, default: reject}\n";
  auto check = runRiposte({"config", "check", cfg.string()});
  ASSERT_EQ(check.exit_code, 0) << check.err << check.out;

  std::string lines;
  std::set<std::string> admins;
  for (int i = 0; i < kBatch; ++i) {
    const std::string ip = "10.77." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    const bool admin = i % 10 == 9;
    if (admin) admins.insert(ip);
    lines += failure(admin ? "admin" : "root", ip);
  }
  // Decisions from before the batch, whose time runs out while Riposte is down.
  std::set<std::string> expired;
  std::string early;
  for (size_t i = 1; i <= kExpire; ++i) {
    expired.insert("10.78.0." + std::to_string(i));
    early += failure("root", "10.78.0." + std::to_string(i));
  }
  int64_t at_kill = 0;
  {
    testing::BackgroundRiposte serve({"serve", "--config", cfg.string()});
    ASSERT_TRUE(
        testing::waitFor([&] { return serve.err().find("serving") != std::string::npos; }, 30000))
        << serve.err();
    append(log, early);
    ASSERT_TRUE(testing::waitFor([&] { return kernelSet(ns, "rpmid") == expired; }, 30000))
        << serve.err();
    append(log, lines);
    // Kill as soon as the store shows part of the batch.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < until) {
      at_kill = storedDecisions(db);
      if (at_kill >= static_cast<int64_t>(kExpire) + kBatch / 10) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    EXPECT_EQ(serve.stop(SIGKILL), 128 + SIGKILL);
    ASSERT_GE(at_kill, static_cast<int64_t>(kExpire) + kBatch / 10) << serve.err();
  }

  // After the kill: part of the batch stored, part of that applied.
  std::set<std::string> pending_before;
  {
    auto store = SqliteStore::open(db.string());
    ASSERT_TRUE(store.isOk()) << store.status().toString();
    DecisionFilter f;
    f.limit = 1'000'000;
    auto ds = (*store)->listDecisions(f);
    ASSERT_TRUE(ds.isOk());
    ASSERT_LT(ds->size(), kExpire + kBatch)
        << "serve stored the whole batch before it was killed: not a mid-batch crash";
    const size_t in_kernel = kernelSet(ns, "rpmid").size();
    std::printf("killed with %zu of %d decisions of the batch stored, %zu elements in the set\n",
                ds->size() - kExpire, kBatch, in_kernel);
    for (const auto& d : *ds) {
      if (d.state == DecisionState::kPendingApproval) pending_before.insert(d.target.value);
      if (expired.count(d.target.value) == 0) continue;
      // Out of time while Riposte is down; the kernel keeps the element (a stale one).
      ASSERT_EQ(d.state, DecisionState::kActive) << d.target.value;
      Decision x = d;
      x.expires = Timestamp::now() - std::chrono::seconds(1);
      ASSERT_TRUE((*store)->saveDecision(x).isOk());
    }
    EXPECT_FALSE(pending_before.empty());
  }
  for (const auto& e : expired) ASSERT_EQ(kernelElements(ns, "rpmid").count(e), 1u) << e;

  testing::BackgroundRiposte again({"serve", "--config", cfg.string()});
  ASSERT_TRUE(
      testing::waitFor([&] { return again.err().find("serving") != std::string::npos; }, 30000))
      << again.err();
  // The rest of the log is read after the restart: wait for the whole batch, then for the set.
  ASSERT_TRUE(testing::waitFor(
      [&] { return storedDecisions(db) >= static_cast<int64_t>(kExpire) + kBatch; }, 120000))
      << storedDecisions(db) << " decisions\n"
      << again.err();
  std::set<std::string> want;
  for (int i = 0; i < kBatch; ++i) {
    const std::string ip = "10.77." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    if (admins.count(ip) == 0 && expired.count(ip) == 0) want.insert(ip);
  }
  ASSERT_TRUE(testing::waitFor([&] { return kernelSet(ns, "rpmid") == want; }, 120000))
      << "kernel: " << kernelSet(ns, "rpmid").size() << " elements, want " << want.size() << "\n"
      << again.err().substr(0, 4000);
  EXPECT_EQ(again.stop(SIGTERM), 0) << again.err().substr(0, 4000);

  // Each element once; the store agrees with the kernel exactly.
  const auto elements = kernelElements(ns, "rpmid");
  EXPECT_EQ(elements.size(), want.size()) << "an element is listed more than once";
  auto store = SqliteStore::open(db.string());
  ASSERT_TRUE(store.isOk()) << store.status().toString();
  DecisionFilter f;
  f.limit = 1'000'000;
  auto ds = (*store)->listDecisions(f);
  ASSERT_TRUE(ds.isOk());
  std::map<std::string, int> per_target;
  std::set<std::string> active, pending;
  for (const auto& d : *ds) {
    ++per_target[d.target.value];
    if (d.state == DecisionState::kActive) active.insert(d.target.value);
    if (d.state == DecisionState::kPendingApproval) pending.insert(d.target.value);
    if (expired.count(d.target.value) != 0) {
      EXPECT_EQ(d.state, DecisionState::kExpired) << d.target.value;
    }
  }
  EXPECT_EQ(per_target.size(), kExpire + kBatch);
  for (const auto& [t, n] : per_target) {
    EXPECT_EQ(n, 1) << t << " was decided " << n << " times (a line re-read after the crash)";
  }
  EXPECT_EQ(active, want) << "the kernel set and the active decisions differ";
  EXPECT_EQ(pending, admins) << "pending approvals lost or doubled";
  for (const auto& p : pending_before) EXPECT_EQ(pending.count(p), 1u) << p << " no longer pending";
  for (const auto& a : admins) EXPECT_EQ(elements.count(a), 0u) << a << " enforced unapproved";
  for (const auto& e : expired) EXPECT_EQ(elements.count(e), 0u) << e << " not undone";
  auto undone = runRiposte({"audit", "show", "--config", cfg.string(), "--kind", "action.undone"});
  for (const auto& e : expired) {
    EXPECT_NE(undone.out.find("\"target\":\"" + e + "\""), std::string::npos)
        << e << " has no action.undone entry";
  }
  auto restored =
      runRiposte({"audit", "show", "--config", cfg.string(), "--kind", "action.restored"});
  EXPECT_EQ(std::count(restored.out.begin(), restored.out.end(), '\n'), 1) << restored.out;
  auto verify = runRiposte({"audit", "verify", "--config", cfg.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.err << verify.out;
  ns.execInServer({"nft", "delete", "table", "inet", "rpmid"});
}

}  // namespace
}  // namespace riposte

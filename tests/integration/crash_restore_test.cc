// Crash test: `riposte serve` with the nftables action in a network namespace is killed with
// SIGKILL after its decisions are stored. Meanwhile the kernel set loses its elements (as after
// a reboot) but keeps one whose decision has expired while Riposte was down (as if the kernel
// never timed it out). After
// a restart, every active decision is enforced again — once, in one restore batch — the expired
// one is undone, a proposal made in manual mode is still pending and not enforced, and the audit
// chain verifies.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

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

// The IPv4 elements of the test's nftables set, as `nft` itself lists them.
std::set<std::string> kernelSet(const NetnsPair& ns) {
  std::string out;
  if (ns.execInServer({"nft", "list", "set", "inet", "rpcrash", "blocked4"}, &out) != 0) return {};
  std::set<std::string> els;
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

}  // namespace
}  // namespace riposte

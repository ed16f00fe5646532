// `riposte mode manual|auto|status` and `riposte decisions approve|reject` against a store, and a
// running `serve` that goes manual when its action keeps failing, proposes instead of enforcing,
// and resumes after `riposte mode auto`.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/http_server.h"
#include "support/test_support.h"

namespace riposte {
namespace {

using testing::runRiposte;

void append(const std::filesystem::path& p, const std::string& s) {
  std::ofstream(p, std::ios::app) << s;
}

std::string failure(const std::string& ip) {
  return "Mar  3 10:15:40 web1 sshd[120]: Failed password for root from " + ip +
         " port 51240 ssh2\n";
}

TEST(ModeCli, ManualAutoStatusAreAuditedAndPersisted) {
  testing::TempDir dir;
  const auto cfg = dir.path() / "riposte.yaml";
  std::ofstream(cfg) << "store:\n  path: " << (dir.path() / "r.db").string() << "\n";
  auto st = runRiposte({"mode", "status", "--config", cfg.string()});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  EXPECT_EQ(nlohmann::json::parse(st.out)["mode"], "auto");
  auto m = runRiposte({"mode", "manual", "--reason", "maintenance", "--config", cfg.string()});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  st = runRiposte({"mode", "status", "--config", cfg.string()});
  auto j = nlohmann::json::parse(st.out);
  EXPECT_EQ(j["mode"], "manual");
  EXPECT_EQ(j["reason"], "maintenance");
  auto d = runRiposte({"mode", "dry-run", "--reason", "trial", "--config", cfg.string()});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  j = nlohmann::json::parse(runRiposte({"mode", "status", "--config", cfg.string()}).out);
  EXPECT_EQ(j["mode"], "dry-run");
  EXPECT_EQ(j["reason"], "trial");
  EXPECT_NE(runRiposte({"mode", "dry-run", "--config", cfg.string()}).out.find("already"),
            std::string::npos);
  auto a = runRiposte({"mode", "auto", "--config", cfg.string()});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(
      nlohmann::json::parse(runRiposte({"mode", "status", "--config", cfg.string()}).out)["mode"],
      "auto");
  auto show = runRiposte({"audit", "show", "--config", cfg.string()});
  EXPECT_NE(show.out.find("mode.manual"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("mode.auto"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("mode.dry_run"), std::string::npos) << show.out;
  EXPECT_EQ(runRiposte({"audit", "verify", "--config", cfg.string()}).exit_code, 0);
}

TEST(ModeCli, ServeGoesManualOnFailuresAndResumesOnRequest) {
  testing::TempDir dir;
  testing::HttpServer siem, admins;
  siem.setStatus(500);
  const auto log = dir.path() / "auth.log";
  append(log, "");
  const auto cfg = dir.path() / "riposte.yaml";
  std::ofstream(cfg) << "store:\n  path: " << (dir.path() / "r.db").string() << "\n"
                     << "sources:\n  - name: auth\n    type: file\n    path: " << log.string()
                     << "\n    parser: sshd\n    start_at: end\n    year: 2025\n"
                     << "detectors:\n  - name: ssh\n    type: threshold\n"
                     << "    kinds: [auth]\n    outcome: failure\n    threshold: 1\n"
                     << "actions:\n  - name: siem\n    type: webhook\n    url: "
                     << siem.url("/siem") << "\n    timeout: 500ms\n"
                     << "  - name: admins\n    type: webhook\n    format: slack\n    url: "
                     << admins.url("/admins") << "\n"
                     << "response:\n  action_attempts: 2\n  retry_backoff: 10ms\n"
                     << "  notify: [admins]\n  reconcile_interval: 1s\n";
  testing::BackgroundRiposte serve({"serve", "--config", cfg.string()});
  ASSERT_TRUE(testing::waitFor([&] { return serve.err().find("serving") != std::string::npos; }))
      << serve.err();
  append(log, failure("203.0.113.9"));
  ASSERT_TRUE(testing::waitFor([&] {
    auto s = runRiposte({"mode", "status", "--config", cfg.string()});
    return s.out.find("\"manual\"") != std::string::npos;
  })) << serve.err();
  EXPECT_NE(serve.err().find("MANUAL MODE"), std::string::npos);
  ASSERT_TRUE(testing::waitFor([&] {
    for (const auto& r : admins.requests()) {
      if (r.body.find("manual mode") != std::string::npos) return true;
    }
    return false;
  }));
  // In manual mode a new decision is proposed.
  append(log, failure("203.0.113.10"));
  ASSERT_TRUE(testing::waitFor([&] {
    auto s =
        runRiposte({"decisions", "list", "--state", "pending-approval", "--config", cfg.string()});
    return s.out.find("203.0.113.10") != std::string::npos;
  })) << serve.err();
  // The SIEM recovers; a person resumes auto mode; the next decision is enforced.
  siem.setStatus(200);
  ASSERT_EQ(runRiposte({"mode", "auto", "--config", cfg.string()}).exit_code, 0);
  ASSERT_TRUE(testing::waitFor([&] {
    return serve.err().find("automatic mode resumed") != std::string::npos;
  })) << serve.err();
  append(log, failure("203.0.113.11"));
  ASSERT_TRUE(testing::waitFor([&] {
    for (const auto& r : siem.requests()) {
      if (r.body.find("203.0.113.11") != std::string::npos) return true;
    }
    return false;
  })) << serve.err();
  // Approving the proposed decision gets it enforced by the running engine (reconcile).
  auto pending =
      runRiposte({"decisions", "list", "--state", "pending-approval", "--config", cfg.string()});
  const auto id =
      nlohmann::json::parse(pending.out.substr(0, pending.out.find('\n')))["id"].get<std::string>();
  ASSERT_EQ(runRiposte({"decisions", "approve", id, "--config", cfg.string()}).exit_code, 0);
  ASSERT_TRUE(testing::waitFor([&] {
    int n = 0;
    for (const auto& r : siem.requests()) {
      if (r.body.find("203.0.113.10") != std::string::npos &&
          r.body.find("\"apply\"") != std::string::npos) {
        ++n;
      }
    }
    return n >= 1;
  })) << serve.err();
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.err();
  EXPECT_EQ(runRiposte({"audit", "verify", "--config", cfg.string()}).exit_code, 0);
  auto show = runRiposte({"audit", "show", "--config", cfg.string()});
  for (const char* k : {"action.failed", "mode.manual", "notify.sent", "decision.proposed",
                        "mode.auto", "decision.approved"}) {
    EXPECT_NE(show.out.find(k), std::string::npos) << k;
  }
}

}  // namespace
}  // namespace riposte

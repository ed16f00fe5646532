// `riposte mode manual|auto|dry-run|status`: the engine's mode, persisted in the store. A running
// `riposte serve` picks a change up within a second (tick). Every change is audited.
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "riposte/engine/serve.h"

namespace riposte::cli {

namespace {

std::string cliActor() {
  const char* user = std::getenv("USER");
  return std::string("cli:") + (user != nullptr ? user : "unknown");
}

int setMode(Context& ctx, const std::string& config, const std::string& mode,
            const std::string& reason) {
  auto cfg = loadConfigOrDefault(ctx, config);
  if (!cfg) return 2;
  auto store = openStore(*cfg, ctx.registries);
  if (!store) {
    std::fprintf(stderr, "riposte mode: %s\n", store.status().toString().c_str());
    return 1;
  }
  auto cur = (*store)->loadMode();
  if (!cur) {
    std::fprintf(stderr, "riposte mode: %s\n", cur.status().toString().c_str());
    return 1;
  }
  if (cur->name() == mode) {
    std::printf("already in %s mode\n", mode.c_str());
    return 0;
  }
  EngineMode m;
  (void)m.setName(mode);
  m.actor = cliActor();
  m.reason = !reason.empty()     ? reason
             : mode == "manual"  ? "switched to manual by hand"
             : mode == "dry-run" ? "switched to dry-run by hand"
                                 : "resumed by hand";
  m.since = Timestamp::now();
  AuditEntry a;
  a.actor = m.actor;
  a.kind = mode == "dry-run" ? "mode.dry_run" : "mode." + mode;
  a.reason = m.reason;
  a.details_json = nlohmann::json{
      {"mode", mode},
      {"previous_mode", std::string(cur->name())},
      {"previous_reason",
       cur->reason}}.dump();
  if (Status st = (*store)->saveMode(m); !st.isOk()) {
    std::fprintf(stderr, "riposte mode: %s\n", st.toString().c_str());
    return 1;
  }
  if (Status st = (*store)->appendAudit(a); !st.isOk()) {
    std::fprintf(stderr, "riposte mode: audit: %s\n", st.toString().c_str());
    return 1;
  }
  std::printf("%s mode (%s)\n", mode.c_str(), m.reason.c_str());
  return 0;
}

}  // namespace

void addModeCommands(CLI::App& app, Context& ctx) {
  auto* mode =
      app.add_subcommand("mode", "Show or change the engine's mode (auto | manual | dry-run)");
  mode->require_subcommand(1);
  mode->fallthrough();
  auto config = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  mode->add_option("--config,-c", *config, "configuration file (names the store)");

  auto* status = mode->add_subcommand("status", "Print the mode as JSON");
  status->callback([&ctx, config] {
    auto cfg = loadConfigOrDefault(ctx, *config);
    if (!cfg) {
      ctx.exit_code = 2;
      return;
    }
    auto store = openStore(*cfg, ctx.registries);
    if (!store) {
      std::fprintf(stderr, "riposte mode: %s\n", store.status().toString().c_str());
      ctx.exit_code = 1;
      return;
    }
    auto m = (*store)->loadMode();
    DecisionFilter f;
    f.state = DecisionState::kPendingApproval;
    f.limit = 10'000'000;
    auto pending = (*store)->listDecisions(f);
    if (!m || !pending) {
      std::fprintf(stderr, "riposte mode: %s\n",
                   (!m ? m.status() : pending.status()).toString().c_str());
      ctx.exit_code = 1;
      return;
    }
    nlohmann::json j = {{"mode", std::string(m->name())},
                        {"reason", m->reason},
                        {"actor", m->actor},
                        {"pending_approval", pending->size()}};
    if (m->since.isSet()) j["since"] = formatRfc3339Utc(m->since);
    std::printf("%s\n", j.dump().c_str());
  });

  auto* manual = mode->add_subcommand("manual", "Stop enforcing: propose decisions only");
  manual->add_option("--reason,-r", *reason, "why (audited)");
  manual->callback(
      [&ctx, config, reason] { ctx.exit_code = setMode(ctx, *config, "manual", *reason); });

  auto* dry = mode->add_subcommand(
      "dry-run", "Decide and record, enforce nothing (decisions in state dry-run; no action runs)");
  dry->add_option("--reason,-r", *reason, "why (audited)");
  dry->callback(
      [&ctx, config, reason] { ctx.exit_code = setMode(ctx, *config, "dry-run", *reason); });

  auto* autom = mode->add_subcommand("auto", "Resume enforcing (an explicit, audited step)");
  autom->add_option("--reason,-r", *reason, "why (audited)");
  autom->callback(
      [&ctx, config, reason] { ctx.exit_code = setMode(ctx, *config, "auto", *reason); });
}

}  // namespace riposte::cli

#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "riposte/core/logging.h"
#include "riposte/engine/serve.h"

namespace riposte::cli {

namespace {
std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
extern "C" void onSignal(int) { g_stop.store(true); }
extern "C" void onHangup(int) { g_reload.store(true); }
}  // namespace

void addServeCommand(CLI::App& app, Context& ctx) {
  auto config = std::make_shared<std::string>();
  auto listen = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>();
  auto threads = std::make_shared<int>(-1);
  auto* cmd = app.add_subcommand(
      "serve",
      "Run continuously: tail the configured sources (following rotation), detect, decide, act,\n"
      "keep the store, expire decisions. Reloads the rule files on SIGHUP (a bad file keeps the\n"
      "running rules). Stops cleanly on SIGINT or SIGTERM.");
  cmd->add_option("--config,-c", *config, "configuration file")->required();
  cmd->add_option("--listen,-l", *listen,
                  "serve the API on ADDR:PORT (overrides api.listen; [::1]:PORT for IPv6)");
  cmd->add_option("--role", *role,
                  "all (one node), ingest, analyze or enforce (overrides cluster.role; "
                  "docs/cluster.md)")
      ->check(CLI::IsMember({"all", "ingest", "analyze", "enforce"}));
  cmd->add_option("--threads", *threads,
                  "analysis worker threads, events sharded by source address (overrides "
                  "engine.threads; 0 = one per core)")
      ->check(CLI::Range(0, 256));
  cmd->callback([&ctx, config, listen, role, threads] {
    auto cfg = loadConfigOrDefault(ctx, *config);
    if (!cfg) {
      ctx.exit_code = 2;
      return;
    }
    (void)initLogging(cfg->log_level, cfg->log_format);
    struct sigaction sa {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    struct sigaction hup {};
    hup.sa_handler = onHangup;
    sigemptyset(&hup.sa_mask);
    sigaction(SIGHUP, &hup, nullptr);
    ServeOptions so;
    so.reload = &g_reload;
    so.listen = *listen;
    so.role = *role;
    so.threads = *threads;
    if (Status st = serve(*cfg, ctx.registries, g_stop, so); !st.isOk()) {
      std::fprintf(stderr, "riposte serve: %s\n", st.toString().c_str());
      ctx.exit_code = 1;
    }
  });
}

}  // namespace riposte::cli

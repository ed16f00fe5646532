#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "riposte/core/logging.h"
#include "riposte/engine/serve.h"

namespace riposte::cli {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void onSignal(int) { g_stop.store(true); }
}  // namespace

void addServeCommand(CLI::App& app, Context& ctx) {
  auto config = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "serve",
      "Run continuously: tail the configured sources (following rotation), detect, decide, act,\n"
      "keep the store, expire decisions. Stops cleanly on SIGINT or SIGTERM.");
  cmd->add_option("--config,-c", *config, "configuration file")->required();
  cmd->callback([&ctx, config] {
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
    if (Status st = serve(*cfg, ctx.registries, g_stop); !st.isOk()) {
      std::fprintf(stderr, "riposte serve: %s\n", st.toString().c_str());
      ctx.exit_code = 1;
    }
  });
}

}  // namespace riposte::cli

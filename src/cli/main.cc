// riposte: a thin shell over the engine library.
#include <cstdio>

#include "cli/commands.h"
#include "cli/intel_cmd.h"
#include "riposte/core/logging.h"

namespace riposte::cli {

Result<Config> loadConfigOrDefault(Context& ctx, const std::string& path) {
  std::vector<ConfigDiagnostic> diags;
  auto cfg = path.empty()
                 ? parseConfig(defaultConfigYaml(), "<built-in defaults>", &ctx.registries, &diags)
                 : loadConfig(path, &ctx.registries, &diags);
  if (!cfg) {
    for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.toString().c_str());
    if (diags.empty()) std::fprintf(stderr, "%s\n", cfg.status().toString().c_str());
  }
  return cfg;
}

}  // namespace riposte::cli

namespace {

int run(int argc, char** argv) {
  using namespace riposte;
  cli::Context ctx;
  if (Status st = registerBuiltins(ctx.registries); !st.isOk()) {
    std::fprintf(stderr, "riposte: %s\n", st.toString().c_str());
    return 70;
  }
  CLI::App app{
      "Riposte: automated incident response driven by threat intelligence.\n"
      "Reads security events, decides within microseconds, acts with audited, "
      "reversible actions.",
      "riposte"};
  app.set_version_flag("-V,--version", std::string("riposte ") + RIPOSTE_VERSION);
  app.require_subcommand(1);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")
      ->capture_default_str();
  cli::addReplayCommand(app, ctx);
  cli::addServeCommand(app, ctx);
  cli::addConfigCommands(app, ctx);
  cli::addDecisionCommands(app, ctx);
  cli::addIncidentCommands(app, ctx);
  cli::addAuditCommands(app, ctx);
  cli::addRulesCommands(app, ctx);
  cli::addIntelCommands(app);
  cli::addModeCommands(app, ctx);
  cli::addModelCommands(app, ctx);
  cli::addDbCommands(app, ctx);
  cli::addUserCommands(app, ctx);
  cli::addAllowlistCommands(app, ctx);
  cli::addHistoryCommands(app, ctx);
  app.parse_complete_callback([&] {
    if (Status st = initLogging(log_level, "text"); !st.isOk()) {
      throw CLI::ValidationError("--log-level", st.message());
    }
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    // Nothing below should throw; if something does, say what instead of aborting.
    std::fprintf(stderr, "riposte: internal error: %s\n", e.what());
    return 70;
  }
  return ctx.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "riposte: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "riposte: internal error\n");
  }
  return 70;
}

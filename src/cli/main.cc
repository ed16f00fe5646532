// riposte: a thin shell over the engine library.
#include <cstdio>

#include "cli/commands.h"
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

int main(int argc, char** argv) {
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
  cli::addAuditCommands(app, ctx);
  cli::addRulesCommands(app, ctx);
  app.parse_complete_callback([&] {
    if (Status st = initLogging(log_level, "text"); !st.isOk()) {
      throw CLI::ValidationError("--log-level", st.message());
    }
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return ctx.exit_code;
}

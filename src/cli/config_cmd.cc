#include <cstdio>

#include "cli/commands.h"

namespace riposte::cli {

void addConfigCommands(CLI::App& app, Context& ctx) {
  auto* cfg = app.add_subcommand("config", "Configuration tools");
  cfg->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto* check = cfg->add_subcommand(
      "check", "Validate a configuration file whole; print every error with its key path and line");
  check->add_option("file", *file, "configuration file")->required();
  check->callback([&ctx, file] {
    std::vector<ConfigDiagnostic> diags;
    auto c = loadConfig(*file, &ctx.registries, &diags);
    if (!c) {
      for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.toString().c_str());
      std::fprintf(stderr, "%s: %zu error(s)\n", file->c_str(), diags.size());
      ctx.exit_code = 2;
      return;
    }
    // Only the SQLite store has a path; a database url may hold a password: not printed.
    const std::string where = c->store_type == "sqlite" ? " at " + c->store_path : "";
    std::printf("%s: OK (%zu source(s), %zu detector(s), %zu action(s), store %s%s)\n",
                file->c_str(), c->sources.size(), c->detectors.size(), c->actions.size(),
                c->store_type.c_str(), where.c_str());
  });
}

}  // namespace riposte::cli

// `riposte db migrate`: opens the configured store, which applies every pending schema
// migration (SQLite file or PostgreSQL database), and reports the version reached.
#include <cstdio>

#include "cli/commands.h"
#include "riposte/engine/serve.h"

namespace riposte::cli {

void addDbCommands(CLI::App& app, Context& ctx) {
  auto* db = app.add_subcommand("db", "The store's database");
  db->require_subcommand(1);
  db->fallthrough();  // --config may follow the sub-command
  auto config = std::make_shared<std::string>();
  db->add_option("--config,-c", *config, "configuration file (names the store)");

  auto* migrate = db->add_subcommand(
      "migrate", "Apply pending schema migrations to the configured store and print the version");
  migrate->callback([&ctx, config] {
    auto cfg = loadConfigOrDefault(ctx, *config);
    if (!cfg) {
      ctx.exit_code = 2;
      return;
    }
    auto store = openStore(*cfg, ctx.registries);
    if (!store) {
      std::fprintf(stderr, "riposte db migrate: %s\n", store.status().toString().c_str());
      ctx.exit_code = 1;
      return;
    }
    std::printf("store %s: schema version %d\n", cfg->store_type.c_str(),
                (*store)->schemaVersion());
  });
}

}  // namespace riposte::cli

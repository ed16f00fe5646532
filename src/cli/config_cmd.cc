#include <algorithm>
#include <cstdio>

#include "cli/commands.h"
#include "riposte/intel/feed_client.h"
#include "riposte/intel/redis_cache.h"

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
    // The intel section is read by the intel detector and the collector, not by loadConfig:
    // check it here too, so a bad feed is found before serve starts.
    size_t feeds = 0;
    auto fc = intel::feedConfigsFrom(*c);
    auto cache = intel::RedisCacheOptions::fromConfig(*c);
    if (!fc || !cache) {
      size_t errors = 0;
      for (const Status* st : {fc ? nullptr : &fc.status(), cache ? nullptr : &cache.status()}) {
        if (st == nullptr) continue;
        std::fprintf(stderr, "%s\n", st->message().c_str());
        const std::string& m = st->message();
        errors += 1 + static_cast<size_t>(std::count(m.begin(), m.end(), '\n'));
      }
      std::fprintf(stderr, "%s: %zu error(s)\n", file->c_str(), errors);
      ctx.exit_code = 2;
      return;
    }
    feeds = fc->size();
    // Only the SQLite store has a path; a database url may hold a password: not printed.
    const std::string where = c->store_type == "sqlite" ? " at " + c->store_path : "";
    std::printf(
        "%s: OK (%zu source(s), %zu detector(s), %zu action(s), %zu intel feed(s), store %s%s)\n",
        file->c_str(), c->sources.size(), c->detectors.size(), c->actions.size(), feeds,
        c->store_type.c_str(), where.c_str());
  });
}

}  // namespace riposte::cli

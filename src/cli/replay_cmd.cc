#include <cstdio>

#include "cli/commands.h"
#include "riposte/engine/replay.h"
#include "riposte/engine/serve.h"
#include "riposte/store/sqlite_store.h"

namespace riposte::cli {

void addReplayCommand(CLI::App& app, Context& ctx) {
  struct Opts {
    std::string config;
    std::string type;
    int year = 0;
    std::string db = ":memory:";
    bool allowlist_own = false;
    bool apply = false;
    int threads = -1;
    std::vector<std::string> files;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      "replay",
      "Run the pipeline over log files as fast as possible, using each line's own timestamps.\n"
      "Prints one JSON object per decision on stdout and a summary on stderr.");
  cmd->add_option("--config,-c", o->config, "configuration file (default: built-in defaults)");
  cmd->add_option("--type,-t", o->type, "parser for every file (default: detected per file)");
  cmd->add_option("--year", o->year, "year for syslog lines without one")
      ->check(CLI::Range(1970, 9999));
  cmd->add_option("--db", o->db, "SQLite file to keep findings, decisions and audit in")
      ->capture_default_str();
  cmd->add_flag("--allowlist-own", o->allowlist_own,
                "also allowlist this machine's own addresses (off: logs come from elsewhere)");
  cmd->add_flag("--apply", o->apply, "run the configured actions (default: decide only)");
  cmd->add_option("--threads", o->threads,
                  "analysis worker threads, events sharded by source address (overrides "
                  "engine.threads; 0 = one per core)")
      ->check(CLI::Range(0, 256));
  cmd->add_option("files", o->files, "log files (plain or gzip; - for standard input)")->required();
  cmd->callback([&ctx, o] {
    auto cfg = loadConfigOrDefault(ctx, o->config);
    if (!cfg) {
      ctx.exit_code = 2;
      return;
    }
    if (!o->type.empty() && ctx.registries.parsers.find(o->type) == nullptr) {
      std::fprintf(stderr, "riposte replay: unknown --type '%s' (known: %s)\n", o->type.c_str(),
                   ctx.registries.parsers.namesJoined().c_str());
      ctx.exit_code = 2;
      return;
    }
    auto store = SqliteStore::open(o->db);
    if (!store) {
      std::fprintf(stderr, "riposte replay: %s\n", store.status().toString().c_str());
      ctx.exit_code = 1;
      return;
    }
    EngineOptions eo;
    eo.allowlist_own_addresses = o->allowlist_own;
    eo.run_actions = o->apply;
    eo.actor = "replay";
    eo.fetch_feeds = false;
    eo.decide_at_event_time = true;
    eo.threads = o->threads;
    auto engine = Engine::create(*cfg, ctx.registries, store->get(), eo);
    if (!engine) {
      std::fprintf(stderr, "riposte replay: %s\n", engine.status().toString().c_str());
      ctx.exit_code = 2;
      return;
    }
    (*engine)->setDecisionListener([](const Decision& d) {
      const std::string line = d.toJson() + "\n";
      std::fwrite(line.data(), 1, line.size(), stdout);
    });
    ReplayOptions ro;
    ro.files = o->files;
    ro.type = o->type;
    if (o->year != 0) ro.year = o->year;
    auto summary = replay(**engine, ctx.registries, ro);
    std::fflush(stdout);
    if (!summary) {
      std::fprintf(stderr, "riposte replay: %s\n", summary.status().toString().c_str());
      ctx.exit_code = 1;
      return;
    }
    const auto& s = summary->stats;
    const double rate = summary->seconds > 0 ? static_cast<double>(s.lines) / summary->seconds : 0;
    std::string parsers;
    for (const auto& [f, p] : summary->parser_per_file)
      parsers += (parsers.empty() ? "" : ", ") + p;
    std::fprintf(
        stderr,
        "replay: %llu lines read, %llu parsed, %llu skipped, %llu unparsed, "
        "%llu findings, %llu decisions (%llu allowlisted, %llu already active) "
        "in %.3f s, %.0f lines/s [parser: %s] [threads: %u]\n",
        static_cast<unsigned long long>(s.lines), static_cast<unsigned long long>(s.parsed),
        static_cast<unsigned long long>(s.skipped), static_cast<unsigned long long>(s.unparsed),
        static_cast<unsigned long long>(s.findings), static_cast<unsigned long long>(s.decisions),
        static_cast<unsigned long long>(s.allowlisted),
        static_cast<unsigned long long>(s.duplicates), summary->seconds, rate, parsers.c_str(),
        (*engine)->threads());
  });
}

}  // namespace riposte::cli

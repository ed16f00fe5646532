#include "intel_cmd.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <optional>

#include "riposte/core/config.h"
#include "riposte/intel/collector.h"
#include "riposte/intel/commands.h"

namespace riposte::cli {
namespace {

constexpr const char* kDefaultDb = "riposte-intel.db";

struct IntelArgs {
  std::string db = kDefaultDb;
  // load
  std::string file;
  std::string format;
  std::string source;
  std::string column;
  int column_index = -1;
  std::string type;
  int confidence = -1;
  bool all_attributes = false;
  // lookup
  std::string value;
  // intel.cache of this configuration file (shared Redis cache)
  std::string config;
  // sync
  std::string feed;
};

[[noreturn]] void fail(const Status& st) {
  std::cerr << "riposte intel: " << st.toString() << "\n";
  throw CLI::RuntimeError(2);
}

// The shared cache configured in --config FILE, if any.
std::optional<intel::RedisCacheOptions> cacheOf(const std::string& config) {
  if (config.empty()) return std::nullopt;
  auto cfg = loadConfig(config, nullptr);
  if (!cfg) fail(cfg.status());
  auto cache = intel::RedisCacheOptions::fromConfig(*cfg);
  if (!cache) fail(cache.status());
  return *cache;
}

void print(const Result<nlohmann::json>& r) {
  if (!r) fail(r.status());
  std::cout << r->dump(2) << "\n";
}

}  // namespace

void addIntelCommands(CLI::App& app) {
  auto args = std::make_shared<IntelArgs>();
  CLI::App* intel = app.add_subcommand("intel", "Threat-intelligence indicators");
  intel->require_subcommand(1);

  CLI::App* load = intel->add_subcommand("load", "Parse a feed file and store its indicators");
  load->add_option("FILE", args->file, "Feed file")->required()->check(CLI::ExistingFile);
  load->add_option("--format,-f", args->format, "list | csv | otx | misp | stix")->required();
  load->add_option("--db", args->db, "Intel database (SQLite)")->capture_default_str();
  load->add_option("--source", args->source, "Source name (default: the file name)");
  load->add_option("--column", args->column, "csv: value column name");
  load->add_option("--column-index", args->column_index, "csv: value column, 0-based");
  load->add_option("--type", args->type, "list/csv: type of every value (else guessed)");
  load->add_option("--confidence", args->confidence, "Confidence 0-100 for items without one")
      ->check(CLI::Range(0, 100));
  load->add_flag("--all-attributes", args->all_attributes, "misp: also attributes without to_ids");
  load->add_option("--config,-c", args->config,
                   "configuration file: publish to its intel.cache (shared Redis cache)");
  load->callback([args] {
    intel::LoadRequest req;
    req.file = args->file;
    auto format = intel::feedFormatFromName(args->format);
    if (!format) fail(Status::invalidArgument("unknown --format '" + args->format + "'"));
    req.format = *format;
    req.db_path = args->db;
    req.options.source = args->source;
    req.options.column = args->column;
    req.options.column_index = args->column_index;
    req.options.require_to_ids = !args->all_attributes;
    if (args->confidence >= 0) req.options.confidence = static_cast<uint8_t>(args->confidence);
    if (!args->type.empty()) {
      auto t = intel::indicatorTypeFromName(args->type);
      if (!t) fail(Status::invalidArgument("unknown --type '" + args->type + "'"));
      req.options.type = *t;
    }
    req.cache = cacheOf(args->config);
    print(intel::loadFeedFile(std::move(req)));
  });

  CLI::App* lookup = intel->add_subcommand("lookup", "Every indicator matching a value (JSON)");
  lookup->add_option("VALUE", args->value, "IP, CIDR, domain, URL, hash or e-mail address")
      ->required();
  lookup->add_option("--db", args->db, "Intel database (SQLite)")->capture_default_str();
  lookup->add_option("--config,-c", args->config,
                     "configuration file: also read its intel.cache (shared Redis cache)");
  lookup->callback([args] {
    auto cache = cacheOf(args->config);
    auto r = cache ? intel::lookupWithCache(args->db, *cache, args->value)
                   : intel::lookupInDb(args->db, args->value);
    print(r);
    if ((*r)["matches"].empty()) throw CLI::RuntimeError(1);
  });

  CLI::App* sync = intel->add_subcommand(
      "sync", "Fetch the feeds of intel.feeds now and store their indicators (JSON report)");
  sync->add_option("--config,-c", args->config, "configuration file with intel.feeds")
      ->required()
      ->check(CLI::ExistingFile);
  sync->add_option("--feed", args->feed, "only this feed (also when disabled)");
  CLI::Option* sync_db =
      sync->add_option("--db", args->db, "Intel database (default: intel.db of the configuration)");
  sync->callback([args, sync_db] {
    auto cfg = loadConfig(args->config, nullptr);
    if (!cfg) fail(cfg.status());
    auto feeds = intel::feedConfigsFrom(*cfg);
    if (!feeds) fail(feeds.status());
    if (feeds->empty()) fail(Status::invalidArgument(args->config + ": no intel.feeds configured"));
    auto cache = intel::RedisCacheOptions::fromConfig(*cfg);
    if (!cache) fail(cache.status());
    intel::CollectorOptions co;
    co.db_path = sync_db->count() > 0 ? args->db : intel::feedDbPath(*cfg);
    co.feeds = std::move(*feeds);
    co.cache = *cache;
    intel::Collector collector(std::move(co), nullptr);
    auto r = collector.syncNow(args->feed);
    print(r);
    for (const auto& f : (*r)["feeds"]) {
      if (f["status"] == "error") throw CLI::RuntimeError(1);
    }
  });

  CLI::App* feeds = intel->add_subcommand(
      "feeds", "Health of each feed after its last run (JSON, from the database)");
  feeds->add_option("--db", args->db, "Intel database (SQLite)")->capture_default_str();
  feeds->callback([args] { print(intel::feedHealthOfDb(args->db)); });

  CLI::App* stats = intel->add_subcommand("stats", "Indicator counts per type and source, memory");
  stats->add_option("--db", args->db, "Intel database (SQLite)")->capture_default_str();
  stats->callback([args] { print(intel::statsOfDb(args->db)); });
}

}  // namespace riposte::cli

// Intel control-plane operations behind `riposte intel load|lookup|stats` (and, later, the API),
// with their JSON renderings. The CLI only parses arguments and prints what these return.
//
// Thread safety: each call opens its own database connection; concurrent calls on the same file
// are serialised by SQLite.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "riposte/core/status.h"
#include "riposte/intel/builder.h"
#include "riposte/intel/feed.h"
#include "riposte/intel/redis_cache.h"
#include "riposte/intel/snapshot.h"

namespace riposte::intel {

nlohmann::json toJson(const IndicatorMatch& match);
nlohmann::json toJson(const ParseReport& report);
nlohmann::json toJson(const BuildReport& report);
nlohmann::json toJson(const SnapshotStats& stats);

struct LoadRequest {
  std::filesystem::path file;
  FeedFormat format = FeedFormat::kList;
  FeedOptions options;  // options.source defaults to the file name without extension
  std::string db_path;
  BuildOptions build;  // build.now unset = now
  // Shared cache (intel.cache): the source's indicators are also published there.
  std::optional<RedisCacheOptions> cache;
};

// Parses the file and replaces that source's indicators in the database with them (the other
// sources stay). A document-level parse failure changes nothing and is returned as the error;
// item-level errors are counted in the result. Returns {file, format, source, parse, build,
// snapshot}, plus {cache: {key, ttl_seconds} or {error}} when a cache is given (a cache
// failure does not undo the database write).
Result<nlohmann::json> loadFeedFile(LoadRequest request);

// Loads the database into a snapshot.
Result<std::shared_ptr<const Snapshot>> snapshotFromDb(const std::string& db_path,
                                                       BuildOptions build = {});

// {"query": value, "matches": [ {type, value, score, valid_until, sources:[…]} … ]}.
Result<nlohmann::json> lookupInDb(const std::string& db_path, const std::string& value);
// The same over the database plus the shared cache (as a running node sees them); a cache
// failure is an error.
Result<nlohmann::json> lookupWithCache(const std::string& db_path, const RedisCacheOptions& cache,
                                       const std::string& value);

// {"db", "indicators", "source_reports", "per_type", "per_source", "memory_bytes", "next_expiry"}.
Result<nlohmann::json> statsOfDb(const std::string& db_path);

}  // namespace riposte::intel

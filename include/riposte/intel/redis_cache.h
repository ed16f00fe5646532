// RedisCache: indicators shared between Riposte nodes through Redis, so a node reads feeds that
// another node fetched without fetching them itself.
//
// Each source's indicators live under one key, `<prefix><source>` (`threat:intel:<source>` by
// default), written whole with an expiry (one hour by default): a source that its publisher
// stops refreshing disappears from every node. The value is a versioned text record, one
// indicator per line (type, value, confidence, first/last seen, valid from/until, TLP, revoked,
// reference, tags; tabs, newlines and backslashes escaped), as the feed reported them: every
// node scores, expires and filters (known-good) them with its own SnapshotBuilder.
//
// Thread safety: encode/decode are pure; a RedisCache (one connection) is used by one thread at
// a time.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/core/config.h"
#include "riposte/core/status.h"
#include "riposte/intel/indicator.h"
#include "riposte/net/redis_client.h"

namespace riposte::intel {

struct RedisCacheOptions {
  net::RedisOptions redis;
  std::string prefix = "threat:intel:";
  Duration ttl = std::chrono::hours(1);
  Duration refresh = std::chrono::minutes(1);  // how often a node re-reads the cache

  // From `intel.cache`; nullopt when no cache is configured.
  static Result<std::optional<RedisCacheOptions>> fromConfig(const Config& config);
};

// The record stored for one source (`published` = when it was written).
std::string encodeSourceRecord(std::string_view source, const std::vector<Indicator>& indicators,
                               Timestamp published);
struct SourceRecord {
  std::string source;
  Timestamp published;
  std::vector<Indicator> indicators;
  size_t bad_lines = 0;  // lines that did not decode (skipped)
};
Result<SourceRecord> decodeSourceRecord(std::string_view text);

struct CachedSource {
  SourceRecord record;
  std::chrono::milliseconds ttl_left{0};  // the key's remaining lifetime
};

struct CacheContents {
  std::map<std::string, CachedSource> sources;
  size_t bad_keys = 0;  // keys under the prefix whose value did not decode
  std::vector<std::string> errors;
};

class RedisCache {
 public:
  explicit RedisCache(RedisCacheOptions options);

  // Replaces the source's indicators in the cache (one SET with the expiry).
  Status publish(const std::string& source, const std::vector<Indicator>& indicators);
  // Every source in the cache. A connection failure is an error; a missing or expired key is
  // simply absent.
  Result<CacheContents> fetchAll();

  std::string keyFor(std::string_view source) const {
    return options_.prefix + std::string(source);
  }
  const RedisCacheOptions& options() const { return options_; }

 private:
  RedisCacheOptions options_;
  net::RedisClient client_;
};

}  // namespace riposte::intel

// CacheRefresher: keeps an intel Store fed from this node's intel database and the shared
// Redis cache (RedisCache), on its own thread.
//
// Each refresh reads the local database (sources loaded on this node) and the cache (sources
// loaded on any node), builds one snapshot — a source in the local database comes from it,
// every other source from the cache — and publishes it to the Store. Sources of the local
// database are (re)published to the cache when missing there or past half their expiry, so
// they stay available to other nodes while this node runs and expire when it stops.
// A source whose cache key expired drops out at the next refresh. When Redis is unreachable
// the Store keeps its current snapshot (never emptied by an outage); the failure is logged
// once, counted and reported by health(), and the next successful refresh logs the recovery.
//
// Thread safety: start()/stop() from the owning thread; refreshOnce() and health() from any
// thread (refreshes are serialised).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "riposte/intel/builder.h"
#include "riposte/intel/redis_cache.h"
#include "riposte/intel/store.h"
#include "riposte/intel/store_updater.h"

namespace riposte::intel {

struct CacheHealth {
  bool redis_ok = false;
  std::string last_error;
  Timestamp last_success;
  uint64_t refreshes = 0;
  uint64_t failures = 0;
  size_t local_sources = 0;
  size_t cached_sources = 0;  // sources taken from the cache
  size_t published = 0;       // local sources written to the cache (total)
  size_t bad_keys = 0;        // cache keys that did not decode (last refresh)
  size_t indicators = 0;      // in the current snapshot
};

class CacheRefresher : public StoreUpdater {
 public:
  // `db_path` empty = no local database (the node only reads the cache).
  CacheRefresher(std::string db_path, RedisCacheOptions cache, BuildOptions build,
                 std::shared_ptr<Store> store);
  ~CacheRefresher() override;

  // One refresh now. On a Redis failure the error is returned and the store keeps its
  // snapshot — except the very first time, when the local database alone is published.
  Status refreshOnce();
  // Refreshes every `cache.refresh` on a thread of its own.
  void start() override;
  void stop() override;

  CacheHealth health() const;
  const std::shared_ptr<Store>& store() const { return store_; }

 private:
  std::string db_path_;
  RedisCacheOptions options_;
  BuildOptions build_;
  std::shared_ptr<Store> store_;
  RedisCache cache_;
  mutable std::mutex mu_;  // health_, and one refresh at a time
  CacheHealth health_;
  bool published_once_ = false;
  std::thread thread_;
  std::mutex wait_mu_;
  std::condition_variable wake_;
  std::atomic<bool> stop_{false};
};

}  // namespace riposte::intel

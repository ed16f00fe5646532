// Collector: runs the configured intel feeds (feed_client.h), each on its own schedule, and
// keeps the intel database and a Store up to date.
//
// Each feed runs on a thread of its own every `interval`; a failed run is retried after
// `failure_backoff`, doubled per consecutive failure up to the interval, and never before a
// server's Retry-After. A successful fetch replaces the feed's indicators in the database (or,
// for an incremental sync, adds to them; a value reported again replaces its previous report),
// remembers the feed's state (ETag / Last-Modified / cursor) in table `intel_feed_state` of the
// same database, rebuilds the snapshot from every source and hands it to `publish`. A failed,
// malformed, truncated or oversize fetch, or a full fetch that suddenly returns no items,
// changes nothing: the feed keeps its previous indicators, and the failure is logged with the
// feed's name and reason and counted in its health. One broken or slow feed never blocks the
// others (separate threads; database commits are serialised).
//
// With a shared cache (`cache`), each fetched source is also published to Redis.
//
// After each run the feed's FeedHealth is also written to intel_feed_state (feedHealthOfDb()), so
// another process (the CLI, a console) can read it.
//
// Thread safety: syncNow() and health() from any thread; start()/stop() from the owning thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "riposte/intel/builder.h"
#include "riposte/intel/feed_client.h"
#include "riposte/intel/redis_cache.h"
#include "riposte/intel/store.h"
#include "riposte/intel/store_updater.h"

namespace riposte::intel {

// Per-feed health, for the console API and metrics.
struct FeedHealth {
  std::string name;
  std::string type;
  std::string url;
  bool enabled = true;
  Timestamp last_attempt;
  Timestamp last_success;  // last fetch that completed (also a 304)
  Timestamp next_run;
  std::string last_error;  // of the last run; "" after a success
  Duration last_duration{0};
  uint64_t runs = 0;
  uint64_t successes = 0;
  uint64_t not_modified = 0;
  uint64_t failures = 0;
  uint64_t consecutive_failures = 0;
  size_t indicators = 0;    // held for this feed after the last successful run
  size_t last_fetched = 0;  // indicators in the last fetch
  size_t last_parse_errors = 0;
  size_t last_pages = 0;
  size_t last_bytes = 0;
};

nlohmann::json toJson(const FeedHealth& health);

// The health each feed had after its last run, as recorded in the database's intel_feed_state
// by whichever process ran it (serve, `intel sync`): [{name, …FeedHealth…, cursor}].
Result<nlohmann::json> feedHealthOfDb(const std::string& db_path);

struct CollectorOptions {
  std::string db_path;
  std::vector<FeedConfig> feeds;
  BuildOptions build;  // per-feed weights are added from the feeds' `weight`
  std::optional<RedisCacheOptions> cache;
};

class Collector : public StoreUpdater {
 public:
  // `publish` receives each new snapshot (e.g. Store::publish); may be empty.
  using Publish = std::function<void(std::shared_ptr<const Snapshot>)>;
  Collector(CollectorOptions options, Publish publish);
  ~Collector() override;

  // Runs every enabled feed (or only `feed`, enabled or not) once, now, one after the other.
  // Returns {"db", "feeds": [{feed, status: ok|not_modified|error, error?, fetched, indicators,
  // pages, requests, bytes, parse}], "snapshot": {...}}. Fails only when `feed` is unknown or
  // the database cannot be opened.
  Result<nlohmann::json> syncNow(const std::string& feed = "");

  void start() override;  // one thread per enabled feed; the first run is immediate
  void stop() override;
  // Wakes the thread of `feed` ("" = every enabled feed) for a run now instead of at its next
  // scheduled time (a run under way is followed by another). Unknown feed: not found; a
  // disabled feed or a collector not started: failed precondition (`intel sync --feed` runs a
  // disabled one by hand).
  Status requestSync(const std::string& feed) override;

  std::vector<FeedHealth> health() const;
  const CollectorOptions& options() const { return options_; }

 private:
  struct Feed;
  nlohmann::json runFeed(Feed& feed);
  Status commit(Feed& feed, FetchResult& result, size_t* held);
  bool waitFor(Duration d);
  void recordHealth(const FeedHealth& h);

  CollectorOptions options_;
  Publish publish_;
  std::vector<std::unique_ptr<Feed>> feeds_;
  mutable std::mutex health_mu_;
  std::mutex commit_mu_;  // one database write at a time
  std::vector<std::thread> threads_;
  std::mutex wait_mu_;
  std::condition_variable wake_;
  std::atomic<bool> stop_{false};
};

}  // namespace riposte::intel

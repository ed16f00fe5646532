#include "riposte/detect/shared_intel.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "riposte/core/registry.h"
#include "riposte/intel/cache_refresher.h"
#include "riposte/intel/collector.h"
#include "riposte/intel/commands.h"
#include "riposte/intel/feed_client.h"
#include "riposte/intel/redis_cache.h"
#include "riposte/intel/store_updater.h"

namespace riposte {

namespace {

constexpr const char* kDefaultDb = "var/intel.db";

const ComponentConfig* firstIntelDetector(const Config* config) {
  if (config == nullptr) return nullptr;
  for (const auto& d : config->detectors) {
    if (d.type == "intel") return &d;
  }
  return nullptr;
}

}  // namespace

std::string rulesIntelDb(const Config* config) {
  if (const ComponentConfig* d = firstIntelDetector(config)) {
    if (d->node && d->node["db"] && d->node["db"].IsScalar()) return d->node["db"].Scalar();
    return kDefaultDb;
  }
  return config != nullptr ? intel::feedDbPath(*config) : kDefaultDb;
}

SharedIntel::SharedIntel(std::shared_ptr<intel::Store> store, std::string db)
    : store_(std::move(store)), db_(std::move(db)) {}

SharedIntel::~SharedIntel() {
  if (updaters_) updaters_->stop();
}

Status SharedIntel::requestFeedSync(const std::string& feed) {
  if (!updaters_) return Status::failedPrecondition(intel::StoreUpdater::kNoCollector);
  return updaters_->requestSync(feed);
}

Result<std::shared_ptr<SharedIntel>> SharedIntel::open(const Config* config, const std::string& db,
                                                       bool fetch_feeds,
                                                       const std::string& context) {
  auto store = std::make_shared<intel::Store>();
  auto out = std::make_shared<SharedIntel>(store, db);
  std::optional<intel::RedisCacheOptions> cache;
  std::vector<intel::FeedConfig> feeds;
  if (config != nullptr) {
    auto c = intel::RedisCacheOptions::fromConfig(*config);
    if (!c) return c.status();
    cache = *c;
    auto f = intel::feedConfigsFrom(*config);
    if (!f) return f.status();
    feeds = std::move(*f);
    // Replay: the stored indicators (and the shared cache as it is now), nothing fetched.
    if (!fetch_feeds) feeds.clear();
  }
  if (!cache && feeds.empty()) {
    std::error_code ec;
    if (firstIntelDetector(config) == nullptr && !std::filesystem::exists(db, ec)) {
      // Only rules ask for this database: they get an empty store rather than a new file.
      spdlog::info(
          "{}: intel database {} does not exist; intel predicates match nothing until "
          "indicators are loaded (riposte intel load --db {})",
          context, db, db);
      store->publish(intel::Snapshot::empty());
      return out;
    }
    auto snap = intel::snapshotFromDb(db);
    if (!snap) return snap.status().withContext(context + ": intel db " + db);
    store->publish(std::move(*snap));
    return out;
  }
  auto updaters = std::make_unique<intel::StoreUpdaters>();
  intel::CacheRefresher* refresher = nullptr;
  if (cache) {
    // The local database plus the sources other nodes put in the shared cache.
    auto r = std::make_unique<intel::CacheRefresher>(db, *cache, intel::BuildOptions{}, store);
    if (Status st = r->refreshOnce(); !st.isOk()) {
      spdlog::warn("{}: starting with the local intel database only: {}", context, st.toString());
    }
    if (fetch_feeds) {
      refresher = r.get();
      updaters->add(std::move(r));
    }
  } else {
    auto snap = intel::snapshotFromDb(db);
    if (!snap) return snap.status().withContext(context + ": intel db " + db);
    store->publish(std::move(*snap));
  }
  if (!feeds.empty()) {
    // intel.feeds: fetched on their schedules into `db`; each new snapshot reaches the
    // detectors through the store (through the cache refresher with a cache).
    intel::CollectorOptions co;
    co.db_path = db;
    co.feeds = std::move(feeds);
    co.cache = cache;
    intel::Collector::Publish publish;
    if (refresher != nullptr) {
      publish = [refresher](const std::shared_ptr<const intel::Snapshot>&) {
        (void)refresher->refreshOnce();
      };
    } else {
      publish = [store](std::shared_ptr<const intel::Snapshot> s) { store->publish(std::move(s)); };
    }
    updaters->add(std::make_unique<intel::Collector>(std::move(co), std::move(publish)));
  }
  if (!updaters->empty()) {
    updaters->start();
    out->updaters_ = std::move(updaters);
  }
  return out;
}

Result<std::shared_ptr<SharedIntel>> IntelHub::get(const FactoryContext& ctx, const std::string& db,
                                                   const std::string& context) {
  std::lock_guard<std::mutex> l(mu_);
  if (auto it = by_db_.find(db); it != by_db_.end()) return it->second;
  auto made = SharedIntel::open(ctx.config, db, ctx.fetch_feeds, context);
  if (!made) return made.status();
  by_db_.emplace(db, *made);
  return *made;
}

Result<std::shared_ptr<SharedIntel>> sharedIntelFor(const FactoryContext& ctx,
                                                    const std::string& db,
                                                    const std::string& context) {
  if (ctx.intel) return ctx.intel->get(ctx, db, context);
  return SharedIntel::open(ctx.config, db, ctx.fetch_feeds, context);
}

}  // namespace riposte

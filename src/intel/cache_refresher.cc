#include "riposte/intel/cache_refresher.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>

#include "riposte/intel/persistence.h"

namespace riposte::intel {

CacheRefresher::CacheRefresher(std::string db_path, RedisCacheOptions cache, BuildOptions build,
                               std::shared_ptr<Store> store)
    : db_path_(std::move(db_path)),
      options_(std::move(cache)),
      build_(std::move(build)),
      store_(std::move(store)),
      cache_(options_) {}

CacheRefresher::~CacheRefresher() { stop(); }

CacheHealth CacheRefresher::health() const {
  std::lock_guard<std::mutex> l(mu_);
  return health_;
}

Status CacheRefresher::refreshOnce() {
  std::lock_guard<std::mutex> l(mu_);
  ++health_.refreshes;
  // This node's own sources.
  std::map<std::string, std::vector<Indicator>, std::less<>> local;
  if (!db_path_.empty()) {
    auto db = IntelDb::open(db_path_);
    if (!db) return db.status();
    auto rows = db->load();
    if (!rows) return rows.status();
    for (auto& i : *rows) local[i.source].push_back(std::move(i));
  }
  health_.local_sources = local.size();
  auto contents = cache_.fetchAll();
  if (!contents) {
    ++health_.failures;
    if (health_.redis_ok || health_.failures == 1) {
      spdlog::warn("intel cache unreachable, keeping the current snapshot ({} indicators): {}",
                   store_->snapshot()->size(), contents.status().toString());
    }
    health_.redis_ok = false;
    health_.last_error = contents.status().message();
    if (!published_once_) {  // first refresh: at least the local database
      SnapshotBuilder builder(build_);
      for (const auto& [_, inds] : local) builder.add(inds);
      store_->publish(builder.build());
      published_once_ = true;
      health_.indicators = store_->snapshot()->size();
    }
    return contents.status();
  }
  if (!health_.redis_ok && health_.failures > 0) {
    spdlog::info("intel cache reachable again ({})", options_.redis.describe());
  }
  health_.redis_ok = true;
  health_.bad_keys = contents->bad_keys;
  for (const auto& e : contents->errors) spdlog::warn("intel cache: {}", e);
  // Keep this node's sources in the cache while it runs.
  const auto half = std::chrono::duration_cast<std::chrono::milliseconds>(options_.ttl) / 2;
  for (const auto& [source, inds] : local) {
    auto it = contents->sources.find(source);
    if (it != contents->sources.end() && it->second.ttl_left > half) continue;
    if (Status st = cache_.publish(source, inds); !st.isOk()) {
      spdlog::warn("{}", st.toString());
    } else {
      ++health_.published;
    }
  }
  SnapshotBuilder builder(build_);
  size_t cached = 0;
  for (const auto& [_, inds] : local) builder.add(inds);
  for (const auto& [source, cs] : contents->sources) {
    if (local.count(source) != 0) continue;
    builder.add(cs.record.indicators);
    ++cached;
  }
  store_->publish(builder.build());
  published_once_ = true;
  health_.cached_sources = cached;
  health_.indicators = store_->snapshot()->size();
  health_.last_success = Timestamp::now();
  health_.last_error.clear();
  return Status::ok();
}

void CacheRefresher::start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    while (!stop_) {
      {
        std::unique_lock<std::mutex> l(wait_mu_);
        wake_.wait_for(l, options_.refresh, [&] { return stop_.load(); });
      }
      if (stop_) break;
      (void)refreshOnce();
    }
  });
}

void CacheRefresher::stop() {
  {
    std::lock_guard<std::mutex> l(wait_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace riposte::intel

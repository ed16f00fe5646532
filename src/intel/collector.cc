#include "riposte/intel/collector.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <unordered_map>

#include "riposte/intel/commands.h"
#include "riposte/intel/persistence.h"

namespace riposte::intel {
namespace {

nlohmann::json timeJson(Timestamp t) {
  if (!t.isSet()) return nullptr;
  return formatRfc3339Utc(t);
}

std::string columnText(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
}

Status sqlFail(sqlite3* db, const std::string& what) {
  return Status::ioError("intel feed state: " + what + ": " + sqlite3_errmsg(db));
}

Status ensureStateSchema(sqlite3* db) {
  char* err = nullptr;
  if (sqlite3_exec(db,
                   "CREATE TABLE IF NOT EXISTS intel_feed_state ("
                   " feed TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, cursor TEXT,"
                   " updated INTEGER, health TEXT)",
                   nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    return Status::ioError("intel feed state: create table: " + m);
  }
  return Status::ok();
}

Result<FeedState> loadState(sqlite3* db, const std::string& feed) {
  RIPOSTE_RETURN_IF_ERROR(ensureStateSchema(db));
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT etag, last_modified, cursor FROM intel_feed_state WHERE feed=?",
                         -1, &s, nullptr) != SQLITE_OK) {
    return sqlFail(db, "prepare select");
  }
  sqlite3_bind_text(s, 1, feed.data(), static_cast<int>(feed.size()), SQLITE_TRANSIENT);
  FeedState st;
  if (sqlite3_step(s) == SQLITE_ROW) {
    st.etag = columnText(s, 0);
    st.last_modified = columnText(s, 1);
    st.cursor = columnText(s, 2);
  }
  sqlite3_finalize(s);
  return st;
}

// Indicators of `source` in the database (what the feed holds before this process fetched it).
size_t countSource(sqlite3* db, const std::string& source) {
  if (!ensureIntelSchema(db).isOk()) return 0;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM intel_indicators WHERE source=?", -1, &s,
                         nullptr) != SQLITE_OK) {
    return 0;
  }
  sqlite3_bind_text(s, 1, source.data(), static_cast<int>(source.size()), SQLITE_TRANSIENT);
  size_t n = 0;
  if (sqlite3_step(s) == SQLITE_ROW) n = static_cast<size_t>(sqlite3_column_int64(s, 0));
  sqlite3_finalize(s);
  return n;
}

Status saveState(sqlite3* db, const std::string& feed, const FeedState& st) {
  RIPOSTE_RETURN_IF_ERROR(ensureStateSchema(db));
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(
          db,
          "INSERT INTO intel_feed_state (feed, etag, last_modified, cursor, updated) "
          "VALUES (?,?,?,?,?) ON CONFLICT(feed) DO UPDATE SET etag=excluded.etag, "
          "last_modified=excluded.last_modified, cursor=excluded.cursor, "
          "updated=excluded.updated",
          -1, &s, nullptr) != SQLITE_OK) {
    return sqlFail(db, "prepare insert");
  }
  sqlite3_bind_text(s, 1, feed.data(), static_cast<int>(feed.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, st.etag.data(), static_cast<int>(st.etag.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 3, st.last_modified.data(), static_cast<int>(st.last_modified.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 4, st.cursor.data(), static_cast<int>(st.cursor.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(s, 5, Timestamp::now().micros / 1'000'000);
  const int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return sqlFail(db, "insert");
  return Status::ok();
}

Status saveHealth(sqlite3* db, const std::string& feed, const std::string& health) {
  RIPOSTE_RETURN_IF_ERROR(ensureStateSchema(db));
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO intel_feed_state (feed, health) VALUES (?,?) "
                         "ON CONFLICT(feed) DO UPDATE SET health=excluded.health",
                         -1, &s, nullptr) != SQLITE_OK) {
    return sqlFail(db, "prepare health");
  }
  sqlite3_bind_text(s, 1, feed.data(), static_cast<int>(feed.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, health.data(), static_cast<int>(health.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return sqlFail(db, "write health");
  return Status::ok();
}

std::string key(const Indicator& i) {
  std::string k(indicatorTypeName(i.type));
  k += '|';
  k += i.value;
  return k;
}

}  // namespace

nlohmann::json toJson(const FeedHealth& h) {
  return {
      {"name", h.name},
      {"type", h.type},
      {"url", h.url},
      {"enabled", h.enabled},
      {"last_attempt", timeJson(h.last_attempt)},
      {"last_success", timeJson(h.last_success)},
      {"next_run", timeJson(h.next_run)},
      {"last_error", h.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.last_error)},
      {"last_duration_ms",
       std::chrono::duration_cast<std::chrono::milliseconds>(h.last_duration).count()},
      {"runs", h.runs},
      {"successes", h.successes},
      {"not_modified", h.not_modified},
      {"failures", h.failures},
      {"consecutive_failures", h.consecutive_failures},
      {"indicators", h.indicators},
      {"last_fetched", h.last_fetched},
      {"last_parse_errors", h.last_parse_errors},
      {"last_pages", h.last_pages},
      {"last_bytes", h.last_bytes}};
}

struct Collector::Feed {
  FeedConfig config;
  std::unique_ptr<FeedClient> client;  // created at the first run
  std::mutex run_mu;                   // one run of this feed at a time
  FeedHealth health;                   // under health_mu_
  bool counted = false;                // health.indicators read from the database
  bool sync_requested = false;         // under wait_mu_: run now (requestSync)
};

Collector::Collector(CollectorOptions options, Publish publish)
    : options_(std::move(options)), publish_(std::move(publish)) {
  for (const auto& f : options_.feeds) {
    auto feed = std::make_unique<Feed>();
    feed->config = f;
    // Waits between retries end early when the collector stops.
    feed->config.http.wait = [this](Duration d) { return waitFor(d); };
    feed->health.name = f.name;
    feed->health.type = f.type;
    feed->health.url = f.url;
    feed->health.enabled = f.enabled;
    if (f.policy) options_.build.sources[f.name] = *f.policy;
    feeds_.push_back(std::move(feed));
  }
}

Collector::~Collector() { stop(); }

std::vector<FeedHealth> Collector::health() const {
  std::lock_guard<std::mutex> l(health_mu_);
  std::vector<FeedHealth> out;
  for (const auto& f : feeds_) out.push_back(f->health);
  return out;
}

bool Collector::waitFor(Duration d) {
  std::unique_lock<std::mutex> l(wait_mu_);
  return !wake_.wait_for(l, d, [&] { return stop_.load(); });
}

Status Collector::commit(Feed& feed, FetchResult& result, size_t* held) {
  std::lock_guard<std::mutex> l(commit_mu_);
  auto db = IntelDb::open(options_.db_path);
  if (!db) return db.status();
  auto rows = db->load();
  if (!rows) return rows.status();
  const std::string& source = feed.config.name;
  std::vector<Indicator> others;
  std::vector<Indicator> mine;
  for (auto& i : *rows) (i.source == source ? mine : others).push_back(std::move(i));
  if (!result.incremental && result.indicators.empty() && result.report.items == 0 &&
      !mine.empty()) {
    return Status::failedPrecondition("feed '" + source +
                                      "': the response holds no items at all; its previous " +
                                      std::to_string(mine.size()) + " indicators are kept");
  }
  if (result.incremental) {
    std::unordered_map<std::string, size_t> at;
    for (size_t i = 0; i < mine.size(); ++i) at.emplace(key(mine[i]), i);
    for (auto& n : result.indicators) {
      auto it = at.find(key(n));
      if (it != at.end()) {
        mine[it->second] = std::move(n);
      } else {
        at.emplace(key(n), mine.size());
        mine.push_back(std::move(n));
      }
    }
  } else {
    mine = std::move(result.indicators);
  }
  SnapshotBuilder builder(options_.build);
  builder.add(others);
  builder.add(mine);
  std::shared_ptr<const Snapshot> snap = builder.build();
  RIPOSTE_RETURN_IF_ERROR(db->save(*snap).withContext("feed '" + source + "'"));
  if (Status st = saveState(db->handle(), source, result.state); !st.isOk()) {
    spdlog::warn("intel feed {}: {} (the next sync fetches everything again)", source,
                 st.toString());
  }
  const auto stats = snap->stats();
  auto it = stats.per_source.find(source);
  *held = it == stats.per_source.end() ? 0 : it->second;
  if (options_.cache) {
    RedisCache cache(*options_.cache);
    if (Status st = cache.publish(source, mine); !st.isOk()) {
      spdlog::warn("intel feed {}: shared cache: {}", source, st.toString());
    }
  }
  if (publish_) publish_(std::move(snap));
  return Status::ok();
}

nlohmann::json Collector::runFeed(Feed& feed) {
  std::lock_guard<std::mutex> run(feed.run_mu);
  const auto t0 = std::chrono::steady_clock::now();
  const Timestamp started = Timestamp::now();
  nlohmann::json out = {{"feed", feed.config.name}, {"type", feed.config.type}};
  Duration retry_after{0};
  Status failure;
  size_t held = 0;
  std::optional<FetchResult> fetched;
  FeedState previous;
  {
    auto db = IntelDb::open(options_.db_path);
    if (!db) {
      failure = db.status();
    } else if (auto st = loadState(db->handle(), feed.config.name); !st) {
      failure = st.status();
    } else {
      previous = *st;
      if (!feed.counted) {
        const size_t n = countSource(db->handle(), feed.config.name);
        std::lock_guard<std::mutex> l(health_mu_);
        feed.health.indicators = n;
        feed.counted = true;
      }
    }
  }
  if (failure.isOk() && !feed.client) {
    auto c = makeFeedClient(feed.config);
    if (!c) {
      failure = c.status();
    } else {
      feed.client = std::move(*c);
    }
  }
  if (failure.isOk()) {
    auto r = feed.client->fetch(previous, &retry_after);
    if (!r) {
      failure = r.status();
    } else {
      fetched = std::move(*r);
      if (!fetched->not_modified) failure = commit(feed, *fetched, &held);
    }
  }
  const Duration took = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - t0);
  std::unique_lock<std::mutex> l(health_mu_);
  FeedHealth& h = feed.health;
  ++h.runs;
  h.last_attempt = started;
  h.last_duration = took;
  if (fetched) {
    h.last_pages = fetched->pages;
    h.last_bytes = fetched->bytes;
    h.last_parse_errors = fetched->report.errors;
    out["pages"] = fetched->pages;
    out["requests"] = fetched->requests;
    out["bytes"] = fetched->bytes;
  }
  if (!failure.isOk()) {
    ++h.failures;
    ++h.consecutive_failures;
    h.last_error = failure.toString();
    // Exponential backoff on failure, up to the interval; never before a Retry-After.
    Duration wait = feed.config.failure_backoff;
    for (uint64_t i = 1; i < h.consecutive_failures && wait < feed.config.interval; ++i) wait *= 2;
    wait = std::min(wait, feed.config.interval);
    wait = std::max(wait, retry_after);
    h.next_run = Timestamp::now() + wait;
    spdlog::warn(
        "intel feed {}: {} (failure {} in a row; keeping its {} indicators; next try in "
        "{})",
        feed.config.name, failure.toString(), h.consecutive_failures, h.indicators,
        formatDuration(wait));
    out["status"] = "error";
    out["error"] = failure.toString();
    out["indicators"] = h.indicators;
    const FeedHealth copy = h;
    l.unlock();
    recordHealth(copy);
    return out;
  }
  ++h.successes;
  h.consecutive_failures = 0;
  h.last_error.clear();
  h.last_success = Timestamp::now();
  h.next_run = h.last_success + feed.config.interval;
  if (fetched->not_modified) {
    ++h.not_modified;
    out["status"] = "not_modified";
    spdlog::info("intel feed {}: not modified", feed.config.name);
  } else {
    h.indicators = held;
    h.last_fetched = fetched->report.indicators;
    out["status"] = "ok";
    out["incremental"] = fetched->incremental;
    out["parse"] = toJson(fetched->report);
    spdlog::info(
        "intel feed {}: {} indicators fetched ({} pages, {} bytes, {} item errors), {} "
        "held",
        feed.config.name, fetched->report.indicators, fetched->pages, fetched->bytes,
        fetched->report.errors, held);
  }
  out["fetched"] = h.last_fetched;
  out["indicators"] = h.indicators;
  const FeedHealth copy = h;
  l.unlock();
  recordHealth(copy);
  return out;
}

void Collector::recordHealth(const FeedHealth& h) {
  std::lock_guard<std::mutex> l(commit_mu_);
  auto db = IntelDb::open(options_.db_path);
  Status st = db ? saveHealth(db->handle(), h.name, toJson(h).dump()) : db.status();
  if (!st.isOk()) spdlog::warn("intel feed {}: health not recorded: {}", h.name, st.toString());
}

Result<nlohmann::json> feedHealthOfDb(const std::string& db_path) {
  auto db = IntelDb::open(db_path);
  if (!db) return db.status();
  RIPOSTE_RETURN_IF_ERROR(ensureStateSchema(db->handle()));
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db->handle(),
                         "SELECT feed, health, cursor FROM intel_feed_state ORDER BY feed", -1, &s,
                         nullptr) != SQLITE_OK) {
    return sqlFail(db->handle(), "prepare select");
  }
  nlohmann::json out = nlohmann::json::array();
  while (sqlite3_step(s) == SQLITE_ROW) {
    nlohmann::json h = nlohmann::json::parse(columnText(s, 1), nullptr, false);
    if (h.is_discarded() || !h.is_object()) h = {{"name", columnText(s, 0)}};
    h["cursor"] = columnText(s, 2);
    out.push_back(std::move(h));
  }
  sqlite3_finalize(s);
  return out;
}

Result<nlohmann::json> Collector::syncNow(const std::string& only) {
  nlohmann::json feeds = nlohmann::json::array();
  bool found = only.empty();
  for (auto& f : feeds_) {
    if (!only.empty() && f->config.name != only) continue;
    if (only.empty() && !f->config.enabled) continue;
    found = true;
    feeds.push_back(runFeed(*f));
  }
  if (!found) {
    std::string names;
    for (const auto& f : feeds_) names += (names.empty() ? "" : ", ") + f->config.name;
    return Status::notFound("no feed named '" + only +
                            "' (configured: " + (names.empty() ? "none" : names) + ")");
  }
  nlohmann::json out = {{"db", options_.db_path}, {"feeds", std::move(feeds)}};
  auto snap = snapshotFromDb(options_.db_path, options_.build);
  if (snap) out["snapshot"] = toJson((*snap)->stats());
  return out;
}

void Collector::start() {
  if (!threads_.empty()) return;
  stop_ = false;
  for (auto& f : feeds_) {
    if (!f->config.enabled) continue;
    Feed* feed = f.get();
    threads_.emplace_back([this, feed] {
      while (!stop_) {
        {
          std::lock_guard<std::mutex> l(wait_mu_);
          feed->sync_requested = false;
        }
        (void)runFeed(*feed);
        Timestamp next;
        {
          std::lock_guard<std::mutex> l(health_mu_);
          next = feed->health.next_run;
        }
        const Duration wait = next - Timestamp::now();
        if (wait <= Duration(0)) continue;
        std::unique_lock<std::mutex> l(wait_mu_);
        wake_.wait_for(l, wait, [&] { return stop_.load() || feed->sync_requested; });
      }
    });
  }
}

Status Collector::requestSync(const std::string& name) {
  std::vector<Feed*> chosen;
  for (auto& f : feeds_) {
    if (name.empty() ? f->config.enabled : f->config.name == name) chosen.push_back(f.get());
  }
  if (chosen.empty()) {
    if (!name.empty()) return Status::notFound("no intel feed named '" + name + "'");
    return Status::failedPrecondition("no intel feed is enabled");
  }
  if (!name.empty() && !chosen[0]->config.enabled) {
    return Status::failedPrecondition("intel feed '" + name +
                                      "' is disabled; `riposte intel sync --feed " + name +
                                      "` runs it by hand");
  }
  {
    std::lock_guard<std::mutex> l(wait_mu_);
    if (threads_.empty()) return Status::failedPrecondition("the feed collector is not running");
    for (Feed* f : chosen) f->sync_requested = true;
  }
  wake_.notify_all();
  return Status::ok();
}

void Collector::stop() {
  {
    std::lock_guard<std::mutex> l(wait_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace riposte::intel

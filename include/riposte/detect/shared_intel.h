// SharedIntel: the engine's one threat-intel Store for an indicator database, with what keeps it
// up to date (the shared Redis cache's refresher, the intel.feeds collector), shared by every
// detector that looks indicators up: the `intel` detector and the `intel` predicates of rules.
//
// The detectors of one engine are built with one FactoryContext; its IntelHub builds the
// SharedIntel of a database once, on the first request, so the database is read once and the
// feeds run once however many detectors (and shards) use it. A detector keeps its SharedIntel
// (shared_ptr): the updaters stop when the last detector using them goes.
//
// Which database: an `intel` detector names its own (`db`, default var/intel.db); rules use the
// first `intel` detector's, and without one `intel.db` (default var/intel.db). Without an
// `intel` detector, feeds or a shared cache, a database that does not exist gives rules an empty
// store (a warning says so) instead of creating the file; otherwise a database that cannot be
// opened is an error.
//
// Thread safety: IntelHub::get may be called from any thread; SharedIntel's store is
// thread-safe (see intel/store.h); requestFeedSync from any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "riposte/core/config.h"
#include "riposte/core/status.h"
#include "riposte/intel/store.h"

namespace riposte::intel {
class StoreUpdater;
}  // namespace riposte::intel

namespace riposte {

struct FactoryContext;

class SharedIntel {
 public:
  // Reads `db` (and the shared cache, the feeds of `config` when `fetch_feeds`) into a new
  // store and starts its updaters. `context` prefixes errors and warnings.
  static Result<std::shared_ptr<SharedIntel>> open(const Config* config, const std::string& db,
                                                   bool fetch_feeds, const std::string& context);
  // A store that nothing updates (tests, fixed snapshots).
  explicit SharedIntel(std::shared_ptr<intel::Store> store, std::string db = "");
  ~SharedIntel();
  SharedIntel(const SharedIntel&) = delete;
  SharedIntel& operator=(const SharedIntel&) = delete;

  const std::shared_ptr<intel::Store>& store() const { return store_; }
  const std::string& db() const { return db_; }
  // Asks the feed collector for a run of `feed` ("" = all) now.
  Status requestFeedSync(const std::string& feed);

 private:
  std::shared_ptr<intel::Store> store_;
  std::string db_;
  std::unique_ptr<intel::StoreUpdater> updaters_;
};

// The database rules' intel predicates read for `config` (see above); `config` may be null.
std::string rulesIntelDb(const Config* config);

class IntelHub {
 public:
  // The SharedIntel of `db` for the context's configuration, built on the first call.
  Result<std::shared_ptr<SharedIntel>> get(const FactoryContext& ctx, const std::string& db,
                                           const std::string& context);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<SharedIntel>> by_db_;
};

// The SharedIntel of `db`: the context's hub's when it has one, else a new one.
Result<std::shared_ptr<SharedIntel>> sharedIntelFor(const FactoryContext& ctx,
                                                    const std::string& db,
                                                    const std::string& context);

}  // namespace riposte

// StoreUpdater: something that keeps an intel Store up to date on threads of its own (the
// shared-cache refresher, the feed collector). The intel detector owns one and starts/stops it;
// StoreUpdaters runs several as one.
//
// Thread safety: start()/stop() from the owning thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "riposte/core/status.h"

namespace riposte::intel {

class StoreUpdater {
 public:
  virtual ~StoreUpdater() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
  // Asks for a run of `feed` ("" = every enabled feed) now, on the updater's own threads;
  // returns at once. Only a feed collector has feeds; any thread.
  virtual Status requestSync(const std::string& feed) {
    (void)feed;
    return Status::failedPrecondition(kNoCollector);
  }
  // The refusal of an updater that collects no feed (any other refusal says more).
  static constexpr const char* kNoCollector = "no intel feed is collected here";
};

class StoreUpdaters : public StoreUpdater {
 public:
  void add(std::unique_ptr<StoreUpdater> u) { all_.push_back(std::move(u)); }
  bool empty() const { return all_.empty(); }
  void start() override {
    for (auto& u : all_) u->start();
  }
  void stop() override {  // in reverse order of start
    for (auto it = all_.rbegin(); it != all_.rend(); ++it) (*it)->stop();
  }
  // The first updater that takes the request; otherwise the most telling refusal.
  Status requestSync(const std::string& feed) override {
    Status out = StoreUpdater::requestSync(feed);
    for (auto& u : all_) {
      Status st = u->requestSync(feed);
      if (st.isOk()) return st;
      if (st.message() != kNoCollector) out = st;
    }
    return out;
  }

 private:
  std::vector<std::unique_ptr<StoreUpdater>> all_;
};

}  // namespace riposte::intel

// StoreUpdater: something that keeps an intel Store up to date on threads of its own (the
// shared-cache refresher, the feed collector). The intel detector owns one and starts/stops it;
// StoreUpdaters runs several as one.
//
// Thread safety: start()/stop() from the owning thread.
#pragma once

#include <memory>
#include <vector>

namespace riposte::intel {

class StoreUpdater {
 public:
  virtual ~StoreUpdater() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
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

 private:
  std::vector<std::unique_ptr<StoreUpdater>> all_;
};

}  // namespace riposte::intel

#include "riposte/intel/store.h"

#include <chrono>

namespace riposte::intel {

Store::Store() : current_(Snapshot::empty()) {}

Store::~Store() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (reclaimer_.joinable()) reclaimer_.join();
}

void Store::publish(std::shared_ptr<const Snapshot> snapshot) {
  if (!snapshot) return;
  std::shared_ptr<const Snapshot> old =
      current_.exchange(std::move(snapshot), std::memory_order_acq_rel);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  // Only this thread holds it: free it here (the publisher is never a detection thread).
  if (!old || old.use_count() == 1) return;
  std::lock_guard lock(mu_);
  retired_.push_back(std::move(old));
  if (!reclaimer_.joinable()) reclaimer_ = std::thread([this] { reclaimLoop(); });
  cv_.notify_all();
}

void Store::reclaimLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    // Readers refresh their pointer on their next event; look again a few times a second.
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    std::vector<std::shared_ptr<const Snapshot>> unused;
    for (auto it = retired_.begin(); it != retired_.end();) {
      // Readers only ever load current_, so a retired snapshot held here alone stays so.
      if (it->use_count() == 1) {
        unused.push_back(std::move(*it));
        it = retired_.erase(it);
      } else {
        ++it;
      }
    }
    if (unused.empty()) continue;
    lock.unlock();
    unused.clear();  // the actual freeing, outside the lock
    lock.lock();
  }
}

Status Store::reload(const std::function<Result<std::shared_ptr<const Snapshot>>()>& build) {
  Result<std::shared_ptr<const Snapshot>> next = build();
  if (!next) return next.status().withContext("intel reload");
  if (!*next) return Status::internal("intel reload: the builder returned no snapshot");
  publish(std::move(next).value());
  return Status::ok();
}

}  // namespace riposte::intel

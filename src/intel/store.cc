#include "riposte/intel/store.h"

namespace riposte::intel {

Store::Store() : current_(Snapshot::empty()) {}

void Store::publish(std::shared_ptr<const Snapshot> snapshot) {
  if (!snapshot) return;
  current_.store(std::move(snapshot), std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

Status Store::reload(const std::function<Result<std::shared_ptr<const Snapshot>>()>& build) {
  Result<std::shared_ptr<const Snapshot>> next = build();
  if (!next) return next.status().withContext("intel reload");
  if (!*next) return Status::internal("intel reload: the builder returned no snapshot");
  publish(std::move(next).value());
  return Status::ok();
}

}  // namespace riposte::intel

#include "riposte/engine/command_queue.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "riposte/engine/engine.h"

namespace riposte {

WakeSignal::WakeSignal() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) spdlog::warn("eventfd: {}; the serve loop wakes on its timer only", errno);
}

WakeSignal::~WakeSignal() {
  if (fd_ >= 0) ::close(fd_);
}

void WakeSignal::notify() {
  if (fd_ < 0) return;
  const uint64_t one = 1;
  (void)!::write(fd_, &one, sizeof one);
}

void WakeSignal::wait(std::chrono::milliseconds timeout, std::span<const int> fds) {
  std::vector<pollfd> p;
  p.reserve(fds.size() + 1);
  if (fd_ >= 0) p.push_back({fd_, POLLIN, 0});
  for (int f : fds) p.push_back({f, POLLIN, 0});
  (void)::poll(p.data(), p.size(), static_cast<int>(timeout.count()));
  if (fd_ >= 0) {
    uint64_t n = 0;
    (void)!::read(fd_, &n, sizeof n);
  }
}

Status CommandQueue::run(Command cmd, std::chrono::milliseconds timeout) {
  auto p = std::make_shared<Pending>();
  p->cmd = std::move(cmd);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_) return Status::unavailable("the engine is stopping");
    if (queue_.size() >= capacity_) {
      return Status::resourceExhausted("the engine's command queue is full");
    }
    queue_.push_back(p);
  }
  if (wake_ != nullptr) wake_->notify();
  std::unique_lock<std::mutex> l(p->mu);
  if (!p->cv.wait_for(l, timeout, [&] { return p->done; })) {
    return Status::unavailable("the engine did not run the command within " +
                               std::to_string(timeout.count()) + " ms; it may still run");
  }
  return p->result;
}

void CommandQueue::finish(Pending& p, Status st) {
  {
    std::lock_guard<std::mutex> l(p.mu);
    p.done = true;
    p.result = std::move(st);
  }
  p.cv.notify_all();
}

size_t CommandQueue::drain(Engine& engine, size_t max) {
  size_t n = 0;
  while (n < max) {
    std::shared_ptr<Pending> p;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (queue_.empty()) break;
      p = std::move(queue_.front());
      queue_.pop_front();
    }
    Status st;
    try {
      st = p->cmd(engine);
    } catch (const std::exception& e) {
      spdlog::error("engine command failed: {}", e.what());
      st = Status::internal("the command failed");
    }
    finish(*p, std::move(st));
    ++n;
  }
  return n;
}

void CommandQueue::close() {
  std::deque<std::shared_ptr<Pending>> left;
  {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    left.swap(queue_);
  }
  for (auto& p : left) finish(*p, Status::unavailable("the engine is stopping"));
}

size_t CommandQueue::depth() const {
  std::lock_guard<std::mutex> l(mu_);
  return queue_.size();
}

bool IngestQueue::tryPush(std::vector<IngestItem>&& batch) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (queue_.size() + batch.size() > capacity_) {
      stats_.refused += batch.size();
      return false;
    }
    for (auto& it : batch) queue_.push_back(std::move(it));
    stats_.accepted += batch.size();
  }
  if (wake_ != nullptr) wake_->notify();
  return true;
}

size_t IngestQueue::drain(Engine& engine, size_t max) {
  std::deque<IngestItem> work;
  {
    std::lock_guard<std::mutex> l(mu_);
    const size_t n = std::min(max, queue_.size());
    for (size_t i = 0; i < n; ++i) {
      work.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
  }
  if (work.empty()) return 0;
  ParseContext ctx;
  ctx.reference = Timestamp::now();
  uint64_t offset = 0;
  for (const auto& it : work) {
    auto parser = engine.parser(it.parser);
    if (!parser) continue;  // names are checked when the batch is accepted
    SourceLine line{it.line, "api", offset++, "api"};
    engine.process(**parser, ctx, line);
  }
  std::lock_guard<std::mutex> l(mu_);
  stats_.processed += work.size();
  return work.size();
}

size_t IngestQueue::depth() const {
  std::lock_guard<std::mutex> l(mu_);
  return queue_.size();
}

IngestStats IngestQueue::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

}  // namespace riposte

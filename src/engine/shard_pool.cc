#include "riposte/engine/shard_pool.h"

#include <arpa/inet.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace riposte {

namespace {

// An event with storage of its own: the raw line and the origin's name are copied, the fields
// that pointed into the raw line point into the copy, the others are copied into the event's
// own per-field buffers. Buffers keep their capacity from one use to the next.
struct Slot {
  std::string raw;
  std::string source;
  Event event;
};

void copyInto(const Event& from, Slot& to) {
  to.raw.assign(from.raw());
  to.source.assign(from.origin().source);
  Event& e = to.event;
  e.clear();
  e.setRaw(to.raw);
  e.setKind(from.kind());
  e.setTimestamp(from.timestamp());
  e.setOrigin(to.source, from.origin().offset);
  e.setRepeat(from.repeat());
  const auto base = reinterpret_cast<uintptr_t>(from.raw().data());
  const size_t size = from.raw().size();
  for (size_t i = 0; i < kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    const std::string_view v = from.get(f);
    if (v.empty()) continue;
    const auto p = reinterpret_cast<uintptr_t>(v.data());
    if (p >= base && p + v.size() <= base + size) {
      e.set(f, std::string_view(to.raw.data() + (p - base), v.size()));
    } else {
      e.setOwned(f, v);
    }
  }
  for (const auto& [k, v] : from.extra()) e.setExtra(k, v);
}

uint64_t fnv1a(const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  // Final mix: the low bits pick the shard.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

struct Batch {
  std::vector<Slot> slots;
  size_t used = 0;
};

}  // namespace

struct ShardPool::Shard {
  std::mutex mu;
  std::condition_variable work_cv;  // the worker waits for a full batch or the stop
  std::condition_variable free_cv;  // the submitter waits for a free batch; drain for idle
  std::deque<Batch*> full;
  std::vector<Batch*> free;
  std::vector<std::unique_ptr<Batch>> batches;
  Batch* current = nullptr;  // being filled; the pipeline thread's
  bool busy = false;
  bool stop = false;
  std::atomic<uint64_t> processed{0};
  uint64_t waits = 0;  // pipeline thread writes, read under mu
  std::thread thread;
};

ShardPool::ShardPool(ShardPoolOptions options, Handler handler)
    : options_(options), handler_(std::move(handler)) {
  if (options_.shards == 0) options_.shards = 1;
  if (options_.batch == 0) options_.batch = 1;
  if (options_.queue_batches < 2) options_.queue_batches = 2;
  for (size_t i = 0; i < options_.shards; ++i) {
    auto s = std::make_unique<Shard>();
    for (size_t b = 0; b < options_.queue_batches; ++b) {
      auto batch = std::make_unique<Batch>();
      batch->slots.resize(options_.batch);
      s->free.push_back(batch.get());
      s->batches.push_back(std::move(batch));
    }
    shards_.push_back(std::move(s));
  }
  for (size_t i = 0; i < shards_.size(); ++i) {
    Shard* s = shards_[i].get();
    s->thread = std::thread([this, s, i] {
      for (;;) {
        Batch* b = nullptr;
        {
          std::unique_lock<std::mutex> l(s->mu);
          s->work_cv.wait(l, [s] { return s->stop || !s->full.empty(); });
          if (s->full.empty()) return;  // stopped and nothing left
          b = s->full.front();
          s->full.pop_front();
          s->busy = true;
        }
        for (size_t k = 0; k < b->used; ++k) handler_(i, b->slots[k].event);
        s->processed.fetch_add(b->used, std::memory_order_relaxed);
        b->used = 0;
        {
          std::lock_guard<std::mutex> l(s->mu);
          s->free.push_back(b);
          s->busy = false;
        }
        s->free_cv.notify_all();
      }
    });
  }
}

ShardPool::~ShardPool() {
  flush();
  for (auto& s : shards_) {
    {
      std::lock_guard<std::mutex> l(s->mu);
      s->stop = true;
    }
    s->work_cv.notify_one();
  }
  for (auto& s : shards_) {
    if (s->thread.joinable()) s->thread.join();
  }
}

size_t ShardPool::shardOf(std::string_view ip, size_t shards) {
  if (shards <= 1 || ip.empty()) return 0;
  if (ip.find(':') != std::string_view::npos && ip.size() < 64) {
    char text[64];
    std::memcpy(text, ip.data(), ip.size());
    text[ip.size()] = '\0';
    unsigned char bin[16];
    if (inet_pton(AF_INET6, text, bin) == 1) return fnv1a(bin, 8) % shards;  // the /64
  }
  return fnv1a(ip.data(), ip.size()) % shards;
}

void ShardPool::submit(const Event& event) {
  Shard& s = *shards_[shardOf(event.get(Field::kSourceIp), shards_.size())];
  if (s.current == nullptr) {
    std::unique_lock<std::mutex> l(s.mu);
    if (s.free.empty()) {
      ++s.waits;  // back-pressure: the worker is behind, the reader waits for it
      s.free_cv.wait(l, [&s] { return !s.free.empty(); });
    }
    s.current = s.free.back();
    s.free.pop_back();
  }
  copyInto(event, s.current->slots[s.current->used++]);
  if (s.current->used == s.current->slots.size()) {
    {
      std::lock_guard<std::mutex> l(s.mu);
      s.full.push_back(s.current);
    }
    s.current = nullptr;
    s.work_cv.notify_one();
  }
}

void ShardPool::flush() {
  for (auto& s : shards_) {
    if (s->current == nullptr) continue;
    {
      std::lock_guard<std::mutex> l(s->mu);
      if (s->current->used > 0) {
        s->full.push_back(s->current);
      } else {
        s->free.push_back(s->current);
      }
    }
    s->current = nullptr;
    s->work_cv.notify_one();
  }
}

void ShardPool::drain() {
  flush();
  for (auto& s : shards_) {
    std::unique_lock<std::mutex> l(s->mu);
    s->free_cv.wait(l, [&s] { return s->full.empty() && !s->busy; });
  }
}

uint64_t ShardPool::processed(size_t shard) const {
  return shards_[shard]->processed.load(std::memory_order_relaxed);
}

uint64_t ShardPool::waits() const {
  uint64_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard<std::mutex> l(s->mu);
    n += s->waits;
  }
  return n;
}

}  // namespace riposte

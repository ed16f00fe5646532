// ShardPool: analysis worker threads fed with events sharded by entity key.
//
// The pipeline thread parses a line into its reusable Event and submits it: the event is copied
// (raw line, fields, extras, origin) into a slot of the current batch of the shard that owns its
// source address, so every event of one address reaches the same worker, in the order it was
// submitted. Events without a source address go to shard 0. A full batch is handed to the
// shard's worker; each shard has a fixed number of batches, so when a worker falls behind,
// submit() blocks (back-pressure on the reader) instead of queueing without bound. Slots and
// their buffers are reused, so a warm pool allocates nothing per event.
//
// IPv6 addresses are sharded by their /64, so rules that group an address's neighbours (an
// `ipv6_prefix` of 64 or more) see the whole group on one worker.
//
// Thread safety: submit(), flush(), drain() and the destructor on one thread (the pipeline's);
// the handler runs on the workers, one call at a time per shard. processed() from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "riposte/core/event.h"

namespace riposte {

struct ShardPoolOptions {
  size_t shards = 2;
  size_t batch = 128;         // events per batch handed to a worker
  size_t queue_batches = 16;  // batches per shard (queued, being filled or being processed)
};

class ShardPool {
 public:
  // Runs on worker `shard` for each event submitted to it, in submission order.
  using Handler = std::function<void(size_t shard, const Event& event)>;

  ShardPool(ShardPoolOptions options, Handler handler);
  // Hands over the partial batches, lets the workers finish every event, then stops them.
  ~ShardPool();
  ShardPool(const ShardPool&) = delete;
  ShardPool& operator=(const ShardPool&) = delete;

  size_t shards() const { return shards_.size(); }
  // The shard of a source address ("" → 0); an IPv6 address by its /64.
  static size_t shardOf(std::string_view source_ip, size_t shards);

  // Copies the event into its shard's batch; blocks while that shard has no free batch.
  void submit(const Event& event);
  // Hands every partial batch to its worker (does not wait).
  void flush();
  // flush(), then waits until the workers have handled every event handed to them.
  void drain();
  // Events handled by a shard's worker so far.
  uint64_t processed(size_t shard) const;
  // Times submit() waited for a free batch (back-pressure), all shards.
  uint64_t waits() const;

 private:
  struct Shard;
  ShardPoolOptions options_;
  Handler handler_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace riposte

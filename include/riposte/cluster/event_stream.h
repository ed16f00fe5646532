// Event streams: how event lines travel from ingest nodes to analysis workers on Redis Streams.
//
// An ingest node reads its sources and appends every line to one of P partition streams, chosen
// by the event's entity key (source.ip, else user.name, else the line itself), so all events of
// one address meet the same worker and the same window state. Analysis workers share the
// partitions through leases and consume them with a consumer group. Keys (prefix `riposte:`):
//
//   <prefix>events:<p>           stream, p = 0..P-1; one field "e": source, parser, file,
//                                offset, year (or ""), the ingest node's sequence number, the
//                                line, separated by 0x1f; trimmed to ~max_len
//   <prefix>events:lease:<p>     the worker owning partition p (expires after `lease`)
//   <prefix>events:worker:<id>   a live worker's heartbeat (expires after `lease`)
//   consumer group "analyze" on every partition stream
//
// Ownership: every lease/3 a worker renews its heartbeat and its leases, counts the live
// workers, and keeps a fair share ceil(P / workers): it takes free partitions up to that share
// and gives back what it holds beyond it. A partition whose owner died (kill -9) becomes free
// when its lease expires. Taking a partition, a worker first re-reads its recent history (the
// entries of the last `replay` up to what the group already delivered, or only what came after
// the last entry it handled itself if it owned the partition before), so the windows of that
// partition's entities hold what the previous owner had seen; then it claims the previous
// owner's pending entries (XAUTOCLAIM) and acknowledges them (the history covered them), and
// reads new entries (XREADGROUP ">"). Each entry is thus counted once by the worker that owns
// its partition; a decision the previous owner already took is a duplicate to the policy (the
// decision bus told every node about it).
//
// Thread safety: a producer or consumer is used by one thread (the serve loop's).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "riposte/core/config.h"
#include "riposte/core/event.h"
#include "riposte/core/status.h"
#include "riposte/ingest/source.h"
#include "riposte/net/redis_url.h"

namespace riposte::net {
class RedisClient;
}

namespace riposte::cluster {

struct StreamOptions {
  net::RedisOptions redis;
  std::string prefix = "riposte:";
  std::string node;  // this node's name (worker ids start with it)
  int partitions = 8;
  std::chrono::milliseconds lease{10000};
  std::chrono::milliseconds replay{600000};
  uint64_t max_len = 1'000'000;
  int batch = 512;
  size_t max_buffer = 100'000;  // producer: lines held while Redis is unreachable

  // From `cluster:` and `cluster.streams:`; nullopt when streams are not configured.
  static Result<std::optional<StreamOptions>> fromConfig(const Config& config);

  std::string streamKey(int p) const { return prefix + "events:" + std::to_string(p); }
  std::string leaseKey(int p) const { return prefix + "events:lease:" + std::to_string(p); }
  std::string workerKey(const std::string& id) const { return prefix + "events:worker:" + id; }
};

// FNV-1a of `key`, modulo `partitions`.
uint32_t partitionOf(std::string_view key, int partitions);
// The key events are partitioned by: source.ip, else user.name, else the raw line.
std::string_view entityKey(const Event& e);

// One stream entry.
struct StreamRecord {
  std::string id;  // the stream id, "ms-seq"
  std::string source, parser, file, line;
  uint64_t offset = 0;
  std::optional<int> year;
  uint64_t seq = 0;  // the ingest node's sequence number (orders entries across partitions)
};

struct StreamStats {
  bool degraded = false;  // Redis unreachable
  std::string last_error;
  uint64_t appended = 0;  // producer: entries written
  uint64_t buffered = 0;  // producer: lines waiting for Redis
  uint64_t handled = 0;   // consumer: new entries handed to the engine
  uint64_t replayed = 0;  // consumer: history entries re-read when taking partitions
  uint64_t claimed = 0;   // consumer: pending entries of a previous owner acknowledged
  uint64_t taken = 0;     // consumer: partitions taken
  uint64_t released = 0;  // consumer: partitions given back (fair share)
  uint64_t lost = 0;      // consumer: leases lost (not renewed in time)
  uint64_t bad = 0;       // consumer: entries without the fields above (skipped, acknowledged)
};

// Ingest side: buffers lines and appends them in pipelined batches.
class StreamProducer {
 public:
  explicit StreamProducer(StreamOptions options);
  ~StreamProducer();
  StreamProducer(const StreamProducer&) = delete;
  StreamProducer& operator=(const StreamProducer&) = delete;

  void add(uint32_t partition, const SourceLine& line, std::string_view parser,
           std::optional<int> year);
  // Writes what is buffered; on failure keeps it (degraded) and retries on the next call.
  Status flush();
  size_t buffered() const { return pending_.size(); }
  // The buffer is at max_buffer: the caller stops reading its sources until a flush succeeds.
  bool full() const { return pending_.size() >= options_.max_buffer; }
  StreamStats stats() const;
  const StreamOptions& options() const { return options_; }

 private:
  StreamOptions options_;
  std::unique_ptr<net::RedisClient> redis_;
  std::vector<std::vector<std::string>> pending_;  // XADD commands
  uint64_t seq_ = 0;
  StreamStats stats_;
};

// Analysis side: owns partitions through leases and reads them.
class StreamConsumer {
 public:
  using Sink = std::function<void(const StreamRecord&)>;

  explicit StreamConsumer(StreamOptions options);
  ~StreamConsumer();  // gives the leases back
  StreamConsumer(const StreamConsumer&) = delete;
  StreamConsumer& operator=(const StreamConsumer&) = delete;

  // Renews leases when due (taking and replaying partitions, giving back beyond the fair
  // share), then reads new entries of the owned partitions, waiting up to `wait` when there are
  // none, hands each to `sink` and acknowledges them. Returns the entries handed over.
  Result<size_t> poll(const Sink& sink, std::chrono::milliseconds wait);
  // Gives every lease back and removes the heartbeat (a clean stop).
  void release();

  const std::string& id() const { return id_; }
  const std::set<int>& owned() const { return owned_; }
  StreamStats stats() const { return stats_; }

 private:
  Status maintain(const Sink& sink);
  Status take(const std::vector<int>& fresh, const Sink& sink);
  Status ensureGroup(int p);
  Result<size_t> readNew(const Sink& sink, std::chrono::milliseconds wait);
  void fail(const Status& st);
  void dropHeld(int p);

  // Read from a partition but not handled yet (see readNew).
  struct Held {
    std::pair<uint64_t, uint64_t> order;
    int p = 0;
    StreamRecord rec;
    bool good = false;
  };
  std::vector<Held> held_;

  StreamOptions options_;
  std::string id_;
  std::unique_ptr<net::RedisClient> redis_;
  std::set<int> owned_;
  std::map<int, std::string> last_id_;  // per partition: the last entry this worker handled
  std::chrono::steady_clock::time_point next_maintain_{};
  StreamStats stats_;
};

}  // namespace riposte::cluster

// DecisionBus: the decisions of every node in a cluster, fanned out through Redis.
//
// A decision taken on one node is written to Redis and published on a pub/sub channel; every
// node subscribes and hands what it receives to its own engine, which applies it through the
// local policy (the allowlist wins, duplicates are ignored) and enforces it with its own
// actions. Revocations travel the same way. Redis keys (prefix `riposte:` by default):
//
//   <prefix>decisions          pub/sub channel: {"v":1,"type":"decision"|"revoke",...}
//   <prefix>decisions:state    hash  decision id → the decision (state active or revoked)
//   <prefix>decisions:expiry   zset  decision id → expiry (ms since the epoch); pruning
//   <prefix>decisions:version  counter, incremented on every change
//
// A message can be missed (a node disconnected, Redis restarted), so each node also
// reconciles: every reconcile interval, and at once after (re)connecting, it compares the
// version counter with the last one it saw and, when it changed, reads the hash and repairs
// its local state (missing decisions applied, revoked ones undone); decisions it holds that
// Redis lost are published again. Decisions past their expiry are pruned from the hash.
//
// Threads: a subscriber thread (its own connection, blocking reads with a short timeout) and a
// worker thread (publishes and reconciles on a second connection). Neither ever calls the
// engine: what they receive waits in a queue until the engine's thread calls deliver(). When
// Redis is down, publish() keeps the decision in a bounded queue (oldest dropped and counted
// beyond `max_pending`), the local engine keeps enforcing its own decisions, health() reports
// degraded, and everything resumes (pending publishes flushed, a reconcile run) when Redis
// returns.
//
// Thread safety: publish*(), health(), waitForInbound() from any thread; deliver() from the
// engine's thread only.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "riposte/core/config.h"
#include "riposte/core/decision.h"
#include "riposte/core/status.h"
#include "riposte/net/redis_url.h"

namespace riposte {
class Engine;
class Store;
}  // namespace riposte

namespace riposte::cluster {

struct DecisionBusOptions {
  net::RedisOptions redis;
  std::string node;  // this node's name
  std::string prefix = "riposte:";
  std::chrono::milliseconds reconcile_interval{5000};
  size_t max_pending = 100'000;  // decisions waiting for Redis to come back
  // Called on the worker thread when a message arrives (tests and benchmarks measure with it).
  std::function<void()> on_inbound;

  // From the `cluster:` section; nullopt when the section is absent.
  static Result<std::optional<DecisionBusOptions>> fromConfig(const Config& config);
};

// One message on the wire.
struct WireMessage {
  enum class Type { kDecision, kRevoke };
  Type type = Type::kDecision;
  std::string node;      // the node (or CLI) that published it
  std::string instance;  // the publishing process, so a node skips its own messages
  Decision decision;
};
std::string encodeWire(const WireMessage& m);
Result<WireMessage> decodeWire(std::string_view text);

struct BusHealth {
  bool connected = false;  // both connections up
  bool degraded = false;   // Redis unreachable: local decisions only
  std::string last_error;
  uint64_t published = 0;
  uint64_t publish_failures = 0;  // attempts that failed (retried)
  uint64_t dropped = 0;           // pending publishes dropped beyond max_pending
  size_t pending = 0;             // waiting for Redis
  uint64_t received = 0;          // messages from other processes
  uint64_t reconciles = 0;        // full reads of the decision hash
  uint64_t repaired = 0;          // decisions applied, revoked or republished by reconcile
  uint64_t reconnects = 0;
};

class DecisionBus {
 public:
  explicit DecisionBus(DecisionBusOptions options);
  ~DecisionBus();  // stops the threads
  DecisionBus(const DecisionBus&) = delete;
  DecisionBus& operator=(const DecisionBus&) = delete;

  void start();
  void stop();

  // Queue a local decision / revocation for every other node (never blocks on Redis).
  void publishDecision(const Decision& d);
  void publishRevocation(const Decision& d);

  // Engine thread: applies everything received (and the last reconcile's repairs) to `engine`;
  // returns how many messages were handled. Reports degraded/recovered transitions (log, audit).
  size_t deliver(Engine& engine, Store* store);
  // Waits up to `timeout` for something to deliver (the serve loop's idle wait).
  void waitForInbound(std::chrono::milliseconds timeout);

  BusHealth health() const;
  const DecisionBusOptions& options() const { return options_; }
  const std::string& instance() const { return instance_; }

  // Key names.
  std::string channel() const { return options_.prefix + "decisions"; }
  std::string stateKey() const { return options_.prefix + "decisions:state"; }
  std::string expiryKey() const { return options_.prefix + "decisions:expiry"; }
  std::string versionKey() const { return options_.prefix + "decisions:version"; }

 private:
  struct Inbound {
    bool sync = false;
    WireMessage message;             // !sync
    std::vector<WireMessage> state;  // sync: every entry of the hash
  };
  void subscriberLoop();
  void workerLoop();
  void push(Inbound in);

  DecisionBusOptions options_;
  std::string instance_;
  std::atomic<bool> stop_{false};
  std::thread subscriber_, worker_;

  mutable std::mutex mu_;
  std::condition_variable inbound_cv_, outbound_cv_;
  std::deque<Inbound> inbound_;
  std::deque<WireMessage> outbound_;
  bool sync_requested_ = true;
  BusHealth health_;
  bool sub_connected_ = false, cmd_connected_ = false;
  bool reported_degraded_ = false;  // deliver()'s view, for transitions
  std::chrono::steady_clock::time_point degraded_since_{};
};

// Publishes one message with a connection of its own (the CLI's `decisions add|delete`).
Status publishOnce(const DecisionBusOptions& options, const WireMessage& m);

}  // namespace riposte::cluster

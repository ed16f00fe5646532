#include "riposte/cluster/decision_bus.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <unordered_set>

#include "riposte/core/ids.h"
#include "riposte/engine/engine.h"
#include "riposte/net/redis_client.h"
#include "riposte/store/store.h"

namespace riposte::cluster {

namespace {

using Clock = std::chrono::steady_clock;
using net::RedisClient;
using net::RedisCommand;

nlohmann::json timeJson(Timestamp t) { return {t.micros, t.offset_minutes}; }

Timestamp timeFrom(const nlohmann::json& j) {
  Timestamp t;
  if (j.is_array() && j.size() == 2) {
    t.micros = j[0].get<int64_t>();
    t.offset_minutes = j[1].get<int16_t>();
  }
  return t;
}

std::string hostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "node";
  return buf;
}

int64_t expiryMs(const Decision& d) { return d.expires.micros / 1000; }

std::string nowMs() { return std::to_string(Timestamp::now().micros / 1000); }

}  // namespace

Result<std::optional<DecisionBusOptions>> DecisionBusOptions::fromConfig(const Config& c) {
  if (c.cluster_redis.empty()) return std::optional<DecisionBusOptions>();
  DecisionBusOptions o;
  RIPOSTE_RETURN_IF_ERROR(
      net::parseRedisUrl(c.cluster_redis, o.redis).withContext("cluster.redis"));
  o.node = c.cluster_node.empty() ? hostName() : c.cluster_node;
  o.prefix = c.cluster_prefix;
  o.reconcile_interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(c.cluster_reconcile_interval);
  return std::optional<DecisionBusOptions>(std::move(o));
}

std::string encodeWire(const WireMessage& m) {
  const Decision& d = m.decision;
  nlohmann::json j = {{"v", 1},
                      {"type", m.type == WireMessage::Type::kDecision ? "decision" : "revoke"},
                      {"node", m.node},
                      {"instance", m.instance},
                      {"id", d.id},
                      {"action", d.action},
                      {"scope", std::string(targetTypeName(d.target.type))},
                      {"target", d.target.value},
                      {"detector", d.detector},
                      {"reason", d.reason},
                      {"finding_id", d.finding_id},
                      {"events", d.events},
                      {"first_seen", timeJson(d.first_seen)},
                      {"last_seen", timeJson(d.last_seen)},
                      {"created", timeJson(d.created)},
                      {"expires", timeJson(d.expires)},
                      {"state", std::string(decisionStateName(d.state))},
                      {"origin", d.origin}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<WireMessage> decodeWire(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::parseError("cluster message is not a JSON object");
  }
  try {
    if (j.value("v", 0) != 1) return Status::parseError("cluster message: unknown version");
    WireMessage m;
    const std::string type = j.at("type").get<std::string>();
    if (type == "decision") {
      m.type = WireMessage::Type::kDecision;
    } else if (type == "revoke") {
      m.type = WireMessage::Type::kRevoke;
    } else {
      return Status::parseError("cluster message: unknown type '" + type + "'");
    }
    m.node = j.value("node", "");
    m.instance = j.value("instance", "");
    Decision& d = m.decision;
    d.id = j.at("id").get<std::string>();
    d.action = j.at("action").get<std::string>();
    auto scope = targetTypeFromName(j.at("scope").get<std::string>());
    if (!scope) return Status::parseError("cluster message: unknown scope");
    d.target = {*scope, j.at("target").get<std::string>()};
    d.detector = j.value("detector", "");
    d.reason = j.value("reason", "");
    d.finding_id = j.value("finding_id", "");
    d.events = j.value("events", 0u);
    d.first_seen = timeFrom(j.value("first_seen", nlohmann::json()));
    d.last_seen = timeFrom(j.value("last_seen", nlohmann::json()));
    d.created = timeFrom(j.value("created", nlohmann::json()));
    d.expires = timeFrom(j.at("expires"));
    auto state = decisionStateFromName(j.at("state").get<std::string>());
    if (!state) return Status::parseError("cluster message: unknown state");
    d.state = *state;
    d.origin = j.value("origin", "engine");
    if (d.id.empty() || d.target.value.empty()) {
      return Status::parseError("cluster message without id or target");
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    return Status::parseError(std::string("cluster message: ") + e.what());
  }
}

DecisionBus::DecisionBus(DecisionBusOptions options)
    : options_(std::move(options)), instance_(options_.node + "/" + newId()) {}

DecisionBus::~DecisionBus() { stop(); }

void DecisionBus::start() {
  if (subscriber_.joinable()) return;
  stop_ = false;
  subscriber_ = std::thread([this] { subscriberLoop(); });
  worker_ = std::thread([this] { workerLoop(); });
}

void DecisionBus::stop() {
  stop_ = true;
  outbound_cv_.notify_all();
  inbound_cv_.notify_all();
  if (subscriber_.joinable()) subscriber_.join();
  if (worker_.joinable()) worker_.join();
}

void DecisionBus::publishDecision(const Decision& d) {
  WireMessage m;
  m.type = WireMessage::Type::kDecision;
  m.node = options_.node;
  m.instance = instance_;
  m.decision = d;
  std::lock_guard<std::mutex> l(mu_);
  outbound_.push_back(std::move(m));
  while (outbound_.size() > options_.max_pending) {
    outbound_.pop_front();
    ++health_.dropped;
  }
  outbound_cv_.notify_one();
}

void DecisionBus::publishRevocation(const Decision& d) {
  WireMessage m;
  m.type = WireMessage::Type::kRevoke;
  m.node = options_.node;
  m.instance = instance_;
  m.decision = d;
  m.decision.state = DecisionState::kRevoked;
  std::lock_guard<std::mutex> l(mu_);
  outbound_.push_back(std::move(m));
  outbound_cv_.notify_one();
}

void DecisionBus::push(Inbound in) {
  {
    std::lock_guard<std::mutex> l(mu_);
    inbound_.push_back(std::move(in));
  }
  inbound_cv_.notify_all();
  if (options_.on_inbound) options_.on_inbound();
}

void DecisionBus::waitForInbound(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  inbound_cv_.wait_for(l, timeout, [&] { return !inbound_.empty() || stop_.load(); });
}

BusHealth DecisionBus::health() const {
  std::lock_guard<std::mutex> l(mu_);
  BusHealth h = health_;
  h.connected = sub_connected_ && cmd_connected_;
  h.degraded = !h.connected;
  h.pending = outbound_.size();
  return h;
}

// The commands that write one message: state hash, expiry index, version, then the push.
static std::vector<RedisCommand> publishCommands(const DecisionBus& bus, const WireMessage& m) {
  const std::string json = encodeWire(m);
  return {{"MULTI"},
          {"HSET", bus.stateKey(), m.decision.id, json},
          {"ZADD", bus.expiryKey(), std::to_string(expiryMs(m.decision)), m.decision.id},
          {"INCR", bus.versionKey()},
          {"PUBLISH", bus.channel(), json},
          {"EXEC"}};
}

void DecisionBus::subscriberLoop() {
  RedisClient sub(options_.redis);
  while (!stop_) {
    if (!sub.connected()) {
      Status st = sub.ensureConnected();
      if (st.isOk()) st = sub.subscribe({channel()});
      {
        std::lock_guard<std::mutex> l(mu_);
        sub_connected_ = st.isOk();
        if (!st.isOk()) {
          health_.last_error = st.message();
        } else {
          // Anything published while this node was not subscribed is repaired by a reconcile.
          sync_requested_ = true;
          if (sub.connects() > 1) ++health_.reconnects;
        }
      }
      if (!st.isOk()) {
        sub.disconnect();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      outbound_cv_.notify_one();
    }
    auto r = sub.readPush(std::chrono::milliseconds(100));
    if (!r) {
      std::lock_guard<std::mutex> l(mu_);
      sub_connected_ = false;
      health_.last_error = r.status().message();
      continue;
    }
    if (!r->has_value()) continue;
    const net::RedisReply& msg = **r;
    if (msg.elements.size() != 3 || msg.elements[0].str != "message") continue;
    auto m = decodeWire(msg.elements[2].str);
    if (!m) {
      spdlog::warn("cluster: ignoring a malformed message on {}: {}", channel(),
                   m.status().toString());
      continue;
    }
    if (m->instance == instance_) continue;  // our own
    {
      std::lock_guard<std::mutex> l(mu_);
      ++health_.received;
    }
    Inbound in;
    in.message = std::move(*m);
    push(std::move(in));
  }
}

void DecisionBus::workerLoop() {
  RedisClient cmd(options_.redis);
  std::string last_version = "\x01unset";
  auto last_reconcile = Clock::now() - std::chrono::hours(1);
  uint64_t seen_connects = 0;
  while (!stop_) {
    std::deque<WireMessage> batch;
    bool sync = false;
    {
      std::unique_lock<std::mutex> l(mu_);
      const auto wait =
          cmd_connected_ ? options_.reconcile_interval : std::chrono::milliseconds(50);
      outbound_cv_.wait_for(l, wait, [&] {
        return stop_.load() || (!outbound_.empty() && cmd_connected_) || sync_requested_;
      });
      if (stop_) break;
    }
    Status st = cmd.ensureConnected();
    {
      std::lock_guard<std::mutex> l(mu_);
      cmd_connected_ = st.isOk();
      if (!st.isOk()) {
        health_.last_error = st.message();
        continue;
      }
      if (cmd.connects() != seen_connects) {  // new connection: Redis may have lost everything
        seen_connects = cmd.connects();
        sync_requested_ = true;
      }
      batch.swap(outbound_);
      sync = sync_requested_ || Clock::now() - last_reconcile >= options_.reconcile_interval;
    }
    // Publish in order; on failure put the rest back in front.
    while (!batch.empty()) {
      auto replies = cmd.pipeline(publishCommands(*this, batch.front()));
      const bool ok = replies.isOk() && replies->size() == 6 && replies->back().isArray();
      std::lock_guard<std::mutex> l(mu_);
      if (!ok) {
        ++health_.publish_failures;
        health_.last_error =
            replies.isOk() ? "publish: transaction failed" : replies.status().message();
        cmd_connected_ = cmd.connected();
        outbound_.insert(outbound_.begin(), std::make_move_iterator(batch.begin()),
                         std::make_move_iterator(batch.end()));
        batch.clear();
        sync = false;
        break;
      }
      ++health_.published;
      batch.pop_front();
    }
    if (!sync) continue;
    last_reconcile = Clock::now();
    // Prune what has expired, then read the whole state when it changed since the last read.
    auto expired = cmd.command({"ZRANGEBYSCORE", expiryKey(), "-inf", nowMs()});
    if (expired.isOk() && !expired->elements.empty()) {
      RedisCommand hdel = {"HDEL", stateKey()};
      RedisCommand zrem = {"ZREM", expiryKey()};
      for (const auto& e : expired->elements) {
        hdel.push_back(e.str);
        zrem.push_back(e.str);
      }
      (void)cmd.pipeline({hdel, zrem});
    }
    auto version = cmd.command({"GET", versionKey()});
    bool requested = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      requested = sync_requested_;
    }
    if (!version.isOk()) {
      std::lock_guard<std::mutex> l(mu_);
      cmd_connected_ = cmd.connected();
      health_.last_error = version.status().message();
      continue;
    }
    const std::string v = version->isNil() ? "" : version->str;
    if (!requested && v == last_version) continue;
    auto all = cmd.command({"HGETALL", stateKey()});
    if (!all.isOk()) {
      std::lock_guard<std::mutex> l(mu_);
      cmd_connected_ = cmd.connected();
      health_.last_error = all.status().message();
      continue;
    }
    Inbound in;
    in.sync = true;
    for (size_t i = 1; i < all->elements.size(); i += 2) {
      auto m = decodeWire(all->elements[i].str);
      if (m) in.state.push_back(std::move(*m));
    }
    last_version = v;
    {
      std::lock_guard<std::mutex> l(mu_);
      sync_requested_ = false;
      ++health_.reconciles;
    }
    push(std::move(in));
  }
}

size_t DecisionBus::deliver(Engine& engine, Store* store) {
  std::deque<Inbound> items;
  {
    std::lock_guard<std::mutex> l(mu_);
    items.swap(inbound_);
  }
  const BusHealth h = health();
  // Degraded is reported once it lasts a second (not while the first connection is made).
  const auto now_steady = Clock::now();
  if (!h.degraded) {
    degraded_since_ = {};
  } else if (degraded_since_ == Clock::time_point{}) {
    degraded_since_ = now_steady;
  }
  const bool degraded = h.degraded && now_steady - degraded_since_ >= std::chrono::seconds(1);
  if (degraded != reported_degraded_ && (degraded || reported_degraded_)) {
    reported_degraded_ = degraded;
    AuditEntry a;
    a.actor = "cluster:" + options_.node;
    a.kind = degraded ? "cluster.degraded" : "cluster.recovered";
    a.reason = degraded ? "Redis unreachable (" + h.last_error +
                              "): local decisions are enforced here only"
                        : "Redis reachable again: fan-out and reconcile resumed";
    if (degraded) {
      spdlog::warn("cluster degraded: {}", a.reason);
    } else {
      spdlog::info("cluster recovered: {}", a.reason);
    }
    if (store != nullptr) (void)store->appendAudit(a);
  }
  size_t handled = 0;
  uint64_t repaired = 0;
  for (auto& in : items) {
    if (!in.sync) {
      ++handled;
      const std::string from = in.message.node;
      if (in.message.type == WireMessage::Type::kDecision) {
        engine.applyRemoteDecision(std::move(in.message.decision), from);
      } else {
        engine.applyRemoteRevocation(in.message.decision, from);
      }
      continue;
    }
    std::unordered_set<std::string> in_redis;
    for (auto& m : in.state) {
      in_redis.insert(m.decision.id);
      if (m.decision.state == DecisionState::kActive) {
        if (m.node == options_.node) continue;  // ours: already in the local store
        if (engine.applyRemoteDecision(m.decision, m.node) == RemoteOutcome::kApplied) ++repaired;
      } else if (engine.applyRemoteRevocation(m.decision, m.node) == RemoteOutcome::kApplied) {
        ++repaired;
      }
    }
    // Decisions this node holds that Redis lost (restarted empty, or published while down).
    if (store != nullptr) {
      DecisionFilter f;
      f.state = DecisionState::kActive;
      f.limit = 10'000'000;
      if (auto active = store->listDecisions(f)) {
        const Timestamp now = Timestamp::now();
        for (const auto& d : *active) {
          if (d.expires > now && in_redis.count(d.id) == 0) {
            publishDecision(d);
            ++repaired;
          }
        }
      }
    }
    ++handled;
  }
  if (repaired > 0) {
    spdlog::info("cluster reconcile: {} decision(s) repaired", repaired);
    std::lock_guard<std::mutex> l(mu_);
    health_.repaired += repaired;
  }
  return handled;
}

Status publishOnce(const DecisionBusOptions& options, const WireMessage& m) {
  DecisionBus names(options);  // key names only; its threads are not started
  RedisClient c(options.redis);
  auto replies = c.pipeline(publishCommands(names, m));
  if (!replies) return replies.status();
  if (replies->size() != 6 || !replies->back().isArray()) {
    return Status::unavailable(options.redis.describe() + ": publish transaction failed");
  }
  return Status::ok();
}

}  // namespace riposte::cluster

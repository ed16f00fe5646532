#include "riposte/cluster/event_stream.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <random>

#include "riposte/cluster/decision_bus.h"
#include "riposte/core/digest.h"
#include "riposte/net/redis_client.h"

namespace riposte::cluster {

namespace {

using Clock = std::chrono::steady_clock;
using net::RedisCommand;
using net::RedisReply;

constexpr const char* kGroup = "analyze";
constexpr size_t kPipelineChunk = 1000;

// Renews / deletes a lease only while this worker holds it.
constexpr const char* kRenewScript =
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
constexpr const char* kReleaseScript =
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('del', KEYS[1]) else return 0 end";

int64_t nowMs() { return Timestamp::now().micros / 1000; }

std::string randomSuffix() {
  std::random_device rd;
  uint8_t bytes[4];
  for (auto& b : bytes) b = static_cast<uint8_t>(rd());
  return hexEncode(bytes, sizeof bytes);
}

// An entry carries one field, "e": source, parser, file, offset, year ("" when none), the
// ingest node's sequence number, separated by US (0x1f), then the line itself (which may hold
// anything). One field instead of seven keeps reading cheap: each field is a string to copy.
constexpr char kSep = '\x1f';

std::string encodeEntry(const SourceLine& line, std::string_view parser, std::optional<int> year,
                        uint64_t seq) {
  std::string e;
  e.reserve(line.source.size() + parser.size() + line.file.size() + line.text.size() + 48);
  e.append(line.source).push_back(kSep);
  e.append(parser).push_back(kSep);
  e.append(line.file).push_back(kSep);
  e.append(std::to_string(line.offset)).push_back(kSep);
  if (year) e.append(std::to_string(*year));
  e.push_back(kSep);
  e.append(std::to_string(seq)).push_back(kSep);
  e.append(line.text);
  return e;
}

// [id, ["e", packed]] → record; false when the entry is not one of ours.
bool decodeEntry(const RedisReply& e, StreamRecord& r) {
  if (!e.isArray() || e.elements.size() != 2 || !e.elements[0].isString()) return false;
  r.id = e.elements[0].str;
  const auto& f = e.elements[1].elements;
  if (f.size() != 2 || f[0].str != "e") return false;
  std::string_view v = f[1].str;
  std::string_view parts[6];
  for (auto& part : parts) {
    const size_t sep = v.find(kSep);
    if (sep == std::string_view::npos) return false;
    part = v.substr(0, sep);
    v.remove_prefix(sep + 1);
  }
  r.source.assign(parts[0]);
  r.parser.assign(parts[1]);
  r.file.assign(parts[2]);
  r.offset = std::strtoull(std::string(parts[3]).c_str(), nullptr, 10);
  r.year = parts[4].empty() ? std::nullopt : std::optional<int>(std::atoi(std::string(parts[4]).c_str()));
  r.seq = std::strtoull(std::string(parts[5]).c_str(), nullptr, 10);
  r.line.assign(v);
  return !r.parser.empty();
}

// The order lines were appended in across partitions: the millisecond of the stream id, then
// the ingest node's own sequence number (stream ids count within a millisecond per stream, so
// they alone do not order entries of different streams).
std::pair<uint64_t, uint64_t> appendOrder(const StreamRecord& r) {
  return {std::strtoull(r.id.c_str(), nullptr, 10), r.seq};
}

int partitionOfKey(const std::string& key, const std::string& prefix) {
  const std::string head = prefix + "events:";
  if (key.compare(0, head.size(), head) != 0) return -1;
  return std::atoi(key.c_str() + head.size());
}

}  // namespace

Result<std::optional<StreamOptions>> StreamOptions::fromConfig(const Config& c) {
  if (!c.cluster_streams.enabled) return std::optional<StreamOptions>();
  auto bus = DecisionBusOptions::fromConfig(c);
  if (!bus) return bus.status();
  if (!*bus) return Status::invalidArgument("cluster.streams needs cluster.redis");
  StreamOptions o;
  o.redis = (*bus)->redis;
  o.node = (*bus)->node;
  o.prefix = (*bus)->prefix;
  const auto& s = c.cluster_streams;
  o.partitions = s.partitions;
  o.lease = std::chrono::duration_cast<std::chrono::milliseconds>(s.lease);
  o.replay = std::chrono::duration_cast<std::chrono::milliseconds>(s.replay);
  o.max_len = s.max_len;
  o.batch = s.batch;
  // A blocking read must end well before the command timeout.
  o.redis.command_timeout = std::max(o.redis.command_timeout, std::chrono::milliseconds(2000));
  return std::optional<StreamOptions>(std::move(o));
}

uint32_t partitionOf(std::string_view key, int partitions) {
  uint32_t h = 2166136261u;
  for (unsigned char c : key) {
    h ^= c;
    h *= 16777619u;
  }
  return partitions > 0 ? h % static_cast<uint32_t>(partitions) : 0;
}

std::string_view entityKey(const Event& e) {
  if (e.has(Field::kSourceIp)) return e.get(Field::kSourceIp);
  if (e.has(Field::kUserName)) return e.get(Field::kUserName);
  return e.raw();
}

// ---- producer ----

StreamProducer::StreamProducer(StreamOptions options)
    : options_(std::move(options)), redis_(std::make_unique<net::RedisClient>(options_.redis)) {}

StreamProducer::~StreamProducer() = default;

void StreamProducer::add(uint32_t partition, const SourceLine& line, std::string_view parser,
                         std::optional<int> year) {
  pending_.push_back({"XADD", options_.streamKey(static_cast<int>(partition)), "MAXLEN", "~",
                      std::to_string(options_.max_len), "*", "e",
                      encodeEntry(line, parser, year, ++seq_)});
}

Status StreamProducer::flush() {
  while (!pending_.empty()) {
    const size_t n = std::min(pending_.size(), kPipelineChunk);
    std::vector<RedisCommand> chunk(pending_.begin(), pending_.begin() + n);
    auto replies = redis_->pipeline(chunk);
    if (!replies) {
      if (!stats_.degraded) {
        spdlog::warn("event streams: {} (holding {} line(s))", replies.status().toString(),
                     pending_.size());
      }
      stats_.degraded = true;
      stats_.last_error = replies.status().toString();
      return replies.status();
    }
    for (const auto& r : *replies) {
      if (r.isError()) {
        // The server refused the entry itself (e.g. a key of another type): retrying would not
        // help, so it is counted and reported.
        stats_.last_error = r.str;
        spdlog::error("event streams: XADD refused: {}", r.str);
      } else {
        ++stats_.appended;
      }
    }
    pending_.erase(pending_.begin(), pending_.begin() + n);
    if (stats_.degraded) spdlog::info("event streams: Redis reachable again");
    stats_.degraded = false;
  }
  return Status::ok();
}

StreamStats StreamProducer::stats() const {
  StreamStats s = stats_;
  s.buffered = pending_.size();
  return s;
}

// ---- consumer ----

StreamConsumer::StreamConsumer(StreamOptions options)
    : options_(std::move(options)),
      id_(options_.node + ":" + randomSuffix()),
      redis_(std::make_unique<net::RedisClient>(options_.redis)) {}

StreamConsumer::~StreamConsumer() { release(); }

void StreamConsumer::fail(const Status& st) {
  if (!stats_.degraded) spdlog::warn("event streams ({}): {}", id_, st.toString());
  stats_.degraded = true;
  stats_.last_error = st.toString();
}

Result<size_t> StreamConsumer::poll(const Sink& sink, std::chrono::milliseconds wait) {
  const auto now = Clock::now();
  if (now >= next_maintain_) {
    next_maintain_ = now + options_.lease / 3;
    if (Status st = maintain(sink); !st.isOk()) {
      fail(st);
      return st;
    }
  }
  if (owned_.empty()) return size_t{0};
  auto n = readNew(sink, wait);
  if (!n) {
    fail(n.status());
    return n.status();
  }
  if (stats_.degraded) spdlog::info("event streams ({}): Redis reachable again", id_);
  stats_.degraded = false;
  return n;
}

Status StreamConsumer::maintain(const Sink& sink) {
  const std::string lease_ms = std::to_string(options_.lease.count());
  auto hb = redis_->command({"SET", options_.workerKey(id_), "1", "PX", lease_ms});
  if (!hb) return hb.status();

  // Live workers (their heartbeats), for the fair share.
  size_t workers = 0;
  std::string cursor = "0";
  do {
    auto r = redis_->command({"SCAN", cursor, "MATCH", options_.workerKey("*"), "COUNT", "1000"});
    if (!r) return r.status();
    if (!r->isArray() || r->elements.size() != 2) {
      return Status::ioError("event streams: unexpected SCAN reply");
    }
    cursor = r->elements[0].str;
    workers += r->elements[1].elements.size();
  } while (cursor != "0");
  workers = std::max<size_t>(workers, 1);
  const auto share = static_cast<size_t>((options_.partitions + static_cast<int>(workers) - 1) /
                                         static_cast<int>(workers));

  for (auto it = owned_.begin(); it != owned_.end();) {
    auto r = redis_->command({"EVAL", kRenewScript, "1", options_.leaseKey(*it), id_, lease_ms});
    if (!r) return r.status();
    if (r->integer == 1) {
      ++it;
      continue;
    }
    spdlog::warn("event streams ({}): lease of partition {} lost", id_, *it);
    ++stats_.lost;
    dropHeld(*it);
    it = owned_.erase(it);
  }
  while (owned_.size() > share) {
    const int p = *owned_.rbegin();
    auto r = redis_->command({"EVAL", kReleaseScript, "1", options_.leaseKey(p), id_});
    if (!r) return r.status();
    owned_.erase(p);
    dropHeld(p);
    ++stats_.released;
    spdlog::info("event streams ({}): partition {} given back ({} worker(s), share {})", id_, p,
                 workers, share);
  }
  std::vector<int> fresh;
  for (int p = 0; p < options_.partitions && owned_.size() + fresh.size() < share; ++p) {
    if (owned_.count(p) != 0) continue;
    auto r = redis_->command({"SET", options_.leaseKey(p), id_, "NX", "PX", lease_ms});
    if (!r) return r.status();
    if (r->isNil()) continue;  // another worker holds it
    fresh.push_back(p);
  }
  if (fresh.empty()) return Status::ok();
  const Status st = take(fresh, sink);
  if (!st.isOk()) {
    // Not taken: give the leases back so that another worker (or the next round) takes them.
    for (int p : fresh) {
      (void)redis_->command({"EVAL", kReleaseScript, "1", options_.leaseKey(p), id_});
    }
  }
  return st;
}

Status StreamConsumer::ensureGroup(int p) {
  auto r = redis_->command({"XGROUP", "CREATE", options_.streamKey(p), kGroup, "0", "MKSTREAM"});
  if (!r && r.status().message().find("BUSYGROUP") == std::string::npos) return r.status();
  return Status::ok();
}

Status StreamConsumer::take(const std::vector<int>& fresh, const Sink& sink) {
  // 1. The history of every partition taken, merged in stream-id order (the order the ingest
  //    nodes appended it in), so event time moves forward as it did on the previous owner and
  //    the detectors' expiry never drops a window that is about to be continued.
  struct Cursor {
    int p = 0;
    std::string key, start, end;
    std::deque<std::pair<std::string, StreamRecord>> buf;  // id, record (bad entries: no parser)
    bool done = false;
    size_t replayed = 0;
  };
  std::vector<Cursor> cursors;
  for (int p : fresh) {
    RIPOSTE_RETURN_IF_ERROR(ensureGroup(p));
    const std::string key = options_.streamKey(p);
    std::string delivered = "0-0";
    auto info = redis_->command({"XINFO", "GROUPS", key});
    if (!info) return info.status();
    for (const auto& g : info->elements) {
      std::string name, last;
      for (size_t i = 0; i + 1 < g.elements.size(); i += 2) {
        if (g.elements[i].str == "name") name = g.elements[i + 1].str;
        if (g.elements[i].str == "last-delivered-id") last = g.elements[i + 1].str;
      }
      if (name == kGroup && !last.empty()) delivered = last;
    }
    Cursor c;
    c.p = p;
    c.key = key;
    c.end = delivered;
    c.done = delivered == "0-0";
    auto own = last_id_.find(p);
    c.start = own != last_id_.end()
                  ? "(" + own->second
                  : std::to_string(std::max<int64_t>(0, nowMs() - options_.replay.count()));
    cursors.push_back(std::move(c));
  }
  const std::string count = std::to_string(options_.batch);
  auto refill = [&](Cursor& c) -> Status {
    if (c.done || !c.buf.empty()) return Status::ok();
    auto r = redis_->command({"XRANGE", c.key, c.start, c.end, "COUNT", count});
    if (!r) return r.status();
    for (const auto& e : r->elements) {
      StreamRecord rec;
      if (!decodeEntry(e, rec)) {
        ++stats_.bad;
        rec = StreamRecord{};
        if (!e.elements.empty()) rec.id = e.elements[0].str;
      }
      if (!rec.id.empty()) c.buf.emplace_back(rec.id, std::move(rec));
    }
    if (r->elements.size() < static_cast<size_t>(options_.batch) || c.buf.empty()) c.done = true;
    if (!c.buf.empty()) c.start = "(" + c.buf.back().first;
    return Status::ok();
  };
  for (;;) {
    Cursor* next = nullptr;
    for (auto& c : cursors) {
      RIPOSTE_RETURN_IF_ERROR(refill(c));
      if (c.buf.empty()) continue;
      if (next == nullptr ||
          appendOrder(c.buf.front().second) < appendOrder(next->buf.front().second)) {
        next = &c;
      }
    }
    if (next == nullptr) break;
    auto [id, rec] = std::move(next->buf.front());
    next->buf.pop_front();
    if (!rec.parser.empty()) sink(rec);
    last_id_[next->p] = id;
    ++next->replayed;
  }
  // 2. The previous owners' pending entries were part of that history: acknowledge them.
  for (auto& c : cursors) {
    size_t claimed = 0;
    std::string cursor = "0-0";
    do {
      auto r = redis_->command(
          {"XAUTOCLAIM", c.key, kGroup, id_, "0", cursor, "COUNT", "1000", "JUSTID"});
      if (!r) return r.status();
      if (!r->isArray() || r->elements.size() < 2) {
        return Status::ioError("event streams: unexpected XAUTOCLAIM reply");
      }
      cursor = r->elements[0].str;
      RedisCommand ack = {"XACK", c.key, kGroup};
      for (const auto& id : r->elements[1].elements) ack.push_back(id.str);
      if (ack.size() > 3) {
        auto a = redis_->command(ack);
        if (!a) return a.status();
        claimed += ack.size() - 3;
      }
    } while (cursor != "0-0");
    stats_.replayed += c.replayed;
    stats_.claimed += claimed;
    owned_.insert(c.p);
    ++stats_.taken;
    spdlog::info(
        "event streams ({}): partition {} taken ({} history entries re-read, {} pending "
        "acknowledged)",
        id_, c.p, c.replayed, claimed);
  }
  return Status::ok();
}

Result<size_t> StreamConsumer::readNew(const Sink& sink, std::chrono::milliseconds wait) {
  const auto block = std::min(wait, options_.redis.command_timeout / 2);
  RedisCommand cmd = {"XREADGROUP", "GROUP",
                      kGroup,       id_,
                      "COUNT",      std::to_string(options_.batch),
                      "BLOCK",      std::to_string(std::max<int64_t>(1, block.count())),
                      "STREAMS"};
  for (int p : owned_) cmd.push_back(options_.streamKey(p));
  for (size_t i = 0; i < owned_.size(); ++i) cmd.push_back(">");
  auto r = redis_->command(cmd);
  if (!r) return r.status();
  // Entries of several partitions come stream by stream: they are handled in the order they
  // were appended instead, so event time moves forward across partitions as on one node. A
  // stream that filled its batch may have more, older than what other streams returned: what
  // lies beyond its last entry waits (read, not acknowledged) for the next read.
  std::pair<uint64_t, uint64_t> watermark{UINT64_MAX, UINT64_MAX};
  for (const auto& stream : r->elements) {
    if (stream.elements.size() != 2) continue;
    const int p = partitionOfKey(stream.elements[0].str, options_.prefix);
    const auto& entries = stream.elements[1].elements;
    for (const auto& e : entries) {
      Held h;
      h.p = p;
      h.good = decodeEntry(e, h.rec);
      if (!h.good) {
        ++stats_.bad;
        if (e.elements.empty()) continue;
        h.rec.id = e.elements[0].str;
      }
      h.order = appendOrder(h.rec);
      held_.push_back(std::move(h));
    }
    if (entries.size() >= static_cast<size_t>(options_.batch) && !held_.empty()) {
      watermark = std::min(watermark, held_.back().order);
    }
  }
  std::stable_sort(held_.begin(), held_.end(),
                   [](const Held& a, const Held& b) { return a.order < b.order; });
  size_t n = 0;
  size_t done = 0;
  std::map<int, RedisCommand> acks;
  for (; done < held_.size() && held_[done].order <= watermark; ++done) {
    const Held& h = held_[done];
    if (h.good) {
      sink(h.rec);
      ++n;
    }
    last_id_[h.p] = h.rec.id;
    auto& ack = acks[h.p];
    if (ack.empty()) ack = {"XACK", options_.streamKey(h.p), kGroup};
    ack.push_back(h.rec.id);
  }
  held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(done));
  if (!acks.empty()) {
    std::vector<RedisCommand> cmds;
    for (auto& [_, c] : acks) cmds.push_back(std::move(c));
    auto a = redis_->pipeline(cmds);
    if (!a) return a.status();
  }
  stats_.handled += n;
  return n;
}

void StreamConsumer::dropHeld(int p) {
  // Read but not handled: the partition's next owner re-reads them with its history.
  std::erase_if(held_, [p](const Held& h) { return h.p == p; });
}

void StreamConsumer::release() {
  for (int p : owned_) {
    (void)redis_->command({"EVAL", kReleaseScript, "1", options_.leaseKey(p), id_});
  }
  if (!owned_.empty()) stats_.released += owned_.size();
  owned_.clear();
  held_.clear();
  (void)redis_->command({"DEL", options_.workerKey(id_)});
}

}  // namespace riposte::cluster

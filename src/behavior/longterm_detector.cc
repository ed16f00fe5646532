#include "riposte/behavior/longterm_detector.h"

#include <algorithm>
#include <cstdio>

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "riposte/core/ids.h"
#include "riposte/ingest/sshd_parser.h"

namespace riposte {

using behavior::Bucket;
using behavior::FindingKind;
using behavior::History;
using behavior::hourOf;
using behavior::hourStart;

namespace {

uint16_t addSat(uint16_t a, uint32_t b) {
  const uint32_t s = uint32_t{a} + b;
  return s > 0xFFFF ? uint16_t{0xFFFF} : static_cast<uint16_t>(s);
}

std::string dayOf(uint32_t hour) {
  return formatRfc3339Utc(hourStart(hour - hour % 24)).substr(0, 10);
}

std::string hourText(uint32_t hour) { return formatRfc3339Utc(hourStart(hour)); }

// Counts an event into the entity's current bucket and totals.
Bucket& count(History& h, uint32_t hour, Timestamp now, bool fail, bool ok, uint32_t n,
              bool probe = false) {
  Bucket& b = h.bucket(hour);
  if (fail) {
    b.failures = addSat(b.failures, n);
    h.failures += n;
    if (probe) {
      b.probes = addSat(b.probes, n);
      h.probes += n;
    }
  } else if (ok) {
    b.successes = addSat(b.successes, n);
    h.successes += n;
  } else {
    b.other = addSat(b.other, n);
    h.other += n;
  }
  if (hour == h.newest_hour) h.newest_total += n;
  h.last_us = std::max(h.last_us, now.micros);
  h.dirty = true;
  return b;
}

// "2025-03-01: 205 failures in 24 h; 2025-03-02: 207 failures in 23 h" (the last `max_days`).
std::string perDay(const History& h, bool failures_only, size_t max_days = 7) {
  struct Day {
    uint32_t day;
    uint64_t events;
    uint32_t hours;
  };
  std::vector<Day> days;
  for (const Bucket& b : h.buckets) {
    const uint64_t v = failures_only ? b.failures : b.total();
    if (v == 0) continue;
    const uint32_t d = b.hour / 24;
    if (days.empty() || days.back().day != d) days.push_back({d, 0, 0});
    days.back().events += v;
    ++days.back().hours;
  }
  std::string out;
  const size_t from = days.size() > max_days ? days.size() - max_days : 0;
  if (from > 0) out = std::to_string(from) + " earlier day(s); ";
  for (size_t i = from; i < days.size(); ++i) {
    if (i > from) out += "; ";
    out += dayOf(days[i].day * 24) + ": " + std::to_string(days[i].events) +
           (failures_only ? " failures" : " events") + " in " + std::to_string(days[i].hours) +
           " h";
  }
  return out;
}

// The history as an evidence entry: every retained hour with its counts.
EvidenceEvent historyEvidence(std::string_view key, const History& h, nlohmann::json extra) {
  nlohmann::json hours = nlohmann::json::array();
  for (const Bucket& b : h.buckets) {
    hours.push_back({{"hour", hourText(b.hour)},
                     {"failures", b.failures},
                     {"successes", b.successes},
                     {"other", b.other},
                     {"new_peers", b.new_peers},
                     {"probes", b.probes}});
  }
  nlohmann::json j = {{"entity", key},
                      {"failures", h.failures},
                      {"successes", h.successes},
                      {"other", h.other},
                      {"distinct_peers", h.distinctPeers()},
                      {"hours", std::move(hours)}};
  if (!extra.is_null()) j["detail"] = std::move(extra);
  EvidenceEvent ev;
  ev.timestamp = h.buckets.empty() ? Timestamp{h.last_us, 0} : hourStart(h.buckets.front().hour);
  ev.source = "longterm:history";
  ev.raw = j.dump();
  ev.fields_json = ev.raw;
  return ev;
}

uint32_t maxPerHour(const History& h, bool failures_only) {
  uint32_t m = 0;
  for (const Bucket& b : h.buckets)
    m = std::max<uint32_t>(m, failures_only ? b.failures : b.total());
  return m;
}

YAML::Node section(const YAML::Node& parent, const char* key) {
  YAML::Node n = parent[key];
  if (n && n.IsMap()) return n;
  return YAML::Node(YAML::NodeType::Map);
}

}  // namespace

std::array<bool, kEventKindCount> LongTermConfig::defaultKinds() {
  std::array<bool, kEventKindCount> k{};
  for (EventKind x : {EventKind::kAuth, EventKind::kSsh, EventKind::kFlow, EventKind::kHttp,
                      EventKind::kFirewall}) {
    k[static_cast<size_t>(x)] = true;
  }
  return k;
}

LongTermConfig LongTermConfig::fromConfig(const ComponentConfig& c, const ConfigReader& rd) {
  LongTermConfig t;
  rd.checkKeys(c.node, c.path,
               {"name", "type", "retention", "min_records", "max_hot_entities", "repeat_after",
                "kinds", "slow_bruteforce", "distributed", "beaconing", "scanner", "baseline"});
  t.name = c.name;
  t.retention = rd.getDuration(c.node, c.path, "retention", t.retention);
  if (t.retention < std::chrono::hours(1)) {
    rd.error(c.node["retention"], c.path + ".retention", "must be at least 1h");
  }
  t.min_records = static_cast<uint32_t>(rd.getInt(c.node, c.path, "min_records", 10, 1, 1'000'000));
  t.max_hot_entities =
      static_cast<size_t>(rd.getInt(c.node, c.path, "max_hot_entities", 250'000, 16, 100'000'000));
  t.repeat_after = rd.getDuration(c.node, c.path, "repeat_after", t.repeat_after);
  const auto kinds = rd.getStringList(c.node, c.path, "kinds");
  if (!kinds.empty()) t.kinds.fill(false);
  for (const auto& k : kinds) {
    if (auto kind = eventKindFromName(k)) {
      t.kinds[static_cast<size_t>(*kind)] = true;
    } else {
      rd.error(c.node["kinds"], c.path + ".kinds", "unknown event kind '" + k + "'");
    }
  }

  auto sub = [&](const char* key) {
    if (c.node[key] && !c.node[key].IsMap()) {
      rd.error(c.node[key], c.path + "." + key, "must be a map");
    }
    return std::make_pair(section(c.node, key), c.path + "." + key);
  };
  {
    auto [n, p] = sub("slow_bruteforce");
    auto& s = t.slow_bruteforce;
    rd.checkKeys(n, p, {"enabled", "min_failures", "max_success_percent", "severity", "action"});
    s.enabled = rd.getBool(n, p, "enabled", s.enabled);
    s.min_failures = static_cast<uint32_t>(rd.getInt(n, p, "min_failures", 20, 1, 1'000'000));
    s.max_success_percent =
        static_cast<uint32_t>(rd.getInt(n, p, "max_success_percent", 10, 0, 100));
    s.severity = static_cast<int>(rd.getInt(n, p, "severity", 6, 0, 10));
    s.action = rd.getString(n, p, "action", s.action);
  }
  {
    auto [n, p] = sub("distributed");
    auto& s = t.distributed;
    rd.checkKeys(n, p,
                 {"enabled", "min_sources", "min_failure_percent", "max_sources", "severity",
                  "user_action", "source_action"});
    s.enabled = rd.getBool(n, p, "enabled", s.enabled);
    s.min_sources = static_cast<uint32_t>(rd.getInt(n, p, "min_sources", 20, 2, 100'000));
    s.min_failure_percent =
        static_cast<uint32_t>(rd.getInt(n, p, "min_failure_percent", 50, 0, 100));
    s.max_sources = static_cast<size_t>(rd.getInt(n, p, "max_sources", 128, 2, 100'000));
    if (s.max_sources < s.min_sources) {
      rd.error(n["max_sources"], p + ".max_sources", "must be at least min_sources");
    }
    s.severity = static_cast<int>(rd.getInt(n, p, "severity", 6, 0, 10));
    s.user_action = rd.getString(n, p, "user_action", s.user_action);
    s.source_action = rd.getString(n, p, "source_action", s.source_action);
  }
  {
    auto [n, p] = sub("beaconing");
    auto& s = t.beaconing;
    rd.checkKeys(n, p,
                 {"enabled", "min_connections", "max_jitter_percent", "min_interval",
                  "max_interval", "ignore_ports", "severity", "action"});
    s.enabled = rd.getBool(n, p, "enabled", s.enabled);
    s.min_connections = static_cast<uint32_t>(rd.getInt(
        n, p, "min_connections", 10, 3, static_cast<int64_t>(behavior::kIntervalRing) * 1000));
    s.max_jitter_percent = static_cast<uint32_t>(rd.getInt(n, p, "max_jitter_percent", 7, 0, 100));
    s.min_interval = rd.getDuration(n, p, "min_interval", s.min_interval);
    s.max_interval = rd.getDuration(n, p, "max_interval", s.max_interval);
    if (s.min_interval < std::chrono::seconds(1) || s.max_interval <= s.min_interval ||
        s.max_interval > std::chrono::hours(24 * 40)) {
      rd.error(n, p, "needs 1s <= min_interval < max_interval <= 40d");
    }
    if (n["ignore_ports"]) s.ignore_ports = rd.getStringList(n, p, "ignore_ports");
    s.severity = static_cast<int>(rd.getInt(n, p, "severity", 5, 0, 10));
    s.action = rd.getString(n, p, "action", s.action);
  }
  {
    auto [n, p] = sub("scanner");
    auto& s = t.scanner;
    rd.checkKeys(n, p, {"enabled", "min_probes", "min_hours", "severity", "action"});
    s.enabled = rd.getBool(n, p, "enabled", s.enabled);
    s.min_probes = static_cast<uint32_t>(rd.getInt(n, p, "min_probes", 2, 1, 1'000'000));
    s.min_hours = static_cast<uint32_t>(rd.getInt(n, p, "min_hours", 2, 1, 24 * 365));
    s.severity = static_cast<int>(rd.getInt(n, p, "severity", 4, 0, 10));
    s.action = rd.getString(n, p, "action", s.action);
  }
  {
    auto [n, p] = sub("baseline");
    auto& s = t.baseline;
    rd.checkKeys(
        n, p,
        {"enabled", "min_hours", "factor", "peak_factor", "min_events", "severity", "action"});
    s.enabled = rd.getBool(n, p, "enabled", s.enabled);
    s.min_hours = static_cast<uint32_t>(rd.getInt(n, p, "min_hours", 24, 1, 24 * 365));
    s.factor = static_cast<uint32_t>(rd.getInt(n, p, "factor", 10, 2, 1'000'000));
    s.peak_factor = static_cast<uint32_t>(rd.getInt(n, p, "peak_factor", 3, 1, 1'000'000));
    s.min_events = static_cast<uint32_t>(rd.getInt(n, p, "min_events", 100, 1, 1'000'000'000));
    s.severity = static_cast<int>(rd.getInt(n, p, "severity", 4, 0, 10));
    s.action = rd.getString(n, p, "action", s.action);
  }
  return t;
}

namespace {
behavior::HistoryTableOptions tableOptions(const LongTermConfig& c, const char* prefix,
                                           bool prune) {
  behavior::HistoryTableOptions o;
  o.prefix = prefix;
  o.retention = c.retention;
  o.max_hot = c.max_hot_entities;
  o.prune_store = prune;
  return o;
}
}  // namespace

LongTermDetector::~LongTermDetector() { flush(); }

LongTermDetector::LongTermDetector(LongTermConfig cfg, BehaviorStore* store)
    : cfg_(std::move(cfg)),
      addresses_(store, tableOptions(cfg_, "ip:", true)),
      accounts_(store, tableOptions(cfg_, "user:", false)),
      pairs_(store, tableOptions(cfg_, "pair:", false)),
      repeat_hours_(static_cast<uint32_t>(std::max<int64_t>(
          1, std::chrono::duration_cast<std::chrono::hours>(cfg_.repeat_after).count()))) {}

Finding LongTermDetector::newFinding(const Event& e, FindingKind kind, TargetType type,
                                     std::string_view value, int severity,
                                     const std::string& action) const {
  static constexpr std::array<const char*, behavior::kFindingKinds> kLabels = {
      "slow-bruteforce", "distributed-bruteforce", "beaconing", "baseline-departure", "scanner"};
  Finding f;
  f.id = newId(e.timestamp());
  f.detector = cfg_.name;
  f.entity.type = type;
  f.entity.value = std::string(value);
  f.severity = severity;
  f.score = 1.0;
  f.suggested_action = action;
  f.last_seen = e.timestamp();
  f.labels.emplace_back(kLabels[static_cast<size_t>(kind)]);
  if (kind == FindingKind::kSlowBruteForce || kind == FindingKind::kDistributed) {
    f.labels.emplace_back("T1110");
  } else if (kind == FindingKind::kBeaconing) {
    f.labels.emplace_back("T1071");
  } else if (kind == FindingKind::kScanner) {
    f.labels.emplace_back("T1046");
  }
  f.evidence.push_back(EvidenceEvent::withFields(e));
  return f;
}

void LongTermDetector::onEvent(const Event& e, const FindingSink& sink) {
  if (!cfg_.kinds[static_cast<size_t>(e.kind())]) return;
  Seen s;
  s.src = e.get(Field::kSourceIp);
  if (s.src.empty()) return;
  const std::string_view outcome = e.get(Field::kEventOutcome);
  s.fail = outcome == "failure";
  s.ok = !s.fail && outcome == "success";
  s.n = std::max<uint32_t>(1, e.repeat());
  s.src_hash = behavior::hashKey(s.src);
  const bool auth = e.kind() == EventKind::kAuth;
  if (auth) {
    s.user = e.get(Field::kUserName);
    if (!s.user.empty()) s.user_hash = behavior::hashKey(s.user);
  }
  // A probe: a failure before any authentication was attempted: a protocol-level failure (no
  // identification string, banner or key-exchange errors, timeouts; kind ssh) or a connection
  // closed before authenticating by an address that named no user. A failure that belongs to
  // a password attempt (pam_unix's, which may name no user) is not one.
  s.probe = s.fail && e.get(Field::kUserName).empty() &&
            (e.kind() == EventKind::kSsh ||
             (auth && e.get(Field::kEventAction) == sshd_action::kConnectionClosed));
  onAddress(e, s, sink);
  if (cfg_.distributed.enabled && auth && (s.fail || s.ok) && !s.user.empty()) {
    onAccount(e, s, sink);
  }
  if (cfg_.beaconing.enabled && e.kind() == EventKind::kFlow) onFlow(e, s.src, sink);
}

void LongTermDetector::onAddress(const Event& e, const Seen& s, const FindingSink& sink) {
  const std::string_view src = s.src;
  const Timestamp now = e.timestamp();
  const uint32_t hour = hourOf(now);
  History& h = addresses_.get(src, s.src_hash, now);
  const bool new_hour = h.isNewHour(hour);
  if (new_hour && hour >= addresses_.retentionHours()) {
    h.trim(hour - addresses_.retentionHours() + 1);
  }
  if (new_hour && cfg_.baseline.enabled) {
    // The trigger for this hour, from the hours before it (computed once per active hour).
    h.baseline_trigger = UINT32_MAX;
    if (h.buckets.size() >= cfg_.baseline.min_hours) {
      uint64_t sum = 0, peak = 0;
      for (const Bucket& b : h.buckets) {
        sum += b.total();
        peak = std::max<uint64_t>(peak, b.total());
      }
      const uint64_t mean_x = sum * cfg_.baseline.factor / h.buckets.size();
      const uint64_t trigger =
          std::max({uint64_t{cfg_.baseline.min_events}, mean_x, peak * cfg_.baseline.peak_factor});
      h.baseline_trigger = static_cast<uint32_t>(std::min<uint64_t>(UINT32_MAX - 1, trigger));
    }
  }
  Bucket& b = count(h, hour, now, s.fail, s.ok, s.n, s.probe);
  if (!s.user.empty() && h.notePeer(s.user_hash)) b.new_peers = addSat(b.new_peers, 1);

  const auto& sc = cfg_.scanner;
  if (sc.enabled && s.probe && h.probes >= sc.min_probes && h.successes == 0 &&
      uint64_t{h.probes} * 2 >= h.failures &&
      h.quiet_until[static_cast<size_t>(FindingKind::kScanner)] <= hour) {
    reportScanner(e, src, h, hour, sink);
  }
  if (h.records() < cfg_.min_records) return;
  const bool fail = s.fail;

  const auto& sb = cfg_.slow_bruteforce;
  if (sb.enabled && fail && h.failures >= sb.min_failures &&
      h.quiet_until[static_cast<size_t>(FindingKind::kSlowBruteForce)] <= hour &&
      uint64_t{h.successes} * 100 <=
          uint64_t{sb.max_success_percent} * (h.failures + h.successes)) {
    h.quiet_until[static_cast<size_t>(FindingKind::kSlowBruteForce)] = hour + repeat_hours_;
    Finding f =
        newFinding(e, FindingKind::kSlowBruteForce, TargetType::kIp, src, sb.severity, sb.action);
    const uint32_t first = h.buckets.front().hour;
    uint32_t hours_with_failures = 0;
    for (const Bucket& x : h.buckets) hours_with_failures += x.failures > 0 ? 1 : 0;
    f.first_seen = hourStart(first);
    f.event_count = h.failures;
    f.reason = "slow brute force from " + std::string(src) + ": " + std::to_string(h.failures) +
               " failed attempts over " + std::to_string(hours_with_failures) + " hour(s) since " +
               hourText(first) + " (at most " + std::to_string(maxPerHour(h, true)) +
               " in one hour), " + std::to_string(h.successes) + " successful, ~" +
               std::to_string(h.distinctPeers()) + " user name(s) [" + perDay(h, true) + "]";
    f.evidence.push_back(historyEvidence(src, h, nullptr));
    sink(std::move(f));
  }

  const auto& bl = cfg_.baseline;
  // This hour's events: from the history itself (no read of the bucket array per event) unless
  // the event was for an older hour.
  const uint32_t this_hour = hour == h.newest_hour ? h.newest_total : b.total();
  if (bl.enabled && this_hour >= h.baseline_trigger &&
      h.quiet_until[static_cast<size_t>(FindingKind::kBaseline)] <= hour) {
    h.quiet_until[static_cast<size_t>(FindingKind::kBaseline)] = hour + repeat_hours_;
    Finding f = newFinding(e, FindingKind::kBaseline, TargetType::kIp, src, bl.severity, bl.action);
    const uint64_t before = h.records() - b.total();
    const size_t hours_before = h.buckets.size() - 1;
    uint32_t peak_before = 0;
    for (const Bucket& x : h.buckets) {
      if (&x != &b) peak_before = std::max(peak_before, x.total());
    }
    f.first_seen = hourStart(hour);
    f.event_count = b.total();
    char mean[32];
    std::snprintf(
        mean, sizeof mean, "%.1f",
        hours_before == 0 ? 0.0 : static_cast<double>(before) / static_cast<double>(hours_before));
    f.reason = "departure from baseline for " + std::string(src) + ": " +
               std::to_string(b.total()) + " events in the hour from " + hourText(hour) +
               " against a mean of " + mean + " per active hour over " +
               std::to_string(hours_before) + " hour(s) and a busiest hour of " +
               std::to_string(peak_before) + " [" + perDay(h, false) + "]";
    f.evidence.push_back(historyEvidence(src, h, nullptr));
    sink(std::move(f));
  }
}

void LongTermDetector::reportScanner(const Event& e, std::string_view src, History& h,
                                     uint32_t hour, const FindingSink& sink) {
  const auto& sc = cfg_.scanner;
  uint32_t probe_hours = 0, first = 0, last = 0;
  for (const Bucket& x : h.buckets) {
    if (x.probes == 0) continue;
    if (probe_hours++ == 0) first = x.hour;
    last = x.hour;
  }
  if (probe_hours < sc.min_hours) return;
  h.quiet_until[static_cast<size_t>(FindingKind::kScanner)] = hour + repeat_hours_;
  Finding f = newFinding(e, FindingKind::kScanner, TargetType::kIp, src, sc.severity, sc.action);
  f.first_seen = hourStart(first);
  f.event_count = h.probes;
  f.reason = "reconnaissance from " + std::string(src) + ": " + std::to_string(h.probes) +
             " pre-authentication probe(s) in " + std::to_string(probe_hours) +
             " different hour(s) between " + hourText(first) + " and " + hourText(last) +
             ", never logged in (" + std::to_string(h.failures - h.probes) +
             " password attempt(s)) [" + perDay(h, true) + "]";
  f.evidence.push_back(historyEvidence(
      src, h, {{"probes", h.probes}, {"probe_hours", probe_hours}, {"other_events", h.other}}));
  sink(std::move(f));
}

void LongTermDetector::onAccount(const Event& e, const Seen& s, const FindingSink& sink) {
  const std::string_view user = s.user, src = s.src;
  const bool fail = s.fail;
  const uint32_t n = s.n;
  const Timestamp now = e.timestamp();
  const uint32_t hour = hourOf(now);
  History& h = accounts_.get(user, s.user_hash, now);
  if (h.isNewHour(hour) && hour >= accounts_.retentionHours()) {
    h.trim(hour - accounts_.retentionHours() + 1);
  }
  Bucket& b = count(h, hour, now, fail, s.ok, n);
  const uint64_t sh = s.src_hash;
  if (h.notePeer(sh)) b.new_peers = addSat(b.new_peers, 1);
  auto& x = h.ensureExtra();
  behavior::PeerEntry* peer = x.findPeer(sh, src);
  const auto& ds = cfg_.distributed;
  if (peer == nullptr) {
    if (x.peers.size() < ds.max_sources) {
      peer = &x.addPeer(behavior::PeerEntry{sh, 0, 0, hour, false, std::string(src)});
    } else {
      ++x.peers_dropped;
    }
  }
  if (peer != nullptr) {
    const bool was_failing = peer->failures > 0 && peer->successes == 0;
    (fail ? peer->failures : peer->successes) += n;
    const bool failing_now = peer->failures > 0 && peer->successes == 0;
    if (failing_now != was_failing) failing_now ? ++x.failing_peers : --x.failing_peers;
  }
  if (!fail || h.records() < cfg_.min_records) return;
  if (peer != nullptr && peer->successes > 0) return;  // a source that logs in is its owner

  auto& quiet = h.quiet_until[static_cast<size_t>(FindingKind::kDistributed)];
  auto sourceFinding = [&](const std::string& ip, uint32_t failures) {
    Finding f = newFinding(e, FindingKind::kDistributed, TargetType::kIp, ip, ds.severity,
                           ds.source_action);
    f.first_seen = hourStart(h.buckets.front().hour);
    f.event_count = failures;
    f.reason = "source of a distributed brute force against account " + std::string(user) + ": " +
               std::to_string(failures) + " failed attempt(s) from " + ip + " among ~" +
               std::to_string(h.distinctPeers()) + " sources";
    sink(std::move(f));
  };
  if (quiet > hour) {
    // The account is under attack: every new failing source is part of it.
    if (peer == nullptr) {
      if (x.reported_unkept.size() < 100'000 && x.reported_unkept.insert(sh).second) {
        sourceFinding(std::string(src), n);
      }
    } else if (!peer->reported) {
      peer->reported = true;
      sourceFinding(peer->value, peer->failures);
    }
    return;
  }
  if (x.failing_peers + x.peers_dropped < ds.min_sources) return;
  if (uint64_t{h.failures} * 100 < uint64_t{ds.min_failure_percent} * (h.failures + h.successes))
    return;
  uint32_t failing = 0;
  uint64_t failing_attempts = 0;
  for (const auto& p : x.peers) {
    if (p.failures > 0 && p.successes == 0) {
      ++failing;
      failing_attempts += p.failures;
    }
  }
  quiet = hour + repeat_hours_;
  Finding f = newFinding(e, FindingKind::kDistributed, TargetType::kUser, user, ds.severity,
                         ds.user_action);
  f.first_seen = hourStart(h.buckets.front().hour);
  f.event_count = h.failures;
  char avg[32];
  std::snprintf(avg, sizeof avg, "%.1f",
                failing == 0 ? 0.0 : static_cast<double>(failing_attempts) / failing);
  f.reason = "distributed brute force against account " + std::string(user) + ": " +
             std::to_string(failing + x.peers_dropped) + " sources that never logged in, " + avg +
             " failed attempts each on average, " + std::to_string(h.failures) + " failures and " +
             std::to_string(h.successes) + " successes [" + perDay(h, true) + "]";
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& p : x.peers) {
    if (p.failures > 0 && p.successes == 0) {
      sources.push_back(
          {{"ip", p.value}, {"failures", p.failures}, {"first", hourText(p.first_hour)}});
    }
  }
  f.evidence.push_back(historyEvidence(
      user, h, {{"sources", std::move(sources)}, {"sources_not_kept", x.peers_dropped}}));
  sink(std::move(f));
  for (auto& p : x.peers) {
    if (p.failures > 0 && p.successes == 0 && !p.reported) {
      p.reported = true;
      sourceFinding(p.value, p.failures);
    }
  }
}

void LongTermDetector::onFlow(const Event& e, std::string_view src, const FindingSink& sink) {
  const std::string_view dst = e.get(Field::kDestinationIp);
  if (dst.empty()) return;
  const std::string_view port = e.get(Field::kDestinationPort);
  const auto& bc = cfg_.beaconing;
  for (const auto& p : bc.ignore_ports) {
    if (p == port) return;
  }
  key_.assign(src);
  key_ += '>';
  key_.append(dst);
  key_ += ':';
  key_.append(port);
  const Timestamp now = e.timestamp();
  const uint32_t hour = hourOf(now);
  History& h = pairs_.get(key_, now);
  if (h.isNewHour(hour) && hour >= pairs_.retentionHours()) {
    h.trim(hour - pairs_.retentionHours() + 1);
  }
  const int64_t last = h.last_us;
  count(h, hour, now, false, false, 1);
  if (last == 0 || now.micros <= last) return;
  const int64_t gap_ms = (now.micros - last) / 1000;
  if (gap_ms < 1000) return;  // same burst
  auto& x = h.ensureExtra();
  x.intervals[x.pos] = static_cast<uint32_t>(std::min<int64_t>(gap_ms, UINT32_MAX));
  x.pos = static_cast<uint8_t>((x.pos + 1) % behavior::kIntervalRing);
  if (x.n_intervals < behavior::kIntervalRing) ++x.n_intervals;
  ++x.intervals_seen;
  // Judged over a full ring of intervals: fewer give too noisy a deviation.
  const uint32_t needed = std::max(bc.min_connections, cfg_.min_records);
  if (x.intervals_seen + 1 < needed || x.n_intervals < behavior::kIntervalRing) return;
  auto& quiet = h.quiet_until[static_cast<size_t>(FindingKind::kBeaconing)];
  if (quiet > hour) return;
  std::array<uint32_t, behavior::kIntervalRing> v{};
  const size_t k = x.n_intervals;
  std::copy_n(x.intervals.begin(), k, v.begin());
  std::nth_element(v.begin(), v.begin() + k / 2, v.begin() + k);
  const uint32_t median = v[k / 2];
  if (median < bc.min_interval.count() / 1000 || median > bc.max_interval.count() / 1000) return;
  for (size_t i = 0; i < k; ++i) {
    v[i] = v[i] > median ? v[i] - median : median - v[i];
  }
  std::nth_element(v.begin(), v.begin() + k / 2, v.begin() + k);
  const uint32_t mad = v[k / 2];
  if (uint64_t{mad} * 100 > uint64_t{bc.max_jitter_percent} * median) return;
  quiet = hour + repeat_hours_;
  Finding f = newFinding(e, FindingKind::kBeaconing, TargetType::kIp, src, bc.severity, bc.action);
  f.first_seen = hourStart(h.buckets.front().hour);
  f.event_count = h.records();
  char text[128];
  std::snprintf(text, sizeof text, "every %.1f s (median absolute deviation %.1f s, %.1f%%)",
                median / 1000.0, mad / 1000.0, median == 0 ? 0.0 : 100.0 * mad / median);
  f.reason = "beaconing from " + std::string(src) + " to " + std::string(dst) + ":" +
             std::string(port) + ": " + std::to_string(h.records()) + " connections " + text +
             " [" + perDay(h, false) + "]";
  nlohmann::json iv = nlohmann::json::array();
  for (size_t i = 0; i < k; ++i) {
    iv.push_back(x.intervals[(x.pos + behavior::kIntervalRing - k + i) % behavior::kIntervalRing]);
  }
  f.evidence.push_back(historyEvidence(key_, h,
                                       {{"destination", std::string(dst) + ":" + std::string(port)},
                                        {"intervals_ms", std::move(iv)},
                                        {"median_ms", median},
                                        {"mad_ms", mad}}));
  sink(std::move(f));
}

void LongTermDetector::expire(Timestamp now) {
  const uint32_t hour = hourOf(now);
  if (hour != last_sweep_hour_) {
    last_sweep_hour_ = hour;
    addresses_.sweep(now);
    accounts_.sweep(now);
    pairs_.sweep(now);
  }
  const auto wall = std::chrono::steady_clock::now();
  if (wall - last_checkpoint_ >= std::chrono::seconds(30)) {
    last_checkpoint_ = wall;
    flush();
  }
}

void LongTermDetector::flush() {
  for (auto* t : {&addresses_, &accounts_, &pairs_}) {
    if (Status st = t->checkpoint(); !st.isOk()) {
      spdlog::error("{}: writing behaviour history: {}", cfg_.name, st.toString());
    }
  }
}

}  // namespace riposte

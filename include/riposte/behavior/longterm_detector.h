// LongTermDetector (`type: longterm`): behaviour over days and weeks, for attackers who stay
// under every short window.
//
// It keeps a History (hourly buckets, see history.h) per source address, per account and per
// flow pair, for `retention` (30 days by default), durable in the store, and analyses an entity
// only once it has `min_records` events of history. Four analyses, each switchable:
//
// - slow_bruteforce: an address whose failed authentications (and failed protocol attempts)
//   over its whole retained history reach `min_failures` while its successes stay at or below
//   `max_success_percent` of its attempts — whatever the pace, so the failures may be spread
//   over hours or days, each short window far below any rule's threshold. A user who mistypes
//   and then logs in has successes and is not reported.
// - distributed: an account failed against from at least `min_sources` different addresses
//   that never logged into it, with failures at least `min_failure_percent` of its attempts.
//   The account is reported (`user_action`, alert by default) and so is every such source
//   (`source_action`, block by default), including sources that fail against it later while it
//   is under attack (`repeat_after`).
// - beaconing: a flow pair (source → destination:port) whose last 32 intervals between
//   connections are regular: median within [`min_interval`, `max_interval`], median absolute
//   deviation at most `max_jitter_percent` of it, at least `min_connections` connections. The
//   source host is reported (`alert` by default). `ignore_ports` skips e.g. DNS and NTP.
// - scanner: an address whose history is reconnaissance: at least `min_probes`
//   pre-authentication probes (protocol-level failures: no identification string, banner or
//   key-exchange errors, timeouts; and connections closed before authenticating by an address
//   that named no user) in at least `min_hours`
//   different hours, never a successful login, and probes at least half of its failures. A
//   scanner's whole footprint is a handful of probes, so this analysis does not wait for
//   `min_records`.
// - baseline: an address whose events in one hour reach `factor` times its mean per active
//   hour, `peak_factor` times its busiest hour so far, and at least `min_events`, once it has
//   `min_hours` active hours of history.
//
// Findings carry their evidence: the hours and days involved and the counts per hour (an
// evidence entry with source "longterm:history" and the buckets as JSON), the intervals for
// beaconing, and the event that completed the picture. An entity is reported again for the same
// analysis only after `repeat_after` (the quiet period is kept with the history).
//
// Thread safety: one instance per shard; the Store locks internally.
#pragma once

#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "riposte/behavior/history.h"
#include "riposte/core/config.h"
#include "riposte/detect/detector.h"

namespace riposte {

struct LongTermConfig {
  std::string name = "longterm";
  Duration retention = std::chrono::hours(24 * 30);
  uint32_t min_records = 10;
  size_t max_hot_entities = 250'000;  // per entity type (addresses, accounts, flow pairs)
  Duration repeat_after = std::chrono::hours(24);
  // Event kinds that feed the histories (default: auth, ssh, flow, http, firewall).
  std::array<bool, kEventKindCount> kinds = defaultKinds();
  static std::array<bool, kEventKindCount> defaultKinds();

  struct SlowBruteForce {
    bool enabled = true;
    uint32_t min_failures = 20;
    uint32_t max_success_percent = 10;
    int severity = 6;
    std::string action = "block";
  } slow_bruteforce;

  struct Distributed {
    bool enabled = true;
    uint32_t min_sources = 20;
    uint32_t min_failure_percent = 50;
    size_t max_sources = 128;  // sources remembered per account
    int severity = 6;
    std::string user_action = "alert";
    std::string source_action = "block";
  } distributed;

  struct Beaconing {
    bool enabled = true;
    uint32_t min_connections = 10;
    uint32_t max_jitter_percent = 7;
    Duration min_interval = std::chrono::seconds(10);
    Duration max_interval = std::chrono::hours(24);
    std::vector<std::string> ignore_ports = {"53", "123"};
    int severity = 5;
    std::string action = "alert";
  } beaconing;

  struct Scanner {
    bool enabled = true;
    uint32_t min_probes = 2;
    uint32_t min_hours = 2;
    int severity = 4;
    std::string action = "block";
  } scanner;

  struct Baseline {
    bool enabled = true;
    uint32_t min_hours = 24;
    uint32_t factor = 10;      // times the mean per active hour
    uint32_t peak_factor = 3;  // times the busiest hour so far
    uint32_t min_events = 100;
    int severity = 4;
    std::string action = "alert";
  } baseline;

  static LongTermConfig fromConfig(const ComponentConfig& c, const ConfigReader& rd);
};

class LongTermDetector : public Detector {
 public:
  // `store` may be null or a Store without BehaviorStore: histories then live in memory only.
  LongTermDetector(LongTermConfig cfg, BehaviorStore* store);
  ~LongTermDetector() override;

  std::string_view name() const override { return cfg_.name; }
  void onEvent(const Event& event, const FindingSink& sink) override;
  void expire(Timestamp now) override;
  // Writes every changed history to the store (also done every 30 s of wall time from expire()
  // and when the detector is destroyed, i.e. when the engine stops).
  void flush();

  size_t hotEntities() const {
    return addresses_.hotSize() + accounts_.hotSize() + pairs_.hotSize();
  }
  const behavior::HistoryTable& addresses() const { return addresses_; }
  const behavior::HistoryTable& accounts() const { return accounts_; }
  const behavior::HistoryTable& pairs() const { return pairs_; }

 private:
  // What onEvent() derived from the event once, for every table.
  struct Seen {
    std::string_view src, user;
    uint64_t src_hash = 0, user_hash = 0;
    bool fail = false, ok = false, probe = false;
    uint32_t n = 1;
  };
  void onAddress(const Event& e, const Seen& s, const FindingSink& sink);
  void onAccount(const Event& e, const Seen& s, const FindingSink& sink);
  void reportScanner(const Event& e, std::string_view src, behavior::History& h, uint32_t hour,
                     const FindingSink& sink);
  void onFlow(const Event& e, std::string_view src, const FindingSink& sink);
  Finding newFinding(const Event& e, behavior::FindingKind kind, TargetType type,
                     std::string_view value, int severity, const std::string& action) const;

  LongTermConfig cfg_;
  behavior::HistoryTable addresses_;
  behavior::HistoryTable accounts_;
  behavior::HistoryTable pairs_;
  uint32_t repeat_hours_;
  std::string key_;
  uint32_t last_sweep_hour_ = 0;
  std::chrono::steady_clock::time_point last_checkpoint_ = std::chrono::steady_clock::now();
};

}  // namespace riposte

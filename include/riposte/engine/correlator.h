// Correlator: groups findings into incidents (core/incident.h).
//
// An incident gathers the findings about one target (a finding's entity: address, user, host)
// that arrive within `gap` of each other, measured in event time from the incident's last
// finding to the new finding's first event. IPv6 addresses are keyed by the range the response
// policy widens them to for blocks (`response.ipv6_prefix`, or `by_action.block`), so an attacker hopping addresses inside one
// /64 stays one incident. A closed incident is never extended: the next finding on its target
// opens a new one; an acknowledged one keeps growing. Shadow findings (rules in shadow mode) are
// not correlated.
//
// Cost per finding: one hash look-up of the target's current incident, no scan of the store;
// the incident row is written (insert or replace) and the finding linked. The current incident
// of each key is kept in memory; those whose gap has passed are dropped from memory every 1024
// findings (they stay in the store with their status), and at most `max_open` are kept (the
// least recently seen go first). load() reads the incidents not closed from the store, so a
// restart continues them. Status changes written to the store by another process (the CLI) are
// picked up by syncStatus() (the engine's tick, every 5 s); the store keeps the newer status
// change when the engine writes an extension meanwhile (Store::saveIncident).
//
// Thread safety: one thread (the engine's decision thread); the Store may be shared.
#pragma once

#include <cstdint>
#include <string>

#include "riposte/core/finding.h"
#include "riposte/core/incident.h"
#include "riposte/core/status.h"
#include "riposte/core/string_hash.h"
#include "riposte/core/time.h"

namespace riposte {

class Store;

struct CorrelatorOptions {
  Duration gap = std::chrono::hours(1);
  size_t max_open = 100'000;
  uint32_t ipv6_prefix = 128;  // IPv6 address targets keyed by this enclosing range
};

struct CorrelatorStats {
  uint64_t opened = 0;
  uint64_t extended = 0;
  uint64_t store_errors = 0;
};

class Correlator {
 public:
  Correlator(CorrelatorOptions options, Store* store) : options_(options), store_(store) {}

  // Reads the incidents not closed from the store (newest per key wins).
  Status load();

  // Adds a finding and, when one was taken on it, the decision's id; returns the incident it
  // joined (opened or extended), or null for a finding without an entity or a shadow finding.
  // The pointer is valid until the next call. `now`: wall clock, for created/updated.
  const Incident* add(const Finding& f, const std::string& decision_id, Timestamp now);

  // A person's status change, written to the store. Works for incidents no longer in memory
  // (read from the store). notFound for an unknown id; invalidArgument for a closed incident
  // (final).
  Result<Incident> setStatus(const std::string& id, IncidentStatus status, const std::string& actor,
                             const std::string& note, Timestamp now);

  // Picks up status changes made outside this engine (the CLI writes to the store directly):
  // acknowledged and closed incidents seen within the gap, when the stored change is newer than
  // the one in memory. At most once per `every` of wall clock; returns how many were applied.
  size_t syncStatus(Timestamp now, Duration every = std::chrono::seconds(5));

  // The correlation key of a target ("<type>:<value>"), IPv6 widened to `ipv6_prefix`; `keyed`
  // receives the target the incident is about.
  static std::string keyFor(const Target& t, uint32_t ipv6_prefix, Target* keyed = nullptr);

  size_t inMemory() const { return by_key_.size(); }
  const CorrelatorStats& stats() const { return stats_; }
  const CorrelatorOptions& options() const { return options_; }

 private:
  void save(const Incident& i);
  void sweep();

  CorrelatorOptions options_;
  Store* store_;
  StringMap<Incident> by_key_;  // the current (extendable) incident of each key
  Timestamp watermark_;         // latest event time seen
  uint64_t adds_ = 0;
  Timestamp last_sync_;
  CorrelatorStats stats_;
};

}  // namespace riposte

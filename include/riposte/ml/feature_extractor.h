// EntityFeatureExtractor: per-entity features over a window of events, updated incrementally.
//
// Each event with a value in the key field (source.ip by default, user.name as the second
// entity) updates its entity's window: counters, small sets of hashed values for the distinct
// counts, running mean and variance of the gaps between events (Welford), and how many of the
// entity's values (user names, paths, user agents, destination ports) had never been seen from
// any entity before (keyed by user.name, source addresses take the place of user names in the
// distinct count and the novelty check) (a shared Bloom filter of 2^23 bits, cleared when 40 %
// full). A window starts at the entity's first event and lasts `window`; the first event past it
// closes the window (handed to the caller when recording) and starts the next. The features of the
// window so far are available after each update (see EntityFeature for their definitions).
//
// Memory is bounded: distinct counts saturate at kDistinctCap values per window, at most
// `max_entities` entities are kept (the tenth least recently seen are evicted when full) and an
// entity idle for a window is dropped by expire().
//
// Thread safety: one instance per shard; not shared.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "riposte/core/event.h"
#include "riposte/core/string_hash.h"
#include "riposte/ml/feature_schema.h"

namespace riposte::ml {

struct ExtractorConfig {
  Field key = Field::kSourceIp;
  Duration window = std::chrono::minutes(10);
  size_t max_entities = 50'000;
  // Closed windows with at least this many events are kept for takeClosed().
  bool record = false;
  uint32_t record_min_events = 1;
};

// A closed window's features.
struct WindowRecord {
  std::string entity;
  Timestamp window_start;
  Timestamp window_end;  // last event
  uint32_t events = 0;
  std::vector<float> values;
};

class EntityFeatureExtractor {
 public:
  static constexpr size_t kDistinctCap = 128;

  explicit EntityFeatureExtractor(ExtractorConfig cfg);

  // The entity's state after one event; null when the event has no key value.
  struct View {
    std::string_view entity;
    uint32_t events = 0;  // in the current window
    Timestamp window_start;
    const float* features = nullptr;  // kEntityFeatureCount values, valid until the next call
  };
  const View* observe(const Event& e);

  // Drops entities idle for longer than the window (closing their windows).
  void expire(Timestamp now);
  // Closes every open window (end of a replay) so recording sees them.
  void closeAll();

  // Closed windows collected since the last call (recording only).
  std::vector<WindowRecord> takeClosed();

  size_t entities() const { return entities_.size(); }
  uint64_t evicted() const { return evicted_; }
  const ExtractorConfig& config() const { return cfg_; }

 private:
  struct DistinctSet {
    std::vector<uint32_t> v;  // sorted hashes
    void clear() { v.clear(); }
    bool insert(uint32_t h);  // true when new
  };
  struct State {
    Timestamp window_start;
    Timestamp last;
    uint32_t events = 0;
    uint32_t auth = 0, auth_failures = 0;
    uint32_t http = 0, http4 = 0, http5 = 0;
    double bytes = 0;
    uint32_t gaps = 0;
    double gap_mean = 0, gap_m2 = 0;
    uint32_t values_checked = 0, values_new = 0;
    DistinctSet users, paths, ports, agents;
    void reset(Timestamp start);
  };

  void compute(const State& s, float* out) const;
  void close(const std::string& entity, const State& s);
  // Whether this value had never been seen; marks it seen.
  bool novel(Field f, std::string_view v);
  void evictOldest();

  ExtractorConfig cfg_;
  StringMap<State> entities_;
  std::vector<uint64_t> seen_;  // Bloom filter bits
  uint64_t seen_bits_set_ = 0;
  uint64_t evicted_ = 0;
  std::vector<WindowRecord> closed_;
  float features_[kEntityFeatureCount] = {};
  View view_;
};

}  // namespace riposte::ml

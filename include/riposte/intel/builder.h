// SnapshotBuilder: merges indicators from every feed into one immutable Snapshot.
//
// The same value from several sources becomes one indicator that keeps every source (a source
// that reports a value twice keeps one record: earliest first-seen, latest last-seen and expiry,
// highest confidence, union of tags). Each source report scores
//   weight(source) × confidence/100 × 2^(−age / half_life(type)),
// age counted from last-seen (else first-seen); an indicator's score combines its reports as
// 1 − Π(1 − s_i), in 0-100. Expired (valid_until ≤ now), revoked and not-yet-valid
// (valid_from > now) reports are dropped; values that hit the known-good list are rejected. All
// are counted in the BuildReport.
//
// Thread safety: a builder is used by one thread; the Snapshot it builds is immutable.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "riposte/core/time.h"
#include "riposte/intel/indicator.h"
#include "riposte/intel/known_good.h"
#include "riposte/intel/snapshot.h"

namespace riposte::intel {

struct SourcePolicy {
  double weight = 1.0;              // 0-1, how much this source is trusted
  uint8_t default_confidence = 50;  // used when the feed gives none (lists, OTX)
};

struct BuildOptions {
  Timestamp now;  // unset = Timestamp::now(); scores and expiry are relative to it
  SourcePolicy default_source;
  std::map<std::string, SourcePolicy, std::less<>> sources;
  // Score half-life per type, indexed by IndicatorType (IPs age fast, hashes slowly).
  std::array<Duration, kIndicatorTypeCount> half_life = defaultHalfLives();
  bool apply_known_good = true;
  KnownGood known_good;

  static std::array<Duration, kIndicatorTypeCount> defaultHalfLives();
};

struct BuildReport {
  size_t added = 0;       // reports given to add()
  size_t indicators = 0;  // distinct indicators in the snapshot
  size_t merged = 0;      // reports merged into an indicator already seen
  size_t dropped_expired = 0;
  size_t dropped_revoked = 0;
  size_t dropped_not_yet_valid = 0;
  size_t rejected_known_good = 0;
  size_t invalid = 0;  // values that are not normalised values of their type
  std::map<std::string, size_t> rejected_by_reason;  // known-good reason → count
};

class SnapshotBuilder {
 public:
  explicit SnapshotBuilder(BuildOptions options = {});
  ~SnapshotBuilder();

  // `ind.value` must be normalised (parsers and normalise() produce such values).
  void add(const Indicator& ind);
  void add(const std::vector<Indicator>& inds);

  // Builds the snapshot; the builder is empty afterwards.
  std::shared_ptr<const Snapshot> build();
  const BuildReport& report() const { return report_; }

 private:
  struct Occ {
    uint32_t first_seen = 0;
    uint32_t last_seen = 0;
    uint32_t valid_until = 0;
    uint32_t reference = 0;
    uint32_t tags = 0;
    uint16_t source = 0;
    uint8_t confidence = 0;
    uint8_t tlp = 0;
  };
  struct Group {
    IndicatorType type;
    uint32_t v4 = 0;
    std::string value;  // empty for IPv4
    std::vector<Occ> occs;
  };

  uint32_t intern(std::vector<std::string>& pool, std::unordered_map<std::string, uint32_t>& index,
                  std::string_view s);
  uint32_t internTags(const std::vector<std::string>& tags);
  Group* findOrCreate(IndicatorType type, std::string_view value, bool* created);

  BuildOptions options_;
  int64_t now_s_ = 0;
  BuildReport report_;
  std::vector<std::string> sources_;
  std::unordered_map<std::string, uint32_t> source_index_;
  std::vector<std::string> references_;
  std::unordered_map<std::string, uint32_t> reference_index_;
  std::vector<std::string> tag_sets_;  // tags joined by '\x1f'
  std::unordered_map<std::string, uint32_t> tag_set_index_;
  std::deque<Group> groups_;
  std::unordered_map<uint32_t, uint32_t> v4_index_;
  std::unordered_map<std::string_view, uint32_t> value_index_[kIndicatorTypeCount];
};

}  // namespace riposte::intel

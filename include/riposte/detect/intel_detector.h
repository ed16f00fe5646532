// IntelDetector: the pipeline's threat-intel stage. Checks each event's addresses, domains and
// file hashes against the indicator snapshot and turns a hit into a finding that carries the
// indicator, its sources and score. The decision ladder: a hit scoring at or above
// `block_score` suggests a block, below it an alert.
//
// Configuration (under `detectors:`):
//   - name: intel
//     type: intel
//     db: var/intel.db     # indicators written by `riposte intel load`
//     block_score: 70      # 0..100
//     min_score: 1         # hits below are ignored
//     repeat_after: 10m    # one finding per entity and indicator in this time
//
// Matching: source.ip (the source is the target), destination.ip (an outbound connection to a
// listed address: the destination is the target), url.domain / dns.question.name /
// tls.client.server_name and file.hash.* (the source host is the target, alert only). An
// event's values are looked up in one Snapshot::matchBatch call, so that their memory accesses
// overlap; no allocation per event once the buffers have grown.
//
// Thread safety: one instance per shard; the snapshot is shared read-only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "riposte/core/string_hash.h"
#include "riposte/detect/detector.h"
#include "riposte/intel/snapshot.h"
#include "riposte/intel/store.h"

namespace riposte::intel {
class StoreUpdater;
}  // namespace riposte::intel

namespace riposte {

class SharedIntel;

struct IntelDetectorConfig {
  std::string name = "intel";
  int block_score = 70;
  int min_score = 1;
  Duration repeat_after = std::chrono::minutes(10);
};

class IntelDetector : public Detector {
 public:
  IntelDetector(IntelDetectorConfig cfg, std::shared_ptr<const intel::Snapshot> snapshot);
  // Follows a Store: a new snapshot published there (by `refresher`, which the detector owns,
  // starts and stops: the shared Redis cache's refresher, the feed collector) is picked up at
  // the next event.
  IntelDetector(IntelDetectorConfig cfg, std::shared_ptr<intel::Store> store,
                std::unique_ptr<intel::StoreUpdater> refresher);
  // Follows the engine's shared store (see shared_intel.h), which the intel predicates of rules
  // read too; feed syncs go to its collector.
  IntelDetector(IntelDetectorConfig cfg, std::shared_ptr<SharedIntel> shared);
  ~IntelDetector() override;

  std::string_view name() const override { return cfg_.name; }
  void onEvent(const Event& event, const FindingSink& sink) override;
  void expire(Timestamp now) override;

  void setSnapshot(std::shared_ptr<const intel::Snapshot> s) { snapshot_ = std::move(s); }
  // Asks the feed collector among the detector's updaters for a run of `feed` ("" = all) now.
  Status requestFeedSync(const std::string& feed);

 private:
  void report(const Event& e, const intel::Hit& hit, std::string_view field, std::string_view value,
              TargetType target_type, std::string_view target, bool may_block,
              const FindingSink& sink);

  IntelDetectorConfig cfg_;
  std::shared_ptr<const intel::Snapshot> snapshot_;
  std::shared_ptr<intel::Store> store_;  // null when the snapshot is fixed
  uint64_t generation_ = 0;
  std::unique_ptr<intel::StoreUpdater> refresher_;
  std::shared_ptr<SharedIntel> shared_;
  std::vector<intel::Snapshot::BatchHit> hits_;
  StringMap<Timestamp> recent_;  // "<target>|<indicator entry>" → last finding
};

}  // namespace riposte

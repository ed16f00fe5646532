// AnomalyDetector: scores each entity's windowed features with an Isolation Forest model and
// turns a high score into a finding — what no rule describes.
//
// Configuration (under `detectors:`):
//   - name: anomaly
//     type: anomaly
//     model: var/models/source-ip.model  # written by `riposte model train`; optional
//     entity: source.ip        # or user.name (the model must have been trained for it)
//     window: 10m              # feature window per entity
//     min_events: 5            # an entity is scored once its window has this many events
//     alert_threshold: 0.7     # score ≥ this → finding with action alert
//     block_threshold: 0.9     # score ≥ this → finding with action block
//     mode: enabled            # or shadow: findings are stored and counted, never acted on
//     repeat_after: 10m        # one finding per entity in this time (a block may follow an alert)
//     max_entities: 50000
//     record: false            # store each closed window's features (training data)
//     record_min_events: 5
//     keep: 30d                # recorded vectors older than this are deleted
//
// The decision ladder: rules decide first — the engine runs this detector after every other one
// and its findings never override another detector's decision on the same entity (the policy
// drops them while any decision on the entity is active); then a score at or above the block
// threshold blocks, at or above the alert threshold alerts, and below that the entity is only
// monitored (counted). A model that cannot be loaded (missing, corrupt, truncated, trained on
// other features) is refused with an error in the log; the engine keeps running and the detector
// only computes (and, when asked, records) features.
//
// Thread safety: one instance per shard.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "riposte/core/config.h"
#include "riposte/core/string_hash.h"
#include "riposte/detect/detector.h"
#include "riposte/ml/feature_extractor.h"
#include "riposte/ml/model_file.h"
#include "riposte/store/store.h"

namespace riposte {

struct AnomalyDetectorConfig {
  std::string name = "anomaly";
  std::string model_path;  // empty: no model
  Field entity = Field::kSourceIp;
  Duration window = std::chrono::minutes(10);
  uint32_t min_events = 5;
  double alert_threshold = 0.7;
  double block_threshold = 0.9;
  bool shadow = false;
  Duration repeat_after = std::chrono::minutes(10);
  size_t max_entities = 50'000;
  bool record = false;
  uint32_t record_min_events = 5;
  Duration keep = std::chrono::hours(24 * 30);

  static AnomalyDetectorConfig fromConfig(const ComponentConfig& c, const ConfigReader& rd);
};

struct AnomalyStats {
  uint64_t scored = 0;     // score computations
  uint64_t monitored = 0;  // scored below the alert threshold
  uint64_t alerts = 0;     // alert findings
  uint64_t blocks = 0;     // block findings
  uint64_t recorded = 0;   // feature vectors written to the store
  uint64_t record_errors = 0;
};

class AnomalyDetector : public Detector {
 public:
  // `model` may be null (features only); `store` may be null (no recording).
  AnomalyDetector(AnomalyDetectorConfig cfg, std::shared_ptr<const ml::Model> model, Store* store);
  ~AnomalyDetector() override;

  // Loads and checks a model for `cfg`: refused when it cannot be read or its features are not
  // the entity-window features of cfg.entity.
  static Result<std::shared_ptr<const ml::Model>> loadModelFor(const AnomalyDetectorConfig& cfg);

  std::string_view name() const override { return cfg_.name; }
  void onEvent(const Event& event, const FindingSink& sink) override;
  void expire(Timestamp now) override;
  bool fallback() const override { return true; }

  // Writes recorded windows to the store (also done by expire() and on destruction).
  void flush();

  bool hasModel() const { return model_ != nullptr; }
  const AnomalyStats& stats() const { return stats_; }
  const ml::EntityFeatureExtractor& extractor() const { return extractor_; }

 private:
  struct Recent {
    Timestamp at;
    bool blocked = false;
  };

  AnomalyDetectorConfig cfg_;
  std::shared_ptr<const ml::Model> model_;
  Store* store_;
  ml::FeatureSchema schema_;
  ml::EntityFeatureExtractor extractor_;
  StringMap<Recent> recent_;
  AnomalyStats stats_;
  Timestamp last_event_;
};

}  // namespace riposte

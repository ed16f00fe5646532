// Model file: an Isolation Forest with the feature schema it was trained on and how it was
// trained, written by `riposte model train` and read by the anomaly detector and
// `riposte model eval|info`.
//
// Layout (little-endian):
//   "RIPOSTEM"  magic (8 bytes)
//   u32         format version (kModelFormatVersion)
//   u32         reserved (0)
//   u64         payload size in bytes
//   32 bytes    SHA-256 of the payload
//   payload:    u32 metadata length, metadata (JSON: schema, training metadata, parameters,
//               forest shape), then the forest arrays (u16 features, f32 thresholds, f32 leaves)
// A file whose magic, version, size, checksum or contents do not check out is refused with an
// error naming the file and what is wrong; nothing of it is used.
//
// Thread safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "riposte/core/status.h"
#include "riposte/core/time.h"
#include "riposte/ml/feature_schema.h"
#include "riposte/ml/isolation_forest.h"

namespace riposte::ml {

inline constexpr uint32_t kModelFormatVersion = 1;

struct TrainingInfo {
  uint64_t rows = 0;         // rows trained on
  std::string source;        // "csv:FILE", "store:PATH", ...
  Timestamp trained_at;      // wall clock
  double train_seconds = 0;  // time spent in training
  IsolationForestParams params;
  std::string label_column;  // when normal rows were selected by a label
  std::string normal_value;
};

struct Model {
  FeatureSchema schema;
  TrainingInfo training;
  IsolationForest forest;
};

// Writes atomically (temporary file, then rename).
Status saveModel(const Model& m, const std::string& path);
Result<Model> loadModel(const std::string& path);
// Parses a model from bytes; `name` is used in messages.
Result<Model> parseModel(const std::string& bytes, const std::string& name);
std::string serializeModel(const Model& m);

// Human-readable summary (riposte model info).
std::string describeModel(const Model& m);

}  // namespace riposte::ml

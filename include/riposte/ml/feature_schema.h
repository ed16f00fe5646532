// FeatureSchema: the named, versioned list of features a model is trained on.
//
// A model file stores the schema it was trained with; whoever scores with the model checks that
// its own features are the same (name, version, feature names in order) and refuses a mismatch
// with a message naming the first difference. Two kinds of schema exist:
//   - the entity-window schema (entityWindowSchema()): what the engine computes per entity
//     (source IP or user) from events, see feature_extractor.h;
//   - a CSV schema built by loadCsv(): one feature per numeric column and one per category of
//     a categorical column (one-hot), with the column descriptions needed to encode new rows the
//     same way.
//
// Thread safety: value type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "riposte/core/status.h"

namespace riposte::ml {

// A source column of a CSV schema.
struct CsvColumn {
  std::string name;
  bool categorical = false;
  std::vector<std::string> categories;  // one feature each, in this order (categorical only)
};

struct FeatureSchema {
  std::string name;  // e.g. "riposte.entity-window" or "csv"
  int version = 1;
  std::vector<std::string> features;  // names, in vector order
  std::string entity;                 // entity-window: the key field ("source.ip", "user.name")
  std::vector<CsvColumn> columns;     // csv: how rows map onto features

  size_t dim() const { return features.size(); }

  // OK when `other` describes the same features as this schema (the one a caller expects);
  // otherwise an error naming the first difference.
  Status checkSame(const FeatureSchema& other) const;

  // JSON text (stored in model files) and back.
  std::string toJson() const;
  static Result<FeatureSchema> fromJson(const std::string& text);
};

// The features the engine computes per entity and window, version kEntityWindowVersion.
inline constexpr const char* kEntityWindowSchemaName = "riposte.entity-window";
inline constexpr int kEntityWindowVersion = 1;

enum class EntityFeature : uint8_t {
  kEventRate = 0,       // events per minute over the window so far (at least one minute)
  kAuthFailures,        // failed authentications
  kAuthFailureRatio,    // failed / all authentications
  kDistinctUsers,       // distinct user names tried; keyed by user.name: distinct source
                        // addresses (named distinct_sources in that schema)
  kDistinctPaths,       // distinct URL paths
  kHttp4xxRatio,        // 4xx / HTTP responses
  kHttp5xxRatio,        // 5xx / HTTP responses
  kDistinctDestPorts,   // distinct destination ports
  kBytes,               // response / flow bytes
  kDistinctUserAgents,  // distinct user agents
  kInterArrivalMean,    // mean seconds between events
  kInterArrivalCv,      // coefficient of variation of those gaps (stddev / mean)
  kNewValueShare,       // share of the entity's values never seen before from anyone
  kCount
};
inline constexpr size_t kEntityFeatureCount = static_cast<size_t>(EntityFeature::kCount);

// The entity-window schema for entities keyed by `entity_field`.
FeatureSchema entityWindowSchema(const std::string& entity_field = "source.ip");

}  // namespace riposte::ml

// CSV datasets for offline training and evaluation.
//
// loadCsv() reads a comma-separated file (optional header, double-quoted fields allowed) into a
// float matrix. Without a schema it infers one: a column whose first data value is a number is
// numeric, any other column is categorical and becomes one feature per category seen (one-hot);
// with a schema (a model's) rows are encoded exactly as the model expects, and a category the
// schema does not know sets none of its column's features (counted). An optional label column
// marks each row normal (its value equals `normal_value`, or is 0 for a numeric label) or
// anomalous; it is never a feature. Rows can be split deterministically by line number into a
// training part and a held-out part. A malformed row (wrong field count, a non-number in a
// numeric column, an empty or non-finite number) is an error naming the file and line.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/ml/feature_schema.h"

namespace riposte::ml {

struct CsvOptions {
  char delimiter = ',';
  std::optional<bool> header;  // unset: the first line is a header when no field is a number
  std::string label_column;    // name, or 0-based index; empty: no label
  std::string normal_value = "normal";
  std::vector<std::string> drop;  // columns (names or indices) that are neither features nor label
  // Held-out split: a row belongs to the held-out part when a hash of (split_seed, line) falls
  // under `holdout` (0..1).
  double holdout = 0;
  uint64_t split_seed = 1;
  enum class Part { kAll, kTrain, kHeldOut } part = Part::kAll;
  bool normal_only = false;  // keep only normal rows (needs a label)
};

struct Dataset {
  FeatureSchema schema;
  std::vector<float> x;             // rows × schema.dim(), row-major
  std::vector<int8_t> labels;       // 1 anomaly, 0 normal; empty without a label column
  std::vector<uint64_t> lines;      // 1-based line number of each row
  uint64_t unknown_categories = 0;  // values a given schema did not know
  uint64_t rows_skipped = 0;        // rows left out by the split or normal_only

  size_t rows() const { return lines.size(); }
  size_t dim() const { return schema.dim(); }
  const float* row(size_t i) const { return x.data() + i * dim(); }
};

Result<Dataset> loadCsv(const std::string& path, const CsvOptions& opts,
                        const FeatureSchema* schema = nullptr);
Result<Dataset> parseCsv(const std::string& text, const std::string& name, const CsvOptions& opts,
                         const FeatureSchema* schema = nullptr);

// Whether the row on 1-based `line` belongs to the held-out part.
bool inHeldOut(uint64_t line, double holdout, uint64_t split_seed);

}  // namespace riposte::ml

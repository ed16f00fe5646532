// Evaluation of anomaly scores against labels: ROC AUC, rates at a threshold, and the
// threshold that keeps the false-positive rate under a target.
//
// A row is flagged when its score is at or above the threshold. Positives are anomalies
// (label 1), negatives normal rows (label 0).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <vector>

namespace riposte::ml {

// Area under the ROC curve (ties count one half); 0.5 when one class is empty.
double rocAuc(const std::vector<double>& scores, const std::vector<int8_t>& labels);

struct RatesAt {
  double threshold = 0;
  double tpr = 0;  // flagged anomalies / anomalies
  double fpr = 0;  // flagged normal rows / normal rows
  uint64_t true_positives = 0;
  uint64_t false_positives = 0;
};

RatesAt ratesAt(const std::vector<double>& scores, const std::vector<int8_t>& labels,
                double threshold);

// The lowest threshold (among the scores) whose false-positive rate is at most `max_fpr`, with
// its rates: the most detection that keeps false positives under the target.
RatesAt thresholdForFpr(const std::vector<double>& scores, const std::vector<int8_t>& labels,
                        double max_fpr);

}  // namespace riposte::ml

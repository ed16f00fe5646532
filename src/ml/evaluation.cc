#include "riposte/ml/evaluation.h"

#include <algorithm>
#include <numeric>

namespace riposte::ml {

double rocAuc(const std::vector<double>& scores, const std::vector<int8_t>& labels) {
  const size_t n = std::min(scores.size(), labels.size());
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Mann–Whitney U with average ranks for ties.
  double rank_sum = 0;
  uint64_t pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double avg_rank = (static_cast<double>(i) + 1 + static_cast<double>(j)) / 2;
    for (size_t k = i; k < j; ++k) {
      if (labels[order[k]] != 0) {
        rank_sum += avg_rank;
        ++pos;
      }
    }
    i = j;
  }
  const uint64_t neg = n - pos;
  if (pos == 0 || neg == 0) return 0.5;
  const double u = rank_sum - static_cast<double>(pos) * (static_cast<double>(pos) + 1) / 2;
  return u / (static_cast<double>(pos) * static_cast<double>(neg));
}

RatesAt ratesAt(const std::vector<double>& scores, const std::vector<int8_t>& labels,
                double threshold) {
  RatesAt r;
  r.threshold = threshold;
  uint64_t pos = 0, neg = 0;
  for (size_t i = 0; i < std::min(scores.size(), labels.size()); ++i) {
    const bool flagged = scores[i] >= threshold;
    if (labels[i] != 0) {
      ++pos;
      r.true_positives += flagged;
    } else {
      ++neg;
      r.false_positives += flagged;
    }
  }
  r.tpr = pos == 0 ? 0 : static_cast<double>(r.true_positives) / static_cast<double>(pos);
  r.fpr = neg == 0 ? 0 : static_cast<double>(r.false_positives) / static_cast<double>(neg);
  return r;
}

RatesAt thresholdForFpr(const std::vector<double>& scores, const std::vector<int8_t>& labels,
                        double max_fpr) {
  const size_t n = std::min(scores.size(), labels.size());
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  uint64_t pos = 0, neg = 0;
  for (size_t i = 0; i < n; ++i) (labels[i] != 0 ? pos : neg)++;
  RatesAt best;
  best.threshold = n == 0 ? 1.0 : scores[order[0]] + 1e-12;  // flags nothing
  uint64_t tp = 0, fp = 0;
  // Lower the threshold one distinct score at a time while the FPR stays within the target.
  for (size_t i = 0; i < n;) {
    size_t j = i;
    uint64_t dtp = 0, dfp = 0;
    while (j < n && scores[order[j]] == scores[order[i]]) {
      (labels[order[j]] != 0 ? dtp : dfp)++;
      ++j;
    }
    const double fpr = neg == 0 ? 0 : static_cast<double>(fp + dfp) / static_cast<double>(neg);
    if (fpr > max_fpr) break;
    tp += dtp;
    fp += dfp;
    best.threshold = scores[order[i]];
    i = j;
  }
  best.true_positives = tp;
  best.false_positives = fp;
  best.tpr = pos == 0 ? 0 : static_cast<double>(tp) / static_cast<double>(pos);
  best.fpr = neg == 0 ? 0 : static_cast<double>(fp) / static_cast<double>(neg);
  return best;
}

}  // namespace riposte::ml

#include "riposte/ml/evaluation.h"

#include <gtest/gtest.h>

namespace riposte::ml {
namespace {

TEST(Evaluation, RocAuc) {
  EXPECT_DOUBLE_EQ(rocAuc({0.1, 0.2, 0.8, 0.9}, {0, 0, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(rocAuc({0.9, 0.8, 0.2, 0.1}, {0, 0, 1, 1}), 0.0);
  EXPECT_DOUBLE_EQ(rocAuc({0.5, 0.5, 0.5, 0.5}, {0, 1, 0, 1}), 0.5);
  // One of four positive/negative pairs is misordered.
  EXPECT_DOUBLE_EQ(rocAuc({0.1, 0.6, 0.5, 0.9}, {0, 0, 1, 1}), 0.75);
  EXPECT_DOUBLE_EQ(rocAuc({0.1, 0.2}, {0, 0}), 0.5);
}

TEST(Evaluation, RatesAndThresholdForFpr) {
  // 100 normal scores 0.00..0.99; 10 anomalies, 8 above every normal score and 2 at 0.5
  std::vector<double> s;
  std::vector<int8_t> y;
  for (int i = 0; i < 100; ++i) {
    s.push_back(i / 100.0);
    y.push_back(0);
  }
  for (int i = 0; i < 10; ++i) {
    s.push_back(i < 8 ? 1.0 + i : 0.5);
    y.push_back(1);
  }
  auto r = ratesAt(s, y, 0.95);
  EXPECT_EQ(r.true_positives, 8u);
  EXPECT_EQ(r.false_positives, 5u);  // 0.95 .. 0.99
  EXPECT_DOUBLE_EQ(r.fpr, 0.05);
  auto t1 = thresholdForFpr(s, y, 0.01);
  EXPECT_LE(t1.fpr, 0.01);
  EXPECT_DOUBLE_EQ(t1.fpr, 0.01);
  EXPECT_DOUBLE_EQ(t1.threshold, 0.99);
  EXPECT_EQ(t1.true_positives, 8u);
  EXPECT_DOUBLE_EQ(t1.tpr, 0.8);
  auto t3 = thresholdForFpr(s, y, 0.03);
  EXPECT_DOUBLE_EQ(t3.threshold, 0.97);
  EXPECT_DOUBLE_EQ(t3.fpr, 0.03);
  auto none = thresholdForFpr({0.9, 0.1}, {0, 1}, 0.0);
  EXPECT_EQ(none.false_positives, 0u);
  EXPECT_EQ(none.true_positives, 0u);
}

}  // namespace
}  // namespace riposte::ml

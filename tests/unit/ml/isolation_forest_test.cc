#include "riposte/ml/isolation_forest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

namespace riposte::ml {
namespace {

// n rows of `dim` normal(0, 1) values.
std::vector<float> gaussian(size_t n, size_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0, 1);
  std::vector<float> x(n * dim);
  for (auto& v : x) v = d(rng);
  return x;
}

TEST(AveragePathLength, KnownValues) {
  EXPECT_EQ(averagePathLength(0), 0);
  EXPECT_EQ(averagePathLength(1), 0);
  EXPECT_EQ(averagePathLength(2), 1);
  // c(n) = 2 (ln(n-1) + γ) - 2 (n-1)/n
  EXPECT_NEAR(averagePathLength(3), 2 * (std::log(2.0) + 0.5772156649) - 4.0 / 3, 1e-9);
  EXPECT_NEAR(averagePathLength(256), 10.244770920116851, 1e-9);
  EXPECT_NEAR(averagePathLength(100000), 2 * (std::log(99999.0) + 0.5772156649) - 2 * 0.99999,
              1e-6);
  // Monotone.
  for (int n = 2; n < 1000; ++n) EXPECT_LT(averagePathLength(n), averagePathLength(n + 1));
}

TEST(IsolationForest, AnomaliesScoreHigher) {
  const size_t dim = 4;
  auto x = gaussian(2000, dim, 7);
  auto f = IsolationForest::train(x.data(), 2000, dim, {});
  ASSERT_TRUE(f.isOk()) << f.status().toString();
  const float centre[dim] = {0, 0, 0, 0};
  const float far[dim] = {6, -6, 5, 7};
  const float edge[dim] = {2.5, 0, 0, 0};
  const double s_centre = f->score(centre);
  const double s_edge = f->score(edge);
  const double s_far = f->score(far);
  EXPECT_LT(s_centre, 0.5);
  EXPECT_GT(s_far, 0.7);
  EXPECT_LT(s_centre, s_edge);
  EXPECT_LT(s_edge, s_far);
  for (double s : {s_centre, s_edge, s_far}) {
    EXPECT_GE(s, 0);
    EXPECT_LE(s, 1);
  }
  EXPECT_EQ(f->height(), 8u);
  EXPECT_EQ(f->sampleUsed(), 256u);
  EXPECT_EQ(f->trees(), 100u);
}

TEST(IsolationForest, DeterministicForASeed) {
  auto x = gaussian(1000, 3, 1);
  IsolationForestParams p;
  p.seed = 42;
  auto a = IsolationForest::train(x.data(), 1000, 3, p);
  auto b = IsolationForest::train(x.data(), 1000, 3, p);
  p.seed = 43;
  auto c = IsolationForest::train(x.data(), 1000, 3, p);
  ASSERT_TRUE(a.isOk() && b.isOk() && c.isOk());
  EXPECT_EQ(a->thresholds(), b->thresholds());
  EXPECT_EQ(a->features(), b->features());
  EXPECT_EQ(a->leaves(), b->leaves());
  EXPECT_NE(a->thresholds(), c->thresholds());
  for (size_t i = 0; i < 50; ++i) EXPECT_EQ(a->score(&x[i * 3]), b->score(&x[i * 3]));
}

TEST(IsolationForest, BatchMatchesSingle) {
  auto x = gaussian(1003, 5, 3);
  auto f = IsolationForest::train(x.data(), 1003, 5, {});
  ASSERT_TRUE(f.isOk());
  std::vector<double> out(1003);
  f->scoreBatch(x.data(), 1003, out.data());
  for (size_t i = 0; i < 1003; ++i) EXPECT_EQ(out[i], f->score(&x[i * 5])) << i;
}

// The vector walk (three levels per step) must give exactly the scalar walk's score, for every
// height it serves (samples 2..4096 → heights 1..12), one to sixteen features and values that sit
// on thresholds, are infinite or NaN.
TEST(IsolationForest, VectorWalkMatchesScalarWalk) {
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "no AVX2 here: only the scalar walk runs";
  std::mt19937_64 rng(11);
  for (size_t dim : {1u, 3u, 8u, 9u, 13u, 16u}) {
    for (uint32_t sample : {2u, 5u, 16u, 100u, 256u, 600u, 4096u}) {
      const size_t n = std::max<size_t>(sample, 300);
      auto x = gaussian(n, dim, dim * 1000 + sample);
      IsolationForestParams p;
      p.trees = 20;
      p.sample = sample;
      auto f = IsolationForest::train(x.data(), n, dim, p);
      ASSERT_TRUE(f.isOk());
      ASSERT_TRUE(f->vectorWalk()) << dim << " features, height " << f->height();
      // Probe rows: training rows, rows made of thresholds, and special values.
      std::vector<float> probe(x.begin(), x.begin() + static_cast<ptrdiff_t>(300 * dim));
      for (size_t r = 0; r < 300; ++r) {
        for (size_t j = 0; j < dim; ++j) {
          const size_t i = rng() % f->thresholds().size();
          if ((r + j) % 3 == 0 && std::isfinite(f->thresholds()[i])) {
            probe[r * dim + j] = f->thresholds()[i];
          }
        }
      }
      const float specials[] = {INFINITY, -INFINITY, NAN, 0.0f, -0.0f, 1e30f};
      for (size_t r = 0; r < 12; ++r) probe[r * dim + r % dim] = specials[r % 6];
      std::vector<double> batch(300);
      f->scoreBatch(probe.data(), 300, batch.data());
      for (size_t r = 0; r < 300; ++r) {
        const double ref = f->scoreScalar(&probe[r * dim]);
        ASSERT_EQ(f->score(&probe[r * dim]), ref)
            << dim << " features, sample " << sample << ", row " << r;
        ASSERT_EQ(batch[r], ref) << dim << " features, sample " << sample << ", row " << r;
      }
    }
  }
  // Beyond 16 features the scalar walk serves.
  auto wide = gaussian(300, 17, 3);
  auto g = IsolationForest::train(wide.data(), 300, 17, {});
  ASSERT_TRUE(g.isOk());
  EXPECT_FALSE(g->vectorWalk());
  EXPECT_EQ(g->score(wide.data()), g->scoreScalar(wide.data()));
}

TEST(IsolationForest, PathLengthOfASingleTreeIsDepthPlusLeafAdjustment) {
  // Two rows: the root splits them apart, each leaf holds one row, so h = 1 for both; a third
  // identical pair cannot be split and the leaf adds c(2) = 1.
  const float two[] = {0, 10};
  IsolationForestParams p;
  p.trees = 1;
  p.sample = 2;
  auto f = IsolationForest::train(two, 2, 1, p);
  ASSERT_TRUE(f.isOk());
  EXPECT_EQ(f->height(), 1u);
  EXPECT_DOUBLE_EQ(f->meanPathLength(&two[0]), 1.0);
  EXPECT_DOUBLE_EQ(f->meanPathLength(&two[1]), 1.0);
  // s = 2^(-1 / c(2)) = 0.5
  EXPECT_DOUBLE_EQ(f->score(&two[0]), 0.5);
  const float same[] = {3, 3};
  auto g = IsolationForest::train(same, 2, 1, p);
  ASSERT_TRUE(g.isOk());
  EXPECT_DOUBLE_EQ(g->meanPathLength(&same[0]), 0 + averagePathLength(2));
}

TEST(IsolationForest, MaxFeaturesRestrictsSplits) {
  // Only feature 1 varies in a way that matters; with max_features 1 every tree uses a single
  // feature, and all nodes of a tree use the same one.
  auto x = gaussian(500, 3, 9);
  IsolationForestParams p;
  p.max_features = 1;
  auto f = IsolationForest::train(x.data(), 500, 3, p);
  ASSERT_TRUE(f.isOk());
  const size_t inner = (size_t{1} << f->height()) - 1;
  for (uint32_t t = 0; t < f->trees(); ++t) {
    std::set<uint16_t> used;
    for (size_t i = 0; i < inner; ++i) {
      if (std::isfinite(f->thresholds()[t * inner + i])) used.insert(f->features()[t * inner + i]);
    }
    EXPECT_LE(used.size(), 1u) << "tree " << t;
  }
  p.max_features = 4;
  EXPECT_FALSE(IsolationForest::train(x.data(), 500, 3, p).isOk());
}

TEST(IsolationForest, RefusesBadInput) {
  const float nan_row[] = {1, NAN};
  EXPECT_FALSE(IsolationForest::train(nan_row, 1, 2, {}).isOk());
  EXPECT_FALSE(IsolationForest::train(nan_row, 0, 2, {}).isOk());
  IsolationForestParams p;
  p.trees = 0;
  const float ok[] = {1, 2};
  EXPECT_FALSE(IsolationForest::train(ok, 1, 2, p).isOk());
}

TEST(IsolationForest, FromArraysChecksShape) {
  auto x = gaussian(300, 2, 5);
  auto f = IsolationForest::train(x.data(), 300, 2, {});
  ASSERT_TRUE(f.isOk());
  auto g = IsolationForest::fromArrays(f->dim(), f->trees(), f->height(), f->sampleUsed(),
                                       f->features(), f->thresholds(), f->leaves());
  ASSERT_TRUE(g.isOk());
  EXPECT_EQ(g->score(&x[0]), f->score(&x[0]));
  auto bad_feature = f->features();
  bad_feature[0] = 7;
  EXPECT_FALSE(IsolationForest::fromArrays(f->dim(), f->trees(), f->height(), f->sampleUsed(),
                                           bad_feature, f->thresholds(), f->leaves())
                   .isOk());
  auto short_leaves = f->leaves();
  short_leaves.pop_back();
  EXPECT_FALSE(IsolationForest::fromArrays(f->dim(), f->trees(), f->height(), f->sampleUsed(),
                                           f->features(), f->thresholds(), short_leaves)
                   .isOk());
}

}  // namespace
}  // namespace riposte::ml

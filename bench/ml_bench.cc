// Isolation Forest: scoring (batch and one vector at a time) and training, 8 features,
// 100 trees, 256 rows per tree. Compare with scikit-learn via bench/ml_vs_sklearn.sh.
#include <benchmark/benchmark.h>

#include <random>

#include "riposte/core/event.h"
#include "riposte/ml/feature_extractor.h"
#include "riposte/ml/isolation_forest.h"

namespace {

using riposte::ml::IsolationForest;

std::vector<float> gaussian(size_t n, size_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0, 1);
  std::vector<float> x(n * dim);
  for (auto& v : x) v = d(rng);
  return x;
}

IsolationForest trainOn(size_t dim) {
  auto x = gaussian(100'000, dim, 1);
  return std::move(*IsolationForest::train(x.data(), 100'000, dim, {}));
}

const IsolationForest& forest8() {
  static const IsolationForest f = trainOn(8);
  return f;
}

// 13 features: the width of the per-entity feature schema.
const IsolationForest& forest13() {
  static const IsolationForest f = trainOn(13);
  return f;
}

// Argument: the number of features (8, or 13 as the entity schema has).
void BM_ScoreBatch(benchmark::State& state) {
  const size_t dim = static_cast<size_t>(state.range(0));
  const auto& f = dim == 13 ? forest13() : forest8();
  const size_t n = 100'000;
  auto x = gaussian(n, dim, 2);
  std::vector<double> out(n);
  for (auto _ : state) {
    f.scoreBatch(x.data(), n, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_ScoreBatch)->Arg(8)->Arg(13)->Unit(benchmark::kMillisecond);

// The scalar walk (machines without AVX2), for comparison with the vector walk above.
void BM_ScoreScalar(benchmark::State& state) {
  const auto& f = forest8();
  const size_t n = 4096;
  auto x = gaussian(n, 8, 3);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.scoreScalar(&x[(i++ % n) * 8]));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ScoreScalar);

void BM_ScoreOne(benchmark::State& state) {
  const auto& f = forest8();
  const size_t n = 4096;
  auto x = gaussian(n, 8, 3);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.score(&x[(i++ % n) * 8]));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ScoreOne);

void BM_Train(benchmark::State& state) {
  const auto rows = static_cast<size_t>(state.range(0));
  auto x = gaussian(rows, 8, 4);
  for (auto _ : state) {
    auto f = IsolationForest::train(x.data(), rows, 8, {});
    benchmark::DoNotOptimize(f);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
}
BENCHMARK(BM_Train)->Arg(100'000)->Unit(benchmark::kMillisecond);

// Feature extraction per event (the detector's per-event cost without scoring).
void BM_ExtractFeatures(benchmark::State& state) {
  riposte::ml::EntityFeatureExtractor x({});
  std::vector<std::string> ips, users;
  for (int i = 0; i < 1000; ++i) {
    ips.push_back("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250));
    users.push_back("user" + std::to_string(i % 37));
  }
  riposte::Event e;
  e.setKind(riposte::EventKind::kAuth);
  e.set(riposte::Field::kEventOutcome, "failure");
  int64_t t = 1'700'000'000'000'000;
  size_t i = 0;
  for (auto _ : state) {
    e.setTimestamp({t += 1000, 0});
    e.set(riposte::Field::kSourceIp, ips[i % ips.size()]);
    e.set(riposte::Field::kUserName, users[i % users.size()]);
    ++i;
    benchmark::DoNotOptimize(x.observe(e));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ExtractFeatures);

}  // namespace

BENCHMARK_MAIN();

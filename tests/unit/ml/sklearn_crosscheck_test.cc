// Cross-check against scikit-learn's IsolationForest: both train on the same normal rows and
// score the same held-out rows; the mean ROC AUC over five seeds must agree within 0.01.
// Skips (saying why) when /usr/bin/python3 has no scikit-learn (Debian python3-sklearn).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "riposte/ml/csv_dataset.h"
#include "riposte/ml/evaluation.h"
#include "riposte/ml/isolation_forest.h"
#include "support/test_support.h"

namespace riposte::ml {
namespace {

constexpr const char* kPython = "/usr/bin/python3";
constexpr int kSeeds = 5;

// Runs a command line (arguments are paths we created), returns its exit code and stdout.
int run(const std::string& cmd, std::string& out) {
  out.clear();
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool sklearnAvailable(std::string& why) {
  std::string out;
  if (run(std::string(kPython) + " -c 'import sklearn, numpy' 2>&1", out) != 0) {
    why = std::string(kPython) + " cannot import scikit-learn (install python3-sklearn): " + out;
    return false;
  }
  return true;
}

void writeMatrix(const std::filesystem::path& p, const Dataset& d) {
  std::ofstream o(p);
  char buf[32];
  for (size_t r = 0; r < d.rows(); ++r) {
    for (size_t c = 0; c < d.dim(); ++c) {
      std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(d.row(r)[c]));
      o << (c ? "," : "") << buf;
    }
    o << "\n";
  }
}

struct Aucs {
  double ours = 0;
  double sklearn = 0;
};

Aucs crossCheck(const std::string& csv, CsvOptions opts) {
  Aucs out;
  opts.part = CsvOptions::Part::kTrain;
  opts.normal_only = true;
  auto train = loadCsv(csv, opts);
  EXPECT_TRUE(train.isOk()) << train.status().toString();
  if (!train.isOk()) return out;
  opts.part = CsvOptions::Part::kHeldOut;
  opts.normal_only = false;
  auto test = loadCsv(csv, opts, &train->schema);
  EXPECT_TRUE(test.isOk()) << test.status().toString();
  if (!test.isOk()) return out;
  EXPECT_GT(train->rows(), 100u);
  EXPECT_GT(test->rows(), 100u);

  std::string seeds;
  for (int s = 1; s <= kSeeds; ++s) {
    IsolationForestParams p;
    p.seed = static_cast<uint64_t>(s);
    auto f = IsolationForest::train(train->x.data(), train->rows(), train->dim(), p);
    EXPECT_TRUE(f.isOk());
    if (!f.isOk()) return out;
    std::vector<double> scores(test->rows());
    f->scoreBatch(test->x.data(), test->rows(), scores.data());
    out.ours += rocAuc(scores, test->labels) / kSeeds;
    seeds += (s > 1 ? "," : "") + std::to_string(s);
  }

  testing::TempDir dir;
  writeMatrix(dir.path() / "train.csv", *train);
  writeMatrix(dir.path() / "test.csv", *test);
  {
    std::ofstream l(dir.path() / "labels.txt");
    for (auto y : test->labels) l << static_cast<int>(y) << "\n";
  }
  std::string json;
  const std::string cmd =
      std::string(kPython) + " " RIPOSTE_SOURCE_DIR "/tests/ml/sklearn_iforest.py auc " +
      (dir.path() / "train.csv").string() + " " + (dir.path() / "test.csv").string() + " " +
      (dir.path() / "labels.txt").string() + " --seeds " + seeds;
  EXPECT_EQ(run(cmd, json), 0) << cmd;
  auto j = nlohmann::json::parse(json, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << json;
  if (!j.is_discarded()) out.sklearn = j.value("auc_mean", 0.0);
  std::printf("%s: %zu training rows, %zu held out; ROC AUC riposte %.4f, scikit-learn %.4f\n",
              csv.c_str(), train->rows(), test->rows(), out.ours, out.sklearn);
  return out;
}

TEST(SklearnCrossCheck, SyntheticFixture) {
  std::string why;
  if (!sklearnAvailable(why)) GTEST_SKIP() << why;
  CsvOptions o;
  o.label_column = "label";
  o.holdout = 0.4;
  o.split_seed = 3;
  const Aucs a = crossCheck(testing::fixture("ml/synthetic.csv").string(), o);
  EXPECT_GT(a.ours, 0.7);
  EXPECT_NEAR(a.ours, a.sklearn, 0.01);
}

TEST(SklearnCrossCheck, NslKdd) {
  RIPOSTE_REQUIRE_CORPUS(kdd, "datasets/nsl-kdd/KDDTrain+_20Percent.txt");
  std::string why;
  if (!sklearnAvailable(why)) GTEST_SKIP() << why;
  CsvOptions o;
  o.label_column = "41";  // attack type; "normal" for normal traffic
  o.drop = {"42"};        // difficulty level
  o.holdout = 0.3;
  o.split_seed = 7;
  const Aucs a = crossCheck(kdd.string(), o);
  EXPECT_GT(a.ours, 0.85);
  EXPECT_NEAR(a.ours, a.sklearn, 0.01);
}

}  // namespace
}  // namespace riposte::ml

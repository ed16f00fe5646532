// `riposte model train|eval|info`: Isolation Forest models for the anomaly detector.
//
//   train --csv FILE [--label-column C --normal-value V] ... -o MODEL   offline data
//   train --from-store [--config F | --db FILE] [--entity E] -o MODEL   what the engine recorded
//   eval  --model MODEL --csv FILE --label-column C                     AUC, TPR/FPR, thresholds
//   info  MODEL                                                         what a model file holds
#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "riposte/engine/serve.h"
#include "riposte/ml/csv_dataset.h"
#include "riposte/ml/evaluation.h"
#include "riposte/ml/model_file.h"
#include "riposte/store/sqlite_store.h"

namespace riposte::cli {

namespace {

struct CsvFlags {
  std::string csv;
  std::string label_column;
  std::string normal_value = "normal";
  std::vector<std::string> drop;
  double holdout = 0;
  uint64_t split_seed = 1;
  bool no_header = false;
};

void addCsvFlags(CLI::App* cmd, CsvFlags& f) {
  cmd->add_option("--label-column", f.label_column,
                  "column (name or 0-based index) that marks rows normal or anomalous");
  cmd->add_option("--normal-value", f.normal_value,
                  "label value of normal rows (a numeric label: 0 is normal)")
      ->capture_default_str();
  cmd->add_option("--drop", f.drop, "columns (names or indices) to leave out")->delimiter(',');
  cmd->add_option("--holdout", f.holdout,
                  "fraction of rows kept aside (train skips them, eval uses only them)")
      ->check(CLI::Range(0.0, 0.99));
  cmd->add_option("--split-seed", f.split_seed, "seed of the held-out split")
      ->capture_default_str();
  cmd->add_flag("--no-header", f.no_header, "the first line is data (default: detected)");
}

ml::CsvOptions csvOptions(const CsvFlags& f) {
  ml::CsvOptions o;
  o.label_column = f.label_column;
  o.normal_value = f.normal_value;
  o.drop = f.drop;
  o.holdout = f.holdout;
  o.split_seed = f.split_seed;
  if (f.no_header) o.header = false;
  return o;
}

int fail(const char* what, const Status& st, int code = 1) {
  std::fprintf(stderr, "riposte model %s: %s\n", what, st.toString().c_str());
  return code;
}

struct TrainOpts {
  CsvFlags csv;
  bool from_store = false;
  std::string config;
  std::string db;
  std::string entity = "source.ip";
  size_t limit = 1'000'000;
  uint32_t trees = 100;
  uint32_t sample = 256;
  uint32_t max_features = 0;
  uint64_t seed = 1;
  std::string out;
};

int train(Context& ctx, const TrainOpts& o) {
  if (o.csv.csv.empty() == !o.from_store) {
    std::fprintf(stderr, "riposte model train: give exactly one of --csv FILE or --from-store\n");
    return 2;
  }
  ml::Model m;
  std::vector<float> x;
  size_t rows = 0;
  if (!o.csv.csv.empty()) {
    ml::CsvOptions co = csvOptions(o.csv);
    co.part = o.csv.holdout > 0 ? ml::CsvOptions::Part::kTrain : ml::CsvOptions::Part::kAll;
    co.normal_only = !o.csv.label_column.empty();
    auto ds = ml::loadCsv(o.csv.csv, co);
    if (!ds) return fail("train", ds.status(), 2);
    if (ds->rows() == 0) return fail("train", Status::invalidArgument(o.csv.csv + ": no rows"), 2);
    m.schema = ds->schema;
    x = std::move(ds->x);
    rows = ds->rows();
    m.training.source = "csv:" + o.csv.csv;
    m.training.label_column = o.csv.label_column;
    if (!o.csv.label_column.empty()) m.training.normal_value = o.csv.normal_value;
    std::fprintf(stderr, "riposte model train: %zu rows x %zu features from %s (%llu left out)\n",
                 rows, m.schema.dim(), o.csv.csv.c_str(),
                 static_cast<unsigned long long>(ds->rows_skipped));
  } else {
    if (o.entity != "source.ip" && o.entity != "user.name") {
      std::fprintf(stderr, "riposte model train: --entity must be source.ip or user.name\n");
      return 2;
    }
    Result<StorePtr> store = Status::internal("unset");
    if (!o.db.empty()) {
      auto s = SqliteStore::open(o.db);
      if (s) {
        store = StorePtr(std::move(*s));
      } else {
        store = s.status();
      }
    } else {
      auto cfg = loadConfigOrDefault(ctx, o.config);
      if (!cfg) return 2;
      store = openStore(*cfg, ctx.registries);
    }
    if (!store) return fail("train", store.status());
    m.schema = ml::entityWindowSchema(o.entity);
    auto recs =
        (*store)->listFeatureVectors(m.schema.name, m.schema.version, m.schema.entity, o.limit);
    if (!recs) return fail("train", recs.status());
    for (const auto& r : *recs) {
      if (r.values.size() != m.schema.dim()) continue;
      x.insert(x.end(), r.values.begin(), r.values.end());
      ++rows;
    }
    if (rows == 0) {
      std::fprintf(stderr,
                   "riposte model train: the store holds no %s v%d feature vectors for %s; run "
                   "an anomaly detector with `record: true` first\n",
                   m.schema.name.c_str(), m.schema.version, o.entity.c_str());
      return 1;
    }
    m.training.source = "store:" + (o.db.empty() ? std::string("config") : o.db);
    std::fprintf(stderr, "riposte model train: %zu recorded %s windows from the store\n", rows,
                 o.entity.c_str());
  }
  m.training.params.trees = o.trees;
  m.training.params.sample = o.sample;
  m.training.params.max_features = o.max_features;
  m.training.params.seed = o.seed;
  m.training.rows = rows;
  m.training.trained_at = Timestamp::now();
  const auto t0 = std::chrono::steady_clock::now();
  auto forest = ml::IsolationForest::train(x.data(), rows, m.schema.dim(), m.training.params);
  m.training.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!forest) return fail("train", forest.status(), 2);
  m.forest = std::move(*forest);
  if (Status st = ml::saveModel(m, o.out); !st.isOk()) return fail("train", st);
  std::fprintf(stderr, "riposte model train: wrote %s (%u trees, %.3f s)\n", o.out.c_str(),
               m.forest.trees(), m.training.train_seconds);
  return 0;
}

struct EvalOpts {
  CsvFlags csv;
  std::string model;
  double alert_threshold = 0.7;
  double block_threshold = 0.9;
  bool json = false;
};

int eval(const EvalOpts& o) {
  auto m = ml::loadModel(o.model);
  if (!m) return fail("eval", m.status());
  if (m->schema.columns.empty()) {
    return fail("eval",
                Status::invalidArgument("model " + o.model + " (" + m->schema.name +
                                        ") was not trained on CSV columns"),
                2);
  }
  ml::CsvOptions co = csvOptions(o.csv);
  co.part = o.csv.holdout > 0 ? ml::CsvOptions::Part::kHeldOut : ml::CsvOptions::Part::kAll;
  auto ds = ml::loadCsv(o.csv.csv, co, &m->schema);
  if (!ds) return fail("eval", ds.status(), 2);
  std::vector<double> scores(ds->rows());
  const auto t0 = std::chrono::steady_clock::now();
  m->forest.scoreBatch(ds->x.data(), ds->rows(), scores.data());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  size_t anomalies = 0;
  for (auto y : ds->labels) anomalies += y != 0;
  const double auc = ml::rocAuc(scores, ds->labels);
  const auto at_alert = ml::ratesAt(scores, ds->labels, o.alert_threshold);
  const auto at_block = ml::ratesAt(scores, ds->labels, o.block_threshold);
  const auto fpr1 = ml::thresholdForFpr(scores, ds->labels, 0.01);
  const auto fpr3 = ml::thresholdForFpr(scores, ds->labels, 0.03);
  auto rates = [](const ml::RatesAt& r) {
    return nlohmann::json{{"threshold", r.threshold}, {"tpr", r.tpr}, {"fpr", r.fpr}};
  };
  if (o.json) {
    nlohmann::json j{{"rows", ds->rows()},
                     {"anomalies", anomalies},
                     {"normal", ds->rows() - anomalies},
                     {"unknown_categories", ds->unknown_categories},
                     {"roc_auc", auc},
                     {"alert", rates(at_alert)},
                     {"block", rates(at_block)},
                     {"fpr_1pct", rates(fpr1)},
                     {"fpr_3pct", rates(fpr3)},
                     {"score_seconds", secs}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("rows:        %zu (%zu anomalous, %zu normal)%s\n", ds->rows(), anomalies,
              ds->rows() - anomalies, o.csv.holdout > 0 ? " held out" : "");
  if (ds->unknown_categories > 0) {
    std::printf("unknown categories: %llu values the model had not seen\n",
                static_cast<unsigned long long>(ds->unknown_categories));
  }
  std::printf("ROC AUC:     %.4f\n", auc);
  std::printf("alert  >= %.3f: TPR %.4f  FPR %.4f\n", o.alert_threshold, at_alert.tpr,
              at_alert.fpr);
  std::printf("block  >= %.3f: TPR %.4f  FPR %.4f\n", o.block_threshold, at_block.tpr,
              at_block.fpr);
  std::printf("FPR <= 1%%: threshold %.4f  TPR %.4f  FPR %.4f\n", fpr1.threshold, fpr1.tpr,
              fpr1.fpr);
  std::printf("FPR <= 3%%: threshold %.4f  TPR %.4f  FPR %.4f\n", fpr3.threshold, fpr3.tpr,
              fpr3.fpr);
  return 0;
}

}  // namespace

void addModelCommands(CLI::App& app, Context& ctx) {
  auto* model = app.add_subcommand("model", "Train, evaluate and inspect anomaly models");
  model->require_subcommand(1);

  auto to = std::make_shared<TrainOpts>();
  auto* tr = model->add_subcommand(
      "train",
      "Train an Isolation Forest on CSV rows (only the normal ones when a label is given) or on "
      "the per-entity feature vectors the engine recorded in the store");
  tr->add_option("--csv", to->csv.csv, "CSV file (numeric and categorical columns)");
  addCsvFlags(tr, to->csv);
  tr->add_flag("--from-store", to->from_store,
               "train on feature vectors recorded by an anomaly detector (record: true)");
  tr->add_option("--config,-c", to->config, "configuration file naming the store (--from-store)");
  tr->add_option("--db", to->db, "SQLite store file (--from-store; instead of --config)");
  tr->add_option("--entity", to->entity, "source.ip or user.name (--from-store)")
      ->capture_default_str();
  tr->add_option("--limit", to->limit, "newest vectors to use (--from-store)")
      ->capture_default_str();
  tr->add_option("--trees", to->trees, "trees")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  tr->add_option("--sample", to->sample, "rows per tree")
      ->capture_default_str()
      ->check(CLI::Range(2, 65536));
  tr->add_option("--max-features", to->max_features, "features per tree (0: all)")
      ->capture_default_str();
  tr->add_option("--seed", to->seed, "random seed")->capture_default_str();
  tr->add_option("-o,--output", to->out, "model file to write")->required();
  tr->callback([&ctx, to] { ctx.exit_code = train(ctx, *to); });

  auto eo = std::make_shared<EvalOpts>();
  auto* ev = model->add_subcommand(
      "eval",
      "Score labelled CSV rows: ROC AUC, TPR and FPR at the alert and block thresholds, and the "
      "thresholds that keep the FPR at or under 1% and 3%");
  ev->add_option("--model,-m", eo->model, "model file")->required();
  ev->add_option("--csv", eo->csv.csv, "CSV file")->required();
  addCsvFlags(ev, eo->csv);
  ev->get_option("--label-column")->required();
  ev->add_option("--alert-threshold", eo->alert_threshold, "alert threshold")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  ev->add_option("--block-threshold", eo->block_threshold, "block threshold")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  ev->add_flag("--json", eo->json, "print the figures as JSON");
  ev->callback([&ctx, eo] { ctx.exit_code = eval(*eo); });

  auto info_path = std::make_shared<std::string>();
  auto* info = model->add_subcommand("info", "Print what a model file holds (checks it whole)");
  info->add_option("model", *info_path, "model file")->required();
  info->callback([&ctx, info_path] {
    auto m = ml::loadModel(*info_path);
    if (!m) {
      ctx.exit_code = fail("info", m.status());
      return;
    }
    std::printf("%s", ml::describeModel(*m).c_str());
  });
}

}  // namespace riposte::cli

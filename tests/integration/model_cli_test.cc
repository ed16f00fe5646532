// `riposte model train|eval|info` on the synthetic fixture, end to end through the binary.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace riposte::testing {
namespace {

TEST(ModelCli, TrainEvalInfo) {
  TempDir dir;
  const std::string csv = fixture("ml/synthetic.csv").string();
  const std::string model = (dir.path() / "m.model").string();
  auto tr = runRiposte({"model", "train", "--csv", csv, "--label-column", "label", "--normal-value",
                        "normal", "--holdout", "0.3", "--split-seed", "5", "--trees", "50",
                        "--seed", "3", "-o", model});
  ASSERT_EQ(tr.exit_code, 0) << tr.err;
  EXPECT_NE(tr.err.find("wrote " + model), std::string::npos) << tr.err;

  auto info = runRiposte({"model", "info", model});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("schema:        csv v1"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("proto=icmp"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("trees 50"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("seed 3"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("label column label = normal"), std::string::npos) << info.out;

  auto ev = runRiposte({"model", "eval", "--model", model, "--csv", csv, "--label-column", "label",
                        "--holdout", "0.3", "--split-seed", "5", "--json"});
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  auto j = nlohmann::json::parse(ev.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << ev.out;
  EXPECT_GT(j["roc_auc"].get<double>(), 0.7);
  EXPECT_LE(j["fpr_1pct"]["fpr"].get<double>(), 0.01);
  EXPECT_LE(j["fpr_3pct"]["fpr"].get<double>(), 0.03);
  EXPECT_GE(j["fpr_3pct"]["tpr"].get<double>(), j["fpr_1pct"]["tpr"].get<double>());
  const auto rows = j["rows"].get<uint64_t>();
  EXPECT_GT(rows, 450u);  // about 30 % of 2000
  EXPECT_LT(rows, 750u);

  auto text = runRiposte({"model", "eval", "-m", model, "--csv", csv, "--label-column", "label"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("ROC AUC:"), std::string::npos);
  EXPECT_NE(text.out.find("FPR <= 1%: threshold"), std::string::npos) << text.out;
}

TEST(ModelCli, CorruptModelAndBadCsvAreRefusedClearly) {
  TempDir dir;
  const std::string csv = fixture("ml/synthetic.csv").string();
  const std::string model = (dir.path() / "m.model").string();
  ASSERT_EQ(runRiposte({"model", "train", "--csv", csv, "--label-column", "label", "-o", model})
                .exit_code,
            0);
  std::string bytes = readFile(model);
  bytes[bytes.size() - 10] = static_cast<char>(bytes[bytes.size() - 10] ^ 0x40);
  std::ofstream(model, std::ios::binary | std::ios::trunc) << bytes;
  auto info = runRiposte({"model", "info", model});
  EXPECT_NE(info.exit_code, 0);
  EXPECT_NE(info.err.find("checksum mismatch"), std::string::npos) << info.err;

  const std::string bad = (dir.path() / "bad.csv").string();
  std::ofstream(bad) << "a,b,label\n1,2,normal\n3,oops,normal\n";
  auto tr = runRiposte({"model", "train", "--csv", bad, "-o", model});
  EXPECT_EQ(tr.exit_code, 2);
  EXPECT_NE(tr.err.find(bad + ":3: column 'b': 'oops' is not a finite number"), std::string::npos)
      << tr.err;

  auto neither = runRiposte({"model", "train", "-o", model});
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_NE(neither.err.find("--csv FILE or --from-store"), std::string::npos) << neither.err;
}

// The engine records per-entity windows during a replay; `model train --from-store` trains on
// them, and a replay with that model runs the detector.
TEST(ModelCli, TrainFromStoreAfterRecordingReplay) {
  TempDir dir;
  const std::string db = (dir.path() / "r.db").string();
  const std::string cfg = (dir.path() / "c.yaml").string();
  std::ofstream(cfg) << "detectors:\n  - name: ml\n    type: anomaly\n    record: true\n"
                        "    record_min_events: 1\n    window: 1m\n";
  auto rep = runRiposte({"replay", "--config", cfg, "--db", db, "--type", "sshd", "--year", "2026",
                         fixture("e2e/bruteforce.log").string()});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  const std::string model = (dir.path() / "s.model").string();
  auto tr =
      runRiposte({"model", "train", "--from-store", "--db", db, "--trees", "10", "-o", model});
  ASSERT_EQ(tr.exit_code, 0) << tr.err;
  EXPECT_NE(tr.err.find("recorded source.ip windows"), std::string::npos) << tr.err;
  auto info = runRiposte({"model", "info", model});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("riposte.entity-window v1 (entity source.ip)"), std::string::npos)
      << info.out;

  // A user.name model from an empty store: nothing recorded for that entity.
  auto none = runRiposte(
      {"model", "train", "--from-store", "--db", db, "--entity", "user.name", "-o", model});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("record: true"), std::string::npos) << none.err;

  // The model in use, and a corrupt one: the replay still runs and says so.
  std::ofstream(cfg, std::ios::trunc) << "detectors:\n  - name: ml\n    type: anomaly\n"
                                         "    model: "
                                      << model << "\n";
  auto use = runRiposte({"--log-level", "info", "replay", "--config", cfg, "--type", "sshd",
                         "--year", "2026", fixture("e2e/bruteforce.log").string()});
  ASSERT_EQ(use.exit_code, 0) << use.err;
  EXPECT_NE(use.err.find("model " + model + " loaded"), std::string::npos) << use.err;
  std::ofstream(model, std::ios::trunc) << "not a model";
  auto broken = runRiposte({"replay", "--config", cfg, "--type", "sshd", "--year", "2026",
                            fixture("e2e/bruteforce.log").string()});
  ASSERT_EQ(broken.exit_code, 0) << broken.err;
  EXPECT_NE(broken.err.find("running WITHOUT the anomaly model"), std::string::npos) << broken.err;
}

}  // namespace
}  // namespace riposte::testing

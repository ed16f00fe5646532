#include "riposte/ml/model_file.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "support/test_support.h"

namespace riposte::ml {
namespace {

Model smallModel() {
  std::mt19937_64 rng(3);
  std::normal_distribution<float> d(0, 1);
  std::vector<float> x(400 * kEntityFeatureCount);
  for (auto& v : x) v = d(rng);
  Model m;
  m.schema = entityWindowSchema("source.ip");
  IsolationForestParams p;
  p.trees = 20;
  p.sample = 64;
  p.seed = 9;
  auto f = IsolationForest::train(x.data(), 400, kEntityFeatureCount, p);
  EXPECT_TRUE(f.isOk());
  m.forest = std::move(*f);
  m.training.rows = 400;
  m.training.source = "test";
  m.training.trained_at = Timestamp::fromSeconds(1'700'000'000);
  m.training.params = p;
  return m;
}

TEST(ModelFile, RoundTrip) {
  testing::TempDir dir;
  const auto path = (dir.path() / "m.model").string();
  Model m = smallModel();
  ASSERT_TRUE(saveModel(m, path).isOk());
  auto back = loadModel(path);
  ASSERT_TRUE(back.isOk()) << back.status().toString();
  EXPECT_TRUE(m.schema.checkSame(back->schema).isOk());
  EXPECT_EQ(back->training.rows, 400u);
  EXPECT_EQ(back->training.params.seed, 9u);
  EXPECT_EQ(back->training.params.trees, 20u);
  EXPECT_EQ(back->training.trained_at, m.training.trained_at);
  std::vector<float> x(kEntityFeatureCount, 0.5f);
  EXPECT_EQ(back->forest.score(x.data()), m.forest.score(x.data()));
  const std::string info = describeModel(*back);
  EXPECT_NE(info.find("riposte.entity-window v1"), std::string::npos) << info;
  EXPECT_NE(info.find("auth_failure_ratio"), std::string::npos);
}

TEST(ModelFile, CorruptTruncatedAndForeignFilesAreRefused) {
  const std::string bytes = serializeModel(smallModel());
  ASSERT_TRUE(parseModel(bytes, "m").isOk());

  // One flipped bit anywhere in the payload breaks the checksum.
  for (size_t at : {size_t{60}, bytes.size() / 2, bytes.size() - 1}) {
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    auto r = parseModel(bad, "m");
    ASSERT_FALSE(r.isOk());
    EXPECT_NE(r.status().message().find("checksum mismatch"), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find("not used"), std::string::npos);
  }
  auto truncated = parseModel(bytes.substr(0, bytes.size() - 100), "m");
  ASSERT_FALSE(truncated.isOk());
  EXPECT_NE(truncated.status().message().find("truncated"), std::string::npos);
  auto header_only = parseModel(bytes.substr(0, 20), "m");
  ASSERT_FALSE(header_only.isOk());
  EXPECT_NE(header_only.status().message().find("truncated"), std::string::npos);
  auto foreign = parseModel(std::string(200, 'x'), "m");
  ASSERT_FALSE(foreign.isOk());
  EXPECT_NE(foreign.status().message().find("bad magic"), std::string::npos);
  std::string future = bytes;
  future[8] = 9;  // format version
  auto v = parseModel(future, "m");
  ASSERT_FALSE(v.isOk());
  EXPECT_NE(v.status().message().find("format version 9"), std::string::npos);
  EXPECT_FALSE(loadModel("/nonexistent/m.model").isOk());
}

TEST(ModelFile, SchemaMismatchIsNamed) {
  const FeatureSchema ip = entityWindowSchema("source.ip");
  EXPECT_TRUE(ip.checkSame(entityWindowSchema("source.ip")).isOk());
  auto user = ip.checkSame(entityWindowSchema("user.name"));
  ASSERT_FALSE(user.isOk());
  EXPECT_NE(user.message().find("keyed by 'user.name'"), std::string::npos);
  FeatureSchema older = ip;
  older.version = 0;
  auto v = ip.checkSame(older);
  ASSERT_FALSE(v.isOk());
  EXPECT_NE(v.message().find("version 0"), std::string::npos);
  FeatureSchema renamed = ip;
  renamed.features[3] = "distinct_accounts";
  auto r = ip.checkSame(renamed);
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.message().find("feature 3 is 'distinct_accounts'"), std::string::npos);
  FeatureSchema csv;
  csv.name = "csv";
  EXPECT_FALSE(ip.checkSame(csv).isOk());
}

}  // namespace
}  // namespace riposte::ml

#include "riposte/ml/csv_dataset.h"

#include <gtest/gtest.h>

#include <set>

namespace riposte::ml {
namespace {

TEST(CsvDataset, NumericAndOneHotWithHeader) {
  const std::string text =
      "bytes,proto,dur,label\n"
      "10,tcp,1.5,normal\n"
      "20,udp,2,attack\n"
      "\n"
      "30,tcp,0,normal\n";
  CsvOptions o;
  o.label_column = "label";
  auto ds = parseCsv(text, "t.csv", o);
  ASSERT_TRUE(ds.isOk()) << ds.status().toString();
  EXPECT_EQ(ds->schema.features,
            (std::vector<std::string>{"bytes", "proto=tcp", "proto=udp", "dur"}));
  ASSERT_EQ(ds->rows(), 3u);
  EXPECT_EQ(ds->lines, (std::vector<uint64_t>{2, 3, 5}));
  EXPECT_EQ(ds->labels, (std::vector<int8_t>{0, 1, 0}));
  EXPECT_EQ(std::vector<float>(ds->row(1), ds->row(1) + 4), (std::vector<float>{20, 0, 1, 2}));

  // Encoding new rows with that schema: an unknown category sets nothing and is counted.
  auto again =
      parseCsv("bytes,proto,dur,label\n5,icmp,1,normal\n7,udp,1,x\n", "u.csv", o, &ds->schema);
  ASSERT_TRUE(again.isOk()) << again.status().toString();
  EXPECT_EQ(again->unknown_categories, 1u);
  EXPECT_EQ(std::vector<float>(again->row(0), again->row(0) + 4), (std::vector<float>{5, 0, 0, 1}));
  EXPECT_EQ(std::vector<float>(again->row(1), again->row(1) + 4), (std::vector<float>{7, 0, 1, 1}));
}

TEST(CsvDataset, NoHeaderColumnsByIndexAndDrop) {
  const std::string text = "0,tcp,5,normal,21\n1,udp,6,neptune,3\n";
  CsvOptions o;
  o.label_column = "3";
  o.drop = {"4"};
  auto ds = parseCsv(text, "kdd", o);
  ASSERT_TRUE(ds.isOk()) << ds.status().toString();
  EXPECT_EQ(ds->schema.features, (std::vector<std::string>{"c0", "c1=tcp", "c1=udp", "c2"}));
  EXPECT_EQ(ds->labels, (std::vector<int8_t>{0, 1}));
}

TEST(CsvDataset, ErrorsNameTheLine) {
  CsvOptions o;
  auto short_row = parseCsv("a,b\n1,2\n3\n", "f.csv", o);
  ASSERT_FALSE(short_row.isOk());
  EXPECT_NE(short_row.status().message().find("f.csv:3: expected 2 fields, found 1"),
            std::string::npos)
      << short_row.status().message();

  auto not_number = parseCsv("a,b\n1,2\n3,x\n", "f.csv", o);
  ASSERT_FALSE(not_number.isOk());
  EXPECT_NE(not_number.status().message().find("f.csv:3: column 'b': 'x' is not a finite number"),
            std::string::npos)
      << not_number.status().message();

  auto empty = parseCsv("a,b\n1,2\n4,\n", "f.csv", o);
  ASSERT_FALSE(empty.isOk());
  EXPECT_NE(empty.status().message().find("f.csv:3: column 'b': empty value"), std::string::npos)
      << empty.status().message();

  auto inf = parseCsv("a,b\n1,2\n\n1,inf\n", "f.csv", o);
  ASSERT_FALSE(inf.isOk());
  EXPECT_NE(inf.status().message().find("f.csv:4:"), std::string::npos) << inf.status().message();

  auto quote = parseCsv("a,b\n1,\"2\n", "f.csv", o);
  ASSERT_FALSE(quote.isOk());
  EXPECT_NE(quote.status().message().find("f.csv:2: unterminated quote"), std::string::npos);

  o.label_column = "nope";
  auto label = parseCsv("a,b\n1,2\n", "f.csv", o);
  ASSERT_FALSE(label.isOk());
  EXPECT_NE(label.status().message().find("no label column 'nope'"), std::string::npos);
}

TEST(CsvDataset, SchemaColumnMissingIsRefused) {
  CsvOptions o;
  auto ds = parseCsv("a,b\n1,2\n", "f.csv", o);
  ASSERT_TRUE(ds.isOk());
  auto other = parseCsv("a,c\n1,2\n", "g.csv", o, &ds->schema);
  ASSERT_FALSE(other.isOk());
  EXPECT_NE(other.status().message().find("column 'b' is not in the file"), std::string::npos);
}

TEST(CsvDataset, SplitIsDeterministicAndDisjoint) {
  std::string text = "v,label\n";
  for (int i = 0; i < 1000; ++i)
    text += std::to_string(i) + "," + (i % 7 ? "normal" : "bad") + "\n";
  CsvOptions o;
  o.label_column = "label";
  o.holdout = 0.3;
  o.split_seed = 11;
  o.part = CsvOptions::Part::kTrain;
  auto train = parseCsv(text, "s", o);
  o.part = CsvOptions::Part::kHeldOut;
  auto test = parseCsv(text, "s", o);
  ASSERT_TRUE(train.isOk() && test.isOk());
  EXPECT_EQ(train->rows() + test->rows(), 1000u);
  EXPECT_NEAR(static_cast<double>(test->rows()) / 1000, 0.3, 0.05);
  std::set<uint64_t> a(train->lines.begin(), train->lines.end());
  for (auto l : test->lines) EXPECT_EQ(a.count(l), 0u);
  o.part = CsvOptions::Part::kTrain;
  o.normal_only = true;
  auto normal = parseCsv(text, "s", o);
  ASSERT_TRUE(normal.isOk());
  for (auto y : normal->labels) EXPECT_EQ(y, 0);
  EXPECT_LT(normal->rows(), train->rows());
}

}  // namespace
}  // namespace riposte::ml

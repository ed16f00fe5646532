#include "riposte/intel/persistence.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "riposte/intel/builder.h"
#include "riposte/intel/feed.h"
#include "support/test_support.h"

namespace riposte::intel {
namespace {

const Timestamp kNow = *parseRfc3339("2026-01-10T00:00:00Z");

std::shared_ptr<const Snapshot> sample() {
  BuildOptions o;
  o.now = kNow;
  SnapshotBuilder b(o);
  auto add = [&](std::string_view raw, std::string source, uint8_t conf) -> Indicator& {
    static std::vector<Indicator> keep;
    auto v = classify(raw);
    Indicator i;
    i.type = v->type;
    i.value = v->value;
    i.source = std::move(source);
    i.confidence = conf;
    i.first_seen = kNow - std::chrono::hours(30);
    i.last_seen = kNow - std::chrono::hours(2);
    keep.push_back(i);
    return keep.back();
  };
  Indicator a = add("45.12.0.1", "feodo", 90);
  a.tags = {"Pikabot", "c2"};
  a.tlp = Tlp::kGreen;
  a.reference = "SBL1";
  a.valid_until = kNow + std::chrono::hours(48);
  b.add(a);
  b.add(add("45.12.0.1", "otx", 40));
  b.add(add("2a01:4f8::/32", "drop", 70));
  b.add(add("evil.example.net", "otx", 60));
  b.add(add("http://evil.example.net/x", "urlhaus", 60));
  b.add(add("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "misp", 100));
  b.add(add("bad@evil.example.net", "misp", 30));
  return b.build();
}

std::string describeAll(const Snapshot& s) {
  std::string out;
  for (const char* v :
       {"45.12.0.1", "2a01:4f8::5", "a.evil.example.net", "http://evil.example.net/x",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "bad@evil.example.net"}) {
    for (const auto& m : s.lookup(v)) {
      out += std::string(indicatorTypeName(m.type)) + " " + m.value +
             " score=" + std::to_string(m.score) +
             " until=" + std::to_string(m.valid_until.seconds()) + "\n";
      for (const auto& r : m.sources) {
        out += "  " + r.source + " c=" + std::to_string(r.confidence) +
               " fs=" + std::to_string(r.first_seen.seconds()) +
               " ls=" + std::to_string(r.last_seen.seconds()) +
               " vu=" + std::to_string(r.valid_until.seconds()) +
               " tlp=" + std::string(tlpName(r.tlp)) + " ref=" + r.reference +
               " tags=" + std::to_string(r.tags.size()) + "\n";
      }
    }
  }
  return out;
}

TEST(IntelPersistence, RoundTripThroughAFile) {
  riposte::testing::TempDir dir;
  const std::string path = (dir.path() / "intel.db").string();
  auto original = sample();
  const std::string before = describeAll(*original);
  ASSERT_NE(before.find("feodo c=90"), std::string::npos);
  {
    auto db = IntelDb::open(path);
    ASSERT_TRUE(db) << db.status().toString();
    ASSERT_TRUE(db->save(*original).isOk());
  }
  // A "restart": a new connection, a new builder, the same time.
  auto db = IntelDb::open(path);
  ASSERT_TRUE(db);
  auto loaded = db->load();
  ASSERT_TRUE(loaded) << loaded.status().toString();
  EXPECT_EQ(loaded->size(), 7u);  // rows are (indicator, source) pairs
  BuildOptions o;
  o.now = kNow;
  SnapshotBuilder b(o);
  b.add(*loaded);
  auto restored = b.build();
  EXPECT_EQ(restored->size(), original->size());
  EXPECT_EQ(describeAll(*restored), before);
  auto tags = restored->lookup("45.12.0.1").at(0);
  const auto& feodo = tags.sources[0].source == "feodo" ? tags.sources[0] : tags.sources[1];
  EXPECT_EQ(feodo.tags, (std::vector<std::string>{"Pikabot", "c2"}));

  // Saving again replaces the rows instead of adding to them.
  ASSERT_TRUE(db->save(*restored).isOk());
  EXPECT_EQ(db->load()->size(), 7u);
}

TEST(IntelPersistence, SharedConnectionAndBadRows) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  ASSERT_TRUE(saveSnapshot(db, *sample()).isOk());
  auto rows = loadIndicators(db);
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->size(), 7u);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE intel_indicators SET tags='{not json' WHERE source='feodo'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto bad = loadIndicators(db);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("45.12.0.1"), std::string::npos);
  ASSERT_EQ(
      sqlite3_exec(db, "UPDATE intel_indicators SET tags=NULL, type='ipv7' WHERE source='feodo'",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  bad = loadIndicators(db);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("ipv7"), std::string::npos);
  sqlite3_close(db);
}

TEST(IntelPersistence, OpenFailsWithAClearError) {
  auto db = IntelDb::open("/nonexistent-dir/x/intel.db");
  ASSERT_FALSE(db);
  EXPECT_NE(db.status().message().find("/nonexistent-dir/x/intel.db"), std::string::npos);
}

}  // namespace
}  // namespace riposte::intel

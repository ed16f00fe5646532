#include "riposte/ingest/dead_letter.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace riposte {
namespace {

namespace fs = std::filesystem;

TEST(DeadLetter, WritesSourceReasonAndTheRawLine) {
  testing::TempDir dir;
  const fs::path p = dir.path() / "dead.jsonl";
  auto dl = DeadLetter::open({p.string()});
  ASSERT_TRUE(dl.isOk()) << dl.status().toString();
  ASSERT_TRUE((*dl)->write("net", "192.0.2.1:514", 7, "unparsed by sshd",
                           std::string("bin\xff\xfe\x01 ary\"q", 12)));
  const auto lines = testing::readLines(p);
  ASSERT_EQ(lines.size(), 1u);
  const auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["source"], "net");
  EXPECT_EQ(j["origin"], "192.0.2.1:514");
  EXPECT_EQ(j["offset"], 7);
  EXPECT_EQ(j["reason"], "unparsed by sshd");
  EXPECT_EQ(j["bytes"], 12);
  // Invalid UTF-8 is replaced, control characters and quotes escaped: the file stays JSON.
  EXPECT_EQ(j["line"], "bin\xEF\xBF\xBD\xEF\xBF\xBD\x01 ary\"q");
  EXPECT_EQ((*dl)->stats().written, 1u);
}

TEST(DeadLetter, RotatesAndStaysBounded) {
  testing::TempDir dir;
  const fs::path p = dir.path() / "dead.jsonl";
  DeadLetterOptions o;
  o.path = p.string();
  o.max_bytes = 8192;
  o.keep = 2;
  o.per_second = 0;  // no rate limit
  auto dl = DeadLetter::open(o);
  ASSERT_TRUE(dl.isOk());
  const std::string line(500, 'x');
  for (int i = 0; i < 200; ++i) (*dl)->write("s", "f", static_cast<uint64_t>(i), "r", line);
  EXPECT_TRUE(fs::exists(p));
  EXPECT_TRUE(fs::exists(p.string() + ".1"));
  EXPECT_TRUE(fs::exists(p.string() + ".2"));
  EXPECT_FALSE(fs::exists(p.string() + ".3"));
  for (const auto& f : {p.string(), p.string() + ".1", p.string() + ".2"}) {
    EXPECT_LE(fs::file_size(f), 8192u) << f;
  }
  EXPECT_GT((*dl)->stats().rotations, 2u);
  // The newest entry is in the current file.
  const auto lines = testing::readLines(p);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(nlohmann::json::parse(lines.back())["offset"], 199);
}

TEST(DeadLetter, RateLimitCountsAndReportsWhatItLeftOut) {
  testing::TempDir dir;
  const fs::path p = dir.path() / "dead.jsonl";
  DeadLetterOptions o;
  o.path = p.string();
  o.per_second = 5;
  auto dl = DeadLetter::open(o);
  ASSERT_TRUE(dl.isOk());
  const Timestamp t0 = Timestamp::fromSeconds(1'700'000'000);
  int written = 0;
  for (int i = 0; i < 20; ++i) written += (*dl)->write("s", "f", 0, "r", "l", t0) ? 1 : 0;
  EXPECT_EQ(written, 5);
  EXPECT_EQ((*dl)->stats().suppressed, 15u);
  ASSERT_TRUE((*dl)->write("s", "f", 0, "r", "next", Timestamp::fromSeconds(1'700'000'001)));
  const auto lines = testing::readLines(p);
  ASSERT_EQ(lines.size(), 7u);  // 5, the note, the next line
  const auto note = nlohmann::json::parse(lines[5]);
  EXPECT_EQ(note["reason"], "rate limit");
  EXPECT_EQ(note["suppressed"], 15);
  EXPECT_EQ(nlohmann::json::parse(lines[6])["line"], "next");
}

TEST(DeadLetter, UnwritablePathIsAClearError) {
  auto dl = DeadLetter::open({"/nonexistent-dir/dead.jsonl"});
  ASSERT_FALSE(dl.isOk());
  EXPECT_NE(dl.status().message().find("/nonexistent-dir/dead.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace riposte

#include "riposte/ingest/file_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "riposte/ingest/line_splitter.h"
#include "riposte/store/sqlite_store.h"
#include "support/test_support.h"

namespace riposte {
namespace {

namespace fs = std::filesystem;

void append(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::app | std::ios::binary) << s;
}

std::vector<std::string> pollAll(FileSource& src) {
  std::vector<std::string> out;
  auto n = src.poll([&](const SourceLine& l) { out.emplace_back(l.text); }, 1'000'000);
  EXPECT_TRUE(n.isOk());
  return out;
}

TEST(LineSplitter, SplitsAcrossChunksWithOffsets) {
  LineSplitter s;
  std::vector<std::pair<std::string, uint64_t>> got;
  auto sink = [&](std::string_view l, uint64_t off, bool) {
    got.emplace_back(std::string(l), off);
  };
  s.feed("ab", sink);
  s.feed("c\r\nde", sink);
  s.feed("f\n\ng", sink);
  EXPECT_EQ(s.committedOffset(), 10u);  // "abc\r\n" + "def\n" + "\n"
  s.finish(sink);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], (std::pair<std::string, uint64_t>{"abc", 0}));
  EXPECT_EQ(got[1], (std::pair<std::string, uint64_t>{"def", 5}));
  EXPECT_EQ(got[2], (std::pair<std::string, uint64_t>{"", 9}));
  EXPECT_EQ(got[3], (std::pair<std::string, uint64_t>{"g", 10}));
}

TEST(LineSplitter, OverlongLinesAreCutNotBuffered) {
  LineSplitter s(16);
  std::vector<std::string> got;
  std::vector<bool> cut;
  auto sink = [&](std::string_view l, uint64_t, bool t) {
    got.emplace_back(l);
    cut.push_back(t);
  };
  s.feed(std::string(10, 'x'), sink);
  s.feed(std::string(100, 'y'), sink);
  s.feed("zz\nok\n", sink);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].size(), 16u);
  EXPECT_TRUE(cut[0]);
  EXPECT_EQ(got[1], "ok");
  EXPECT_EQ(s.truncatedLines(), 1u);
}

TEST(FileSource, FollowsAppendsRenameRotationAndCopytruncate) {
  testing::TempDir dir;
  const fs::path log = dir.path() / "auth.log";
  append(log, "old-1\nold-2\n");
  FileSource src({"auth", {log.string()}, /*from_beginning=*/false, nullptr});
  EXPECT_TRUE(pollAll(src).empty());  // start at end
  append(log, "a\nb");
  EXPECT_EQ(pollAll(src), (std::vector<std::string>{"a"}));
  append(log, "c\n");
  EXPECT_EQ(pollAll(src), (std::vector<std::string>{"bc"}));
  // rename rotation: lines written to the old file before the switch are not lost
  append(log, "d\n");
  fs::rename(log, dir.path() / "auth.log.1");
  append(dir.path() / "auth.log.1", "e\n");
  append(log, "f\n");
  EXPECT_EQ(pollAll(src), (std::vector<std::string>{"d", "e", "f"}));
  EXPECT_EQ(src.stats().rotations, 1u);
  // copytruncate
  append(log, "g\n");
  EXPECT_EQ(pollAll(src), (std::vector<std::string>{"g"}));
  fs::resize_file(log, 0);
  append(log, "h\n");
  EXPECT_EQ(pollAll(src), (std::vector<std::string>{"h"}));
  EXPECT_EQ(src.stats().truncations, 1u);
}

TEST(FileSource, GlobPicksUpNewFilesFromTheirStart) {
  testing::TempDir dir;
  append(dir.path() / "a.log", "a1\n");
  FileSource src({"web", {(dir.path() / "*.log").string()}, true, nullptr});
  EXPECT_EQ(pollAll(src), (std::vector<std::string>{"a1"}));
  append(dir.path() / "b.log", "b1\nb2\n");
  EXPECT_EQ(pollAll(src), (std::vector<std::string>{"b1", "b2"}));
}

TEST(FileSource, GlobWithStartAtEndSkipsExistingContentOnly) {
  testing::TempDir dir;
  fs::create_directories(dir.path() / "a");
  fs::create_directories(dir.path() / "b");
  append(dir.path() / "a" / "x.log", "old-a\n");
  append(dir.path() / "b" / "y.log", "old-b\n");
  append(dir.path() / "b" / "y.txt", "not matched\n");
  FileSource src(
      {"web", {(dir.path() / "*" / "*.log").string()}, /*from_beginning=*/false, nullptr});
  EXPECT_TRUE(pollAll(src).empty());
  append(dir.path() / "a" / "x.log", "new-a\n");
  append(dir.path() / "b" / "y.txt", "still not matched\n");
  EXPECT_EQ(pollAll(src), (std::vector<std::string>{"new-a"}));
  // A file that appears later is read from its start: nothing written to it is skipped.
  append(dir.path() / "b" / "z.log", "z1\nz2\n");
  EXPECT_EQ(pollAll(src), (std::vector<std::string>{"z1", "z2"}));
  EXPECT_EQ(src.stats().lines, 3u);
  EXPECT_TRUE(src.stats().last_seen.isSet());
}

TEST(FileSource, StartAtBeginningReadsEveryMatchingFile) {
  testing::TempDir dir;
  append(dir.path() / "1.log", "a\n");
  append(dir.path() / "2.log", "b\n");
  FileSource src({"web", {(dir.path() / "[12].log").string()}, true, nullptr});
  auto got = pollAll(src);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b"}));
}

TEST(FileSource, ReportsLagAndTruncatedLines) {
  testing::TempDir dir;
  const fs::path log = dir.path() / "big.log";
  std::string data;
  for (int i = 0; i < 50'000; ++i) data += "line " + std::to_string(i) + "\n";
  data += std::string(2 << 20, 'x') + "\nend\n";  // one line over the 1 MiB limit
  append(log, data);
  FileSource src({"big", {log.string()}, true, nullptr});
  std::vector<std::string> got;
  std::vector<bool> cut;
  auto n = src.poll(
      [&](const SourceLine& l) {
        got.emplace_back(l.text);
        cut.push_back(l.truncated);
        EXPECT_EQ(l.source, "big");
      },
      10);
  ASSERT_TRUE(n.isOk());
  EXPECT_GT(src.stats().lag_bytes, 0u);  // stopped early: the rest is behind
  EXPECT_LT(src.stats().lag_bytes, data.size());
  while (true) {
    auto m = src.poll(
        [&](const SourceLine& l) {
          got.emplace_back(l.text);
          cut.push_back(l.truncated);
        },
        100'000);
    ASSERT_TRUE(m.isOk());
    if (*m == 0) break;
  }
  EXPECT_EQ(src.stats().lag_bytes, 0u);
  ASSERT_EQ(got.size(), 50'002u);
  EXPECT_TRUE(cut[50'000]);
  EXPECT_EQ(got[50'000].size(), 1u << 20);
  EXPECT_EQ(got.back(), "end");
  EXPECT_EQ(src.stats().truncated, 1u);
}

TEST(FileSource, RestartResumesAtSavedOffsetWithoutLossOrRepeat) {
  testing::TempDir dir;
  const fs::path log = dir.path() / "auth.log";
  auto store = SqliteStore::open((dir.path() / "s.db").string());
  ASSERT_TRUE(store.isOk());
  append(log, "1\n2\n");
  {
    FileSource src({"auth", {log.string()}, true, store->get()});
    EXPECT_EQ(pollAll(src), (std::vector<std::string>{"1", "2"}));
    append(log, "3\npartial");
    EXPECT_EQ(pollAll(src), (std::vector<std::string>{"3"}));
  }  // stopped
  append(log, "-line\n4\n");
  FileSource again({"auth", {log.string()}, false, store->get()});
  EXPECT_EQ(pollAll(again), (std::vector<std::string>{"partial-line", "4"}));
}

TEST(FileSource, RotationWhileStoppedReadsTheNewFileWhole) {
  testing::TempDir dir;
  const fs::path log = dir.path() / "auth.log";
  auto store = SqliteStore::open(":memory:");
  ASSERT_TRUE(store.isOk());
  append(log, "1\n");
  {
    FileSource src({"auth", {log.string()}, true, store->get()});
    EXPECT_EQ(pollAll(src).size(), 1u);
  }
  fs::rename(log, dir.path() / "auth.log.1");
  append(log, "new-1\n");
  FileSource again({"auth", {log.string()}, false, store->get()});
  EXPECT_EQ(pollAll(again), (std::vector<std::string>{"new-1"}));
}

}  // namespace
}  // namespace riposte

#include "riposte/ingest/syslog_framing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace riposte {
namespace {

struct Got {
  std::string text;
  bool truncated;
  bool octet;
  bool operator==(const Got& o) const {
    return text == o.text && truncated == o.truncated && octet == o.octet;
  }
};

std::ostream& operator<<(std::ostream& os, const Got& g) {
  return os << "{" << g.text << "," << g.truncated << "," << g.octet << "}";
}

// Feeds `stream` in pieces of `step` bytes, draining after each, then finishes.
std::vector<Got> frame(const std::string& stream, size_t step, size_t max_line = 64 * 1024,
                       bool* error = nullptr) {
  SyslogFramer f(max_line);
  std::vector<Got> out;
  SyslogFramer::Frame m;
  for (size_t i = 0; i < stream.size(); i += step) {
    f.feed(std::string_view(stream).substr(i, step));
    for (;;) {
      const auto r = f.peek(m);
      if (r == SyslogFramer::Next::kError) {
        if (error != nullptr) *error = true;
        return out;
      }
      if (r != SyslogFramer::Next::kFrame) break;
      out.push_back({std::string(m.text), m.truncated, m.octet_counted});
      f.pop();
    }
  }
  while (f.finish(m)) {
    out.push_back({std::string(m.text), m.truncated, m.octet_counted});
    f.pop();
  }
  return out;
}

// The same result whatever the read boundaries are.
void expectAllSplits(const std::string& stream, const std::vector<Got>& want,
                     size_t max_line = 64 * 1024) {
  for (size_t step = 1; step <= stream.size(); ++step) {
    EXPECT_EQ(frame(stream, step, max_line), want) << "split every " << step << " bytes";
  }
}

TEST(SyslogFramer, NewlineFramingWithCrLfAndBlankLines) {
  expectAllSplits("<13>a b\n\n<14>c d\r\n<15>e\n",
                  {{"<13>a b", false, false}, {"<14>c d", false, false}, {"<15>e", false, false}});
}

TEST(SyslogFramer, OctetCountingKeepsEmbeddedNewlines) {
  expectAllSplits("7 <13>a\nb12 <14>hello wo",
                  {{"<13>a\nb", false, true}, {"<14>hello wo", false, true}});
}

TEST(SyslogFramer, BothFramingsMixedInOneStream) {
  expectAllSplits("9 <13>first<14>second line\n10 <15>third!\n<16>fourth\n",
                  {{"<13>first", false, true},
                   {"<14>second line", false, false},
                   {"<15>third!", false, true},
                   {"<16>fourth", false, false}});
}

TEST(SyslogFramer, DigitsWithoutASpaceAreNewlineFramed) {
  // An RFC 3339 timestamp without <PRI>, and a number too long to be a length.
  expectAllSplits(
      "2024-01-01T00:00:00Z host app: x\n123456789012 words\n",
      {{"2024-01-01T00:00:00Z host app: x", false, false}, {"123456789012 words", false, false}});
}

TEST(SyslogFramer, GarbagePrefixIsDeliveredAsItsOwnLine) {
  expectAllSplits(std::string("\x01\x02zz<13>x\n5 <14>y"),
                  {{std::string("\x01\x02zz<13>x", 9), false, false}, {"<14>y", false, true}});
}

TEST(SyslogFramer, OversizeMessagesAreCutAndTheirRestSkipped) {
  const std::string big(1000, 'x');
  expectAllSplits("1000 " + big + "6 <13>ok" + big + "\n<14>after\n",
                  {{std::string(300, 'x'), true, true},
                   {"<13>ok", false, true},
                   {std::string(300, 'x'), true, false},
                   {"<14>after", false, false}},
                  300);
}

TEST(SyslogFramer, HugeLengthPrefixIsAFramingError) {
  bool error = false;
  auto got = frame("5 <13>a9999999999 <14>b", 64, 1024, &error);
  EXPECT_TRUE(error);
  EXPECT_EQ(got, (std::vector<Got>{{"<13>a", false, true}}));
  SyslogFramer f;
  f.feed("4294967296 x");
  SyslogFramer::Frame m;
  EXPECT_EQ(f.peek(m), SyslogFramer::Next::kError);
  EXPECT_NE(f.error().find("exceeds"), std::string::npos) << f.error();
}

TEST(SyslogFramer, EndOfStreamDeliversThePartialMessage) {
  EXPECT_EQ(frame("<13>no newline", 3), (std::vector<Got>{{"<13>no newline", false, false}}));
  // An octet-counted message cut short by the end of the stream is delivered, marked truncated.
  EXPECT_EQ(frame("20 <13>short", 4), (std::vector<Got>{{"<13>short", true, true}}));
}

TEST(SyslogFramer, PeekWithoutPopKeepsTheMessage) {
  SyslogFramer f;
  f.feed("5 <13>a5 <14>b");
  SyslogFramer::Frame m;
  ASSERT_EQ(f.peek(m), SyslogFramer::Next::kFrame);
  EXPECT_EQ(m.text, "<13>a");
  ASSERT_EQ(f.peek(m), SyslogFramer::Next::kFrame);  // refused by a full queue: still there
  EXPECT_EQ(m.text, "<13>a");
  f.pop();
  f.feed("\n");  // appending may move the buffer; the next peek sees the next message
  ASSERT_EQ(f.peek(m), SyslogFramer::Next::kFrame);
  EXPECT_EQ(m.text, "<14>b");
  f.pop();
  EXPECT_EQ(f.peek(m), SyslogFramer::Next::kNeedMore);
  EXPECT_EQ(f.octetFrames(), 2u);
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(SyslogFramer, MemoryStaysBoundedOnAnEndlessLine) {
  SyslogFramer f(1024);
  SyslogFramer::Frame m;
  size_t frames = 0;
  const std::string chunk(4096, 'z');
  for (int i = 0; i < 1000; ++i) {
    f.feed(chunk);
    while (f.peek(m) == SyslogFramer::Next::kFrame) {
      ++frames;
      f.pop();
    }
    ASSERT_LE(f.buffered(), 1024u + chunk.size());
  }
  EXPECT_EQ(frames, 1u);
  EXPECT_EQ(f.truncatedFrames(), 1u);
}

}  // namespace
}  // namespace riposte

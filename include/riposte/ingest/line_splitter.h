// LineSplitter: turns a stream of byte chunks into lines with their byte offsets.
//
// Lines end at '\n' (a trailing '\r' is dropped). A line longer than the limit is cut at the
// limit, delivered once marked truncated, and the rest up to the next newline is skipped, so
// a 1 MB line never grows memory without bound.
//
// Thread safety: one instance per stream.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace riposte {

class LineSplitter {
 public:
  using Sink = std::function<void(std::string_view line, uint64_t offset, bool truncated)>;

  explicit LineSplitter(size_t max_line = 1 << 20) : max_line_(max_line) {}

  // Feeds bytes that follow the previous chunk; calls `sink` for each complete line.
  // Returns the number of lines delivered.
  size_t feed(std::string_view chunk, const Sink& sink);
  // Delivers a final line without a newline, if any.
  size_t finish(const Sink& sink);
  // Forgets buffered bytes and restarts counting at `offset`.
  void reset(uint64_t offset);

  // Offset just past the last complete line delivered (where a restart should resume).
  uint64_t committedOffset() const { return committed_; }
  uint64_t truncatedLines() const { return truncated_; }

 private:
  size_t max_line_;
  std::string partial_;
  uint64_t partial_start_ = 0;  // offset of partial_'s first byte
  uint64_t next_ = 0;           // offset of the next byte fed
  uint64_t committed_ = 0;
  bool skipping_ = false;  // inside the remainder of an over-long line
  uint64_t truncated_ = 0;
};

}  // namespace riposte

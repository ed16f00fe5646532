// SyslogFramer: splits a TCP syslog byte stream into messages (RFC 6587).
//
// Each message's framing is detected where it starts, so one connection may mix both:
//   octet counting  "LEN SP MSG"  (LEN: 1-9 then digits, at most kMaxLengthDigits digits)
//   newline framing "MSG LF"      (a trailing CR is dropped; empty lines are skipped)
// A message longer than `max_line` is cut at `max_line`, handed over once marked truncated, and
// the rest of it is skipped (never buffered). A length prefix above kMaxOctetFrame is a framing
// error: the stream cannot be resynchronised, so the caller closes the connection.
//
// Back-pressure: peek() shows the next complete message without consuming it; pop() consumes
// it. A caller whose queue is full simply stops popping (and reading); nothing is lost. The
// buffer holds at most one partial message (≤ max_line + prefix) plus the bytes of one feed.
//
// Thread safety: one instance per connection, used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace riposte {

class SyslogFramer {
 public:
  static constexpr size_t kMaxLengthDigits = 10;
  static constexpr uint64_t kMaxOctetFrame = 256ull << 20;  // 256 MiB

  struct Frame {
    std::string_view text;
    bool truncated = false;
    bool octet_counted = false;
  };
  enum class Next : uint8_t { kFrame, kNeedMore, kError };

  explicit SyslogFramer(size_t max_line = 64 * 1024) : max_line_(max_line) {}

  // Appends bytes read from the stream.
  void feed(std::string_view bytes);
  // The next complete message (valid until the next feed/pop/finish), kNeedMore, or kError
  // (see error()).
  Next peek(Frame& out);
  // Consumes the message last returned by peek().
  void pop();
  // End of stream: like peek(), but also returns the partial message left at the end (an
  // incomplete octet-counted message is marked truncated). Returns false when nothing is left.
  // Use as `while (f.finish(m)) { deliver(m); f.pop(); }`.
  bool finish(Frame& out);

  // Bytes buffered and not yet consumed (to bound reading).
  size_t buffered() const { return buf_.size() - pos_; }
  const std::string& error() const { return error_; }
  uint64_t octetFrames() const { return octet_frames_; }
  uint64_t newlineFrames() const { return newline_frames_; }
  uint64_t truncatedFrames() const { return truncated_; }
  size_t maxLine() const { return max_line_; }

 private:
  void compact();

  size_t max_line_;
  std::string buf_;
  size_t pos_ = 0;          // start of unconsumed bytes
  uint64_t skip_ = 0;       // octet bytes of a truncated message still to discard
  bool skip_line_ = false;  // discarding the rest of a truncated newline-framed message
  size_t pending_pop_ = 0;  // bytes pop() consumes (set by peek)
  uint64_t pending_skip_ = 0;
  bool pending_skip_line_ = false;
  bool pending_octet_ = false;
  bool pending_truncated_ = false;
  std::string error_;
  uint64_t octet_frames_ = 0;
  uint64_t newline_frames_ = 0;
  uint64_t truncated_ = 0;
};

}  // namespace riposte

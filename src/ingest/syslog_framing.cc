#include "riposte/ingest/syslog_framing.h"

#include <algorithm>
#include <cstring>

namespace riposte {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view chomp(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

void SyslogFramer::compact() {
  if (pos_ == 0) return;
  if (pos_ >= buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ >= 64 * 1024 || pos_ * 2 >= buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
}

void SyslogFramer::feed(std::string_view bytes) {
  // Bytes of a truncated message are discarded as they arrive, never buffered.
  if (buffered() == 0) {
    if (skip_ > 0) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(skip_, bytes.size()));
      skip_ -= n;
      bytes.remove_prefix(n);
    }
    if (skip_line_ && !bytes.empty()) {
      const void* nl = std::memchr(bytes.data(), '\n', bytes.size());
      if (nl == nullptr) return;
      bytes.remove_prefix(static_cast<size_t>(static_cast<const char*>(nl) - bytes.data()) + 1);
      skip_line_ = false;
    }
  }
  compact();
  buf_.append(bytes);
}

SyslogFramer::Next SyslogFramer::peek(Frame& out) {
  pending_pop_ = 0;
  pending_skip_ = 0;
  pending_skip_line_ = false;
  if (skip_ > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(skip_, buffered()));
    pos_ += n;
    skip_ -= n;
    if (skip_ > 0) {
      compact();
      return Next::kNeedMore;
    }
  }
  if (skip_line_) {
    const size_t nl = buf_.find('\n', pos_);
    if (nl == std::string::npos) {
      pos_ = buf_.size();
      compact();
      return Next::kNeedMore;
    }
    pos_ = nl + 1;
    skip_line_ = false;
  }
  while (pos_ < buf_.size() && (buf_[pos_] == '\n' || buf_[pos_] == '\r')) ++pos_;
  if (pos_ >= buf_.size()) {
    compact();
    return Next::kNeedMore;
  }
  const size_t size = buf_.size();
  const char c = buf_[pos_];
  if (c >= '1' && c <= '9') {
    size_t i = pos_;
    uint64_t len = 0;
    while (i < size && isDigit(buf_[i]) && i - pos_ <= kMaxLengthDigits) {
      len = len * 10 + static_cast<uint64_t>(buf_[i] - '0');
      ++i;
    }
    const size_t digits = i - pos_;
    if (i == size && digits <= kMaxLengthDigits) return Next::kNeedMore;
    if (digits <= kMaxLengthDigits && buf_[i] == ' ') {
      if (len > kMaxOctetFrame) {
        error_ = "octet-counted frame of " + std::to_string(len) + " bytes exceeds the " +
                 std::to_string(kMaxOctetFrame) + "-byte limit";
        return Next::kError;
      }
      const size_t body = i + 1;
      const size_t avail = size - body;
      const size_t want = static_cast<size_t>(std::min<uint64_t>(len, max_line_));
      if (avail < want) return Next::kNeedMore;
      out.octet_counted = true;
      out.truncated = len > max_line_;
      out.text = std::string_view(buf_).substr(body, want);
      if (!out.truncated) out.text = chomp(out.text);
      pending_pop_ = body + want - pos_;
      pending_skip_ = len - want;
      pending_octet_ = true;
      pending_truncated_ = out.truncated;
      return Next::kFrame;
    }
  }
  // Newline framing.
  const size_t limit = std::min(size, pos_ + max_line_ + 1);
  const void* nl = std::memchr(buf_.data() + pos_, '\n', limit - pos_);
  out.octet_counted = false;
  if (nl != nullptr) {
    const size_t end = static_cast<size_t>(static_cast<const char*>(nl) - buf_.data());
    out.text = chomp(std::string_view(buf_).substr(pos_, end - pos_));
    out.truncated = false;
    pending_pop_ = end + 1 - pos_;
  } else if (size - pos_ > max_line_) {
    out.text = std::string_view(buf_).substr(pos_, max_line_);
    out.truncated = true;
    pending_pop_ = max_line_;
    pending_skip_line_ = true;
  } else {
    return Next::kNeedMore;
  }
  pending_octet_ = false;
  pending_truncated_ = out.truncated;
  return Next::kFrame;
}

void SyslogFramer::pop() {
  if (pending_pop_ == 0) return;
  pos_ += pending_pop_;
  skip_ = pending_skip_;
  skip_line_ = pending_skip_line_;
  ++(pending_octet_ ? octet_frames_ : newline_frames_);
  truncated_ += pending_truncated_ ? 1 : 0;
  pending_pop_ = 0;
  pending_skip_ = 0;
  pending_skip_line_ = false;
  compact();
}

bool SyslogFramer::finish(Frame& out) {
  Next n = peek(out);
  if (n == Next::kFrame) return true;  // a complete message: the caller pops it as usual
  if (n == Next::kError) {
    buf_.clear();
    pos_ = 0;
    return false;
  }
  // Skip states were applied by peek(); what is left is one partial message.
  while (pos_ < buf_.size() && (buf_[pos_] == '\n' || buf_[pos_] == '\r')) ++pos_;
  if (pos_ >= buf_.size() || skip_ > 0 || skip_line_) {
    buf_.clear();
    pos_ = 0;
    return false;
  }
  size_t start = pos_;
  bool octet = false;
  size_t i = pos_;
  while (i < buf_.size() && isDigit(buf_[i]) && i - pos_ <= kMaxLengthDigits) ++i;
  if (buf_[pos_] != '0' && i > pos_ && i < buf_.size() && i - pos_ <= kMaxLengthDigits &&
      buf_[i] == ' ') {
    start = i + 1;  // an octet-counted message cut short by the end of the stream
    octet = true;
  }
  out.octet_counted = octet;
  out.text = std::string_view(buf_).substr(start, std::min(buf_.size() - start, max_line_));
  out.truncated = octet || buf_.size() - start > max_line_;
  if (!out.truncated) out.text = chomp(out.text);
  pending_pop_ = buf_.size() - pos_;
  pending_skip_ = 0;
  pending_skip_line_ = false;
  pending_octet_ = octet;
  pending_truncated_ = out.truncated;
  return true;
}

}  // namespace riposte

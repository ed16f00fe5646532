#include "riposte/ingest/line_splitter.h"

#include <cstring>

namespace riposte {

namespace {
std::string_view chomp(std::string_view s) {
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}
}  // namespace

size_t LineSplitter::feed(std::string_view chunk, const Sink& sink) {
  size_t n = 0;
  size_t pos = 0;
  while (pos < chunk.size()) {
    const void* nl = std::memchr(chunk.data() + pos, '\n', chunk.size() - pos);
    const size_t end = nl == nullptr
                           ? chunk.size()
                           : static_cast<size_t>(static_cast<const char*>(nl) - chunk.data());
    const std::string_view piece = chunk.substr(pos, end - pos);
    const uint64_t piece_off = next_ + pos;
    if (nl == nullptr) {
      // No newline: buffer (up to the limit).
      if (!skipping_) {
        if (partial_.empty()) partial_start_ = piece_off;
        const size_t room = max_line_ > partial_.size() ? max_line_ - partial_.size() : 0;
        partial_.append(piece.substr(0, room));
        if (piece.size() > room) {
          sink(partial_, partial_start_, true);
          ++n;
          ++truncated_;
          partial_.clear();
          skipping_ = true;
        }
      }
      pos = chunk.size();
      break;
    }
    if (skipping_) {
      skipping_ = false;
    } else if (partial_.empty()) {
      if (piece.size() > max_line_) {
        sink(piece.substr(0, max_line_), piece_off, true);
        ++truncated_;
      } else {
        sink(chomp(piece), piece_off, false);
      }
      ++n;
    } else {
      const size_t room = max_line_ > partial_.size() ? max_line_ - partial_.size() : 0;
      const bool cut = piece.size() > room;
      partial_.append(piece.substr(0, room));
      sink(cut ? std::string_view(partial_) : chomp(partial_), partial_start_, cut);
      truncated_ += cut ? 1 : 0;
      ++n;
      partial_.clear();
    }
    pos = end + 1;
    committed_ = next_ + pos;
  }
  next_ += chunk.size();
  return n;
}

size_t LineSplitter::finish(const Sink& sink) {
  if (partial_.empty() || skipping_) {
    skipping_ = false;
    partial_.clear();
    return 0;
  }
  sink(chomp(partial_), partial_start_, false);
  partial_.clear();
  committed_ = next_;
  return 1;
}

void LineSplitter::reset(uint64_t offset) {
  partial_.clear();
  skipping_ = false;
  next_ = offset;
  committed_ = offset;
}

}  // namespace riposte

// DeadLetter: where the lines the pipeline could not use go, so nothing is lost silently.
//
// One JSON object per line:
//   {"time":"…","source":"auth","origin":"/var/log/auth.log","offset":1234,
//    "reason":"unparsed by sshd","bytes":87,"line":"…"}
// `line` is the raw line (at most `max_entry_line` bytes of it; `bytes` is its full size;
// invalid UTF-8 is replaced by U+FFFD). The file is bounded: when it would exceed `max_bytes`
// it is rotated (PATH → PATH.1 → … → PATH.<keep>, the oldest removed). Writing is
// rate-limited to `per_second` entries; lines over the limit are counted, and the next entry
// written says how many were left out, so even suppression is visible in the file.
//
// Thread safety: all methods may be called from any thread (one internal mutex).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "riposte/core/status.h"
#include "riposte/core/time.h"

namespace riposte {

struct DeadLetterOptions {
  std::string path;
  uint64_t max_bytes = 16ull << 20;  // per file, before rotation
  uint32_t keep = 3;                 // rotated files kept beside the current one
  uint32_t per_second = 1000;        // entries written per second at most
  size_t max_entry_line = 16 * 1024;
};

struct DeadLetterStats {
  uint64_t written = 0;     // entries written
  uint64_t suppressed = 0;  // lines not written because of the rate limit
  uint64_t rotations = 0;
  uint64_t errors = 0;  // write/rotate failures
};

class DeadLetter {
 public:
  // Opens (creating) the file for appending; fails naming the path.
  static Result<std::unique_ptr<DeadLetter>> open(DeadLetterOptions options);
  ~DeadLetter();
  DeadLetter(const DeadLetter&) = delete;
  DeadLetter& operator=(const DeadLetter&) = delete;

  // Records one line with where it came from and why it is here. Returns false when the
  // rate limit left it out (counted).
  bool write(std::string_view source, std::string_view origin, uint64_t offset,
             std::string_view reason, std::string_view line, Timestamp now = Timestamp::now());

  DeadLetterStats stats() const;
  const std::string& path() const { return options_.path; }

 private:
  explicit DeadLetter(DeadLetterOptions options) : options_(std::move(options)) {}
  Status openFile();
  void rotate();
  void append(const std::string& entry);

  DeadLetterOptions options_;
  mutable std::mutex mu_;
  int fd_ = -1;
  uint64_t size_ = 0;
  int64_t window_second_ = -1;
  uint32_t window_count_ = 0;
  uint64_t window_suppressed_ = 0;  // suppressed in the previous window(s), not yet reported
  DeadLetterStats stats_;
};

}  // namespace riposte

// Source: where raw lines come from (tailed files, syslog, HTTP, stdin...).
//
// poll() hands over the lines available now and returns without blocking for long, so one
// loop can serve several sources and still stop promptly on a signal.
//
// Thread safety: a Source is polled by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "riposte/core/status.h"

namespace riposte {

struct SourceLine {
  std::string_view text;  // without the trailing newline; valid during the callback only
  std::string_view file;  // file the line came from (or the source name)
  uint64_t offset = 0;    // byte offset of the line's start
};

using LineSink = std::function<void(const SourceLine&)>;

struct SourceStats {
  uint64_t lines = 0;
  uint64_t bytes = 0;
  uint64_t rotations = 0;
  uint64_t truncations = 0;
  uint64_t errors = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  virtual std::string_view name() const = 0;
  // Reads what is available (at most `max_lines`), calling `sink` per line. Returns the number
  // of lines delivered.
  virtual Result<size_t> poll(const LineSink& sink, size_t max_lines) = 0;
  virtual const SourceStats& stats() const = 0;
};

using SourcePtr = std::unique_ptr<Source>;

}  // namespace riposte

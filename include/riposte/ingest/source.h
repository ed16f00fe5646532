// Source: where raw lines come from (tailed files, syslog, HTTP, stdin...).
//
// poll() hands over the lines available now and returns without blocking for long, so one
// loop can serve several sources and still stop promptly on a signal. A source fed by its own
// thread (syslog) offers waitFd(): readable when lines are waiting, so the loop can sleep on it.
//
// Thread safety: a Source is polled by one thread; stats() is called by that thread too (see
// SourceMetrics for publishing them to other threads).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "riposte/core/status.h"
#include "riposte/core/time.h"

namespace riposte {

struct SourceLine {
  std::string_view text;    // without the trailing newline; valid during the callback only
  std::string_view file;    // file the line came from (or the peer address for network sources)
  uint64_t offset = 0;      // byte offset of the line's start (message number for network sources)
  std::string_view source;  // the configured source name ("" when not known)
  bool truncated = false;   // longer than the source's line limit: `text` is its beginning
};

using LineSink = std::function<void(const SourceLine&)>;

// Per-source metrics. The source fills what it sees; the pipeline that parses the lines fills
// parsed/unparsed/skipped (serve does, per source). All counters count since start.
struct SourceStats {
  uint64_t lines = 0;        // lines (messages) handed to the pipeline
  uint64_t parsed = 0;       // of those, recognised by the parser (filled by the pipeline)
  uint64_t unparsed = 0;     // not recognised: counted and dead-lettered (filled by the pipeline)
  uint64_t skipped = 0;      // blank, or valid with nothing to analyse (filled by the pipeline)
  uint64_t dropped = 0;      // received but never handed over: UDP queue full or kernel buffer full
  uint64_t truncated = 0;    // longer than the line limit: cut, handed over marked truncated
  uint64_t bytes = 0;        // bytes read (files) or received (network, framing included)
  uint64_t rotations = 0;    // files: rotations by rename followed
  uint64_t truncations = 0;  // files: copytruncate (file shrank) followed
  uint64_t errors = 0;       // open/read/accept/framing/TLS errors
  uint64_t connections = 0;  // network: TCP connections open now
  uint64_t connections_total = 0;  // network: TCP connections accepted since start
  uint64_t queued = 0;             // network: messages received, waiting for poll()
  Timestamp last_seen;             // wall clock of the last line read or received (unset: none)
  uint64_t lag_bytes = 0;          // files: bytes written to the files and not read yet
  Duration lag{0};  // network: how long the last message handed over waited in the queue
};

class Source {
 public:
  virtual ~Source() = default;
  virtual std::string_view name() const = 0;
  // Reads what is available (at most `max_lines`), calling `sink` per line. Returns the number
  // of lines delivered.
  virtual Result<size_t> poll(const LineSink& sink, size_t max_lines) = 0;
  virtual const SourceStats& stats() const = 0;
  // A descriptor that becomes readable when lines are waiting (-1: poll on a timer instead).
  virtual int waitFd() const { return -1; }
};

using SourcePtr = std::unique_ptr<Source>;

}  // namespace riposte

#include "riposte/ingest/source_metrics.h"

#include <fmt/format.h>

namespace riposte {

std::string formatSourceStats(const SourceMetrics::Entry& e) {
  const SourceStats& s = e.stats;
  std::string out = fmt::format(
      "{} ({}, {}): {} lines, {} parsed, {} unparsed, {} skipped, {} dropped, {} truncated, "
      "{} bytes, {} errors",
      e.name, e.type, e.parser, s.lines, s.parsed, s.unparsed, s.skipped, s.dropped, s.truncated,
      s.bytes, s.errors);
  if (s.rotations + s.truncations > 0) {
    out += fmt::format(", {} rotations, {} truncations", s.rotations, s.truncations);
  }
  if (s.connections_total > 0) {
    out += fmt::format(", {} connections ({} open)", s.connections_total, s.connections);
  }
  if (s.queued > 0) out += fmt::format(", {} queued", s.queued);
  if (s.lag_bytes > 0) out += fmt::format(", {} bytes behind", s.lag_bytes);
  if (s.lag.count() > 0) out += ", lag " + formatDuration(s.lag);
  out += s.last_seen.isSet() ? ", last seen " + formatRfc3339Utc(s.last_seen) : ", nothing seen";
  return out;
}

}  // namespace riposte

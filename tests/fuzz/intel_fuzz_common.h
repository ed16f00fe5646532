// Shared driver for the threat-intel feed parser fuzz targets: parses the input as one feed
// document, touches every indicator (so AddressSanitizer sees views that outlive their buffers),
// and checks two properties that must hold for any input: every indicator's value is already
// normalised (normalising it again gives the same type and value), and the report's counts add
// up (never more indicators than items examined, for item-based formats).
//
// Thread safety: libFuzzer runs targets on one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "riposte/intel/feed.h"
#include "riposte/intel/indicator.h"

namespace riposte::fuzz {

[[noreturn]] inline void fail(const char* what, const intel::Indicator& i) {
  std::fprintf(stderr, "property violated: %s (type %d, value '%s')\n", what,
               static_cast<int>(i.type), i.value.c_str());
  std::abort();
}

inline void runFeed(intel::FeedFormat format, const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  intel::FeedOptions o;
  o.source = "fuzz";
  o.max_error_samples = 4;
  if (format == intel::FeedFormat::kCsv) o.column_index = 0;
  intel::ParseResult r = intel::parseFeed(format, in, o);
  volatile size_t sink = r.next_page.size();
  for (const auto& i : r.indicators) {
    sink = sink + i.value.size() + i.source.size() + i.reference.size();
    for (const auto& t : i.tags) sink = sink + t.size();
    auto again = intel::normalise(i.type, i.value);
    if (!again) fail("an indicator's value does not normalise", i);
    if (again->type != i.type || again->value != i.value) {
      fail("an indicator's value is not a fixed point of normalisation", i);
    }
    if (i.source != "fuzz") fail("an indicator lost its source", i);
  }
  for (const auto& s : r.report.samples) sink = sink + s.where.size() + s.reason.size();
  if (r.report.indicators != r.indicators.size()) {
    std::fprintf(stderr, "property violated: report counts %zu indicators, %zu returned\n",
                 r.report.indicators, r.indicators.size());
    std::abort();
  }
  (void)sink;
}

}  // namespace riposte::fuzz

// Shared driver for the parser fuzz targets: feeds the input line by line (so stateful parsers
// see header sequences) and whole, and touches every value of each parsed event so AddressSanitizer
// catches views that outlive their buffers.
//
// Thread safety: libFuzzer runs targets on one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "riposte/core/event.h"
#include "riposte/ingest/parser.h"

namespace riposte::fuzz {

inline void touch(const Event& ev) {
  volatile size_t sink = 0;
  for (size_t i = 0; i < kFieldCount; ++i) {
    for (char c : ev.get(static_cast<Field>(i))) sink = sink + static_cast<unsigned char>(c);
  }
  for (const auto& [k, v] : ev.extra()) sink = sink + k.size() + v.size();
  (void)sink;
  (void)ev.toJson();
}

inline void run(Parser& p, const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Event ev;
  ParseContext ctx;
  ctx.year = 2024;
  size_t start = 0;
  while (start <= in.size()) {
    size_t end = in.find('\n', start);
    if (end == std::string_view::npos) end = in.size();
    const std::string_view line = in.substr(start, end - start);
    ev.clear();
    ev.setRaw(line);
    if (p.parse(line, ctx, ev) == ParseResult::kParsed) touch(ev);
    start = end + 1;
  }
  ev.clear();
  ev.setRaw(in);
  if (p.parse(in, ctx, ev) == ParseResult::kParsed) touch(ev);
}

}  // namespace riposte::fuzz

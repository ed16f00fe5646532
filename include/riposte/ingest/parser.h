// Parser: turns one raw line into a normalised Event.
//
// A parser recognises its format, fills ECS fields and the event kind, and returns kParsed; a
// line of its format it does not understand is kUnrecognised (counted, not fatal); kSkip means
// the line is valid but carries nothing to analyse (e.g. another program's syslog line).
//
// Thread safety: a Parser instance is used by one thread at a time; create one per worker.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "riposte/core/event.h"

namespace riposte {

enum class ParseResult : uint8_t { kParsed, kSkip, kUnrecognised };

// Per-source context a parser may need.
struct ParseContext {
  std::optional<int> year;  // year for timestamps without one (syslog RFC 3164)
  Timestamp reference;      // "now" for year inference when no year is given
};

class Parser {
 public:
  virtual ~Parser() = default;
  virtual std::string_view name() const = 0;
  // `line` has no trailing newline. The event has been cleared; raw and origin are set.
  virtual ParseResult parse(std::string_view line, const ParseContext& ctx, Event& out) = 0;
};

using ParserPtr = std::unique_ptr<Parser>;

}  // namespace riposte

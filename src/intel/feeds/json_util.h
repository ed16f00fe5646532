// Helpers shared by the JSON feed parsers (OTX, MISP, STIX): typed, exception-free field access
// on simdjson DOM elements, tolerant of the numeric strings MISP writes, and recovery of the
// complete elements of an array from a damaged document.
//
// Thread safety: pure functions.
#pragma once

#include <simdjson.h>

#include "riposte/intel/feed.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace riposte::intel::feeds {

using simdjson::dom::element;

std::optional<element> field(element obj, std::string_view key);
std::optional<std::string_view> str(element obj, std::string_view key);
// A number, or a string holding one.
std::optional<int64_t> integer(element obj, std::string_view key);
// true/false, 0/1, "0"/"1", "true"/"false".
std::optional<bool> boolean(element obj, std::string_view key);
// Strings of an array field (non-strings ignored); empty when absent.
std::vector<std::string> strings(element obj, std::string_view key);

struct ArraySpan {
  std::string_view text;  // one element's JSON text
  size_t offset = 0;      // byte offset in the document
};

// The complete elements of the first array named `key` in a possibly truncated or damaged
// document, in order, stopping at the first element that does not close. `complete` tells
// whether the array itself closed.
std::vector<ArraySpan> recoverArray(std::string_view doc, std::string_view key, bool* complete);

// Parses `data` as one JSON document and calls on_doc with its root. When the document is not
// valid JSON, sets report.status (naming the format and the error) and calls on_item for every
// complete element of the first array among `keys` found in the damaged text, with its location
// ("objects[3] at byte 1234"); elements that do not parse, and the truncated tail, are counted
// as errors.
void parseJsonDocument(std::string_view data, std::string_view format,
                       const std::vector<std::string_view>& keys, ParseReport& report,
                       size_t max_samples, const std::function<void(element)>& on_doc,
                       const std::function<void(element, const std::string&)>& on_item);

// "…" around a value for messages, at most 80 characters.
std::string quoteForMessage(std::string_view s);

}  // namespace riposte::intel::feeds

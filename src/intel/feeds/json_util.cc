#include "intel/feeds/json_util.h"

#include <charconv>

namespace riposte::intel::feeds {

std::optional<element> field(element obj, std::string_view key) {
  if (!obj.is_object()) return std::nullopt;
  element v;
  if (obj.at_key(key).get(v) != simdjson::SUCCESS) return std::nullopt;
  if (v.is_null()) return std::nullopt;
  return v;
}

std::optional<std::string_view> str(element obj, std::string_view key) {
  auto f = field(obj, key);
  if (!f) return std::nullopt;
  std::string_view s;
  if (f->get(s) != simdjson::SUCCESS) return std::nullopt;
  return s;
}

std::optional<int64_t> integer(element obj, std::string_view key) {
  auto f = field(obj, key);
  if (!f) return std::nullopt;
  int64_t i = 0;
  if (f->get(i) == simdjson::SUCCESS) return i;
  uint64_t u = 0;
  if (f->get(u) == simdjson::SUCCESS) return static_cast<int64_t>(u);
  double d = 0;
  if (f->get(d) == simdjson::SUCCESS) {
    // A number written with a fraction or an exponent: taken when an int64 holds it (the
    // conversion of a larger one is undefined).
    constexpr double kLimit = 9223372036854775808.0;  // 2^63
    if (d >= -kLimit && d < kLimit) return static_cast<int64_t>(d);
    return std::nullopt;
  }
  std::string_view s;
  if (f->get(s) == simdjson::SUCCESS) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
    if (ec == std::errc() && ptr == s.data() + s.size()) return i;
  }
  return std::nullopt;
}

std::optional<bool> boolean(element obj, std::string_view key) {
  auto f = field(obj, key);
  if (!f) return std::nullopt;
  bool b = false;
  if (f->get(b) == simdjson::SUCCESS) return b;
  if (auto i = integer(obj, key)) return *i != 0;
  std::string_view s;
  if (f->get(s) == simdjson::SUCCESS) {
    if (s == "true" || s == "True") return true;
    if (s == "false" || s == "False") return false;
  }
  return std::nullopt;
}

std::vector<std::string> strings(element obj, std::string_view key) {
  std::vector<std::string> out;
  auto f = field(obj, key);
  if (!f || !f->is_array()) return out;
  simdjson::dom::array arr;
  if (f->get(arr) != simdjson::SUCCESS) return out;
  for (element e : arr) {
    std::string_view s;
    if (e.get(s) == simdjson::SUCCESS) out.emplace_back(s);
  }
  return out;
}

namespace {

// Skips one JSON value starting at doc[i] (after white space); returns the end offset, or npos
// when the value does not close before the end of the document.
size_t skipValue(std::string_view doc, size_t i) {
  int depth = 0;
  bool in_string = false;
  for (; i < doc.size(); ++i) {
    const char c = doc[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
        if (depth == 0) return i + 1;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '{':
      case '[': ++depth; break;
      case '}':
      case ']':
        if (depth == 0) return i;  // end of the enclosing container: a scalar ended here
        if (--depth == 0) return i + 1;
        break;
      case ',':
        if (depth == 0) return i;
        break;
      default: break;
    }
  }
  return std::string_view::npos;
}

size_t skipSpace(std::string_view doc, size_t i) {
  while (i < doc.size() && (doc[i] == ' ' || doc[i] == '\n' || doc[i] == '\r' || doc[i] == '\t'))
    ++i;
  return i;
}

}  // namespace

std::vector<ArraySpan> recoverArray(std::string_view doc, std::string_view key, bool* complete) {
  std::vector<ArraySpan> out;
  *complete = false;
  const std::string quoted = "\"" + std::string(key) + "\"";
  size_t pos = 0;
  size_t i = std::string_view::npos;
  while ((pos = doc.find(quoted, pos)) != std::string_view::npos) {
    size_t j = skipSpace(doc, pos + quoted.size());
    if (j < doc.size() && doc[j] == ':') {
      j = skipSpace(doc, j + 1);
      if (j < doc.size() && doc[j] == '[') {
        i = j + 1;
        break;
      }
    }
    pos += quoted.size();
  }
  if (i == std::string_view::npos) return out;
  for (;;) {
    i = skipSpace(doc, i);
    if (i >= doc.size()) return out;
    if (doc[i] == ']') {
      *complete = true;
      return out;
    }
    const size_t end = skipValue(doc, i);
    // No closing, or no progress (a stray ',' '}' or ']' where an element should start).
    if (end == std::string_view::npos || end == i) return out;
    out.push_back(ArraySpan{doc.substr(i, end - i), i});
    i = skipSpace(doc, end);
    if (i < doc.size() && doc[i] == ',') ++i;
  }
}

void parseJsonDocument(std::string_view data, std::string_view format,
                       const std::vector<std::string_view>& keys, ParseReport& report,
                       size_t max_samples, const std::function<void(element)>& on_doc,
                       const std::function<void(element, const std::string&)>& on_item) {
  simdjson::dom::parser parser;
  element doc;
  const auto err = parser.parse(data.data(), data.size()).get(doc);
  if (err == simdjson::SUCCESS) {
    on_doc(doc);
    return;
  }
  report.status = Status::parseError(std::string(format) + " document is not valid JSON (" +
                                     simdjson::error_message(err) +
                                     "); kept the complete items before the damage");
  for (std::string_view key : keys) {
    bool complete = false;
    const auto spans = recoverArray(data, key, &complete);
    if (spans.empty()) continue;
    simdjson::dom::parser item_parser;
    for (size_t i = 0; i < spans.size(); ++i) {
      const std::string where = std::string(key) + "[" + std::to_string(i) + "] at byte " +
                                std::to_string(spans[i].offset);
      element item;
      const auto e = item_parser.parse(spans[i].text.data(), spans[i].text.size()).get(item);
      if (e != simdjson::SUCCESS) {
        ++report.items;
        report.error(where, "bad JSON", simdjson::error_message(e), max_samples);
        continue;
      }
      on_item(item, where);
    }
    if (!complete) {
      const size_t at = spans.back().offset + spans.back().text.size();
      ++report.items;
      report.error(
          std::string(key) + "[" + std::to_string(spans.size()) + "] at byte " + std::to_string(at),
          "truncated", "the document ends inside this element", max_samples);
    }
    return;
  }
  report.error("document", "bad JSON", simdjson::error_message(err), max_samples);
}

std::string quoteForMessage(std::string_view s) {
  if (s.size() > 80) return "'" + std::string(s.substr(0, 77)) + "...'";
  return "'" + std::string(s) + "'";
}

}  // namespace riposte::intel::feeds

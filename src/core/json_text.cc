#include "riposte/core/json_text.h"

#include <cstdint>

namespace riposte {

namespace {

bool plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

// The valid range of the byte after lead byte `c` (Unicode 15, table 3-7), and the sequence's
// length; length 0 for a byte that cannot start a sequence.
struct Lead {
  size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
};

Lead leadOf(unsigned char c) {
  if (c >= 0xC2 && c <= 0xDF) return {2};
  if (c == 0xE0) return {3, 0xA0, 0xBF};
  if (c == 0xED) return {3, 0x80, 0x9F};
  if (c >= 0xE1 && c <= 0xEF) return {3};
  if (c == 0xF0) return {4, 0x90, 0xBF};
  if (c >= 0xF1 && c <= 0xF3) return {4};
  if (c == 0xF4) return {4, 0x80, 0x8F};
  return {};
}

}  // namespace

void appendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (plain(c)) {
      size_t j = i + 1;
      while (j < s.size() && plain(static_cast<unsigned char>(s[j]))) ++j;
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
      }
      ++i;
      continue;
    }
    // A multi-byte sequence, copied when well-formed. Otherwise one U+FFFD stands for the
    // bytes read up to the first that does not fit, and that byte is read again on its own.
    const Lead lead = leadOf(c);
    size_t k = 1;
    while (k < lead.len && i + k < s.size()) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      const unsigned char lo = k == 1 ? lead.lo : 0x80;
      const unsigned char hi = k == 1 ? lead.hi : 0xBF;
      if (b < lo || b > hi) break;
      ++k;
    }
    if (lead.len > 0 && k == lead.len) {
      out.append(s.data() + i, k);
    } else {
      out += "\xEF\xBF\xBD";
    }
    i += k;
  }
  out += '"';
}

}  // namespace riposte

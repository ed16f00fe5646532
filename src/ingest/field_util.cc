#include "ingest/field_util.h"

#include <arpa/inet.h>

#include <cstring>

namespace riposte::ingest {

namespace {

// Dotted-quad IPv4 exactly as inet_pton(AF_INET) accepts it: four decimal parts of 0-255, no
// leading zero, nothing else. Without the copy to a C string and the call, on the hot path.
bool isIpv4(std::string_view s) {
  if (s.size() < 7 || s.size() > 15) return false;
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
    const size_t start = i;
    unsigned v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
      v = v * 10 + static_cast<unsigned>(s[i] - '0');
      ++i;
    }
    const size_t n = i - start;
    if (n == 0 || v > 255 || (n > 1 && s[start] == '0')) return false;
  }
  return i == s.size();
}

}  // namespace

bool setIp(Event& ev, Field f, std::string_view text) {
  if (isIpv4(text)) {
    ev.set(f, text);
    return true;
  }
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  unsigned char bytes[16];
  if (inet_pton(AF_INET, buf, bytes) == 1) {
    ev.set(f, text);
    return true;
  }
  if (inet_pton(AF_INET6, buf, bytes) != 1) return false;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char out[INET6_ADDRSTRLEN];
  if (std::memcmp(bytes, kMapped, 12) == 0) {
    inet_ntop(AF_INET, bytes + 12, out, sizeof out);
  } else {
    inet_ntop(AF_INET6, bytes, out, sizeof out);
  }
  if (text == out) {
    ev.set(f, text);
  } else {
    ev.setOwned(f, out);
  }
  return true;
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace riposte::ingest

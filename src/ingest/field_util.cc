#include "ingest/field_util.h"

#include <arpa/inet.h>

#include <cstring>

#include "riposte/core/ip.h"

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
  const auto ip = IpAddress::parse(text);
  if (!ip) return false;
  char out[IpAddress::kMaxText];
  const std::string_view canonical(out, ip->format(out));
  if (text == canonical) {
    ev.set(f, text);
  } else {
    ev.setOwned(f, canonical);
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

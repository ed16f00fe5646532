#include "ingest/field_util.h"

#include <arpa/inet.h>

#include <cstring>

namespace riposte::ingest {

bool setIp(Event& ev, Field f, std::string_view text) {
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

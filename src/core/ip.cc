#include "riposte/core/ip.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace riposte {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (inet_pton(AF_INET, buf, ip.bytes.data()) == 1) return ip;
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) == 1) {
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(ip.bytes.data(), kMapped, 12) == 0) {
      IpAddress v4;
      std::memcpy(v4.bytes.data(), ip.bytes.data() + 12, 4);
      return v4;
    }
    ip.v6 = true;
    return ip;
  }
  return std::nullopt;
}

namespace {

char* formatV4(const uint8_t* b, char* p) {
  for (int i = 0; i < 4; ++i) {
    if (i != 0) *p++ = '.';
    const unsigned v = b[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
  }
  return p;
}

}  // namespace

size_t IpAddress::format(char (&out)[kMaxText]) const {
  char* p = out;
  if (!v6) return static_cast<size_t>(formatV4(bytes.data(), p) - out);
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned words[8];
  for (int i = 0; i < 8; ++i) words[i] = unsigned{bytes[2 * i]} << 8 | bytes[2 * i + 1];
  // The longest run of two or more zero words (the first of equal ones) becomes "::".
  int best = -1;
  int best_len = 0;
  for (int i = 0; i < 8;) {
    if (words[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && words[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = -1;
  for (int i = 0; i < 8; ++i) {
    if (best >= 0 && i >= best && i < best + best_len) {
      if (i == best) *p++ = ':';
      continue;
    }
    if (i != 0) *p++ = ':';
    // IPv4-compatible and IPv4-mapped forms end in dotted quad, as inet_ntop prints them.
    if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) {
      p = formatV4(bytes.data() + 12, p);
      return static_cast<size_t>(p - out);
    }
    const unsigned w = words[i];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned d = (w >> shift) & 15;
      if (d != 0 || started || shift == 0) {
        *p++ = kHex[d];
        started = true;
      }
    }
  }
  if (best >= 0 && best + best_len == 8) *p++ = ':';
  return static_cast<size_t>(p - out);
}

std::string IpAddress::toString() const {
  char buf[kMaxText];
  return std::string(buf, format(buf));
}

std::optional<std::string> canonicalIp(std::string_view text) {
  auto ip = IpAddress::parse(text);
  if (!ip) return std::nullopt;
  return ip->toString();
}

Result<Cidr> Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  auto ip = IpAddress::parse(text.substr(0, slash));
  if (!ip)
    return Status::invalidArgument("'" + std::string(text) + "' is not an IP address or CIDR");
  const int max = ip->v6 ? 128 : 32;
  int prefix = max;
  if (slash != std::string_view::npos) {
    const auto p = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (ec != std::errc() || ptr != p.data() + p.size() || prefix < 0 || prefix > max) {
      return Status::invalidArgument("'" + std::string(text) + "' has a bad prefix length");
    }
  }
  Cidr c{*ip, static_cast<uint8_t>(prefix)};
  const int nbytes = ip->v6 ? 16 : 4;
  for (int i = 0; i < nbytes; ++i) {
    const int bits = prefix - i * 8;
    if (bits >= 8) continue;
    c.base.bytes[static_cast<size_t>(i)] &=
        bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
  }
  return c;
}

bool Cidr::contains(const IpAddress& ip) const {
  if (ip.v6 != base.v6) return false;
  int bits = prefix;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((ip.bytes[i] & mask) != base.bytes[i]) return false;
  }
  return true;
}

std::string Cidr::toString() const { return base.toString() + "/" + std::to_string(prefix); }

Status CidrList::add(std::string_view text) {
  auto c = Cidr::parse(text);
  if (!c) return c.status();
  ranges_.push_back(*c);
  return Status::ok();
}

bool CidrList::contains(const IpAddress& ip) const {
  for (const auto& r : ranges_) {
    if (r.contains(ip)) return true;
  }
  return false;
}

bool CidrList::contains(std::string_view ip_text) const {
  auto ip = IpAddress::parse(ip_text);
  return ip && contains(*ip);
}

}  // namespace riposte

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

std::string IpAddress::toString() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
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

// IP addresses and CIDR ranges: parsing, canonical text, containment.
//
// Canonical text is what inet_ntop prints (IPv6 compressed, lower-case); IPv4-mapped IPv6
// addresses (::ffff:192.0.2.1) are folded to IPv4. A CIDR has its host bits cleared.
//
// Thread safety: value types and pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/core/status.h"

namespace riposte {

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 uses the first 4

  static std::optional<IpAddress> parse(std::string_view text);
  std::string toString() const;
  // Writes the canonical text (exactly inet_ntop's, without its formatted printing) into `out`
  // and returns its length.
  static constexpr size_t kMaxText = 46;
  size_t format(char (&out)[kMaxText]) const;
  uint32_t v4() const {
    return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
           bytes[3];
  }
  bool operator==(const IpAddress&) const = default;
};

struct Cidr {
  IpAddress base;
  uint8_t prefix = 0;

  // "192.0.2.0/24", "2001:db8::/32", or a bare address (a /32 or /128).
  static Result<Cidr> parse(std::string_view text);
  bool contains(const IpAddress& ip) const;
  std::string toString() const;
};

// Canonical text of an address, or nullopt when `text` is not one.
std::optional<std::string> canonicalIp(std::string_view text);

// A set of ranges checked linearly; for allowlists of modest size.
class CidrList {
 public:
  Status add(std::string_view text);
  void add(const Cidr& c) { ranges_.push_back(c); }
  bool contains(const IpAddress& ip) const;
  bool contains(std::string_view ip_text) const;
  size_t size() const { return ranges_.size(); }
  const std::vector<Cidr>& ranges() const { return ranges_; }

 private:
  std::vector<Cidr> ranges_;
};

}  // namespace riposte

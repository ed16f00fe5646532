// KnownGood: values an indicator must never name, checked when a snapshot is built.
//
// Built-in ranges (each can be allowed explicitly): private networks (RFC 1918, fc00::/7),
// loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16, fe80::/10), documentation
// (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), and the unspecified
// "this network" range (0.0.0.0/8, ::/128), plus configured CIDRs and domains. A CIDR indicator is
// rejected when it overlaps a protected range either way (10.0.0.0/8 and 0.0.0.0/0 both are); a
// domain when it equals, lies under or contains a configured domain; a URL by its host.
//
// Thread safety: immutable after create(); check() may be called from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/core/ip.h"
#include "riposte/core/status.h"
#include "riposte/intel/indicator.h"

namespace riposte::intel {

struct KnownGoodOptions {
  bool allow_private = false;
  bool allow_loopback = false;
  bool allow_link_local = false;
  bool allow_documentation = false;
  std::vector<std::string> cidrs;    // own networks, partners, resolvers…
  std::vector<std::string> domains;  // own and well-known good domains (subdomains included)
};

class KnownGood {
 public:
  KnownGood();  // built-in ranges only
  // Errors name the configured CIDR or domain that does not parse.
  static Result<KnownGood> create(const KnownGoodOptions& options);

  // The reason ("private", "loopback", "link-local", "documentation", "unspecified",
  // "configured-cidr", "configured-domain") when the value must be rejected, else nullopt.
  // `value` must be normalised for `type`.
  std::optional<std::string_view> check(IndicatorType type, std::string_view value) const;
  std::optional<std::string_view> checkCidr(const Cidr& cidr) const;
  std::optional<std::string_view> checkDomain(std::string_view domain) const;

 private:
  struct Range {
    Cidr cidr;
    std::string_view reason;
  };
  explicit KnownGood(const KnownGoodOptions& options);

  std::vector<Range> ranges_;
  std::vector<std::string> domains_;
};

}  // namespace riposte::intel

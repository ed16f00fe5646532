#include "riposte/intel/known_good.h"

namespace riposte::intel {
namespace {

bool overlaps(const Cidr& a, const Cidr& b) {
  if (a.base.v6 != b.base.v6) return false;
  return a.contains(b.base) || b.contains(a.base);
}

// True when `d` equals `g` or is a subdomain of it.
bool underDomain(std::string_view d, std::string_view g) {
  if (d.size() < g.size() || !d.ends_with(g)) return false;
  return d.size() == g.size() || d[d.size() - g.size() - 1] == '.';
}

}  // namespace

KnownGood::KnownGood() : KnownGood(KnownGoodOptions{}) {}

KnownGood::KnownGood(const KnownGoodOptions& o) {
  auto add = [this](std::string_view text, std::string_view reason) {
    ranges_.push_back({*Cidr::parse(text), reason});
  };
  add("0.0.0.0/8", "unspecified");
  add("::/128", "unspecified");
  if (!o.allow_private) {
    add("10.0.0.0/8", "private");
    add("172.16.0.0/12", "private");
    add("192.168.0.0/16", "private");
    add("fc00::/7", "private");
  }
  if (!o.allow_loopback) {
    add("127.0.0.0/8", "loopback");
    add("::1/128", "loopback");
  }
  if (!o.allow_link_local) {
    add("169.254.0.0/16", "link-local");
    add("fe80::/10", "link-local");
  }
  if (!o.allow_documentation) {
    add("192.0.2.0/24", "documentation");
    add("198.51.100.0/24", "documentation");
    add("203.0.113.0/24", "documentation");
    add("2001:db8::/32", "documentation");
  }
}

Result<KnownGood> KnownGood::create(const KnownGoodOptions& options) {
  KnownGood kg(options);
  for (const auto& c : options.cidrs) {
    auto cidr = Cidr::parse(c);
    if (!cidr) return cidr.status().withContext("known-good cidrs");
    kg.ranges_.push_back({*cidr, "configured-cidr"});
  }
  for (const auto& d : options.domains) {
    auto norm = normaliseDomain(d);
    if (!norm) return Status::invalidArgument("known-good domains: '" + d + "' is not a domain");
    kg.domains_.push_back(std::move(*norm));
  }
  return kg;
}

std::optional<std::string_view> KnownGood::checkCidr(const Cidr& cidr) const {
  for (const auto& r : ranges_) {
    if (overlaps(r.cidr, cidr)) return r.reason;
  }
  return std::nullopt;
}

std::optional<std::string_view> KnownGood::checkDomain(std::string_view domain) const {
  for (const auto& g : domains_) {
    if (underDomain(domain, g) || underDomain(g, domain)) return "configured-domain";
  }
  return std::nullopt;
}

std::optional<std::string_view> KnownGood::check(IndicatorType type, std::string_view value) const {
  if (isIpType(type)) {
    auto c = Cidr::parse(value);
    if (!c) return std::nullopt;
    return checkCidr(*c);
  }
  if (type == IndicatorType::kDomain) return checkDomain(value);
  if (type == IndicatorType::kUrl) {
    // scheme://[userinfo@]host[:port]/…, already normalised.
    const size_t start = value.find("://");
    if (start == std::string_view::npos) return std::nullopt;
    std::string_view rest = value.substr(start + 3);
    rest = rest.substr(0, rest.find('/'));
    if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
    std::string_view host = rest;
    if (!host.empty() && host.front() == '[') {
      host = host.substr(1, host.find(']') - 1);
    } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
      host = host.substr(0, colon);
    }
    if (auto ip = Cidr::parse(host)) return checkCidr(*ip);
    return checkDomain(host);
  }
  return std::nullopt;
}

}  // namespace riposte::intel

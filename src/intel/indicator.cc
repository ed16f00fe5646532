#include "riposte/intel/indicator.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "riposte/core/ip.h"

namespace riposte::intel {
namespace {

constexpr std::array<std::string_view, kIndicatorTypeCount> kTypeNames = {
    "ipv4", "ipv6", "cidr4", "cidr6", "domain", "url", "md5", "sha1", "sha256", "email"};

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') s.remove_suffix(1);
  return s;
}

bool isHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool allHex(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), isHex); }

bool looksLikeIp(std::string_view s) {
  // An IP or CIDR is digits, dots, colons, hex letters, '/', and at least one '.' or ':'.
  if (s.empty()) return false;
  bool sep = false;
  for (char c : s) {
    if (c == '.' || c == ':') {
      sep = true;
    } else if (!(isHex(c) || c == '/')) {
      return false;
    }
  }
  if (!sep) return false;
  // "dead.beef" is a domain, not an address: IPv4 needs digits only.
  if (s.find(':') == std::string_view::npos) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || c == '.' || c == '/'; });
  }
  return true;
}

Result<NormalisedValue> normaliseIp(std::string_view raw) {
  auto cidr = Cidr::parse(raw);
  if (!cidr)
    return Status::invalidArgument("'" + std::string(raw) + "' is not an IP address or CIDR");
  const bool v6 = cidr->base.v6;
  // IPv4-mapped IPv6 CIDRs (::ffff:a.b.c.d/n) were folded to v4 by IpAddress::parse with the
  // v6 prefix length; bring the prefix back into the v4 range.
  if (!v6 && raw.find(':') != std::string_view::npos && cidr->prefix > 32) {
    if (cidr->prefix < 96) {
      return Status::invalidArgument("'" + std::string(raw) +
                                     "' mixes IPv4-mapped and short prefix");
    }
    auto again = Cidr::parse(cidr->base.toString() + "/" + std::to_string(cidr->prefix - 96));
    if (!again) return again.status();
    cidr = std::move(again);
  }
  const int max = v6 ? 128 : 32;
  if (cidr->prefix == max) {
    return NormalisedValue{v6 ? IndicatorType::kIpv6 : IndicatorType::kIpv4, cidr->base.toString()};
  }
  return NormalisedValue{v6 ? IndicatorType::kCidr6 : IndicatorType::kCidr4, cidr->toString()};
}

bool validDomainChars(std::string_view s) {
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

uint16_t defaultPort(std::string_view scheme) {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  if (scheme == "ftp") return 21;
  return 0;
}

}  // namespace

std::string_view indicatorTypeName(IndicatorType type) {
  const auto i = static_cast<size_t>(type);
  return i < kTypeNames.size() ? kTypeNames[i] : "unknown";
}

std::optional<IndicatorType> indicatorTypeFromName(std::string_view name) {
  for (size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<IndicatorType>(i);
  }
  return std::nullopt;
}

bool isIpType(IndicatorType t) {
  return t == IndicatorType::kIpv4 || t == IndicatorType::kIpv6 || t == IndicatorType::kCidr4 ||
         t == IndicatorType::kCidr6;
}

bool isHashType(IndicatorType t) { return hashLength(t) != 0; }

size_t hashLength(IndicatorType t) {
  switch (t) {
    case IndicatorType::kMd5: return 16;
    case IndicatorType::kSha1: return 20;
    case IndicatorType::kSha256: return 32;
    default: return 0;
  }
}

std::string_view tlpName(Tlp tlp) {
  switch (tlp) {
    case Tlp::kClear: return "clear";
    case Tlp::kGreen: return "green";
    case Tlp::kAmber: return "amber";
    case Tlp::kAmberStrict: return "amber+strict";
    case Tlp::kRed: return "red";
    case Tlp::kUnknown: break;
  }
  return "";
}

Tlp tlpFromName(std::string_view name) {
  std::string n = toLower(trim(name));
  if (n.rfind("tlp:", 0) == 0) n.erase(0, 4);
  if (n == "white" || n == "clear") return Tlp::kClear;
  if (n == "green") return Tlp::kGreen;
  if (n == "amber") return Tlp::kAmber;
  if (n == "amber+strict") return Tlp::kAmberStrict;
  if (n == "red") return Tlp::kRed;
  return Tlp::kUnknown;
}

std::optional<std::string> normaliseDomain(std::string_view raw) {
  std::string d = toLower(trim(raw));
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty() || d.size() > 253 || !validDomainChars(d)) return std::nullopt;
  if (d.front() == '.' || d.find("..") != std::string::npos) return std::nullopt;
  const size_t last_dot = d.rfind('.');
  if (last_dot == std::string::npos) return std::nullopt;  // a bare TLD/label would match too much
  size_t start = 0;
  while (start <= d.size()) {
    size_t end = d.find('.', start);
    if (end == std::string::npos) end = d.size();
    if (end - start > 63) return std::nullopt;
    start = end + 1;
  }
  const std::string_view tld = std::string_view(d).substr(last_dot + 1);
  if (std::all_of(tld.begin(), tld.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;  // "1.2.3.999": a broken address, not a domain
  }
  return d;
}

std::optional<std::string> normaliseUrl(std::string_view raw) {
  std::string_view s = trim(raw);
  if (s.empty()) return std::nullopt;
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return std::nullopt;
  }
  std::string scheme = "http";
  const size_t sep = s.find("://");
  if (sep != std::string_view::npos) {
    const std::string_view sch = s.substr(0, sep);
    if (sch.empty() || !std::isalpha(static_cast<unsigned char>(sch[0]))) return std::nullopt;
    for (char c : sch) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
        return std::nullopt;
      }
    }
    scheme = toLower(sch);
    s.remove_prefix(sep + 3);
  }
  const size_t auth_end = s.find_first_of("/?#");
  std::string_view authority = s.substr(0, auth_end);
  std::string_view rest =
      auth_end == std::string_view::npos ? std::string_view{} : s.substr(auth_end);
  std::string userinfo;
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    userinfo = std::string(authority.substr(0, at + 1));
    authority.remove_prefix(at + 1);
  }
  std::string host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    auto ip = canonicalIp(authority.substr(1, close - 1));
    if (!ip) return std::nullopt;
    host = ip->find(':') != std::string::npos ? "[" + *ip + "]" : *ip;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    std::string_view h = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    host = toLower(h);
    if (!host.empty() && host.back() == '.') host.pop_back();
    // A colon left in an unbracketed host ("a::80") or an empty label ("..", "a..b", ".a") is
    // no host: refusing them keeps the normalised form a fixed point (normalising it again
    // changes nothing).
    if (host.empty() || host.find(':') != std::string::npos || host.front() == '.' ||
        host.back() == '.' || host.find("..") != std::string::npos) {
      return std::nullopt;
    }
    if (auto ip = canonicalIp(host)) host = *ip;
  }
  if (!port.empty()) {
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p > 65535) return std::nullopt;
    if (p != defaultPort(scheme)) host += ":" + std::to_string(p);
  }
  if (const size_t hash = rest.find('#'); hash != std::string_view::npos)
    rest = rest.substr(0, hash);
  std::string out;
  out.reserve(scheme.size() + 3 + userinfo.size() + host.size() + rest.size() + 1);
  out += scheme;
  out += "://";
  out += userinfo;
  out += host;
  if (rest.empty() || rest.front() != '/') out += '/';
  out += rest;
  return out;
}

std::optional<std::string> normaliseEmail(std::string_view raw) {
  std::string_view s = trim(raw);
  if (s.size() >= 7 && toLower(s.substr(0, 7)) == "mailto:") s.remove_prefix(7);
  const size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  const std::string_view local = s.substr(0, at);
  for (char c : local) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '@' || c == '<' || c == '>')
      return std::nullopt;
  }
  auto domain = normaliseDomain(s.substr(at + 1));
  if (!domain) return std::nullopt;
  return toLower(local) + "@" + *domain;
}

std::optional<std::string> normaliseHash(std::string_view raw, size_t digest_bytes) {
  std::string_view s = trim(raw);
  if (s.size() != digest_bytes * 2 || !allHex(s)) return std::nullopt;
  return toLower(s);
}

Result<NormalisedValue> normalise(IndicatorType type, std::string_view raw) {
  const std::string_view s = trim(raw);
  auto bad = [&](std::string_view what) {
    return Status::invalidArgument("'" + std::string(s.substr(0, 200)) + "' is not " +
                                   std::string(what));
  };
  if (isIpType(type)) return normaliseIp(s);
  switch (type) {
    case IndicatorType::kDomain: {
      auto d = normaliseDomain(s);
      if (!d) return bad("a domain name");
      return NormalisedValue{type, std::move(*d)};
    }
    case IndicatorType::kUrl: {
      auto u = normaliseUrl(s);
      if (!u) return bad("a URL");
      return NormalisedValue{type, std::move(*u)};
    }
    case IndicatorType::kEmail: {
      auto e = normaliseEmail(s);
      if (!e) return bad("an e-mail address");
      return NormalisedValue{type, std::move(*e)};
    }
    case IndicatorType::kMd5:
    case IndicatorType::kSha1:
    case IndicatorType::kSha256: {
      auto h = normaliseHash(s, hashLength(type));
      if (!h) return bad("a hex " + std::string(indicatorTypeName(type)) + " digest");
      return NormalisedValue{type, std::move(*h)};
    }
    default: break;
  }
  return bad("a supported indicator");
}

Result<NormalisedValue> classify(std::string_view raw) {
  const std::string_view s = trim(raw);
  if (s.empty()) return Status::invalidArgument("empty indicator value");
  if (looksLikeIp(s)) return normaliseIp(s);
  if (s.find("://") != std::string_view::npos) return normalise(IndicatorType::kUrl, s);
  if (s.find('@') != std::string_view::npos && s.find('/') == std::string_view::npos) {
    return normalise(IndicatorType::kEmail, s);
  }
  if (allHex(s)) {
    switch (s.size()) {
      case 32: return normalise(IndicatorType::kMd5, s);
      case 40: return normalise(IndicatorType::kSha1, s);
      case 64: return normalise(IndicatorType::kSha256, s);
      default: break;
    }
  }
  if (s.find('/') != std::string_view::npos) return normalise(IndicatorType::kUrl, s);
  if (auto d = normaliseDomain(s)) return NormalisedValue{IndicatorType::kDomain, std::move(*d)};
  return Status::invalidArgument("'" + std::string(s.substr(0, 200)) +
                                 "' is not an IP, CIDR, domain, URL, hash or e-mail address");
}

std::optional<Timestamp> parseFeedTime(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty()) return std::nullopt;
  if (std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (s.size() > 12) return std::nullopt;
    int64_t secs = 0;
    std::from_chars(s.data(), s.data() + s.size(), secs);
    return Timestamp::fromSeconds(secs);
  }
  if (s.size() > 4 && (s.ends_with(" UTC") || s.ends_with(" GMT"))) s.remove_suffix(4);
  if (s.size() == 10) {
    return parseRfc3339(std::string(s) + "T00:00:00Z");
  }
  return parseRfc3339(s);
}

}  // namespace riposte::intel

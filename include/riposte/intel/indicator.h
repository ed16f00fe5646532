// Indicator: one piece of threat intelligence (an IP, CIDR, domain, URL, file hash or e-mail
// address) as reported by one source, with its normalised value and validity.
//
// Values are normalised so that the same observable written differently by two feeds is one
// indicator: domains lower-case without a trailing dot; IPv6 in canonical compressed form
// (riposte::canonicalIp); CIDRs with their host bits cleared (a /32 or /128 is a plain address);
// hashes lower-case hex; URLs with a lower-case scheme and host, no default port, no fragment and
// "/" for an empty path; e-mail addresses lower-case.
//
// Thread safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/core/time.h"

namespace riposte::intel {

enum class IndicatorType : uint8_t {
  kIpv4 = 0,
  kIpv6,
  kCidr4,
  kCidr6,
  kDomain,
  kUrl,
  kMd5,
  kSha1,
  kSha256,
  kEmail,
};
inline constexpr size_t kIndicatorTypeCount = 10;

// "ipv4", "ipv6", "cidr4", "cidr6", "domain", "url", "md5", "sha1", "sha256", "email".
std::string_view indicatorTypeName(IndicatorType type);
std::optional<IndicatorType> indicatorTypeFromName(std::string_view name);
bool isIpType(IndicatorType type);    // ipv4, ipv6, cidr4, cidr6
bool isHashType(IndicatorType type);  // md5, sha1, sha256
// Digest length in bytes of a hash type (16, 20, 32), 0 for other types.
size_t hashLength(IndicatorType type);

// Traffic Light Protocol marking (TLP 2.0 names; TLP 1.0 "white" reads as clear).
enum class Tlp : uint8_t { kUnknown = 0, kClear, kGreen, kAmber, kAmberStrict, kRed };
std::string_view tlpName(Tlp tlp);  // "", "clear", "green", "amber", "amber+strict", "red"
// Accepts "white", "TLP:GREEN", "tlp:amber+strict"…; kUnknown when not a TLP name.
Tlp tlpFromName(std::string_view name);

struct Indicator {
  IndicatorType type = IndicatorType::kIpv4;
  std::string value;                  // normalised (see above)
  std::string source;                 // feed name, e.g. "otx", "spamhaus-drop"
  std::optional<uint8_t> confidence;  // 0-100; unset when the feed gives none
  Timestamp first_seen;               // unset (0) when unknown
  Timestamp last_seen;
  Timestamp valid_from;   // STIX valid_from; unset when the feed gives none
  Timestamp valid_until;  // unset = no expiry
  std::vector<std::string> tags;
  Tlp tlp = Tlp::kUnknown;
  std::string reference;  // pulse id, MISP event uuid, STIX id, list entry id
  bool revoked = false;
};

struct NormalisedValue {
  IndicatorType type;
  std::string value;
  bool operator==(const NormalisedValue&) const = default;
};

// Normalises `raw` as a value of `type`. For the IP family the result type follows the value:
// a feed "IPv4" field that holds "198.51.100.0/24" becomes kCidr4, a "/32" becomes kIpv4.
// Errors name the value and what is wrong with it.
Result<NormalisedValue> normalise(IndicatorType type, std::string_view raw);

// Guesses the type of a raw value (IP, CIDR, hash by length, e-mail, URL with a scheme,
// domain) and normalises it. Surrounding white space is ignored.
Result<NormalisedValue> classify(std::string_view raw);

// Individual normalisers, exposed for parsers and lookups; nullopt when the value is invalid.
std::optional<std::string> normaliseDomain(std::string_view raw);
std::optional<std::string> normaliseUrl(std::string_view raw);
std::optional<std::string> normaliseEmail(std::string_view raw);
std::optional<std::string> normaliseHash(std::string_view raw, size_t digest_bytes);

// Parses the time formats feeds use: RFC 3339, naive ISO 8601 (OTX, read as UTC),
// "YYYY-MM-DD HH:MM:SS[ UTC]" (abuse.ch), "YYYY-MM-DD", and epoch seconds (MISP).
std::optional<Timestamp> parseFeedTime(std::string_view text);

}  // namespace riposte::intel

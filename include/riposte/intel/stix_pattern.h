// STIX 2.1 patterns → the indicator values a single-event matcher can check.
//
// Supported: comparison tests `=`/`==`, `IN (…)`, `ISSUBSET 'cidr'`, `LIKE` (exact, or
// '%.domain' for a domain and its subdomains), `MATCHES` (only a fully anchored literal regex such
// as '^evil\.com$'), on ipv4-addr:value, ipv6-addr:value, domain-name:value, url:value,
// email-addr:value and file:hashes.{MD5,SHA-1,SHA-256} (hash names upper-cased, '-' and quotes
// dropped, as the reference validator does); `AND` and `OR` inside one observation and `OR`
// between observations; parentheses; comments.
//
// Semantics: the result is the set of values whose presence in an event counts as a hit.
// `OR` gives the union (parts that are unsupported are dropped and `partial` is set). `AND` inside
// one observation gives the union of its supported tests and sets `broadened` (e.g. a URL test
// AND a destination-port test keeps only the URL). Unsupported, with a reason: NOT, `!=`,
// ordering operators, EXISTS, ISSUPERSET, other paths, LIKE/MATCHES beyond the forms above,
// observation-level AND / FOLLOWEDBY and qualifiers (WITHIN, REPEATS, START/STOP), which need
// correlation windows.
//
// Thread safety: pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/intel/indicator.h"

namespace riposte::intel {

struct PatternValues {
  std::vector<NormalisedValue> values;
  bool broadened = false;   // an AND was widened to the union of its supported tests
  bool partial = false;     // some OR branches were unsupported and dropped
  std::string unsupported;  // why no value could be extracted (values empty)
};

// A syntax error is a parse-error Status naming the offset; an unsupported but well-formed
// pattern is a value with no values and `unsupported` set.
Result<PatternValues> extractStixPattern(std::string_view pattern);

}  // namespace riposte::intel

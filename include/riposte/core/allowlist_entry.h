// Allowlist entry syntax, shared by the configuration check and the allowlist itself.
//
// An entry is one of
//   203.0.113.0/24, 198.51.100.7, 2001:db8::/48   an address or CIDR range (any spelling)
//   user:NAME                                     a user target (exact, case-sensitive)
//   host:NAME                                     a host target by name only (case-insensitive)
//   backup.example.com                            a host name: matches host targets of that name
//                                                 and, once resolved, its addresses
// A host name is RFC 1123 syntax (labels of letters, digits, '-' and '_', 1–63 characters, at
// most 253 in all) whose last label is not all digits, so a mistyped address is never taken
// for a name.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "riposte/core/ip.h"
#include "riposte/core/status.h"

namespace riposte {

enum class AllowlistEntryKind { kRange, kUser, kHost, kName };

struct AllowlistEntry {
  AllowlistEntryKind kind = AllowlistEntryKind::kRange;
  Cidr range;        // kRange
  std::string name;  // kUser (as written), kHost and kName (lower-case)
};

Result<AllowlistEntry> parseAllowlistEntry(std::string_view text);

}  // namespace riposte

// Target: what a finding is about and what a decision acts on (an address, a range, a user...).
//
// Thread safety: value type.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace riposte {

enum class TargetType { kIp, kCidr, kUser, kHost };

std::string_view targetTypeName(TargetType t);
std::optional<TargetType> targetTypeFromName(std::string_view name);

struct Target {
  TargetType type = TargetType::kIp;
  std::string value;  // canonical form (IPv6 compressed, CIDR with host bits cleared)

  bool operator==(const Target&) const = default;
};

}  // namespace riposte

#include "riposte/core/allowlist_entry.h"

#include <algorithm>
#include <cctype>

namespace riposte {
namespace {

bool isHostName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  if (s.back() == '.') s.remove_suffix(1);  // a fully qualified spelling
  bool last_all_digits = true;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('.', start);
    if (end == std::string_view::npos) end = s.size();
    const std::string_view label = s.substr(start, end - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    last_all_digits = true;
    for (char ch : label) {
      const auto c = static_cast<unsigned char>(ch);
      if (!std::isalnum(c) && c != '-' && c != '_') return false;
      if (!std::isdigit(c)) last_all_digits = false;
    }
    start = end + 1;
  }
  return !last_all_digits;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

}  // namespace

Result<AllowlistEntry> parseAllowlistEntry(std::string_view text) {
  AllowlistEntry e;
  auto named = [&](std::string_view prefix, AllowlistEntryKind kind) -> Result<AllowlistEntry> {
    const std::string_view name = text.substr(prefix.size());
    const bool blank =
        std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isspace(c) != 0; });
    if (name.empty() || blank) {
      return Status::invalidArgument("'" + std::string(text) + "' names no " +
                                     std::string(prefix.substr(0, prefix.size() - 1)));
    }
    e.kind = kind;
    e.name = kind == AllowlistEntryKind::kUser ? std::string(name) : lower(name);
    return e;
  };
  if (text.starts_with("user:")) return named("user:", AllowlistEntryKind::kUser);
  if (text.starts_with("host:")) return named("host:", AllowlistEntryKind::kHost);
  if (auto c = Cidr::parse(text); c.isOk()) {
    e.kind = AllowlistEntryKind::kRange;
    e.range = *c;
    return e;
  }
  if (isHostName(text)) {
    e.kind = AllowlistEntryKind::kName;
    e.name = lower(text);
    return e;
  }
  return Status::invalidArgument("'" + std::string(text) +
                                 "' is not an IP address, CIDR range, user:NAME, host:NAME or "
                                 "host name");
}

}  // namespace riposte

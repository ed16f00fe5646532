// Format auto-detection for `riposte replay` without `--type`: which registered parser reads a
// sample of a file best.
//
// Every registered parser is built (with an empty configuration) and fed the sample in order
// (so header-driven formats such as Zeek TSV work). The winner accepts (parses or skips) the
// most lines, then parses the most, then is the more specific format (eve, zeek, sshd,
// iptables, nginx/apache); between nginx and apache, apache when the sample holds Apache
// error-log lines. Generic "json" wins only when it parses more lines than any specific format
// accepts. No format is returned when nothing parsed.
//
// Thread safety: pure function of its inputs; builds its own parser instances.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/core/registry.h"

namespace riposte {

struct DetectedFormat {
  std::string parser;  // registered parser name
  size_t parsed = 0;   // sample lines it parsed
  size_t skipped = 0;  // sample lines it skipped as valid but empty of events
  size_t sampled = 0;  // non-empty sample lines
};

std::optional<DetectedFormat> detectFormat(const Registries& registries,
                                           const std::vector<std::string_view>& sample);

}  // namespace riposte

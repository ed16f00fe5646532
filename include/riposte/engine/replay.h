// Replay: runs the pipeline over files (plain or gzip, "-" for standard input) as fast as it
// can, using each line's own timestamp for windows.
//
// Thread safety: runs on the calling thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "riposte/core/registry.h"
#include "riposte/engine/engine.h"

namespace riposte {

struct ReplayOptions {
  std::vector<std::string> files;
  std::string type;         // parser name; empty = detect per file
  std::optional<int> year;  // year for syslog lines without one
};

struct ReplaySummary {
  EngineStats stats;
  uint64_t bytes = 0;
  uint64_t truncated_lines = 0;
  double seconds = 0;
  std::vector<std::pair<std::string, std::string>> parser_per_file;
};

Result<ReplaySummary> replay(Engine& engine, const Registries& registries,
                             const ReplayOptions& options);

// Picks the parser that recognises most of the sample lines; an error when none does.
Result<std::string> detectParser(const Registries& registries,
                                 const std::vector<std::string>& sample, const ParseContext& ctx);

}  // namespace riposte

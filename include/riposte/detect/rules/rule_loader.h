// RuleLoader: reads rule files (YAML) and compiles them into a RuleSet, like a compiler:
// every error and warning carries the file, line, column and a stable code. A file with an
// error is rejected whole; the other files still load, so one bad file never empties a ruleset.
//
// Stable codes: R000 YAML syntax, R001 unknown key, R002 unknown field (warning: extra field),
// R003 unknown operator, R004 bad regular expression, R005 bad value, R006 unknown list,
// R007 cyclic list reference, R008 duplicate rule id, R009 missing key, R010 unreadable file,
// R011 unknown field transformation,
// W001 rule applies to every event kind.
//
// Thread safety: stateless functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/detect/rules/rule.h"

namespace riposte::rules {

struct RuleDiagnostic {
  enum class Severity { kError, kWarning };
  Severity severity = Severity::kError;
  std::string code;
  std::string file;
  int line = 0;
  int column = 0;
  std::string rule;  // rule id when known
  std::string message;

  std::string toString() const;  // "file:line:col: error R004 [rule]: message"
};

// What happened to the Sigma rules of a load (riposte rules lint prints it).
struct SigmaCoverage {
  size_t rules = 0;            // Sigma rule and correlation documents seen
  size_t loaded = 0;           // compiled into Riposte rules
  size_t referenced_only = 0;  // loaded as part of a correlation only (generate: false)
  // code -> feature ("modifier utf16le", "field cs-cookie", ...) -> rules skipped
  std::map<std::string, std::map<std::string, size_t>> skipped;
  size_t skippedCount() const;
};

struct LoadResult {
  std::vector<Rule> rules;
  SigmaCoverage sigma;
  std::vector<RuleDiagnostic> diagnostics;
  std::vector<std::string> files_loaded;
  std::vector<std::string> files_rejected;

  bool hasErrors() const;
  size_t errorCount() const;
  std::string toJson() const;
};

struct SigmaOptions;

// Loads every path: a file, a directory (its *.yaml and *.yml files, sorted, subdirectories
// included except those named `tests` or `data`), or a glob. Files holding Sigma documents
// (a map with `detection` or `correlation`) are read as Sigma (see sigma.h).
LoadResult loadRuleFiles(const std::vector<std::string>& paths,
                         const SigmaOptions* sigma = nullptr);
// Loads rules from YAML text (tests, API); `file` names it in diagnostics.
LoadResult loadRuleText(const std::string& text, const std::string& file,
                        const SigmaOptions* sigma = nullptr);

}  // namespace riposte::rules

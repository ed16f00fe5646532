// Rule tests: a directory of cases, each an input log and the findings the rules must produce
// (like CrowdSec's hub tests), run by `riposte rules test DIR`.
//
// A case is a directory holding `test.yaml` and its log file(s):
//
//   rules: [../../ssh.yaml]   # rule files or directories, relative to the case directory
//                             # (default: the ruleset that holds the tests directory, DIR/..)
//   type: sshd                # parser (default: detected from the log's first lines)
//   year: 2024                # year for syslog lines without one
//   input: [auth.log]         # log files (default: every *.log file of the case directory)
//   only: [ssh-bruteforce]    # compare only these rules' findings (default: all of them)
//   findings:                 # the exact set of (rule, target) findings expected
//     - {rule: ssh-bruteforce, target: 198.51.100.7}
//     - {rule: ssh-bruteforce, target: 198.51.100.8, count: 2}   # exactly 2 findings
//   intel:                    # indicators for the rules' intel predicates (default: none)
//     - {value: 198.51.100.7, confidence: 90, source: feodo, tags: [c2]}   # or just a value
//
// Thread safety: stateless functions.
#pragma once

#include <string>
#include <vector>

#include "riposte/core/registry.h"

namespace riposte::rules {

struct RuleTestResult {
  std::string name;  // the case directory's name
  bool passed = false;
  size_t lines = 0;
  size_t findings = 0;
  std::vector<std::string> problems;  // missing / unexpected findings, load errors
};

// Runs every case under `dir` (each subdirectory with a test.yaml, sorted by name; `dir`
// itself when it holds a test.yaml). `rules_override` replaces every case's `rules`.
std::vector<RuleTestResult> runRuleTests(const std::string& dir, const Registries& registries,
                                         const std::vector<std::string>& rules_override = {});

}  // namespace riposte::rules

// Sigma: loads Sigma rules (specification 2.x) and correlation rules into Riposte rules.
//
// A Sigma rule's detection (named selections, value modifiers, wildcards, the condition
// expression) is compiled into the same Condition tree as Riposte's own rules; its logsource
// decides the event kinds (and, where needed, a filter on event.dataset) and the table that
// maps its field names to Riposte's ECS fields. Correlation rules become count / distinct
// aggregations or sequences (see docs/rules.md, "Sigma").
//
// A rule using a feature Riposte does not support (a modifier, an unmapped field, a logsource
// without a parser) is skipped with a warning carrying a stable code; errors (a broken
// condition, a reference to an unknown rule) reject the file like any rule file.
//
// Stable codes: S001 unsupported modifier, S002 unmapped field, S003 unsupported logsource,
// S004 condition syntax error, S005 unknown search identifier, S006 undefined placeholder,
// S007 unsupported correlation feature, S008 unknown rule in a correlation, S009 unsupported
// detection feature.
//
// Thread safety: stateless functions.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/detect/rules/condition.h"
#include "riposte/detect/rules/rule_loader.h"

namespace YAML {
class Node;
}

namespace riposte::rules {

struct SigmaOptions {
  // Field mapping overrides, applied to every logsource: Sigma field name -> Riposte field
  // (an ECS name, optionally with transformations, e.g. "url.original|extension").
  std::map<std::string, std::string> fields;
  // Values of placeholders for the `expand` modifier: name without '%' -> values.
  std::map<std::string, std::vector<std::string>> placeholders;
  std::string action = "alert";  // the action of every Sigma rule
  // Logsources without a mapping are read as generic JSON events: every field by its Sigma
  // name (an extra field of the JSON parser) and every event kind. Off by default.
  bool passthrough = false;
};

// Reads the `sigma:` map of a rules detector (action, fields, placeholders, passthrough); an
// error names the key.
Result<SigmaOptions> sigmaOptionsFromYaml(const YAML::Node& node);

// Rules a correlation can refer to (by Sigma id or name): those of its own file and of files
// loaded before it in the same load.
struct SigmaContext {
  struct Ref {
    std::string rule_id;  // the Riposte rule id
    bool correlation = false;
    std::string correlation_type;                   // event_count, value_count, temporal...
    Condition condition = Condition::alwaysTrue();  // a base rule's (or any referenced)
    std::vector<EventKind> kinds;
    int table = -1;          // field mapping table of the (first) logsource
    uint32_t count = 1;      // event_count: events needed
    Duration window{0};      // event_count: timespan
    bool chainable = false;  // usable as a step of a temporal correlation
  };
  std::map<std::string, Ref> refs;
  std::set<std::string> ids;  // Riposte rule ids loaded so far
};

// True when the YAML text looks like a Sigma document (a map with `detection` or
// `correlation`); cheap, used to route files in loadRuleFiles.
bool looksLikeSigma(std::string_view text);

// Compiles the Sigma documents of one file (YAML, possibly several documents) into `out`
// (rules, diagnostics, coverage). `ids` holds rule ids already loaded (duplicates are R008).
void loadSigmaText(const std::string& text, const std::string& file, const SigmaOptions& options,
                   LoadResult& out, SigmaContext& context);

// Parses a Sigma condition expression over named selections into a Condition. On a syntax
// error, returns an error naming the column (1-based) and sets `*error_column`.
Result<Condition> parseSigmaCondition(std::string_view expression,
                                      const std::vector<std::pair<std::string, Condition>>& ids,
                                      size_t* error_column = nullptr);

// One row of the logsource mapping table (for documentation and tests).
struct SigmaLogsourceInfo {
  std::string logsource;  // e.g. "category: webserver"
  std::string kinds;      // e.g. "http"
  std::string filter;     // e.g. "event.dataset startswith nginx."
};
std::vector<SigmaLogsourceInfo> sigmaLogsourceTable();

}  // namespace riposte::rules

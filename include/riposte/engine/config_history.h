// Config history: every load of the rule set (start, reload through the API or SIGHUP) and of
// the configuration file is kept in the store (Store::saveConfigHistory) — who, when, which
// files, a SHA-256 over their names and contents, and, when the content differs from the
// previous load of the same kind, the text and a unified diff against that load.
//
// Thread safety: free functions; the Store serialises its own access.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "riposte/core/config.h"
#include "riposte/core/status.h"
#include "riposte/store/config_history_store.h"
#include "riposte/store/store.h"

namespace riposte {

// One file as loaded: its name and text ("" and `error` set when it could not be read).
struct HistoryFile {
  std::string name;
  std::string text;
};

// Reads the files (an unreadable one keeps its name with the reason as its text).
std::vector<HistoryFile> readHistoryFiles(const std::vector<std::string>& paths);

// Hex SHA-256 over the files' length-prefixed names and texts, in the given order.
std::string historyHash(const std::vector<HistoryFile>& files);

// The files' text as stored: each after a "=== <name>" line.
std::string historyContent(const std::vector<HistoryFile>& files);
// The inverse of historyContent.
std::vector<HistoryFile> parseHistoryContent(const std::string& content);

// The configuration's text without its secrets: the value of a key whose name looks secret
// (password, secret, token, api_key, hmac, ...) unless it is a ${VAR} reference, the password
// of a URL (scheme://user:pass@host) and of a libpq "password=..." become <redacted>.
std::string redactSecrets(const std::string& yaml);

// Unified diff (3 lines of context) of two versions of a set of files: per file, "--- a/name",
// "+++ b/name" and its hunks; a file only on one side is diffed against nothing. "" when equal.
std::string unifiedDiff(const std::vector<HistoryFile>& before,
                        const std::vector<HistoryFile>& after);

// Records one load of `kind` ("rules" | "config") by `actor` (a configuration is stored
// through redactSecrets). failedPrecondition when the store keeps no history. The record is
// compared with the newest of its kind in the store: same hash — stored as unchanged, without text;
// otherwise with the text and the diff against the newest record that holds text. `out` (optional)
// receives what was stored.
Status recordLoad(Store& store, const std::string& kind, const std::string& actor,
                  const std::vector<std::string>& paths, const std::string& summary,
                  ConfigHistoryRecord* out = nullptr);

// The rule files of every `rules` detector in the configuration (sorted, each once).
std::vector<std::string> ruleFiles(const Config& config);

// Records a load of the rule set (`result`: the load's outcome; `rules`: how many rules run
// now) when the store keeps the history; a failure to record is logged, never returned.
void recordRuleLoad(Store& store, const Config& config, const std::string& actor,
                    const Status& result, size_t rules);

// One stored load as JSON, as the API and `riposte rules|config history --json` give it: id,
// time, kind, actor, hash, files, changed, summary, diff, and with `with_content` the text.
nlohmann::ordered_json configHistoryJson(const ConfigHistoryRecord& r, bool with_content);

}  // namespace riposte

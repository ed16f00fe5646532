// The riposte command-line shell: each file adds its sub-commands to the CLI11 app.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "riposte/core/config.h"
#include "riposte/core/registry.h"

namespace riposte::cli {

// Shared state of one invocation.
struct Context {
  Registries registries;
  int exit_code = 0;
};

// Loads --config FILE, or the built-in defaults when `path` is empty; prints diagnostics.
Result<Config> loadConfigOrDefault(Context& ctx, const std::string& path);

void addReplayCommand(CLI::App& app, Context& ctx);
void addServeCommand(CLI::App& app, Context& ctx);
void addConfigCommands(CLI::App& app, Context& ctx);
void addDecisionCommands(CLI::App& app, Context& ctx);
void addIncidentCommands(CLI::App& app, Context& ctx);
void addAuditCommands(CLI::App& app, Context& ctx);
void addRulesCommands(CLI::App& app, Context& ctx);
void addModeCommands(CLI::App& app, Context& ctx);
void addModelCommands(CLI::App& app, Context& ctx);
void addDbCommands(CLI::App& app, Context& ctx);
void addUserCommands(CLI::App& app, Context& ctx);  // user and token
void addAllowlistCommands(CLI::App& app, Context& ctx);
// `rules history` and `config history` (after addRulesCommands and addConfigCommands).
void addHistoryCommands(CLI::App& app, Context& ctx);

}  // namespace riposte::cli

// `riposte intel …` subcommands: load a feed file into the intel database, look a value up,
// print statistics. Thin: argument parsing and printing; the work is in riposte/intel/commands.h.
//
// Thread safety: registration happens once at start-up, before parsing.
#pragma once

namespace CLI {
class App;
}

namespace riposte::cli {

// Adds `intel load FILE --format FMT [--db FILE]`, `intel lookup VALUE [--db FILE]` and
// `intel stats [--db FILE]` to `app`. Errors print to stderr and end the program through
// CLI::RuntimeError (exit code 2); a lookup without a match exits with 1.
void addIntelCommands(CLI::App& app);

}  // namespace riposte::cli

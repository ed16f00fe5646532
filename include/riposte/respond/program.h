// Running external programs for actions: execve() through posix_spawn, never a shell, so
// nothing in a decision can become a command.
//
// The child gets exactly the given environment, its own process group and an empty signal
// mask. stdin is /dev/null or, when `input` is given, a socket the parent writes the input to
// (a socket, not a pipe, so a child that exits early cannot raise SIGPIPE in the engine);
// stdout is /dev/null or captured; the first 4 KiB of stderr are kept and quoted in the failure
// message. A child still running at the timeout is killed (SIGKILL, its process group).
//
// Used by the exec, ipset and iptables actions.
//
// Thread safety: reentrant; the child is in the network namespace of the calling thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/core/time.h"

namespace riposte {

// The environment given to programs when the caller has nothing to add.
inline const std::vector<std::string>& defaultProgramEnv() {
  static const std::vector<std::string> env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  return env;
}

struct ProgramRun {
  std::vector<std::string> env = defaultProgramEnv();
  Duration timeout = std::chrono::seconds(10);
  std::optional<std::string_view> input;  // written to stdin; nullopt: /dev/null
  std::string* output = nullptr;          // stdout captured here when set
  size_t output_limit = size_t{256} << 20;
  std::string* error = nullptr;  // stderr head (4 KiB) when set
  int* exit_code = nullptr;      // exit status, or -1 (signal, timeout, not started)
};

// Runs argv (argv[0] an absolute path) and waits; OK on exit status 0, otherwise unavailable
// with the exit status (or signal, or timeout) and the stderr head.
Status runProgram(const std::vector<std::string>& argv, const ProgramRun& run);

// The same with only an environment, a timeout and the stderr head (the exec action's form).
Status runProgram(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                  Duration timeout, std::string* err = nullptr);

}  // namespace riposte

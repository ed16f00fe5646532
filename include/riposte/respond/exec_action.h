// ExecAction: runs a configured program with arguments for each decision — execve() through
// posix_spawn, never a shell, so nothing in a decision can become a command.
//
// The child's environment is only: PATH=/usr/sbin:/usr/bin:/sbin:/bin, RIPOSTE_EVENT
// (apply | undo), RIPOSTE_TARGET, RIPOSTE_TARGET_TYPE, RIPOSTE_ACTION, RIPOSTE_EXPIRES (RFC 3339
// UTC), RIPOSTE_DECISION_ID and RIPOSTE_DECISION_JSON. A child still running at the timeout is
// killed (SIGKILL, its process group); a non-zero exit or a signal is a failure. stdout/stderr
// go to /dev/null, except the first 4 KiB of stderr, quoted in the failure message.
//
// Configuration: { name, type: exec, command: [/usr/local/bin/block, --ip],
//                  undo_command: [...] (optional), timeout: 10s, enforcing: false }
//
// Thread safety: one thread at a time (the executor's worker).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "riposte/respond/action.h"
#include "riposte/respond/program.h"

namespace riposte {

struct ExecConfig {
  std::vector<std::string> command;       // program (absolute path) and arguments
  std::vector<std::string> undo_command;  // empty: undo does nothing
  Duration timeout = std::chrono::seconds(10);
  bool enforcing = false;  // whether it changes the world (then manual mode withholds it)
};

class ExecAction : public Action {
 public:
  static Result<std::unique_ptr<ExecAction>> create(std::string name, ExecConfig cfg);

  std::string_view name() const override { return name_; }
  Status apply(const Decision& d) override;
  Status undo(const Decision& d) override;
  bool enforcing() const override { return cfg_.enforcing; }

 private:
  ExecAction(std::string name, ExecConfig cfg) : name_(std::move(name)), cfg_(std::move(cfg)) {}
  Status run(const std::vector<std::string>& argv, std::string_view event, const Decision& d);

  std::string name_;
  ExecConfig cfg_;
};

}  // namespace riposte

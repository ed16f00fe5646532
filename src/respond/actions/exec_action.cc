#include "riposte/respond/exec_action.h"

namespace riposte {

Result<std::unique_ptr<ExecAction>> ExecAction::create(std::string name, ExecConfig cfg) {
  if (cfg.command.empty() || cfg.command[0].empty() || cfg.command[0][0] != '/') {
    return Status::invalidArgument("exec action '" + name +
                                   "': command must start with an absolute program path");
  }
  if (!cfg.undo_command.empty() && cfg.undo_command[0].rfind('/', 0) != 0) {
    return Status::invalidArgument("exec action '" + name +
                                   "': undo_command must start with an absolute program path");
  }
  return std::unique_ptr<ExecAction>(new ExecAction(std::move(name), std::move(cfg)));
}

Status ExecAction::run(const std::vector<std::string>& argv, std::string_view event,
                       const Decision& d) {
  const std::vector<std::string> env = {
      "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
      "RIPOSTE_EVENT=" + std::string(event),
      "RIPOSTE_TARGET=" + d.target.value,
      "RIPOSTE_TARGET_TYPE=" + std::string(targetTypeName(d.target.type)),
      "RIPOSTE_ACTION=" + d.action,
      "RIPOSTE_EXPIRES=" + formatRfc3339Utc(d.expires),
      "RIPOSTE_DECISION_ID=" + d.id,
      "RIPOSTE_DECISION_JSON=" + d.toJson(),
  };
  return runProgram(argv, env, cfg_.timeout).withContext("exec action '" + name_ + "'");
}

Status ExecAction::apply(const Decision& d) { return run(cfg_.command, "apply", d); }
Status ExecAction::undo(const Decision& d) {
  if (cfg_.undo_command.empty()) return Status::ok();
  return run(cfg_.undo_command, "undo", d);
}

}  // namespace riposte

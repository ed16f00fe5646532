#include "riposte/respond/exec_action.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace riposte {

Status runProgram(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                  Duration timeout, std::string* err) {
  if (argv.empty()) return Status::invalidArgument("exec: empty command");
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return Status::ioError("exec: pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &fa, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(pipefd[1]);
  if (rc != 0) {
    close(pipefd[0]);
    return Status::unavailable("exec " + argv[0] + ": " + std::strerror(rc));
  }
  std::string errtext;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::microseconds(timeout.count());
  bool open = true;
  int status = 0;
  bool exited = false;
  while (!exited) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      close(pipefd[0]);
      return Status::unavailable("exec " + argv[0] + ": killed after the " +
                                 std::to_string(timeout.count() / 1000) + " ms timeout");
    }
    if (open) {
      pollfd p{pipefd[0], POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(std::min<long long>(left, 50))) > 0) {
        char buf[1024];
        const ssize_t n = read(pipefd[0], buf, sizeof buf);
        if (n <= 0) {
          open = false;
        } else if (errtext.size() < 4096) {
          errtext.append(buf, static_cast<size_t>(n));
        }
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) exited = true;
  }
  close(pipefd[0]);
  if (errtext.size() > 4096) errtext.resize(4096);
  while (!errtext.empty() && (errtext.back() == '\n' || errtext.back() == ' ')) errtext.pop_back();
  if (err != nullptr) *err = errtext;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::ok();
  std::string why = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : "killed by signal " + std::to_string(WTERMSIG(status));
  return Status::unavailable("exec " + argv[0] + ": " + why +
                             (errtext.empty() ? "" : ": " + errtext));
}

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

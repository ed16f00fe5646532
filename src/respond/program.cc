#include "riposte/respond/program.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace riposte {

namespace {

constexpr size_t kErrHead = 4096;

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) close(fd);
    fd = -1;
  }
};

}  // namespace

Status runProgram(const std::vector<std::string>& argv, const ProgramRun& run) {
  if (run.exit_code != nullptr) *run.exit_code = -1;
  if (argv.empty() || argv[0].empty()) return Status::invalidArgument("exec: empty command");
  const std::string& prog = argv[0];
  int errp[2], outp[2] = {-1, -1}, inp[2] = {-1, -1};
  if (pipe2(errp, O_CLOEXEC) != 0) return Status::ioError("exec " + prog + ": pipe failed");
  Fd err_r(errp[0]), err_w(errp[1]), out_r, out_w, in_parent, in_child;
  if (run.output != nullptr) {
    if (pipe2(outp, O_CLOEXEC) != 0) return Status::ioError("exec " + prog + ": pipe failed");
    out_r.fd = outp[0];
    out_w.fd = outp[1];
  }
  if (run.input) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, inp) != 0) {
      return Status::ioError("exec " + prog + ": socketpair failed");
    }
    in_parent.fd = inp[0];
    in_child.fd = inp[1];
    shutdown(in_child.fd, SHUT_WR);  // the child only reads
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (run.input) {
    posix_spawn_file_actions_adddup2(&fa, in_child.fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  }
  if (run.output != nullptr) {
    posix_spawn_file_actions_adddup2(&fa, out_w.fd, 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&fa, err_w.fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, dflt;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigemptyset(&dflt);
  sigaddset(&dflt, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &dflt);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : run.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &fa, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  err_w.reset();
  out_w.reset();
  in_child.reset();
  if (rc != 0) return Status::unavailable("exec " + prog + ": " + std::strerror(rc));

  if (in_parent.fd >= 0) fcntl(in_parent.fd, F_SETFL, fcntl(in_parent.fd, F_GETFL) | O_NONBLOCK);
  const std::string_view input = run.input.value_or(std::string_view{});
  size_t written = 0;
  if (in_parent.fd >= 0 && input.empty()) in_parent.reset();  // EOF at once
  std::string errtext;
  bool out_truncated = false;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::microseconds(run.timeout.count());
  int status = 0;
  bool exited = false;
  auto drain_until = deadline;
  // Until the child has exited and both output pipes are at EOF (a grandchild holding them
  // open gets a short grace, then is ignored).
  while (!exited || err_r.fd >= 0 || out_r.fd >= 0) {
    const auto now = std::chrono::steady_clock::now();
    if (exited && now >= drain_until) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    if (left <= 0) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return Status::unavailable("exec " + prog + ": killed after the " +
                                 std::to_string(run.timeout.count() / 1000) + " ms timeout");
    }
    pollfd p[3];
    int n = 0;
    int ie = -1, io = -1, ii = -1;
    if (err_r.fd >= 0) p[ie = n++] = {err_r.fd, POLLIN, 0};
    if (out_r.fd >= 0) p[io = n++] = {out_r.fd, POLLIN, 0};
    if (in_parent.fd >= 0) p[ii = n++] = {in_parent.fd, POLLOUT, 0};
    const int wait_ms = static_cast<int>(std::min<long long>(left, 50));
    const int pr = n > 0 ? poll(p, static_cast<nfds_t>(n), wait_ms) : 0;
    if (n == 0) usleep(5000);
    if (pr > 0) {
      char buf[16384];
      if (ie >= 0 && (p[ie].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t r = read(err_r.fd, buf, sizeof buf);
        if (r <= 0) {
          if (r == 0 || errno != EINTR) err_r.reset();
        } else if (errtext.size() < kErrHead) {
          errtext.append(buf, static_cast<size_t>(r));
        }
      }
      if (io >= 0 && (p[io].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t r = read(out_r.fd, buf, sizeof buf);
        if (r <= 0) {
          if (r == 0 || errno != EINTR) out_r.reset();
        } else if (run.output->size() + static_cast<size_t>(r) <= run.output_limit) {
          run.output->append(buf, static_cast<size_t>(r));
        } else {
          out_truncated = true;
        }
      }
      if (ii >= 0 && (p[ii].revents & (POLLOUT | POLLHUP | POLLERR)) != 0) {
        const ssize_t w = send(in_parent.fd, input.data() + written, input.size() - written,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) written += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
          in_parent.reset();  // done, or the child stopped reading
        }
      }
    }
    if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      drain_until =
          std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(500));
    }
  }
  if (errtext.size() > kErrHead) errtext.resize(kErrHead);
  while (!errtext.empty() && (errtext.back() == '\n' || errtext.back() == ' ')) errtext.pop_back();
  if (run.error != nullptr) *run.error = errtext;
  if (WIFEXITED(status) && run.exit_code != nullptr) *run.exit_code = WEXITSTATUS(status);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    if (out_truncated) {
      return Status::resourceExhausted("exec " + prog + ": output over " +
                                       std::to_string(run.output_limit) + " bytes");
    }
    if (written < input.size()) {
      return Status::unavailable("exec " + prog + ": read only " + std::to_string(written) +
                                 " of " + std::to_string(input.size()) + " input bytes");
    }
    return Status::ok();
  }
  std::string why = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : "killed by signal " + std::to_string(WTERMSIG(status));
  return Status::unavailable("exec " + prog + ": " + why + (errtext.empty() ? "" : ": " + errtext));
}

Status runProgram(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                  Duration timeout, std::string* err) {
  ProgramRun r;
  r.env = env;
  r.timeout = timeout;
  r.error = err;
  return runProgram(argv, r);
}

}  // namespace riposte

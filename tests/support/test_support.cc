#include "support/test_support.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

namespace riposte::testing {

namespace fs = std::filesystem;

std::optional<fs::path> corporaDir() {
  if (const char* env = std::getenv("RIPOSTE_CORPORA"); env != nullptr && *env != '\0') {
    if (fs::is_directory(env)) return fs::path(env);
    return std::nullopt;
  }
  const fs::path def = RIPOSTE_CORPORA_DEFAULT;
  if (fs::is_directory(def)) return fs::canonical(def);
  return std::nullopt;
}

std::optional<fs::path> corpusFile(const std::string& relative) {
  auto dir = corporaDir();
  if (!dir) return std::nullopt;
  fs::path p = *dir / relative;
  if (!fs::exists(p)) return std::nullopt;
  return p;
}

fs::path fixture(const std::string& relative) {
  return fs::path(RIPOSTE_SOURCE_DIR) / "tests" / "fixtures" / relative;
}

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> readLines(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() /
          ("riposte-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {
std::string drain(int fd) {
  std::string s;
  char buf[65536];
  ssize_t n = 0;
  while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  return s;
}
}  // namespace

CommandResult runRiposte(const std::vector<std::string>& args, const std::string& stdin_data) {
  TempDir tmp;
  const fs::path in = tmp.path() / "stdin";
  const fs::path out = tmp.path() / "stdout";
  const fs::path err = tmp.path() / "stderr";
  { std::ofstream(in, std::ios::binary) << stdin_data; }
  std::vector<std::string> argv_s;
  argv_s.emplace_back(RIPOSTE_BINARY);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fi = open(in.c_str(), O_RDONLY);
    const int fo = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int fe = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fi, 0);
    dup2(fo, 1);
    dup2(fe, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  const int fo = open(out.c_str(), O_RDONLY);
  r.out = drain(fo);
  close(fo);
  const int fe = open(err.c_str(), O_RDONLY);
  r.err = drain(fe);
  close(fe);
  return r;
}

BackgroundRiposte::BackgroundRiposte(const std::vector<std::string>& args) {
  std::vector<std::string> argv_s;
  argv_s.emplace_back(RIPOSTE_BINARY);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out = (dir_.path() / "stdout").string();
  const std::string err = (dir_.path() / "stderr").string();
  pid_ = fork();
  if (pid_ == 0) {
    const int fo = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int fe = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int fi = open("/dev/null", O_RDONLY);
    dup2(fi, 0);
    dup2(fo, 1);
    dup2(fe, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

BackgroundRiposte::~BackgroundRiposte() {
  if (running()) stop(SIGKILL);
}

bool BackgroundRiposte::running() {
  if (pid_ <= 0 || status_ != -1) return false;
  int st = 0;
  const pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

void BackgroundRiposte::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int BackgroundRiposte::stop(int sig, int timeout_ms) {
  if (!running()) return status_;
  kill(pid_, sig);
  waitFor([this] { return !running(); }, timeout_ms);
  return status_;
}

std::string BackgroundRiposte::err() const { return readFile(dir_.path() / "stderr"); }
std::string BackgroundRiposte::out() const { return readFile(dir_.path() / "stdout"); }

bool waitFor(const std::function<bool()>& pred, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 50) {
    if (pred()) return true;
    usleep(50 * 1000);
  }
  return pred();
}

}  // namespace riposte::testing

#include "support/pg_server.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace riposte::testing {

namespace fs = std::filesystem;

namespace {

bool hasServerBinaries(const fs::path& dir) {
  return fs::exists(dir / "initdb") && fs::exists(dir / "postgres");
}

// A port the kernel just handed out on 127.0.0.1 (closed again; the server binds it next).
int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

// The system user PostgreSQL runs as when we are root; null when not root.
const passwd* serverUser() {
  if (::geteuid() != 0) return nullptr;
  return ::getpwnam("postgres");
}

// fork + exec `argv` as the server user, stdout/stderr appended to `log`. Returns the pid.
pid_t spawn(const std::vector<std::string>& argv, const fs::path& log, std::string* error) {
  const passwd* pw = serverUser();
  if (::geteuid() == 0 && pw == nullptr) {
    *error = "running as root but there is no `postgres` system user to run PostgreSQL as";
    return -1;
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const uid_t uid = pw != nullptr ? pw->pw_uid : 0;
  const gid_t gid = pw != nullptr ? pw->pw_gid : 0;
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = "fork failed";
    return -1;
  }
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (pw != nullptr) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) _exit(126);
    }
    ::execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

std::optional<fs::path> PgServer::binDir() {
  if (const char* env = std::getenv("RIPOSTE_PG_BIN"); env != nullptr && *env != '\0') {
    if (hasServerBinaries(env)) return fs::path(env);
    return std::nullopt;
  }
  // Debian keeps server binaries out of PATH, one directory per major version: take the newest.
  std::vector<std::pair<int, fs::path>> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string v = e.path().filename().string();
    if (v.empty() || v.find_first_not_of("0123456789.") != std::string::npos) continue;
    if (hasServerBinaries(e.path() / "bin"))
      found.emplace_back(std::atoi(v.c_str()), e.path() / "bin");
  }
  if (!found.empty()) return std::max_element(found.begin(), found.end())->second;
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::stringstream ss(path);
    std::string d;
    while (std::getline(ss, d, ':')) {
      if (!d.empty() && hasServerBinaries(d)) return fs::path(d);
    }
  }
  return std::nullopt;
}

std::unique_ptr<PgServer> PgServer::start(std::string* error) { return start(Options{}, error); }

std::unique_ptr<PgServer> PgServer::start(const Options& options, std::string* error) {
  std::string scratch;
  if (error == nullptr) error = &scratch;
  auto bin = binDir();
  if (!bin) {
    *error = "postgresql binaries not found";
    return nullptr;
  }
  std::unique_ptr<PgServer> s(new PgServer());
  s->bin_ = *bin;
  s->options_ = options;
  std::string tmpl = (fs::temp_directory_path() / "riposte-pg-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    *error = "mkdtemp failed";
    return nullptr;
  }
  s->dir_ = tmpl;
  if (const passwd* pw = serverUser(); pw != nullptr) {
    if (::chown(s->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      *error = "cannot hand " + s->dir_.string() + " to the postgres user";
      return nullptr;
    }
  }
  ::chmod(s->dir_.c_str(), 0700);

  const fs::path initlog = s->dir_ / "initdb.log";
  const pid_t pid = spawn({(s->bin_ / "initdb").string(), "-D", (s->dir_ / "data").string(), "-U",
                           "riposte", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"},
                          initlog, error);
  if (pid < 0) return nullptr;
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream in(initlog);
    std::stringstream ss;
    ss << in.rdbuf();
    *error = "initdb failed (status " + std::to_string(status) + "): " + ss.str();
    return nullptr;
  }
  // The kernel may hand the same free port to someone else before the server binds it: retry.
  for (int attempt = 0; attempt < 5; ++attempt) {
    s->port_ = freePort();
    if (s->launch(error)) return s;
  }
  return nullptr;
}

bool PgServer::launch(std::string* error) {
  std::vector<std::string> argv = {(bin_ / "postgres").string(),
                                   "-D",
                                   (dir_ / "data").string(),
                                   "-p",
                                   std::to_string(port_),
                                   "-k",
                                   dir_.string(),
                                   "-c",
                                   "listen_addresses=127.0.0.1",
                                   "-c",
                                   "max_connections=40",
                                   "-c",
                                   "shared_buffers=32MB"};
  if (!options_.durable) {
    for (const char* c : {"fsync=off", "full_page_writes=off", "synchronous_commit=off"}) {
      argv.emplace_back("-c");
      argv.emplace_back(c);
    }
  }
  for (const auto& c : options_.settings) {
    argv.emplace_back("-c");
    argv.push_back(c);
  }
  pid_ = spawn(argv, dir_ / "server.log", error);
  if (pid_ < 0) return false;
  const std::string conninfo = url() + " connect_timeout=2";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (PQping(conninfo.c_str()) == PQPING_OK) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *error = "postgres exited (status " + std::to_string(status) + "): " + log();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  *error = "postgres did not accept connections within 60 s: " + log();
  stop();
  return false;
}

PgServer* PgServer::shared(std::string* error) {
  static std::unique_ptr<PgServer> server;
  static std::string failure;
  if (!server && failure.empty()) {
    server = start(&failure);
    if (!server && failure.empty()) failure = "postgres did not start";
  }
  if (!server && error != nullptr) *error = failure;
  return server.get();
}

std::string PgServer::uniqueDatabaseName() {
  static int n = 0;
  return "riposte_test_" + std::to_string(::getpid()) + "_" + std::to_string(++n);
}

PgServer::~PgServer() {
  stop();
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string PgServer::url(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=riposte dbname=" + dbname;
}

std::string PgServer::createDatabase(const std::string& name, std::string* error) {
  PGconn* c = PQconnectdb(url().c_str());
  std::string err;
  if (PQstatus(c) != CONNECTION_OK) {
    err = PQerrorMessage(c);
  } else {
    PGresult* r = PQexec(c, ("CREATE DATABASE \"" + name + "\"").c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) err = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(c);
  if (error != nullptr) *error = err;
  return err.empty() ? url(name) : std::string();
}

bool PgServer::stop(std::string* error) {
  if (pid_ <= 0) return true;
  ::kill(pid_, SIGINT);  // fast shutdown: disconnect clients, checkpoint, exit
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  if (error != nullptr) *error = "postgres did not stop within 30 s; killed";
  return false;
}

bool PgServer::restart(std::string* error) {
  std::string scratch;
  if (!stop(error)) return false;
  return launch(error != nullptr ? error : &scratch);
}

std::string PgServer::log() const {
  std::ifstream in(dir_ / "server.log");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > 4000) s = "..." + s.substr(s.size() - 4000);
  return s;
}

}  // namespace riposte::testing

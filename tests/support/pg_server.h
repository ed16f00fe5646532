// PgServer: a throwaway PostgreSQL server for tests.
//
// start() runs initdb in a fresh temporary directory, picks a free loopback port, keeps the
// unix socket inside that directory and waits until the server accepts connections. The
// destructor stops the server and removes the directory. Binaries are looked up in
// $RIPOSTE_PG_BIN, then /usr/lib/postgresql/<newest version>/bin, then PATH. PostgreSQL refuses
// to run as root, so when the test runs as root the server runs as the `postgres` system user
// (created by the Debian package) and the directory is handed over to it.
//
// Thread safety: one thread drives a PgServer.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace riposte::testing {

class PgServer {
 public:
  struct Options {
    // Extra `-c name=value` settings. The defaults trade durability for test speed
    // (fsync=off); a benchmark passes durable = true.
    std::vector<std::string> settings;
    bool durable = false;
  };

  // Directory holding initdb and postgres, or nullopt when PostgreSQL is not installed.
  static std::optional<std::filesystem::path> binDir();

  // Starts a server; on failure returns null and sets `error` (with the server's log).
  static std::unique_ptr<PgServer> start(std::string* error);
  static std::unique_ptr<PgServer> start(const Options& options, std::string* error);
  // One server for the whole test process (started on first use, stopped at exit), for tests
  // that each take a fresh database with createDatabase(). Null (and `error`) on failure.
  static PgServer* shared(std::string* error);
  // A database name unique within this process.
  static std::string uniqueDatabaseName();

  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  int port() const { return port_; }
  // libpq connection string for a database on this server (superuser `riposte`).
  std::string url(const std::string& dbname = "postgres") const;
  // Creates a fresh database and returns its connection string.
  std::string createDatabase(const std::string& name, std::string* error = nullptr);

  // Fast shutdown (data kept) and start again on the same port, for outage tests.
  bool stop(std::string* error = nullptr);
  bool restart(std::string* error = nullptr);
  bool running() const { return pid_ > 0; }

  std::string log() const;

 private:
  PgServer() = default;
  bool launch(std::string* error);

  std::filesystem::path bin_;
  std::filesystem::path dir_;
  Options options_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace riposte::testing

// Declares `var` (a std::unique_ptr<PgServer>); skips the test with a clear message when the
// PostgreSQL binaries are absent, fails it when they are present but the server cannot start.
#define RIPOSTE_REQUIRE_POSTGRES(var)                                                    \
  if (!::riposte::testing::PgServer::binDir())                                           \
    GTEST_SKIP() << "postgresql absent: initdb/postgres not found (install postgresql, " \
                    "or set RIPOSTE_PG_BIN)";                                            \
  std::string var##_error;                                                               \
  auto var = ::riposte::testing::PgServer::start(&var##_error);                          \
  ASSERT_NE(var, nullptr) << var##_error

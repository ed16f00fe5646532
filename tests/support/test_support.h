// Helpers shared by the tests: corpora location, fixtures, running the riposte binary.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace riposte::testing {

// The shared corpora directory ($RIPOSTE_CORPORA or ../shared/corpora), or nullopt when absent.
std::optional<std::filesystem::path> corporaDir();

// Path of a corpus file, or nullopt (and a printed reason) when the corpora are absent.
std::optional<std::filesystem::path> corpusFile(const std::string& relative);

// Path of a fixture under tests/fixtures.
std::filesystem::path fixture(const std::string& relative);

// Reads a whole file; empty on error.
std::string readFile(const std::filesystem::path& p);
// Lines without their terminator (\n or \r\n).
std::vector<std::string> readLines(const std::filesystem::path& p);

// A fresh temporary directory removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the riposte binary with the given arguments (no shell), capturing stdout and stderr.
CommandResult runRiposte(const std::vector<std::string>& args, const std::string& stdin_data = "");

// A riposte process running in the background (for `serve`), output captured to files.
class BackgroundRiposte {
 public:
  explicit BackgroundRiposte(const std::vector<std::string>& args);
  ~BackgroundRiposte();  // SIGKILL if still running
  BackgroundRiposte(const BackgroundRiposte&) = delete;
  BackgroundRiposte& operator=(const BackgroundRiposte&) = delete;

  // Sends `sig` and waits up to `timeout_ms`; returns the exit code (128+signal if killed by
  // one), or -1 on timeout.
  int stop(int sig, int timeout_ms = 10000);
  // Sends `sig` and returns at once (e.g. SIGHUP).
  void signal(int sig);
  bool running();
  std::string err() const;
  std::string out() const;

 private:
  TempDir dir_;
  int pid_ = -1;
  int status_ = -1;
};

// Polls `pred` every 50 ms for up to `timeout_ms`.
bool waitFor(const std::function<bool()>& pred, int timeout_ms = 10000);

}  // namespace riposte::testing

// Skips the current test with a clear message when a corpus file is missing.
#define RIPOSTE_REQUIRE_CORPUS(var, rel)                                               \
  auto var##_opt = ::riposte::testing::corpusFile(rel);                                \
  if (!var##_opt)                                                                      \
    GTEST_SKIP() << "corpora absent: " << (rel) << " not found (set RIPOSTE_CORPORA)"; \
  const std::filesystem::path var = *var##_opt

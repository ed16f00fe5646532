// The program runner shared by the exec, ipset and iptables actions: stdin piped, stdout
// captured, stderr quoted, exit codes, a reader that exits early, and the timeout.
#include "riposte/respond/program.h"

#include <gtest/gtest.h>

#include <chrono>

namespace riposte {
namespace {

TEST(RunProgram, PipesInputAndCapturesOutput) {
  std::string input;
  for (int i = 0; i < 200'000; ++i) input += "line " + std::to_string(i) + "\n";  // ~2.3 MB
  std::string out;
  ProgramRun r;
  r.input = input;
  r.output = &out;
  int code = -1;
  r.exit_code = &code;
  ASSERT_TRUE(runProgram({"/bin/cat"}, r).isOk());
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, input);  // whole, in order: the writer and reader never deadlock
}

TEST(RunProgram, ExitCodeAndStderrAreReported) {
  std::string err;
  ProgramRun r;
  r.error = &err;
  int code = -1;
  r.exit_code = &code;
  Status st = runProgram({"/bin/sh", "-c", "echo broken >&2; exit 3"}, r);
  EXPECT_FALSE(st.isOk());
  EXPECT_EQ(code, 3);
  EXPECT_EQ(err, "broken");
  EXPECT_NE(st.message().find("exit status 3: broken"), std::string::npos) << st.toString();
}

TEST(RunProgram, ReaderThatExitsEarlyIsAFailureNotACrash) {
  // /bin/true never reads its stdin: writing to it must neither raise SIGPIPE here nor hang.
  const std::string input(8 << 20, 'x');
  ProgramRun r;
  r.input = input;
  Status st = runProgram({"/bin/true"}, r);
  EXPECT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("input bytes"), std::string::npos) << st.toString();
}

TEST(RunProgram, TimeoutKillsTheProgram) {
  ProgramRun r;
  r.timeout = std::chrono::milliseconds(300);
  const auto t0 = std::chrono::steady_clock::now();
  Status st = runProgram({"/bin/sleep", "10"}, r);
  EXPECT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("killed after"), std::string::npos) << st.toString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

TEST(RunProgram, MissingProgramAndRelativeNoShell) {
  EXPECT_FALSE(runProgram({"/nonexistent/prog"}, ProgramRun{}).isOk());
  // No PATH lookup and no shell: a command line is not a program.
  EXPECT_FALSE(runProgram({"cat /etc/passwd"}, ProgramRun{}).isOk());
}

}  // namespace
}  // namespace riposte

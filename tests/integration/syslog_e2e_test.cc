// End-to-end: `riposte serve` with a syslog source on loopback blocks an address that brute
// forces sshd, from messages sent by `logger` (UDP, RFC 5424) and raw TCP, dead-letters what
// it cannot parse, and reports per-source metrics when it stops.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>

#include "support/test_support.h"

extern char** environ;

namespace riposte {
namespace {

using testing::runRiposte;

// Runs a program (no shell); returns its exit code or -1.
int run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool haveLogger() { return run({"logger", "--help"}) == 0; }

uint16_t boundPort(const std::string& err, const std::string& proto) {
  std::smatch m;
  const std::regex re("syslog listening on " + proto + "://127\\.0\\.0\\.1:([0-9]+)");
  if (!std::regex_search(err, m, re)) return 0;
  return static_cast<uint16_t>(std::stoi(m[1]));
}

void sendUdp(uint16_t port, const std::string& msg) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  close(fd);
}

void sendTcp(uint16_t port, const std::string& data) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(send(fd, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
  close(fd);
}

// The sshd messages (after "TAG[PID]: ") of a brute force: the CrowdSec hub's ssh-bf test
// when the corpora are present, lines written for this project otherwise.
std::vector<std::string> bruteForceMessages(std::string& attacker) {
  std::vector<std::string> out;
  if (auto f = testing::corpusFile("crowdsec-hub/tests/ssh-bf/ssh-bf.log")) {
    for (const auto& l : testing::readLines(*f)) {
      const size_t p = l.find("]: ");
      if (p != std::string::npos) out.push_back(l.substr(p + 3));
    }
    attacker = "35.188.49.176";
  }
  if (out.size() < 5) {
    out.clear();
    attacker = "203.0.113.77";
    for (int i = 0; i < 7; ++i) {
      out.push_back("Invalid user admin" + std::to_string(i) + " from 203.0.113.77 port 5350" +
                    std::to_string(i));
    }
  }
  return out;
}

TEST(SyslogE2E, ServeBlocksABruteForceReceivedOverSyslog) {
  testing::TempDir dir;
  const auto db = dir.path() / "r.db";
  const auto actions = dir.path() / "actions.jsonl";
  const auto dead = dir.path() / "dead.jsonl";
  const auto cfg = dir.path() / "riposte.yaml";
  std::ofstream(cfg) << "engine:\n  dead_letter: " << dead.string() << "\n"
                     << "store:\n  path: " << db.string() << "\n"
                     << "sources:\n  - name: net\n    type: syslog\n    parser: sshd\n"
                     << "    listen: [udp://127.0.0.1:0, tcp://127.0.0.1:0]\n"
                     << "detectors:\n  - name: ssh-bruteforce\n    type: threshold\n"
                     << "    kinds: [auth]\n    outcome: failure\n    threshold: 5\n"
                     << "    window: 60s\n"
                     << "actions:\n  - name: log\n    type: log\n    path: " << actions.string()
                     << "\n";
  auto check = runRiposte({"config", "check", cfg.string()});
  ASSERT_EQ(check.exit_code, 0) << check.err << check.out;

  testing::BackgroundRiposte serve({"serve", "--config", cfg.string()});
  ASSERT_TRUE(testing::waitFor([&] { return serve.err().find("serving") != std::string::npos; }))
      << serve.err();
  const uint16_t udp = boundPort(serve.err(), "udp");
  const uint16_t tcp = boundPort(serve.err(), "tcp");
  ASSERT_NE(udp, 0) << serve.err();
  ASSERT_NE(tcp, 0) << serve.err();

  std::string attacker;
  const auto messages = bruteForceMessages(attacker);
  const bool logger = haveLogger();
  for (const auto& m : messages) {
    if (logger) {
      // What a host's syslog client sends: RFC 5424 over UDP, timestamped now.
      ASSERT_EQ(run({"logger", "-d", "-n", "127.0.0.1", "-P", std::to_string(udp), "-t", "sshd",
                     "--id=16378", "-p", "auth.info", m}),
                0);
    } else {
      sendUdp(udp, "<38>1 " + std::string("- web1 sshd 16378 - - ") + m);
    }
  }
  ASSERT_TRUE(testing::waitFor([&] {
    return testing::readFile(actions).find(attacker) != std::string::npos;
  })) << serve.err();

  // Over TCP, newline framed, with a line sshd's parser does not know and binary garbage.
  sendTcp(tcp,
          "<38>Feb 12 14:10:21 web1 sshd[1]: Accepted publickey for deploy from 192.0.2.10 "
          "port 4022 ssh2\n<38>Feb 12 14:10:21 web1 sshd[1]: this is no sshd message\n"
          "\x01\x02\x03 garbage\n");
  ASSERT_TRUE(testing::waitFor([&] {
    return testing::readFile(dead).find("garbage") != std::string::npos;
  })) << serve.err();
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.err();

  const std::string err = serve.err();
  const size_t n = messages.size() + 3;
  EXPECT_NE(err.find("source net (syslog, sshd): " + std::to_string(n) + " lines"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("0 dropped"), std::string::npos) << err;
  EXPECT_NE(err.find("dead letter " + dead.string()), std::string::npos) << err;

  const auto dl = testing::readLines(dead);
  ASSERT_GE(dl.size(), 1u);
  bool found = false;
  for (const auto& l : dl) {
    if (l.find("garbage") == std::string::npos) continue;
    found = true;
    EXPECT_NE(l.find("\"source\":\"net\""), std::string::npos) << l;
    EXPECT_NE(l.find("\"reason\":\"unparsed by sshd\""), std::string::npos) << l;
    EXPECT_NE(l.find("\"origin\":\"127.0.0.1:"), std::string::npos) << l;
  }
  EXPECT_TRUE(found);

  auto list = runRiposte({"decisions", "list", "--config", cfg.string()});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("\"target\":\"" + attacker + "\""), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find("192.0.2.10"), std::string::npos) << list.out;
}

TEST(SyslogE2E, ConfigCheckReportsSyslogMistakesWithPositions) {
  testing::TempDir dir;
  const auto cfg = dir.path() / "riposte.yaml";
  std::ofstream(cfg) << "sources:\n  - name: net\n    type: syslog\n    parser: sshd\n"
                     << "    listen: udp://127.0.0.1:99999\n";
  auto check = runRiposte({"config", "check", cfg.string()});
  EXPECT_NE(check.exit_code, 0);
  EXPECT_NE(check.err.find(cfg.string() + ":5:13: sources[0].listen: 'udp://127.0.0.1:99999': "
                                          "port must be"),
            std::string::npos)
      << check.err;
}

}  // namespace
}  // namespace riposte

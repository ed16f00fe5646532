// Alert and exec actions against local servers the test starts on 127.0.0.1: generic JSON
// webhook with an HMAC signature, Slack-style message, Splunk HEC, syslog RFC 5424 + CEF over
// UDP and TCP, exec without a shell. A failing or hanging webhook drives the engine into manual
// mode and notifies the admins.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "riposte/core/ids.h"
#include "riposte/core/registry.h"
#include "riposte/engine/engine.h"
#include "riposte/respond/exec_action.h"
#include "riposte/respond/syslog_cef_action.h"
#include "riposte/respond/webhook_action.h"
#include "riposte/store/sqlite_store.h"
#include "support/http_server.h"
#include "support/test_support.h"

namespace riposte {
namespace {

using nlohmann::json;
using testing::HttpServer;

Decision sample() {
  Decision d;
  d.id = newId();
  d.target = {TargetType::kIp, "203.0.113.5"};
  d.detector = "ssh-bruteforce";
  d.reason = "10 failures | then = success\\ok\nnext";
  d.created = Timestamp::now();
  d.expires = d.created + std::chrono::hours(4);
  d.events = 10;
  return d;
}

TEST(WebhookAction, JsonIsSignedWithHmacSha256) {
  HttpServer srv;
  WebhookConfig c;
  c.url = srv.url("/hook");
  c.secret = "s3cret";
  auto a = WebhookAction::create("hook", c);
  ASSERT_TRUE(a.isOk());
  const Decision d = sample();
  ASSERT_TRUE((*a)->apply(d).isOk());
  auto rs = srv.requests();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].method, "POST");
  EXPECT_EQ(rs[0].path, "/hook");
  EXPECT_EQ(rs[0].headers["content-type"], "application/json");
  EXPECT_EQ(rs[0].headers["x-riposte-signature"], "sha256=" + hmacSha256Hex("s3cret", rs[0].body));
  // A known vector (RFC 4231 test case 2) pins the HMAC itself.
  EXPECT_EQ(hmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const json b = json::parse(rs[0].body);
  EXPECT_EQ(b["event"], "apply");
  EXPECT_EQ(b["decision"]["target"], "203.0.113.5");
}

TEST(WebhookAction, SlackMessage) {
  HttpServer srv;
  WebhookConfig c;
  c.url = srv.url("/slack");
  c.format = "slack";
  auto a = WebhookAction::create("slack", c);
  ASSERT_TRUE(a.isOk());
  ASSERT_TRUE((*a)->apply(sample()).isOk());
  const json b = json::parse(srv.requests().at(0).body);
  ASSERT_TRUE(b["text"].is_string());
  EXPECT_NE(b["text"].get<std::string>().find("blocked 203.0.113.5"), std::string::npos);
  EXPECT_EQ(srv.requests()[0].headers.count("x-riposte-signature"), 0u);
}

TEST(WebhookAction, SplunkHec) {
  HttpServer srv;
  WebhookConfig c;
  c.url = srv.url("/services/collector/event");
  c.format = "hec";
  c.token = "12345678-1234-1234-1234-1234567890ab";
  c.index = "security";
  auto a = WebhookAction::create("hec", c);
  ASSERT_TRUE(a.isOk());
  ASSERT_TRUE((*a)->apply(sample()).isOk());
  auto r = srv.requests().at(0);
  EXPECT_EQ(r.path, "/services/collector/event");
  EXPECT_EQ(r.headers["authorization"], "Splunk 12345678-1234-1234-1234-1234567890ab");
  const json b = json::parse(r.body);
  EXPECT_TRUE(b["time"].is_number());
  EXPECT_GT(b["time"].get<double>(), 1.7e9);
  EXPECT_EQ(b["index"], "security");
  EXPECT_EQ(b["source"], "riposte");
  EXPECT_EQ(b["sourcetype"], "riposte:decision");
  EXPECT_EQ(b["event"]["decision"]["target"], "203.0.113.5");
  EXPECT_TRUE(b.contains("host"));
}

TEST(WebhookAction, ServerErrorAndHangAreFailures) {
  HttpServer srv;
  srv.setStatus(500);
  WebhookConfig c;
  c.url = srv.url();
  c.timeout = std::chrono::milliseconds(300);
  auto a = WebhookAction::create("hook", c);
  ASSERT_TRUE(a.isOk());
  Status st = (*a)->apply(sample());
  EXPECT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("HTTP 500"), std::string::npos) << st.toString();
  srv.setStatus(200);
  srv.setHangMs(2000);
  const auto t0 = std::chrono::steady_clock::now();
  st = (*a)->apply(sample());
  EXPECT_FALSE(st.isOk());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1500));
}

// The whole path: a webhook answering 500 is retried, then the engine goes manual and the
// admins are notified through another channel (a second webhook).
TEST(WebhookAction, FailingWebhookDrivesManualModeAndNotifiesAdmins) {
  for (int mode = 0; mode < 2; ++mode) {  // 0: HTTP 500, 1: hangs past the timeout
    HttpServer bad, admins;
    if (mode == 0) bad.setStatus(500);
    if (mode == 1) bad.setHangMs(1500);
    testing::TempDir dir;
    Registries reg;
    ASSERT_TRUE(registerBuiltins(reg).isOk());
    auto store = SqliteStore::open((dir.path() / "r.db").string());
    ASSERT_TRUE(store.isOk());
    const std::string yaml = R"(
actions:
  - name: siem
    type: webhook
    url: )" + bad.url("/siem") +
                             R"(
    timeout: 300ms
  - name: admins
    type: webhook
    format: slack
    url: )" + admins.url("/admins") +
                             R"(
response:
  action_attempts: 3
  retry_backoff: 20ms
  action_timeout: 2s
  notify: [admins]
)";
    auto cfg = parseConfig(yaml, "t.yaml", &reg);
    ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
    EngineOptions eo;
    auto e = Engine::create(*cfg, reg, store->get(), eo);
    ASSERT_TRUE(e.isOk()) << e.status().toString();
    Decision d = sample();
    ASSERT_TRUE((*e)->addManualDecision(d, "cli:test").isOk());
    (*e)->drain();
    EXPECT_EQ(bad.requests().size(), 3u) << "mode " << mode << ": expected 3 attempts";
    EXPECT_TRUE((*e)->manualMode());
    auto m = (*store)->loadMode();
    ASSERT_TRUE(m.isOk());
    EXPECT_TRUE(m->manual);
    bool notified = false;
    for (const auto& r : admins.requests()) {
      notified = notified || r.body.find("manual mode") != std::string::npos;
    }
    EXPECT_TRUE(notified) << "admins were not told about manual mode";
    auto audit = (*store)->listAudit(0, 1000);
    ASSERT_TRUE(audit.isOk());
    std::set<std::string> kinds;
    for (const auto& x : *audit) kinds.insert(x.kind);
    EXPECT_TRUE(kinds.count("action.failed"));
    EXPECT_TRUE(kinds.count("mode.manual"));
    EXPECT_TRUE(kinds.count("notify.sent"));
    EXPECT_TRUE(verifyAuditChain(*audit).isOk());
  }
}

TEST(Cef, Escaping) {
  EXPECT_EQ(cefEscapeHeader("a|b\\c"), "a\\|b\\\\c");
  EXPECT_EQ(cefEscapeValue("a=b\\c|d\ne\rf"), "a\\=b\\\\c|d\\ne\\rf");
  const std::string r = cefRecord("apply", sample());
  EXPECT_EQ(r.rfind("CEF:0|Riposte|Riposte|", 0), 0u) << r;
  EXPECT_NE(r.find("|ssh-bruteforce|Blocked 203.0.113.5|7|rt="), std::string::npos) << r;
  EXPECT_NE(r.find(" src=203.0.113.5 "), std::string::npos);
  EXPECT_NE(r.find(" act=block "), std::string::npos);
  EXPECT_NE(r.find("msg=10 failures | then \\= success\\\\ok\\nnext"), std::string::npos) << r;
  // Exactly 7 unescaped pipes: the header is intact even with pipes in the message.
  int pipes = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i] == '\\') {
      ++i;
      continue;
    }
    if (r[i] == '|') ++pipes;
    if (pipes == 7) break;
  }
  EXPECT_EQ(pipes, 7);
}

int udpSocket(int& port) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

TEST(SyslogCefAction, Udp) {
  int port = 0;
  const int fd = udpSocket(port);
  SyslogCefConfig c;
  c.port = port;
  auto a = SyslogCefAction::create("siem", c);
  ASSERT_TRUE(a.isOk());
  ASSERT_TRUE((*a)->apply(sample()).isOk());
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 2000), 1);
  char buf[8192];
  const ssize_t n = recv(fd, buf, sizeof buf, 0);
  close(fd);
  ASSERT_GT(n, 0);
  const std::string msg(buf, static_cast<size_t>(n));
  // <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG; authpriv (10) * 8 + warning (4) = 84.
  EXPECT_EQ(msg.rfind("<84>1 ", 0), 0u) << msg;
  EXPECT_NE(msg.find(" riposte "), std::string::npos);
  EXPECT_NE(msg.find(" decision - CEF:0|Riposte|"), std::string::npos) << msg;
}

TEST(SyslogCefAction, TcpOctetCounting) {
  const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  listen(lfd, 4);
  socklen_t len = sizeof a;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  SyslogCefConfig c;
  c.port = ntohs(a.sin_port);
  c.protocol = "tcp";
  auto act = SyslogCefAction::create("siem", c);
  ASSERT_TRUE(act.isOk());
  ASSERT_TRUE((*act)->apply(sample()).isOk());
  ASSERT_TRUE((*act)->undo(sample()).isOk());
  const int cfd = accept(lfd, nullptr, nullptr);
  ASSERT_GE(cfd, 0);
  std::string data;
  char buf[8192];
  while (true) {
    pollfd p{cfd, POLLIN, 0};
    if (poll(&p, 1, 500) != 1) break;
    const ssize_t n = read(cfd, buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  close(cfd);
  close(lfd);
  // Two frames "<len> <msg>", each length exact.
  size_t pos = 0;
  int frames = 0;
  while (pos < data.size()) {
    const size_t sp = data.find(' ', pos);
    ASSERT_NE(sp, std::string::npos);
    const size_t n = std::stoul(data.substr(pos, sp - pos));
    const std::string msg = data.substr(sp + 1, n);
    EXPECT_EQ(msg.size(), n);
    EXPECT_EQ(msg[0], '<');
    EXPECT_NE(msg.find("CEF:0|"), std::string::npos);
    pos = sp + 1 + n;
    ++frames;
  }
  EXPECT_EQ(frames, 2);
}

TEST(ExecAction, RunsWithoutAShellAndPassesTheDecision) {
  testing::TempDir dir;
  const std::string out = (dir.path() / "out").string();
  const std::string script = (dir.path() / "hook.sh").string();
  {
    std::ofstream f(script);
    f << "#!/bin/sh\nprintf '%s\\n' \"$1\" \"$2\" \"$RIPOSTE_TARGET\" \"$RIPOSTE_ACTION\" "
         "\"$RIPOSTE_EXPIRES\" \"$RIPOSTE_DECISION_JSON\" > \"$3\"\n";
  }
  chmod(script.c_str(), 0755);
  ExecConfig c;
  // An argument full of shell syntax arrives verbatim: no shell parses it.
  c.command = {script, "--ip", "$(touch " + out + ".pwned); `id`", out};
  auto a = ExecAction::create("hook", c);
  ASSERT_TRUE(a.isOk());
  const Decision d = sample();
  ASSERT_TRUE((*a)->apply(d).isOk());
  const auto lines = testing::readLines(out);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], "--ip");
  EXPECT_EQ(lines[1], "$(touch " + out + ".pwned); `id`");
  EXPECT_EQ(lines[2], "203.0.113.5");
  EXPECT_EQ(lines[3], "block");
  EXPECT_EQ(lines[4], formatRfc3339Utc(d.expires));
  EXPECT_EQ(json::parse(lines[5])["target"], "203.0.113.5");
  EXPECT_FALSE(std::filesystem::exists(out + ".pwned"));
}

TEST(ExecAction, NonZeroExitAndTimeoutFail) {
  ExecConfig c;
  c.command = {"/bin/false"};
  auto a = ExecAction::create("f", c);
  ASSERT_TRUE(a.isOk());
  Status st = (*a)->apply(sample());
  EXPECT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("exit status 1"), std::string::npos) << st.toString();

  c.command = {"/bin/sleep", "10"};
  c.timeout = std::chrono::milliseconds(300);
  auto s = ExecAction::create("s", c);
  ASSERT_TRUE(s.isOk());
  const auto t0 = std::chrono::steady_clock::now();
  st = (*s)->apply(sample());
  EXPECT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("killed"), std::string::npos) << st.toString();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));

  c.command = {"sleep"};  // relative: refused (no PATH search, no shell)
  EXPECT_FALSE(ExecAction::create("r", c).isOk());
}

}  // namespace
}  // namespace riposte

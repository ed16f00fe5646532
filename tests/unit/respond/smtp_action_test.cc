// The e-mail action against a loopback SMTP server the test starts (tests/support/smtp_server):
// envelope, headers and body carry the decision; STARTTLS with a certificate made for the test;
// header injection through a decision's text is impossible; a refusing or silent server is a
// failure that the engine turns into retries, manual mode and an admin notification.
#include "riposte/respond/smtp_action.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "riposte/core/ids.h"
#include "riposte/core/registry.h"
#include "riposte/engine/engine.h"
#include "riposte/store/sqlite_store.h"
#include "support/http_server.h"
#include "support/smtp_server.h"
#include "support/test_support.h"

namespace riposte {
namespace {

using testing::SmtpMessage;
using testing::SmtpServer;

Decision sample() {
  Decision d;
  d.id = newId();
  d.target = {TargetType::kIp, "203.0.113.5"};
  d.detector = "ssh-bruteforce";
  d.reason = "10 failed logins for root";
  d.finding_id = "F123";
  d.created = Timestamp::now();
  d.first_seen = d.created - std::chrono::minutes(1);
  d.last_seen = d.created;
  d.expires = d.created + std::chrono::hours(4);
  d.events = 10;
  return d;
}

SmtpConfig configFor(const SmtpServer& srv) {
  SmtpConfig c;
  c.server = "127.0.0.1:" + std::to_string(srv.port());
  c.from = "riposte@example.org";
  c.to = {"soc@example.org", "oncall@example.net"};
  c.timeout = std::chrono::seconds(3);
  return c;
}

// Headers of a received message (names lower-cased; unfolded) and its body.
struct Parsed {
  std::map<std::string, std::string> headers;
  std::string body;
};

Parsed parse(const std::string& data) {
  Parsed p;
  const size_t end = data.find("\r\n\r\n");
  std::string head = data.substr(0, end);
  p.body = end == std::string::npos ? "" : data.substr(end + 4);
  std::string last;
  size_t pos = 0;
  while (pos < head.size()) {
    size_t nl = head.find("\r\n", pos);
    if (nl == std::string::npos) nl = head.size();
    const std::string line = head.substr(pos, nl - pos);
    pos = nl + 2;
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      p.headers[last] += line.substr(1);
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    last = line.substr(0, colon);
    for (auto& ch : last) ch = static_cast<char>(std::tolower(ch));
    p.headers[last] = line.substr(colon + 2);
  }
  return p;
}

TEST(SmtpAction, MessageCarriesTheDecision) {
  SmtpServer srv;
  auto a = SmtpAction::create("mail", configFor(srv));
  ASSERT_TRUE(a.isOk()) << a.status().toString();
  const Decision d = sample();
  ASSERT_TRUE((*a)->apply(d).isOk());
  ASSERT_TRUE((*a)->undo(d).isOk());
  const auto ms = srv.messages();
  ASSERT_EQ(ms.size(), 2u);
  const SmtpMessage& m = ms[0];
  EXPECT_EQ(m.mail_from.rfind("FROM:<riposte@example.org>", 0), 0u) << m.mail_from;
  ASSERT_EQ(m.rcpt_to.size(), 2u);
  EXPECT_EQ(m.rcpt_to[0], "TO:<soc@example.org>");
  EXPECT_EQ(m.rcpt_to[1], "TO:<oncall@example.net>");
  EXPECT_FALSE(m.tls);
  const Parsed p = parse(m.data);
  EXPECT_EQ(p.headers.at("from"), "riposte@example.org");
  EXPECT_EQ(p.headers.at("to"), "soc@example.org, oncall@example.net");
  EXPECT_EQ(p.headers.at("subject"), "[Riposte] blocked 203.0.113.5 (ssh-bruteforce)");
  EXPECT_EQ(p.headers.at("x-riposte-event"), "apply");
  EXPECT_EQ(p.headers.at("x-riposte-decision"), d.id);
  EXPECT_EQ(p.headers.at("content-type"), "text/plain; charset=utf-8");
  EXPECT_NE(p.headers.at("message-id").find(d.id), std::string::npos);
  EXPECT_EQ(p.headers.count("date"), 1u);
  EXPECT_NE(p.body.find("Riposte blocked 203.0.113.5 until " + formatRfc3339Utc(d.expires)),
            std::string::npos)
      << p.body;
  EXPECT_NE(p.body.find("Reason:      10 failed logins for root\r\n"), std::string::npos);
  EXPECT_NE(p.body.find("Finding id:  F123\r\n"), std::string::npos);
  // The decision as JSON closes the body and parses back to the same decision.
  const size_t brace = p.body.find("\r\n{");
  ASSERT_NE(brace, std::string::npos);
  const auto j = nlohmann::json::parse(p.body.substr(brace + 2), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << p.body.substr(brace + 2);
  EXPECT_EQ(j, nlohmann::json::parse(d.toJson()));
  // The undo message says the block ended.
  const Parsed u = parse(ms[1].data);
  EXPECT_EQ(u.headers.at("subject"), "[Riposte] unblocked 203.0.113.5 (ssh-bruteforce)");
  EXPECT_EQ(u.headers.at("x-riposte-event"), "undo");
}

TEST(SmtpAction, DecisionTextCannotInjectHeadersOrEndTheMessage) {
  SmtpServer srv;
  SmtpConfig c = configFor(srv);
  c.subject = "{event} {target}: {reason} [{id}]";
  auto a = SmtpAction::create("mail", c);
  ASSERT_TRUE(a.isOk());
  Decision d = sample();
  d.reason = "evil\r\nBcc: victim@example.com\n.\nMAIL FROM:<x@y>\nécole";
  ASSERT_TRUE((*a)->apply(d).isOk());
  const auto ms = srv.messages();
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].rcpt_to.size(), 2u);  // no recipient added
  const Parsed p = parse(ms[0].data);
  EXPECT_EQ(p.headers.count("bcc"), 0u) << ms[0].data;
  // A non-ASCII subject is RFC 2047 encoded; the line breaks became spaces.
  const std::string& subj = p.headers.at("subject");
  EXPECT_EQ(subj.rfind("=?UTF-8?B?", 0), 0u) << subj;
  EXPECT_EQ(
      (*a)->subjectFor("apply", d),
      "blocked 203.0.113.5: evil  Bcc: victim@example.com . MAIL FROM:<x@y> école [" + d.id + "]");
  // The lone "." line in the body arrived whole (dot-stuffed on the wire), and so did the rest.
  EXPECT_NE(p.body.find("\r\n.\r\nMAIL FROM:<x@y>\r\nécole\r\n"), std::string::npos) << p.body;
  EXPECT_NE(p.body.find("Finding id:  F123"), std::string::npos);
}

TEST(SmtpAction, LongTextKeepsLinesUnderTheSmtpLimit) {
  SmtpServer srv;
  auto a = SmtpAction::create("mail", configFor(srv));
  ASSERT_TRUE(a.isOk());
  Decision d = sample();
  d.reason = std::string(5000, 'x');
  ASSERT_TRUE((*a)->apply(d).isOk());
  const std::string data = srv.messages().at(0).data;
  size_t pos = 0, longest = 0;
  while (pos < data.size()) {
    const size_t nl = data.find("\r\n", pos);
    longest = std::max(longest, (nl == std::string::npos ? data.size() : nl) - pos);
    if (nl == std::string::npos) break;
    pos = nl + 2;
  }
  EXPECT_LE(longest, 998u);
  EXPECT_NE(data.find("(cut)"), std::string::npos);
}

TEST(SmtpAction, StartTlsIsRequiredAndUsed) {
  testing::TempDir dir;
  if (!testing::makeLocalhostCert(dir.path().string())) {
    GTEST_SKIP() << "openssl CLI unavailable: cannot make a test certificate";
  }
  const std::string cert = (dir.path() / "cert.pem").string();
  SmtpServer srv(cert, (dir.path() / "key.pem").string());
  srv.setRequireTls(true);
  SmtpConfig c = configFor(srv);
  c.server = "localhost:" + std::to_string(srv.port());
  c.starttls = true;
  c.ca_file = cert;
  auto a = SmtpAction::create("mail", c);
  ASSERT_TRUE(a.isOk());
  const Status st = (*a)->apply(sample());
  ASSERT_TRUE(st.isOk()) << st.toString();
  ASSERT_EQ(srv.messages().size(), 1u);
  EXPECT_TRUE(srv.messages()[0].tls) << "the message went in clear text";
  EXPECT_NE(srv.messages()[0].data.find("X-Riposte-Event: apply"), std::string::npos);

  // A server that does not offer STARTTLS is refused when it is required: nothing is sent.
  SmtpServer plain;
  SmtpConfig pc = configFor(plain);
  pc.starttls = true;
  auto b = SmtpAction::create("mail", pc);
  ASSERT_TRUE(b.isOk());
  EXPECT_FALSE((*b)->apply(sample()).isOk());
  EXPECT_TRUE(plain.messages().empty());

  // And a certificate that does not verify is refused too.
  SmtpConfig untrusted = c;
  untrusted.ca_file = (dir.path() / "missing-ca.pem").string();
  auto u = SmtpAction::create("mail", untrusted);
  ASSERT_TRUE(u.isOk());
  EXPECT_FALSE((*u)->apply(sample()).isOk());
  EXPECT_EQ(srv.messages().size(), 1u);
}

TEST(SmtpAction, RefusedOrSilentServerIsAFailure) {
  SmtpServer srv;
  srv.setMailReply(451);
  auto a = SmtpAction::create("mail", configFor(srv));
  ASSERT_TRUE(a.isOk());
  const Status st = (*a)->apply(sample());
  EXPECT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("451"), std::string::npos) << st.toString();
  EXPECT_TRUE(srv.messages().empty());

  SmtpServer hang;
  hang.setHangMs(3000);
  SmtpConfig c = configFor(hang);
  c.timeout = std::chrono::milliseconds(400);
  auto h = SmtpAction::create("mail", c);
  ASSERT_TRUE(h.isOk());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE((*h)->apply(sample()).isOk());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2500));
}

TEST(SmtpAction, ConfigIsValidated) {
  SmtpConfig c;
  c.server = "127.0.0.1:2525";
  c.from = "riposte@example.org";
  c.to = {"soc@example.org"};
  EXPECT_TRUE(SmtpAction::create("m", c).isOk());
  EXPECT_EQ((*SmtpAction::create("m", c))->url(), "smtp://127.0.0.1:2525");
  c.server = "mail.example.org";
  EXPECT_EQ((*SmtpAction::create("m", c))->url(), "smtp://mail.example.org:25");
  c.to = {"soc@example.org>\r\nRCPT TO:<x@y"};
  EXPECT_FALSE(SmtpAction::create("m", c).isOk());
  c.to = {};
  EXPECT_FALSE(SmtpAction::create("m", c).isOk());
  c.to = {"soc@example.org"};
  c.from = "no-at-sign";
  EXPECT_FALSE(SmtpAction::create("m", c).isOk());
  c.from = "riposte@example.org";
  c.server = "http://mail.example.org";
  EXPECT_FALSE(SmtpAction::create("m", c).isOk());

  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  auto bad = parseConfig(
      "actions:\n  - {name: mail, type: smtp, server: 'localhost:25', from: x, to: [a@b]}\n",
      "t.yaml", &reg);
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().message().find("actions[0].from"), std::string::npos)
      << bad.status().toString();
  auto ok = parseConfig(
      "actions:\n  - {name: mail, type: smtp, server: 'localhost:25', from: r@x.org, to: a@b.org,"
      " starttls: true, subject: '{event} {target}'}\n",
      "t.yaml", &reg);
  EXPECT_TRUE(ok.isOk()) << ok.status().toString();
}

// The whole path: a mail server that refuses is retried, then the engine goes manual and the
// admins are told through the e-mail channel of a second, working server.
TEST(SmtpAction, FailingServerDrivesManualModeAndAdminsAreMailed) {
  SmtpServer bad, admins;
  bad.setMailReply(554);
  testing::TempDir dir;
  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  auto store = SqliteStore::open((dir.path() / "r.db").string());
  ASSERT_TRUE(store.isOk());
  const std::string yaml =
      "actions:\n"
      "  - {name: mail, type: smtp, server: '127.0.0.1:" +
      std::to_string(bad.port()) +
      "', from: riposte@example.org, to: [soc@example.org], timeout: 2s}\n"
      "  - {name: admins, type: smtp, server: '127.0.0.1:" +
      std::to_string(admins.port()) +
      "', from: riposte@example.org, to: [admin@example.org]}\n"
      "response:\n  action_attempts: 3\n  retry_backoff: 20ms\n"
      "  notify: [admins]\n";
  auto cfg = parseConfig(yaml, "t.yaml", &reg);
  ASSERT_TRUE(cfg.isOk()) << cfg.status().toString();
  auto e = Engine::create(*cfg, reg, store->get(), EngineOptions{});
  ASSERT_TRUE(e.isOk()) << e.status().toString();
  ASSERT_TRUE((*e)->addManualDecision(sample(), "cli:test").isOk());
  (*e)->drain();
  EXPECT_EQ(bad.connections(), 3) << "expected 3 attempts";
  EXPECT_TRUE((*e)->manualMode());
  bool notified = false;
  for (const auto& m : admins.messages()) {
    notified = notified || (m.data.find("Subject: [Riposte] Riposte switched to manual mode") !=
                                std::string::npos &&
                            m.rcpt_to.at(0) == "TO:<admin@example.org>");
  }
  EXPECT_TRUE(notified) << "admins were not mailed about manual mode";
}

}  // namespace
}  // namespace riposte

#include "riposte/ingest/sshd_parser.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <regex>

#include "riposte/ingest/syslog_header.h"
#include "support/test_support.h"

namespace riposte {
namespace {

using testing::readLines;

struct Parsed {
  ParseResult result;
  Event event;
};

class SshdParserTest : public ::testing::Test {
 protected:
  ParseResult parse(const std::string& line) {
    lines_.push_back(line);  // keep the text alive for the event's views
    ev_.clear();
    ev_.setRaw(lines_.back());
    ParseContext ctx;
    ctx.year = 2024;
    return parser_.parse(lines_.back(), ctx, ev_);
  }
  std::string get(Field f) const { return std::string(ev_.get(f)); }

  SshdParser parser_;
  Event ev_;
  std::deque<std::string> lines_;
};

TEST_F(SshdParserTest, FixtureLinesAreUnderstood) {
  const auto lines = readLines(testing::fixture("ingest/sshd_mixed.log"));
  ASSERT_EQ(lines.size(), 21u);
  struct Expect {
    ParseResult result;
    std::string action, outcome, ip, user;
    uint32_t repeat = 1;
  };
  const std::vector<Expect> expect = {
      {ParseResult::kParsed, "invalid_user", "failure", "203.0.113.5", "admin"},
      {ParseResult::kParsed, "auth_failed", "failure", "203.0.113.5", "admin"},
      {ParseResult::kParsed, "max_auth_attempts", "failure", "203.0.113.5", "root"},
      {ParseResult::kParsed, "max_auth_attempts", "failure", "203.0.113.5", "root"},
      {ParseResult::kParsed, "preauth_close", "failure", "203.0.113.5", "root"},
      {ParseResult::kParsed, "auth_success", "success", "2001:db8::7", "deploy"},
      {ParseResult::kParsed, "disconnected", "", "2001:db8::7", "deploy"},
      {ParseResult::kParsed, "auth_failed", "failure", "198.51.100.9", "root", 5},
      {ParseResult::kParsed, "auth_failed", "failure", "198.51.100.10", "user from 10"},
      {ParseResult::kParsed, "no_identification", "failure", "198.51.100.11", ""},
      {ParseResult::kParsed, "banner_error", "failure", "198.51.100.12", ""},
      {ParseResult::kParsed, "kex_identification", "failure", "", ""},
      {ParseResult::kParsed, "kex_failed", "failure", "198.51.100.13", ""},
      {ParseResult::kParsed, "pam_auth_failure", "failure", "198.51.100.14", "root"},
      {ParseResult::kParsed, "auth_failed", "failure", "198.51.100.15", "root"},
      {ParseResult::kParsed, "auth_failed", "failure", "198.51.100.16", "root"},
      {ParseResult::kParsed, "auth_failed", "failure", "198.51.100.17", "root"},
      {ParseResult::kParsed, "received_disconnect", "", "198.51.100.18", ""},
      {ParseResult::kParsed, "auth_failed", "failure", "2001:db8::1", "root"},
      {ParseResult::kSkip, "", "", "", ""},
      {ParseResult::kUnrecognised, "", "", "", ""},
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    SCOPED_TRACE("line " + std::to_string(i + 1) + ": " + lines[i]);
    ASSERT_EQ(parse(lines[i]), expect[i].result);
    if (expect[i].result != ParseResult::kParsed) continue;
    EXPECT_EQ(get(Field::kEventAction), expect[i].action);
    EXPECT_EQ(get(Field::kEventOutcome), expect[i].outcome);
    EXPECT_EQ(get(Field::kSourceIp), expect[i].ip);
    EXPECT_EQ(get(Field::kUserName), expect[i].user);
    EXPECT_EQ(ev_.repeat(), expect[i].repeat);
    EXPECT_TRUE(ev_.timestamp().isSet());
  }
}

TEST_F(SshdParserTest, TimestampsAndHeaderFields) {
  ASSERT_EQ(parse("Feb  8 17:15:01 hostname sshd[1478159]: Connection reset by authenticating user "
                  "root 80.94.92.63 port 49115 [preauth]"),
            ParseResult::kParsed);
  EXPECT_EQ(formatRfc3339Utc(ev_.timestamp()), "2024-02-08T17:15:01Z");
  EXPECT_EQ(get(Field::kHostName), "hostname");
  EXPECT_EQ(get(Field::kProcessPid), "1478159");
  EXPECT_EQ(get(Field::kSourcePort), "49115");
  ASSERT_EQ(parse("2023-11-14T00:20:42.738197+01:00 myserver sshd[1112652]: User root from "
                  "192.168.1.1 not allowed because not listed in AllowUsers"),
            ParseResult::kParsed);
  EXPECT_EQ(formatRfc3339(ev_.timestamp()), "2023-11-14T00:20:42.738197+01:00");
  EXPECT_EQ(get(Field::kEventAction), "user_not_allowed");
  EXPECT_EQ(get(Field::kUserName), "root");
  EXPECT_EQ(get(Field::kSourceIp), "192.168.1.1");
}

TEST_F(SshdParserTest, GarbageNeverCrashes) {
  const std::vector<std::string> bad = {
      "",
      "<",
      "<999>Mar  3 10:00:00 h sshd[1]: Failed password for x from 1.2.3.4 port 1 ssh2",
      "Mar 33 10:00:00 h sshd[1]: x",
      "Mar  3 25:00:00 h sshd[1]: x",
      "Mar  3 10:00:00 h sshd[1: unterminated",
      "Mar  3 10:00:00 h sshd[1]: Failed password for x from not-an-ip port 1 ssh2",
      "Mar  3 10:00:00 h sshd[1]: message repeated 0 times: [ x]",
      "Mar  3 10:00:00 h sshd[1]: message repeated 99999999999999999999 times: [ x]",
      std::string(1 << 20, 'A'),
      std::string("Mar  3 10:00:00 h sshd[1]: \xff\xfe\x00\x01 from 1.2.3.4", 45),
  };
  for (const auto& l : bad) {
    const ParseResult r = parse(l);
    EXPECT_NE(r, ParseResult::kParsed) << l.substr(0, 80);
  }
}

// Ground truth: loghub's structured CSV gives each line's template; every template has an
// expected action, and the address in the content must be the event's source.ip.
TEST_F(SshdParserTest, LoghubOpenSshGroundTruth) {
  RIPOSTE_REQUIRE_CORPUS(log, "loghub/OpenSSH/OpenSSH_2k.log");
  RIPOSTE_REQUIRE_CORPUS(csv, "loghub/OpenSSH/OpenSSH_2k.log_structured.csv");
  const std::map<std::string, std::string> action = {
      {"E1", "auth_success"},
      {"E2", "connection_closed"},
      {"E3", "no_identification"},
      {"E4", "max_auth_attempts"},
      {"E5", "max_auth_attempts"},
      {"E6", "received_disconnect"},
      {"E7", "received_disconnect"},
      {"E8", "auth_failed"},
      {"E9", "auth_failed"},
      {"E10", "auth_failed"},
      {"E11", "info"},
      {"E12", "info"},
      {"E13", "invalid_user"},
      {"E14", "auth_failed"},
      {"E15", "pam_auth_failure"},
      {"E16", "pam_auth_failure"},
      {"E17", "pam_auth_failure"},
      {"E18", "info"},
      {"E19", "pam_auth_failure"},
      {"E20", "pam_auth_failure"},
      {"E21", "info"},
      {"E22", "session_closed"},
      {"E23", "session_opened"},
      {"E24", "received_disconnect"},
      {"E25", "received_disconnect"},
      {"E26", "received_disconnect"},
      {"E27", "reverse_mapping_failed"},
  };
  const auto lines = readLines(log);
  const auto rows = readLines(csv);
  ASSERT_EQ(rows.size(), lines.size() + 1);
  // A standalone address (not the start of a host name such as 5.36.59.76.dynamic-dsl...).
  const std::regex ipv4(R"((\d{1,3}\.){3}\d{1,3}(?![\w.-]))");
  size_t checked_ips = 0;
  std::map<std::string, int> per_template;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& row = rows[i + 1];
    // LineId,Date,Day,Time,Component,Pid,Content,EventId,EventTemplate — content may hold commas.
    size_t p = 0;
    for (int k = 0; k < 6; ++k) p = row.find(',', p) + 1;
    const size_t t2 = row.rfind(',');
    const size_t t1 = row.rfind(',', t2 - 1);
    const std::string content = row.substr(p, t1 - p);
    const std::string id = row.substr(t1 + 1, t2 - t1 - 1);
    SCOPED_TRACE(lines[i]);
    ASSERT_EQ(parse(lines[i]), ParseResult::kParsed);
    ASSERT_TRUE(action.count(id)) << id;
    EXPECT_EQ(get(Field::kEventAction), action.at(id)) << id;
    std::string msg = get(Field::kMessage);
    while (!msg.empty() && msg.back() == ' ') msg.pop_back();
    EXPECT_EQ(msg, content);
    std::string last_ip;
    for (auto it = std::sregex_iterator(content.begin(), content.end(), ipv4);
         it != std::sregex_iterator(); ++it) {
      last_ip = it->str();
    }
    if (!last_ip.empty()) {
      EXPECT_EQ(get(Field::kSourceIp), last_ip) << id;
      ++checked_ips;
    }
    if (id == "E14") {
      EXPECT_GT(ev_.repeat(), 1u);
    }
    ++per_template[id];
  }
  EXPECT_EQ(per_template.size(), 27u);
  EXPECT_GT(checked_ips, 1500u);
}

// CrowdSec's own parser expectations: for each event its sshd parser produced, the same line
// must give Riposte the same source IP, user and class of event.
TEST_F(SshdParserTest, CrowdsecHubParserAssertions) {
  int compared = 0;
  for (const char* c : {"sshd-logs", "sshd-success-logs"}) {
    const std::string dir = std::string("crowdsec-hub/tests/") + c;
    auto assert_file = testing::corpusFile(dir + "/parser.assert");
    auto log = testing::corpusFile(dir + "/" + c + ".log");
    if (!assert_file || !log) GTEST_SKIP() << "corpora absent: " << dir << " not found";
    const auto lines = readLines(*log);
    // index -> key -> value, for the crowdsecurity/sshd-logs stage
    std::map<int, std::map<std::string, std::string>> results;
    const std::regex re(
        R"re(^results\["s01-parse"\]\["crowdsecurity/sshd(?:-success)?-logs"\]\[(\d+)\]\.Evt\.(Meta|Parsed)\["([^"]+)"\] == "(.*)"$)re");
    for (const auto& a : readLines(*assert_file)) {
      std::smatch m;
      if (std::regex_match(a, m, re))
        results[std::stoi(m[1])][m[2].str() + "." + m[3].str()] = m[4];
    }
    ASSERT_FALSE(results.empty()) << dir;
    size_t line_idx = 0;
    for (const auto& [idx, kv] : results) {
      const std::string msg = kv.count("Parsed.message") ? kv.at("Parsed.message") : "";
      // find the next line carrying this message
      while (line_idx < lines.size() && lines[line_idx].find(msg) == std::string::npos) ++line_idx;
      ASSERT_LT(line_idx, lines.size()) << "no line for result " << idx;
      const std::string& line = lines[line_idx++];
      SCOPED_TRACE(line);
      ASSERT_EQ(parse(line), ParseResult::kParsed);
      if (kv.count("Meta.source_ip")) {
        EXPECT_EQ(get(Field::kSourceIp), kv.at("Meta.source_ip"));
      }
      if (kv.count("Meta.target_user")) {
        EXPECT_EQ(get(Field::kUserName), kv.at("Meta.target_user"));
      }
      if (kv.count("Meta.machine")) {
        EXPECT_EQ(get(Field::kHostName), kv.at("Meta.machine"));
      }
      const std::string lt = kv.count("Meta.log_type") ? kv.at("Meta.log_type") : "";
      if (lt == "ssh_failed-auth") {
        EXPECT_EQ(get(Field::kEventOutcome), "failure");
        EXPECT_EQ(ev_.kind(), EventKind::kAuth);
      } else if (lt == "auth_success") {
        EXPECT_EQ(get(Field::kEventAction), "auth_success");
      } else if (lt == "ssh_auth_timeout") {
        EXPECT_EQ(get(Field::kEventAction), "auth_timeout");
      } else if (lt == "ssh_bad_keyexchange") {
        EXPECT_EQ(get(Field::kEventAction), "kex_failed");
      } else if (lt == "ssh_dispatch_fatal") {
        EXPECT_EQ(get(Field::kEventAction), "protocol_error");
      } else if (lt == "ssh_refused_conn") {
        EXPECT_EQ(get(Field::kEventAction), "refused_connect");
      }
      ++compared;
    }
  }
  EXPECT_GE(compared, 25);
}

TEST(SyslogHeader, Rfc5424WithStructuredData) {
  SyslogHeader h;
  ParseContext ctx;
  const std::string line =
      "<38>1 2024-03-03T10:15:42.003Z web1 sshd 1234 - [origin ip=\"192.0.2.10\" x=\"a\\]b\"] "
      "Failed password for root from 203.0.113.5 port 51240 ssh2";
  ASSERT_TRUE(parseSyslogHeader(line, ctx, h));
  EXPECT_EQ(h.pri, 38);
  EXPECT_EQ(h.host, "web1");
  EXPECT_EQ(h.program, "sshd");
  EXPECT_EQ(h.pid, "1234");
  EXPECT_EQ(h.message, "Failed password for root from 203.0.113.5 port 51240 ssh2");
  EXPECT_EQ(formatRfc3339Utc(h.timestamp), "2024-03-03T10:15:42.003000Z");
}

TEST(SyslogHeader, YearForms) {
  SyslogHeader h;
  ParseContext ctx;
  ctx.year = 2020;
  ASSERT_TRUE(parseSyslogHeader("Mar  3 10:15:42 web1 sshd[1]: x", ctx, h));
  EXPECT_EQ(formatRfc3339Utc(h.timestamp), "2020-03-03T10:15:42Z");
  ASSERT_TRUE(parseSyslogHeader("Mar  3 2019 10:15:42 web1 sshd[1]: x", ctx, h));
  EXPECT_EQ(formatRfc3339Utc(h.timestamp), "2019-03-03T10:15:42Z");
  ASSERT_TRUE(parseSyslogHeader("2018 Mar  3 10:15:42 web1 sshd[1]: x", ctx, h));
  EXPECT_EQ(formatRfc3339Utc(h.timestamp), "2018-03-03T10:15:42Z");
  ASSERT_TRUE(parseSyslogHeader("Nov 2 15:40:14 workshop sshd[28179]: y", ctx, h));
  EXPECT_EQ(formatRfc3339Utc(h.timestamp), "2020-11-02T15:40:14Z");
  EXPECT_EQ(h.message, "y");
  EXPECT_FALSE(parseSyslogHeader("Mar  3 10:15:42", ctx, h));
  EXPECT_FALSE(parseSyslogHeader("hello world", ctx, h));
}

}  // namespace
}  // namespace riposte

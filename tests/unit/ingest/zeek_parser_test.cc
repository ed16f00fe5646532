#include "riposte/ingest/zeek_parser.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "riposte/core/ip.h"
#include "riposte/core/time.h"
#include "support/test_support.h"
#include "unit/ingest/hub_assert.h"

namespace riposte {
namespace {

using testing::parseLine;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> v;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) v.push_back(cur);
  if (!s.empty() && s.back() == sep) v.emplace_back();
  return v;
}

// Epoch text "1521911721.255387" → RFC 3339 UTC, computed independently of the parser.
std::string epochToUtc(const std::string& s) {
  const size_t dot = s.find('.');
  Timestamp t = Timestamp::fromSeconds(std::stoll(s.substr(0, dot)));
  if (dot != std::string::npos) {
    std::string frac = s.substr(dot + 1);
    frac.resize(6, '0');
    t.micros += std::stoll(frac);
  }
  return formatRfc3339Utc(t);
}

// A Zeek TSV file read independently: the #fields header and one name→value map per record.
// btest baselines mask times as XXXXXXXXXX.XXXXXX; those are replaced by `masked_ts`.
struct TsvFile {
  std::vector<std::string> lines;  // as given to the parser (masked times replaced)
  std::vector<std::map<std::string, std::string>> records;
  std::vector<size_t> record_line;
};

TsvFile readTsv(const std::filesystem::path& p,
                const std::string& masked_ts = "1700000000.000000") {
  TsvFile f;
  std::vector<std::string> fields;
  for (auto line : testing::readLines(p)) {
    if (const size_t m = line.find("XXXXXXXXXX.XXXXXX"); m != std::string::npos) {
      line.replace(m, 17, masked_ts);
    }
    f.lines.push_back(line);
    if (line.rfind("#fields\t", 0) == 0) {
      fields = split(line.substr(8), '\t');
    } else if (!line.empty() && line[0] != '#' && !fields.empty()) {
      const auto vals = split(line, '\t');
      std::map<std::string, std::string> rec;
      for (size_t i = 0; i < fields.size() && i < vals.size(); ++i) rec[fields[i]] = vals[i];
      f.records.push_back(rec);
      f.record_line.push_back(f.lines.size() - 1);
    }
  }
  return f;
}

std::string val(const std::map<std::string, std::string>& r, const std::string& k) {
  auto it = r.find(k);
  if (it == r.end() || it->second == "-" || it->second == "(empty)") return "";
  return it->second;
}

// Feeds every line; checks the common fields of each record against the independent reading.
void checkTsv(
    const TsvFile& f, EventKind kind, const std::string& dataset,
    const std::function<void(const std::map<std::string, std::string>&, const Event&)>& more = {}) {
  ZeekParser p;
  Event ev;
  size_t r = 0;
  for (size_t i = 0; i < f.lines.size(); ++i) {
    const auto res = parseLine(p, f.lines[i], ev);
    if (r < f.record_line.size() && f.record_line[r] == i) {
      const auto& rec = f.records[r++];
      SCOPED_TRACE(f.lines[i]);
      ASSERT_EQ(res, ParseResult::kParsed);
      EXPECT_EQ(ev.kind(), kind);
      EXPECT_EQ(ev.get(Field::kEventDataset), dataset);
      EXPECT_EQ(formatRfc3339Utc(ev.timestamp()), epochToUtc(rec.at("ts")));
      // Notices without a connection name the hosts in src/dst instead.
      const bool notice = kind == EventKind::kIdsAlert;
      std::string oh = val(rec, "id.orig_h");
      if (oh.empty() && notice) oh = val(rec, "src");
      EXPECT_EQ(ev.get(Field::kSourceIp), oh.empty() ? "" : *canonicalIp(oh));
      EXPECT_EQ(ev.get(Field::kSourcePort), val(rec, "id.orig_p"));
      std::string rh = val(rec, "id.resp_h");
      if (rh.empty() && notice) rh = val(rec, "dst");
      EXPECT_EQ(ev.get(Field::kDestinationIp), rh.empty() ? "" : *canonicalIp(rh));
      EXPECT_EQ(ev.get(Field::kDestinationPort), val(rec, "id.resp_p"));
      EXPECT_EQ(ev.getExtra("zeek.session_id"), val(rec, "uid"));
      if (more) more(rec, ev);
    } else {
      EXPECT_EQ(res, ParseResult::kSkip) << f.lines[i];
    }
  }
  EXPECT_EQ(r, f.records.size());
  EXPECT_GT(r, 0u);
}

TEST(ZeekParser, RealConnLogWithPortScans) {
  RIPOSTE_REQUIRE_CORPUS(log, "zeek/brimdata-zed/conn.log");
  const auto f = readTsv(log);
  int rejected = 0;
  checkTsv(f, EventKind::kFlow, "zeek.conn", [&](const auto& rec, const Event& ev) {
    EXPECT_EQ(ev.get(Field::kNetworkTransport), val(rec, "proto"));
    EXPECT_EQ(ev.getExtra("zeek.conn.state"), val(rec, "conn_state"));
    EXPECT_EQ(ev.getExtra("network.protocol"), val(rec, "service"));
    rejected += val(rec, "conn_state") == "REJ" ? 1 : 0;
  });
  EXPECT_GT(rejected, 0);  // the scanners' refused connections are there to be counted
}

TEST(ZeekParser, SshLogAuthOutcome) {
  RIPOSTE_REQUIRE_CORPUS(log, "zeek/btest-baseline/scripts.base.protocols.ssh.basic/ssh.log");
  checkTsv(readTsv(log), EventKind::kSsh, "zeek.ssh", [](const auto& rec, const Event& ev) {
    const std::string a = val(rec, "auth_success");
    EXPECT_EQ(ev.get(Field::kEventOutcome), a == "T" ? "success" : a == "F" ? "failure" : "");
    EXPECT_EQ(ev.getExtra("ssh.client.software"), val(rec, "client"));
    EXPECT_EQ(ev.getExtra("zeek.ssh.auth_attempts"), val(rec, "auth_attempts"));
    EXPECT_FALSE(ev.has(Field::kHttpVersion));  // ssh "version" is not http.version
  });
}

TEST(ZeekParser, SshBasicConnLog) {
  RIPOSTE_REQUIRE_CORPUS(log, "zeek/btest-baseline/scripts.base.protocols.ssh.basic/conn.log");
  checkTsv(readTsv(log), EventKind::kFlow, "zeek.conn");
}

// Notices: the expected outcomes listed in SOURCES.md (brute-force guesser, SQL injection).
void checkNotices(const std::filesystem::path& log) {
  checkTsv(readTsv(log), EventKind::kIdsAlert, "zeek.notice", [](const auto& rec, const Event& ev) {
    EXPECT_EQ(ev.get(Field::kRuleName), val(rec, "note"));
    EXPECT_EQ(ev.get(Field::kMessage), val(rec, "msg"));
  });
}

TEST(ZeekParser, NoticeSshPasswordGuessing) {
  RIPOSTE_REQUIRE_CORPUS(
      log, "zeek/btest-baseline/scripts.policy.protocols.ssh.detect-bruteforcing/notice.log");
  checkNotices(log);
  ZeekParser p;
  Event ev;
  bool found = false;
  for (const auto& l : readTsv(log).lines) {
    if (parseLine(p, l, ev) == ParseResult::kParsed &&
        ev.get(Field::kRuleName) == "SSH::Password_Guessing") {
      EXPECT_EQ(ev.get(Field::kSourceIp), "192.168.56.1");  // SOURCES.md: the guesser
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST(ZeekParser, NoticeSqlInjection) {
  RIPOSTE_REQUIRE_CORPUS(
      log, "zeek/btest-baseline/scripts.policy.protocols.http.sql-injection-plus-dvwa2/notice.log");
  checkNotices(log);
}

TEST(ZeekParser, NoticeIntel) {
  RIPOSTE_REQUIRE_CORPUS(log,
                         "zeek/btest-baseline/scripts.policy.frameworks.intel.notice/notice.log");
  checkNotices(log);
}

TEST(ZeekParser, ElasticJsonSshAgainstIndependentReading) {
  RIPOSTE_REQUIRE_CORPUS(log, "zeek/elastic/test-ssh.log");
  ZeekParser p;
  Event ev;
  int n = 0;
  for (const auto& line : testing::readLines(log)) {
    if (line.empty()) continue;
    SCOPED_TRACE(line);
    const auto j = nlohmann::json::parse(line);
    ASSERT_EQ(parseLine(p, line, ev), ParseResult::kParsed);
    EXPECT_EQ(ev.kind(), EventKind::kSsh);
    EXPECT_EQ(ev.get(Field::kSourceIp), *canonicalIp(j.at("id.orig_h").get<std::string>()));
    EXPECT_EQ(ev.get(Field::kSourcePort), std::to_string(j.at("id.orig_p").get<int>()));
    EXPECT_EQ(ev.get(Field::kDestinationIp), *canonicalIp(j.at("id.resp_h").get<std::string>()));
    EXPECT_EQ(ev.get(Field::kDestinationPort), std::to_string(j.at("id.resp_p").get<int>()));
    EXPECT_EQ(ev.getExtra("zeek.ssh.auth_attempts"),
              std::to_string(j.at("auth_attempts").get<int>()));
    if (j.contains("auth_success")) {
      EXPECT_EQ(ev.get(Field::kEventOutcome),
                j.at("auth_success").get<bool>() ? "success" : "failure");
    }
    EXPECT_EQ(ev.timestamp().micros, std::llround(j.at("ts").get<double>() * 1e6));
    ++n;
  }
  EXPECT_GT(n, 2);
}

TEST(ZeekParser, LogWriterSamplesDoNotCrash) {
  RIPOSTE_REQUIRE_CORPUS(
      log, "zeek/btest-baseline/scripts.base.frameworks.logging.ascii-json-iso-timestamps/ssh.log");
  ZeekParser p;
  Event ev;
  for (const auto& l : testing::readLines(log)) {
    // {"t": …} records have no ts: not Zeek records Riposte can place in time.
    if (!l.empty() && l[0] == '{') {
      EXPECT_EQ(parseLine(p, l, ev), ParseResult::kUnrecognised);
    }
  }
}

TEST(ZeekParser, FixtureJsonInference) {
  const auto lines = testing::readLines(testing::fixture("ingest/zeek_mixed.log"));
  ASSERT_EQ(lines.size(), 4u);
  ZeekParser p;
  Event ev;
  ASSERT_EQ(parseLine(p, lines[0], ev), ParseResult::kParsed);
  EXPECT_EQ(ev.kind(), EventKind::kHttp);
  EXPECT_EQ(ev.get(Field::kEventDataset), "zeek.http");
  EXPECT_EQ(ev.get(Field::kUrlPath), "/search");
  EXPECT_EQ(ev.get(Field::kUrlQuery), "q=%27%20or%201=1");
  EXPECT_EQ(ev.get(Field::kHttpVersion), "1.1");
  EXPECT_EQ(ev.get(Field::kHttpStatus), "200");
  EXPECT_EQ(formatRfc3339Utc(ev.timestamp()), "2023-11-14T22:13:20.250000Z");
  ASSERT_EQ(parseLine(p, lines[1], ev), ParseResult::kParsed);
  EXPECT_EQ(ev.kind(), EventKind::kDns);
  EXPECT_EQ(ev.get(Field::kDnsQuestion), "evil.example.net");
  EXPECT_EQ(formatRfc3339Utc(ev.timestamp()), "2023-11-14T00:20:42.738197Z");
  ASSERT_EQ(parseLine(p, lines[2], ev), ParseResult::kParsed);
  EXPECT_EQ(ev.kind(), EventKind::kIdsAlert);
  EXPECT_EQ(ev.get(Field::kRuleName), "Scan::Port_Scan");
  EXPECT_EQ(ev.get(Field::kSourceIp), "203.0.113.7");
  ASSERT_EQ(parseLine(p, lines[3], ev), ParseResult::kParsed);
  EXPECT_EQ(ev.kind(), EventKind::kGeneric);
  EXPECT_EQ(ev.get(Field::kEventDataset), "zeek.files");
}

TEST(ZeekParser, FixtureTsvEscapesAndUnset) {
  const auto f = readTsv(testing::fixture("ingest/zeek_http.tsv"));
  checkTsv(f, EventKind::kHttp, "zeek.http", [](const auto& rec, const Event& ev) {
    EXPECT_EQ(ev.get(Field::kHttpMethod), val(rec, "method"));
    EXPECT_EQ(ev.get(Field::kUrlDomain), val(rec, "host"));
    EXPECT_EQ(ev.get(Field::kUserName), val(rec, "username"));
    EXPECT_EQ(ev.get(Field::kHttpVersion), val(rec, "version"));
  });
  ZeekParser p;
  Event ev;
  for (size_t i = 0; i < 7; ++i) parseLine(p, f.lines[i], ev);
  ASSERT_EQ(parseLine(p, f.lines[7], ev), ParseResult::kParsed);
  // Zeek's \x09 escape undone; a literal backslash-n stays as written.
  EXPECT_EQ(ev.get(Field::kUrlOriginal), "/a\tb%2Fc\\n");
  EXPECT_EQ(ev.get(Field::kUrlPath), "/a\tb/c\\n");
}

TEST(ZeekParser, NestedConnectionId) {
  ZeekParser p;
  Event ev;
  ASSERT_EQ(
      parseLine(
          p,
          R"({"ts":1700000000,"id":{"orig_h":"2001:db8:0:0::1","orig_p":5555,"resp_h":"192.0.2.1","resp_p":22},"auth_success":false})",
          ev),
      ParseResult::kParsed);
  EXPECT_EQ(ev.kind(), EventKind::kSsh);
  EXPECT_EQ(ev.get(Field::kSourceIp), "2001:db8::1");
  EXPECT_EQ(ev.get(Field::kSourcePort), "5555");
  EXPECT_EQ(ev.get(Field::kDestinationPort), "22");
  EXPECT_EQ(ev.get(Field::kEventOutcome), "failure");
}

TEST(ZeekParser, RejectsBadInput) {
  ZeekParser p;
  Event ev;
  // A record before any #fields header.
  EXPECT_EQ(parseLine(p, "1700000000.0\tC1\t1.2.3.4", ev), ParseResult::kUnrecognised);
  EXPECT_EQ(parseLine(p, "#fields\tts\tid.orig_h", ev), ParseResult::kSkip);
  EXPECT_EQ(parseLine(p, "1700000000.0\t1.2.3.4", ev), ParseResult::kParsed);
  EXPECT_EQ(parseLine(p, "1700000000.0\t1.2.3.4\textra", ev), ParseResult::kUnrecognised);
  EXPECT_EQ(parseLine(p, "1700000000.0", ev), ParseResult::kUnrecognised);
  EXPECT_EQ(parseLine(p, "notatime\t1.2.3.4", ev), ParseResult::kUnrecognised);
  EXPECT_EQ(parseLine(p, "#separator \\xZZ", ev), ParseResult::kUnrecognised);
  const std::string good = testing::readLines(testing::fixture("ingest/zeek_mixed.log"))[0];
  for (size_t n = 1; n < good.size(); ++n) {
    EXPECT_EQ(parseLine(p, good.substr(0, n), ev), ParseResult::kUnrecognised) << n;
  }
  for (const std::string& bad : std::vector<std::string>{
           "", "{}", "{\"ts\":\"yesterday\"}", "{\"ts\":-5}", "{\"ts\":1e300}",
           std::string("{\"ts\":1,\"uid\":\"\xff\"}"), std::string(1 << 20, '\t')}) {
    EXPECT_EQ(parseLine(p, bad, ev), ParseResult::kUnrecognised) << bad.substr(0, 40);
  }
}

}  // namespace
}  // namespace riposte

#include "riposte/ingest/access_log_parser.h"

#include <gtest/gtest.h>

#include <ctime>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>

#include "riposte/core/time.h"
#include "support/test_support.h"
#include "unit/ingest/hub_assert.h"

namespace riposte {
namespace {

using testing::HubEvent;

using testing::KeyMap;
using testing::parseLine;
using testing::runHubCase;

// Independent reading of a CLF time ("08/Jun/2020:06:49:01 +0000") with strptime, to check the
// parser's own arithmetic.
std::string clfToUtc(const std::string& s) {
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%d/%b/%Y:%H:%M:%S %z", &tm);
  if (end == nullptr || *end != '\0') return "unparseable:" + s;
  const long off = tm.tm_gmtoff;
  const time_t t = timegm(&tm) - off;
  return formatRfc3339Utc(Timestamp::fromSeconds(t));
}

// Apache error-log time "Thu Oct 13 12:24:49.880562 2022" read with strptime.
std::string apacheErrorToUtc(const std::string& s) {
  std::string base = s;
  std::string frac;
  if (const size_t dot = s.find('.'); dot != std::string::npos) {
    const size_t sp = s.find(' ', dot);
    frac = s.substr(dot + 1, sp - dot - 1);
    base = s.substr(0, dot) + s.substr(sp);
  }
  std::tm tm{};
  const char* end = strptime(base.c_str(), "%a %b %d %H:%M:%S %Y", &tm);
  if (end == nullptr || *end != '\0') return "unparseable:" + s;
  Timestamp ts = Timestamp::fromSeconds(timegm(&tm));
  if (!frac.empty()) ts.micros += std::stoll(frac);
  return formatRfc3339Utc(ts);
}

std::string nginxErrorToUtc(const std::string& s) {
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y/%m/%d %H:%M:%S", &tm);
  if (end == nullptr || *end != '\0') return "unparseable:" + s;
  return formatRfc3339Utc(Timestamp::fromSeconds(timegm(&tm)));
}

TEST(AccessLogParser, CrowdsecNginxParserAssert) {
  RIPOSTE_REQUIRE_CORPUS(log, "crowdsec-hub/tests/nginx_http-logs/nginx_http-logs.log");
  const std::vector<KeyMap> maps = {
      {'M', "source_ip", "source.ip"},
      {'P', "remote_addr", "source.ip"},
      {'P', "remote_user", "user.name", true},
      {'P', "verb", "http.request.method"},
      {'M', "http_verb", "http.request.method"},
      {'P', "request", "url.original"},
      {'M', "http_path", "url.original"},
      {'P', "status", "http.response.status_code"},
      {'M', "http_status", "http.response.status_code"},
      {'P', "body_bytes_sent", "http.response.body.bytes"},
      {'P', "http_referer", "http.request.referrer", true},
      {'P', "http_user_agent", "user_agent.original", true},
      {'M', "http_user_agent", "user_agent.original", true},
      {'P', "http_version", "http.version"},
      {'P', "target_fqdn", "url.domain"},
      {'M', "target_fqdn", "url.domain"},
      {'P', "port", "destination.port"},
      {'P', "loglevel", "log.level"},
      {'P', "time_local", "@timestamp", false, clfToUtc},
      {'P', "time", "@timestamp", false, nginxErrorToUtc},
  };
  AccessLogParser parser("nginx");
  const auto st =
      runHubCase(parser, log.parent_path(), log.filename().string(), "crowdsecurity/non-syslog",
                 "crowdsecurity/nginx-logs", maps, EventKind::kHttp);
  EXPECT_GT(st.checked, 100);
  EXPECT_EQ(st.passed, st.checked);
}

TEST(AccessLogParser, CrowdsecApacheParserAssert) {
  RIPOSTE_REQUIRE_CORPUS(log, "crowdsec-hub/tests/apache2-logs/apache2-logs.log");
  const std::vector<KeyMap> maps = {
      {'M', "source_ip", "source.ip"},
      {'P', "clientip", "source.ip"},
      {'P', "client", "source.ip"},
      {'P', "clientport", "source.port"},
      {'P', "auth", "user.name", true},
      {'P', "username", "user.name"},
      {'M', "username", "user.name"},
      {'P', "verb", "http.request.method"},
      {'M', "http_verb", "http.request.method"},
      {'P', "request", "url.original"},
      {'M', "http_path", "url.original"},
      {'P', "target_uri", "url.original"},
      {'P', "response", "http.response.status_code"},
      {'M', "http_status", "http.response.status_code"},
      {'P', "bytes", "http.response.body.bytes"},
      {'P', "referrer", "http.request.referrer", true},
      {'P', "http_user_agent", "user_agent.original", true},
      {'M', "http_user_agent", "user_agent.original", true},
      {'P', "httpversion", "http.version"},
      {'P', "target_fqdn", "url.domain"},
      {'M', "target_fqdn", "url.domain"},
      {'P', "port", "destination.port"},
      {'P', "loglevel", "log.level"},
      {'P', "errorcode", "error.code"},
      {'P', "module", "apache.error.module"},
  };
  // The access-log "timestamp" is CLF, the error-log one is Apache's ctime-like format.
  AccessLogParser hub_parser("apache");
  const auto st =
      runHubCase(hub_parser, log.parent_path(), log.filename().string(), "crowdsecurity/non-syslog",
                 "crowdsecurity/apache2-logs", maps, EventKind::kHttp);
  EXPECT_GT(st.checked, 80);
  EXPECT_EQ(st.passed, st.checked);

  // Timestamps and error messages, checked per line since the hub uses one key for two formats.
  const auto lines = testing::readLines(log);
  AccessLogParser parser("apache");
  Event ev;
  int n = 0;
  for (auto& he : testing::hubEvents(log.parent_path() / "parser.assert", lines, "s01-parse",
                                     "crowdsecurity/apache2-logs")) {
    auto it = he.parsed.find("timestamp");
    if (it == he.parsed.end() || he.line < 0) continue;
    ASSERT_EQ(parseLine(parser, lines[static_cast<size_t>(he.line)], ev), ParseResult::kParsed);
    const bool error_line = it->second.find('/') == std::string::npos;
    EXPECT_EQ(formatRfc3339Utc(ev.timestamp()),
              error_line ? apacheErrorToUtc(it->second) : clfToUtc(it->second));
    if (error_line) {
      EXPECT_EQ(ev.get(Field::kMessage), he.parsed["message"]);
      EXPECT_EQ(ev.kind(), EventKind::kHttp);
    }
    ++n;
  }
  EXPECT_EQ(n, static_cast<int>(lines.size()));
}

TEST(AccessLogParser, LoghubApacheErrorLogStructuredCsv) {
  RIPOSTE_REQUIRE_CORPUS(log, "loghub/Apache/Apache_2k.log");
  RIPOSTE_REQUIRE_CORPUS(csv, "loghub/Apache/Apache_2k.log_structured.csv");
  const auto lines = testing::readLines(log);
  const auto rows = testing::readLines(csv);
  ASSERT_EQ(rows.size(), lines.size() + 1);
  AccessLogParser parser("apache");
  Event ev;
  int with_client = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    // LineId,Time,Level,Content,EventId,EventTemplate (Content may be quoted when it has commas)
    const std::string& row = rows[i + 1];
    const size_t c1 = row.find(',');
    const size_t c2 = row.find(',', c1 + 1);
    const size_t c3 = row.find(',', c2 + 1);
    const std::string time = row.substr(c1 + 1, c2 - c1 - 1);
    const std::string level = row.substr(c2 + 1, c3 - c2 - 1);
    std::string content = row.substr(c3 + 1, row.rfind(',', row.rfind(',') - 1) - c3 - 1);
    if (content.size() >= 2 && content.front() == '"') {
      content = content.substr(1, content.size() - 2);
      for (size_t q = content.find("\"\""); q != std::string::npos;
           q = content.find("\"\"", q + 1)) {
        content.erase(q, 1);
      }
    }
    ASSERT_EQ(parseLine(parser, lines[i], ev), ParseResult::kParsed) << lines[i];
    EXPECT_EQ(formatRfc3339Utc(ev.timestamp()), apacheErrorToUtc(time)) << lines[i];
    EXPECT_EQ(ev.getExtra("log.level"), level) << lines[i];
    // Riposte's message drops the leading "[client …]" group that loghub keeps in Content.
    const std::string msg(ev.get(Field::kMessage));
    EXPECT_FALSE(msg.empty()) << lines[i];
    EXPECT_TRUE(content.ends_with(msg)) << content << " vs " << msg;
    if (const size_t cl = content.find("[client "); cl != std::string::npos) {
      const std::string ip = content.substr(cl + 8, content.find(']', cl) - cl - 8);
      EXPECT_EQ(ev.get(Field::kSourceIp), ip) << lines[i];
      EXPECT_EQ(ev.kind(), EventKind::kHttp);
      ++with_client;
    } else {
      EXPECT_EQ(ev.kind(), EventKind::kGeneric);
    }
  }
  EXPECT_GT(with_client, 0);
}

TEST(AccessLogParser, FixtureEdgeCases) {
  const auto lines = testing::readLines(testing::fixture("ingest/access.log"));
  ASSERT_EQ(lines.size(), 8u);
  AccessLogParser p("nginx");
  Event ev;
  for (const auto& l : lines) EXPECT_EQ(parseLine(p, l, ev), ParseResult::kParsed) << l;

  ASSERT_EQ(parseLine(p, lines[0], ev), ParseResult::kParsed);
  EXPECT_EQ(ev.kind(), EventKind::kHttp);
  EXPECT_EQ(ev.get(Field::kEventDataset), "nginx.access");
  EXPECT_EQ(ev.get(Field::kUrlOriginal), "/index.php?id=1%27%20OR%201=1--");
  EXPECT_EQ(ev.get(Field::kUrlPath), "/index.php");
  EXPECT_EQ(ev.get(Field::kUrlQuery), "id=1%27%20OR%201=1--");
  EXPECT_EQ(ev.get(Field::kUserAgent), "sqlmap/1.7");
  EXPECT_FALSE(ev.has(Field::kHttpReferrer));
  EXPECT_FALSE(ev.has(Field::kUserName));
  EXPECT_EQ(formatRfc3339(ev.timestamp()), "2024-03-03T10:15:42+00:00");

  ASSERT_EQ(parseLine(p, lines[1], ev), ParseResult::kParsed);
  EXPECT_EQ(ev.get(Field::kSourceIp), "2001:db8::5");
  EXPECT_EQ(ev.get(Field::kUserName), "alice");
  EXPECT_EQ(ev.get(Field::kHttpVersion), "2.0");
  EXPECT_EQ(ev.get(Field::kHttpStatus), "401");
  EXPECT_EQ(ev.get(Field::kHttpReferrer), "https://example.com/");
  EXPECT_EQ(formatRfc3339(ev.timestamp()), "2024-03-03T10:15:43+01:00");
  EXPECT_EQ(formatRfc3339Utc(ev.timestamp()), "2024-03-03T09:15:43Z");

  ASSERT_EQ(parseLine(p, lines[2], ev), ParseResult::kParsed);  // TLS hello on a plain port
  EXPECT_FALSE(ev.has(Field::kHttpMethod));
  EXPECT_FALSE(ev.has(Field::kUrlOriginal));
  EXPECT_EQ(ev.getExtra("http.request.invalid").substr(0, 3), std::string("\x16\x03\x01", 3));
  EXPECT_EQ(ev.get(Field::kHttpStatus), "400");

  ASSERT_EQ(parseLine(p, lines[3], ev), ParseResult::kParsed);
  EXPECT_EQ(ev.get(Field::kUrlPath), "/a/b%zz/c.php");  // %2F decoded, malformed %zz kept
  EXPECT_EQ(ev.get(Field::kHttpBytes), "0");            // Apache "-" bytes
  EXPECT_EQ(ev.get(Field::kUserAgent), "curl \"quoted\" \\ agent");
  EXPECT_EQ(formatRfc3339Utc(ev.timestamp()), "2024-03-03T15:15:45Z");

  ASSERT_EQ(parseLine(p, lines[4], ev), ParseResult::kParsed);  // vhost:port, upper-case v6
  EXPECT_EQ(ev.get(Field::kUrlDomain), "shop.example.com");
  EXPECT_EQ(ev.get(Field::kDestinationPort), "443");
  EXPECT_EQ(ev.get(Field::kSourceIp), "2001:db8::7");
  EXPECT_EQ(ev.get(Field::kUserName), "bob");

  ASSERT_EQ(parseLine(p, lines[5], ev), ParseResult::kParsed);  // "-" request
  EXPECT_FALSE(ev.has(Field::kHttpMethod));
  EXPECT_FALSE(ev.has(Field::kUrlOriginal));

  ASSERT_EQ(parseLine(p, lines[6], ev), ParseResult::kParsed);  // extra trailing fields
  EXPECT_EQ(ev.get(Field::kUserAgent), "ua");

  ASSERT_EQ(parseLine(p, lines[7], ev), ParseResult::kParsed);  // common format, mapped v4
  EXPECT_EQ(ev.get(Field::kSourceIp), "192.0.2.44");
  EXPECT_FALSE(ev.has(Field::kUserAgent));
  EXPECT_EQ(ev.get(Field::kHttpBytes), "1");
}

TEST(AccessLogParser, RejectsGarbageWithoutCrashing) {
  AccessLogParser p("apache");
  Event ev;
  const std::vector<std::string> bad = {
      "",
      "hello world",
      "203.0.113.5 - - [03/Mar/2024:10:15:42 +0000]",
      "203.0.113.5 - - [03/Mar/2024:10:15:42 +0000] \"GET / HTTP/1.1",
      "203.0.113.5 - - [03/Mar/2024:10:15:42 +0000] \"GET / HTTP/1.1\" abc 1",
      "203.0.113.5 - - [33/Foo/2024:10:15:42 +0000] \"GET / HTTP/1.1\" 200 1",
      "203.0.113.5 - - [03/Mar/2024:25:15:42 +0000] \"GET / HTTP/1.1\" 200 1",
      "a b c d e f [03/Mar/2024:10:15:42 +0000] \"GET / HTTP/1.1\" 200 1",
      "[",
      "[Sun Dec 04 04:47:44 2005]",
      "[Sun Dec 04 04:47:44 2005] [",
      "2021/12/01 13:53:33 [",
      std::string("\xff\xfe\x00\x01garbage", 12),
  };
  for (const auto& l : bad) {
    EXPECT_EQ(parseLine(p, l, ev), ParseResult::kUnrecognised) << l;
  }
  // 1 MB line of a valid prefix and junk, and 1 MB of quotes and backslashes.
  std::string big =
      "203.0.113.5 - - [03/Mar/2024:10:15:42 +0000] \"GET /" + std::string(1 << 20, 'a');
  EXPECT_EQ(parseLine(p, big, ev), ParseResult::kUnrecognised);
  std::string q(1 << 20, '\\');
  for (size_t i = 0; i < q.size(); i += 3) q[i] = '"';
  EXPECT_EQ(parseLine(p, q, ev), ParseResult::kUnrecognised);
  // A valid line with a 1 MB path still parses.
  std::string longpath = "203.0.113.5 - - [03/Mar/2024:10:15:42 +0000] \"GET /" +
                         std::string(1 << 20, '%') + " HTTP/1.1\" 200 1 \"-\" \"x\"";
  EXPECT_EQ(parseLine(p, longpath, ev), ParseResult::kParsed);
  EXPECT_EQ(ev.get(Field::kUrlPath).size(), (1u << 20) + 1);
}

}  // namespace
}  // namespace riposte

namespace riposte {
namespace {

// Every event in the alerts of the hub's web scenario cases carries the parsed metadata
// CrowdSec's nginx/apache2 parsers produced for its line: some line of the case's log must
// parse here to the same values.
TEST(AccessLogParser, CrowdsecScenarioEventsAreReproduced) {
  auto root = testing::corporaDir();
  if (!root || !std::filesystem::exists(*root / "crowdsec-hub/tests")) {
    GTEST_SKIP() << "corpora absent: crowdsec-hub/tests not found (set RIPOSTE_CORPORA)";
  }
  static const std::regex kLogType(R"re(^log_type:\s*(\S+))re");
  static const std::regex kLogFile(R"re(^log_file:\s*(\S+))re");
  const std::map<std::string, std::string> keys = {{"source_ip", "source.ip"},
                                                   {"http_path", "url.original"},
                                                   {"http_status", "http.response.status_code"},
                                                   {"http_user_agent", "user_agent.original"},
                                                   {"http_verb", "http.request.method"},
                                                   {"target_fqdn", "url.domain"},
                                                   {"username", "user.name"},
                                                   {"timestamp", "@timestamp"}};
  int cases = 0;
  int events = 0;
  int values = 0;
  for (const auto& dir : std::filesystem::directory_iterator(*root / "crowdsec-hub/tests")) {
    std::string type;
    std::string file;
    for (const auto& l : testing::readLines(dir.path() / "config.yaml")) {
      std::smatch m;
      if (std::regex_match(l, m, kLogType)) type = m[1];
      if (std::regex_match(l, m, kLogFile)) file = m[1];
    }
    if ((type != "nginx" && type != "apache2") ||
        !std::filesystem::exists(dir.path() / "scenario.assert")) {
      continue;
    }
    AccessLogParser p(type == "nginx" ? "nginx" : "apache");
    const auto st =
        testing::checkScenarioEvents(p, dir.path(), file, keys, ParseContext{},
                                     [&](const std::map<std::string, std::string>& meta,
                                         std::map<std::string, std::string>& want) {
                                       // In nginx error lines the hub's target_fqdn is the server
                                       // name, not the Host header.
                                       auto lt = meta.find("log_type");
                                       auto it = want.find("url.domain");
                                       if (type == "nginx" && lt != meta.end() &&
                                           lt->second == "http_error-log" && it != want.end()) {
                                         want["nginx.error.server"] = it->second;
                                         want.erase(it);
                                       }
                                     });
    events += st.events;
    values += st.values;
    ++cases;
  }
  std::cout << "[hub scenarios] " << cases << " web cases, " << events << " alert events ("
            << values << " metadata values) reproduced\n";
  EXPECT_GE(cases, 15);
  EXPECT_GT(events, 50);
}

}  // namespace
}  // namespace riposte

#include "riposte/ingest/eve_parser.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "riposte/core/ip.h"
#include "riposte/core/time.h"
#include "support/test_support.h"
#include "unit/ingest/hub_assert.h"

namespace riposte {
namespace {

using testing::KeyMap;
using testing::parseLine;

std::string lower(const std::string& s) {
  std::string o = s;
  for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}
// The hub keeps Suricata's local time without its offset; every case in the corpus is UTC.
std::string utcTime(const std::string& s) { return s + "Z"; }

TEST(EveParser, CrowdsecSuricataParserAssert) {
  RIPOSTE_REQUIRE_CORPUS(log, "crowdsec-hub/tests/suricata-logs-evelog/suricata-logs-evelog.log");
  const std::vector<KeyMap> maps = {
      {'M', "source_ip", "source.ip"},
      {'P', "dest_ip", "destination.ip"},
      {'P', "dest_port", "destination.port"},
      {'P', "proto", "network.transport", false, lower},
      {'P', "suricata_alert_signature", "rule.name"},
      {'P', "suricata_alert_signature_rev", "rule.version"},
      {'M', "suricata_alert_signature_id", "rule.id"},
      {'M', "suricata_flow_id", "suricata.eve.flow_id"},
      {'M', "suricata_rule_severity", "event.severity"},
      {'P', "time", "@timestamp", false, utcTime},
  };
  EveParser parser;
  const auto st = testing::runHubCase(parser, log.parent_path(), log.filename().string(),
                                      "crowdsecurity/non-syslog", "crowdsecurity/suricata-evelogs",
                                      maps, EventKind::kIdsAlert);
  EXPECT_GT(st.checked, 40);
  EXPECT_EQ(st.passed, st.checked);
}

// Expectations derived from an independent JSON reading (nlohmann) of each EVE record.
void checkAgainstJson(EveParser& p, const std::string& line) {
  SCOPED_TRACE(line.substr(0, 200));
  const auto j = nlohmann::json::parse(line);
  Event ev;
  const auto r = parseLine(p, line, ev);
  const std::string type = j.at("event_type");
  if (type == "stats") {
    EXPECT_EQ(r, ParseResult::kSkip);
    return;
  }
  ASSERT_EQ(r, ParseResult::kParsed);
  const std::map<std::string, EventKind> kinds = {
      {"alert", EventKind::kIdsAlert}, {"flow", EventKind::kFlow}, {"http", EventKind::kHttp},
      {"dns", EventKind::kDns},        {"tls", EventKind::kTls},   {"fileinfo", EventKind::kFile},
      {"ssh", EventKind::kSsh}};
  EXPECT_EQ(ev.kind(), kinds.count(type) ? kinds.at(type) : EventKind::kGeneric);
  EXPECT_EQ(ev.timestamp(), *parseRfc3339(j.at("timestamp").get<std::string>()));
  auto str = [&](const nlohmann::json& o, const char* k) -> std::string {
    if (!o.contains(k)) return "";
    const auto& v = o.at(k);
    return v.is_string() ? v.get<std::string>() : v.dump();
  };
  if (j.contains("src_ip")) {
    EXPECT_EQ(ev.get(Field::kSourceIp), *canonicalIp(str(j, "src_ip")));
  }
  if (j.contains("dest_ip")) {
    EXPECT_EQ(ev.get(Field::kDestinationIp), *canonicalIp(str(j, "dest_ip")));
  }
  EXPECT_EQ(ev.get(Field::kSourcePort), str(j, "src_port"));
  EXPECT_EQ(ev.get(Field::kDestinationPort), str(j, "dest_port"));
  EXPECT_EQ(ev.get(Field::kNetworkTransport), lower(str(j, "proto")));
  if (j.contains("flow_id")) {
    EXPECT_EQ(ev.getExtra("suricata.eve.flow_id"), std::to_string(j.at("flow_id").get<uint64_t>()));
  }
  if (j.contains("alert")) {
    const auto& a = j.at("alert");
    EXPECT_EQ(ev.get(Field::kRuleName), str(a, "signature"));
    EXPECT_EQ(ev.get(Field::kRuleId), str(a, "signature_id"));
    EXPECT_EQ(ev.get(Field::kRuleCategory), str(a, "category"));
    EXPECT_EQ(ev.get(Field::kEventSeverity), str(a, "severity"));
    EXPECT_EQ(ev.get(Field::kEventAction), str(a, "action"));
  }
  if (j.contains("http")) {
    const auto& h = j.at("http");
    EXPECT_EQ(ev.get(Field::kUrlDomain), str(h, "hostname"));
    EXPECT_EQ(ev.get(Field::kUrlOriginal), str(h, "url"));
    EXPECT_EQ(ev.get(Field::kUserAgent), str(h, "http_user_agent"));
    EXPECT_EQ(ev.get(Field::kHttpMethod), str(h, "http_method"));
    EXPECT_EQ(ev.get(Field::kHttpStatus), str(h, "status"));
    EXPECT_EQ(ev.get(Field::kHttpBytes), str(h, "length"));
    const std::string proto = str(h, "protocol");
    EXPECT_EQ(ev.get(Field::kHttpVersion), proto.starts_with("HTTP/") ? proto.substr(5) : proto);
  }
  if (j.contains("dns")) {
    const auto& d = j.at("dns");
    std::string q = str(d, "rrname");
    if (q.empty() && d.contains("queries")) q = str(d.at("queries").at(0), "rrname");
    EXPECT_EQ(ev.get(Field::kDnsQuestion), q);
  }
  if (j.contains("tls")) {
    EXPECT_EQ(ev.get(Field::kTlsSni), str(j.at("tls"), "sni"));
  }
  if (j.contains("fileinfo")) {
    const auto& f = j.at("fileinfo");
    EXPECT_EQ(ev.get(Field::kFileHashMd5), str(f, "md5"));
    EXPECT_EQ(ev.get(Field::kFileHashSha1), str(f, "sha1"));
    EXPECT_EQ(ev.get(Field::kFileHashSha256), str(f, "sha256"));
  }
}

TEST(EveParser, ElasticSampleAgainstIndependentJsonReading) {
  RIPOSTE_REQUIRE_CORPUS(log, "suricata/elastic/test-eve-small.log");
  EveParser p;
  int n = 0;
  for (const auto& line : testing::readLines(log)) {
    if (line.empty()) continue;
    checkAgainstJson(p, line);
    ++n;
  }
  EXPECT_GT(n, 10);
}

TEST(EveParser, CrowdsecEveDetectScenarioEvents) {
  RIPOSTE_REQUIRE_CORPUS(log, "crowdsec-hub/tests/suricata-eve-detect/suricata-eve-detect.log");
  EveParser p;
  for (const auto& line : testing::readLines(log)) checkAgainstJson(p, line);
  const auto st = testing::checkScenarioEvents(p, log.parent_path(), log.filename().string(),
                                               {{"source_ip", "source.ip"},
                                                {"suricata_rule_severity", "event.severity"},
                                                {"suricata_flow_id", "suricata.eve.flow_id"},
                                                {"suricata_alert_signature_id", "rule.id"},
                                                {"timestamp", "@timestamp"}});
  EXPECT_EQ(st.events, 4);
  EXPECT_GE(st.values, 16);
}

TEST(EveParser, FixtureEdgeCases) {
  const auto lines = testing::readLines(testing::fixture("ingest/eve.ndjson"));
  ASSERT_EQ(lines.size(), 7u);
  EveParser p;
  for (const auto& l : lines) checkAgainstJson(p, l);

  Event ev;
  ASSERT_EQ(parseLine(p, lines[1], ev), ParseResult::kParsed);
  EXPECT_EQ(ev.getExtra("suricata.eve.flow_id"), "18446744073709551615");  // > 2^63, exact
  EXPECT_EQ(ev.get(Field::kSourceIp), "2001:db8::1");
  EXPECT_EQ(ev.timestamp().offset_minutes, -240);
  EXPECT_EQ(ev.get(Field::kHttpStatus), "401");  // status as a string
  EXPECT_EQ(ev.get(Field::kUrlPath), "/wp-login.php");
  EXPECT_EQ(ev.get(Field::kUrlQuery), "a=%41&b=1");
  EXPECT_EQ(ev.get(Field::kUserAgent), "curl/8.0 \"x\"");
  ASSERT_EQ(parseLine(p, lines[2], ev), ParseResult::kParsed);
  EXPECT_EQ(ev.getExtra("suricata.eve.flow_id"), "9007199254740993");  // 2^53 + 1, exact
  EXPECT_EQ(ev.get(Field::kDnsQuestion), "evil.example.net");
  ASSERT_EQ(parseLine(p, lines[4], ev), ParseResult::kParsed);
  EXPECT_EQ(ev.get(Field::kSourceIp), "198.51.100.7");  // v4-mapped folded
  EXPECT_EQ(ev.timestamp().micros % 1000000, 500000);
}

TEST(EveParser, RejectsMalformedInput) {
  EveParser p;
  Event ev;
  const std::string good = testing::readLines(testing::fixture("ingest/eve.ndjson"))[0];
  // Every truncation of a valid record is rejected, never a crash.
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_EQ(parseLine(p, good.substr(0, n), ev), ParseResult::kUnrecognised) << n;
  }
  const std::vector<std::string> bad = {
      "",
      "{}",
      "[1,2,3]",
      "not json",
      R"({"timestamp":"2024-13-03T10:15:42Z","event_type":"alert"})",
      R"({"timestamp":"2024-03-03T10:15:42Z"})",
      R"({"event_type":"alert"})",
      R"({"timestamp":"2024-03-03T10:15:42Z","event_type":"alert","alert":{"signature":"x"})",
      R"({"timestamp":"2024-03-03T10:15:42Z","event_type":"alert",,})",
      R"({"timestamp":"2024-03-03T10:15:42Z","event_type":"alert","flow_id":-1})",
      R"({"timestamp":"2024-03-03T10:15:42Z","event_type":"alert","x":"\ud800"})",
      std::string(
          "{\"timestamp\":\"2024-03-03T10:15:42Z\",\"event_type\":\"alert\",\"x\":\"\xff\xfe\"}"),
      std::string("\0\0\0{}", 5),
  };
  for (const auto& l : bad) EXPECT_EQ(parseLine(p, l, ev), ParseResult::kUnrecognised) << l;

  // Wrong types on known keys are tolerated; the record still parses.
  EXPECT_EQ(
      parseLine(
          p,
          R"({"timestamp":"2024-03-03T10:15:42Z","event_type":"alert","src_ip":5,"src_port":"x","alert":7,"http":[1]})",
          ev),
      ParseResult::kParsed);
  EXPECT_FALSE(ev.has(Field::kSourceIp));

  // A 1 MB record parses; 1 MB of nesting does not crash.
  std::string big = R"({"timestamp":"2024-03-03T10:15:42Z","event_type":"http","http":{"url":"/)" +
                    std::string(1 << 20, 'a') + R"("}})";
  EXPECT_EQ(parseLine(p, big, ev), ParseResult::kParsed);
  EXPECT_EQ(ev.get(Field::kUrlOriginal).size(), (1u << 20) + 1);
  std::string deep = "{\"a\":" + std::string(1 << 20, '[') + std::string(1 << 20, ']') + "}";
  EXPECT_EQ(parseLine(p, deep, ev), ParseResult::kUnrecognised);
}

}  // namespace
}  // namespace riposte

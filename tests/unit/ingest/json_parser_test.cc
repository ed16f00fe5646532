#include "riposte/ingest/json_parser.h"

#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include "riposte/core/registry.h"
#include "riposte/ingest/access_log_parser.h"
#include "riposte/ingest/eve_parser.h"
#include "riposte/ingest/zeek_parser.h"
#include "support/test_support.h"
#include "unit/ingest/hub_assert.h"

namespace riposte {
namespace {

using testing::parseLine;

// Every field, the kind, time and repeat of `a` survive Event::toJson() → JsonParser.
void expectRoundTrip(const Event& a) {
  const std::string j = a.toJson();
  SCOPED_TRACE(j);
  JsonParser p;
  Event b;
  ASSERT_EQ(parseLine(p, j, b), ParseResult::kParsed);
  EXPECT_EQ(b.kind(), a.kind());
  EXPECT_EQ(b.timestamp().micros, a.timestamp().micros);
  EXPECT_EQ(b.repeat(), a.repeat());
  for (size_t i = 0; i < kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    EXPECT_EQ(b.get(f), a.get(f)) << fieldName(f);
  }
  for (const auto& [k, v] : a.extra()) EXPECT_EQ(b.getExtra(k), v) << k;
}

TEST(JsonParser, RoundTripsEventsOfTheOtherParsers) {
  int n = 0;
  Event ev;
  AccessLogParser web("nginx");
  for (const auto& l : testing::readLines(testing::fixture("ingest/access.log"))) {
    ASSERT_EQ(parseLine(web, l, ev), ParseResult::kParsed);
    if (!ev.getExtra("http.request.invalid").empty()) continue;  // binary, not valid UTF-8 JSON
    expectRoundTrip(ev);
    ++n;
  }
  EveParser eve;
  for (const auto& l : testing::readLines(testing::fixture("ingest/eve.ndjson"))) {
    if (parseLine(eve, l, ev) != ParseResult::kParsed) continue;
    expectRoundTrip(ev);
    ++n;
  }
  ZeekParser zeek;
  for (const auto& l : testing::readLines(testing::fixture("ingest/zeek_http.tsv"))) {
    if (parseLine(zeek, l, ev) != ParseResult::kParsed) continue;
    expectRoundTrip(ev);
    ++n;
  }
  ev.clear();
  ev.setKind(EventKind::kAuth);
  ev.setRepeat(3);
  ev.setTimestamp(*parseRfc3339("2024-03-03T10:15:42+01:00"));
  ev.set(Field::kUserName, "root");
  expectRoundTrip(ev);
  EXPECT_GT(n, 10);
}

TEST(JsonParser, NestedEcsObject) {
  // The normalised event of formats.md §6.7.
  const std::string j =
      R"({"@timestamp":"2024-03-03T10:15:42Z","message":"Failed password for root from 203.0.113.5 port 51240 ssh2",)"
      R"("event":{"kind":"event","category":["authentication"],"type":["start"],"action":"ssh_login",)"
      R"("outcome":"failure","dataset":"system.auth"},)"
      R"("source":{"ip":"203.0.113.5","port":51240},"destination":{"ip":"192.0.2.10","port":22},)"
      R"("user":{"name":"root"},"host":{"name":"web1"},"process":{"name":"sshd","pid":1240},)"
      R"("related":{"ip":["203.0.113.5"],"user":["root"]}})";
  JsonParser p;
  Event ev;
  ASSERT_EQ(parseLine(p, j, ev), ParseResult::kParsed);
  EXPECT_EQ(ev.kind(), EventKind::kAuth);
  EXPECT_EQ(formatRfc3339Utc(ev.timestamp()), "2024-03-03T10:15:42Z");
  EXPECT_EQ(ev.get(Field::kEventCategory), "authentication");
  EXPECT_EQ(ev.get(Field::kEventAction), "ssh_login");
  EXPECT_EQ(ev.get(Field::kEventOutcome), "failure");
  EXPECT_EQ(ev.get(Field::kSourceIp), "203.0.113.5");
  EXPECT_EQ(ev.get(Field::kSourcePort), "51240");
  EXPECT_EQ(ev.get(Field::kDestinationPort), "22");
  EXPECT_EQ(ev.get(Field::kUserName), "root");
  EXPECT_EQ(ev.get(Field::kProcessPid), "1240");
  EXPECT_EQ(ev.get(Field::kMessage), "Failed password for root from 203.0.113.5 port 51240 ssh2");
  EXPECT_EQ(ev.getExtra("event.type"), "start");
  EXPECT_EQ(ev.getExtra("related.ip"), "203.0.113.5");
}

TEST(JsonParser, KindInferenceAndValueForms) {
  JsonParser p;
  Event ev;
  ASSERT_EQ(
      parseLine(
          p,
          R"({"@timestamp":1709460942.5,"url.original":"/x","source.ip":"2001:DB8::1","ok":true,"n":null,"list":[{"a":1}]})",
          ev),
      ParseResult::kParsed);
  EXPECT_EQ(ev.kind(), EventKind::kHttp);
  EXPECT_EQ(ev.timestamp().micros, 1709460942500000);
  EXPECT_EQ(ev.get(Field::kSourceIp), "2001:db8::1");
  EXPECT_EQ(ev.getExtra("ok"), "true");
  EXPECT_EQ(ev.getExtra("n"), "");
  EXPECT_EQ(ev.getExtra("list"), R"([{"a":1}])");
  ASSERT_EQ(parseLine(p, R"({"event":{"kind":"alert"},"source":{"ip":"192.0.2.1"}})", ev),
            ParseResult::kParsed);
  EXPECT_EQ(ev.kind(), EventKind::kIdsAlert);
  ASSERT_EQ(parseLine(p, R"({"dns":{"question":{"name":"a.example"}}})", ev), ParseResult::kParsed);
  EXPECT_EQ(ev.kind(), EventKind::kDns);
  ASSERT_EQ(parseLine(p, R"({"foo":"bar"})", ev), ParseResult::kParsed);
  EXPECT_EQ(ev.kind(), EventKind::kGeneric);
}

TEST(JsonParser, FieldMappingFromConfig) {
  Registries r;
  ASSERT_TRUE(registerBuiltins(r).isOk());
  ComponentConfig cfg;
  cfg.name = "custom";
  cfg.type = "json";
  cfg.path = "sources[0].parser";
  cfg.node =
      YAML::Load("{type: json, fields: {src: source.ip, when: '@timestamp', who.name: user.name}}");
  auto made = r.parsers.create(cfg, FactoryContext{});
  ASSERT_TRUE(made.isOk()) << made.status().toString();
  Event ev;
  ASSERT_EQ(
      parseLine(**made,
                R"({"src":"198.51.100.4","when":"2024-03-03T10:15:42Z","who":{"name":"eve"}})", ev),
      ParseResult::kParsed);
  EXPECT_EQ(ev.get(Field::kSourceIp), "198.51.100.4");
  EXPECT_EQ(ev.get(Field::kUserName), "eve");
  EXPECT_EQ(ev.timestamp().seconds(), 1709460942);
  cfg.node = YAML::Load("{type: json, fields: [a, b]}");
  EXPECT_FALSE(r.parsers.create(cfg, FactoryContext{}).isOk());
}

TEST(JsonParser, RejectsBadInput) {
  JsonParser p;
  Event ev;
  const std::string good =
      R"({"@timestamp":"2024-03-03T10:15:42Z","source":{"ip":"203.0.113.5"},"a":[1,2]})";
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_EQ(parseLine(p, good.substr(0, n), ev), ParseResult::kUnrecognised) << n;
  }
  for (const std::string& bad : std::vector<std::string>{
           "", "[]", "1", "null", "{", R"({"@timestamp":"yesterday"})", R"({"@timestamp":-1})",
           std::string("{\"a\":\"\xc3\x28\"}"), std::string(1 << 20, '{')}) {
    EXPECT_EQ(parseLine(p, bad, ev), ParseResult::kUnrecognised) << bad.substr(0, 40);
  }
  // Deep nesting within simdjson's limit is flattened to 32 levels, then kept as JSON.
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 100; ++i) deep += "}";
  ASSERT_EQ(parseLine(p, deep, ev), ParseResult::kParsed);
  ASSERT_EQ(ev.extra().size(), 1u);
  EXPECT_EQ(std::count(ev.extra()[0].first.begin(), ev.extra()[0].first.end(), '.'), 31);
}

}  // namespace
}  // namespace riposte

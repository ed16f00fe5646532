#include "riposte/ingest/iptables_parser.h"

#include <gtest/gtest.h>

#include <regex>

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

TEST(IptablesParser, CrowdsecIptablesParserAssert) {
  RIPOSTE_REQUIRE_CORPUS(log, "crowdsec-hub/tests/iptables-logs/iptables-logs.log");
  const std::vector<KeyMap> maps = {
      {'M', "source_ip", "source.ip"},       {'P', "src_ip", "source.ip"},
      {'P', "dst_ip", "destination.ip"},     {'P', "src_port", "source.port"},
      {'P', "dst_port", "destination.port"}, {'P', "proto", "network.transport", false, lower},
      {'M', "service", "network.transport"}, {'M', "machine", "host.name"},
      {'P', "program", "process.name"},      {'P', "int_eth", "observer.ingress.interface.name"},
  };
  IptablesParser parser;
  const auto st = testing::runHubCase(parser, log.parent_path(), log.filename().string(),
                                      "crowdsecurity/syslog-logs", "crowdsecurity/iptables-logs",
                                      maps, EventKind::kFirewall);
  EXPECT_GT(st.checked, 25);
  EXPECT_EQ(st.passed, st.checked);

  // Year-less syslog times: the hub checks MarshaledTime[4:] (all but the year).
  const auto lines = testing::readLines(log);
  static const std::regex kTime(
      R"re(^results\["s02-enrich"\]\["crowdsecurity/dateparse-enrich"\]\[(\d+)\]\.Evt\.Enriched\["MarshaledTime"\]\[4:\] == "([^"]*)"$)re");
  auto events = testing::hubEvents(log.parent_path() / "parser.assert", lines, "s02-enrich",
                                   "crowdsecurity/dateparse-enrich");
  int checked = 0;
  Event ev;
  ParseContext ctx;
  ctx.year = 2026;
  for (const auto& l : testing::readLines(log.parent_path() / "parser.assert")) {
    std::smatch m;
    if (!std::regex_match(l, m, kTime)) continue;
    const int idx = std::stoi(m[1]);
    for (const auto& he : events) {
      if (he.index != idx || he.line < 0) continue;
      ASSERT_EQ(parseLine(parser, lines[static_cast<size_t>(he.line)], ev, ctx),
                ParseResult::kParsed);
      EXPECT_EQ(formatRfc3339Utc(ev.timestamp()).substr(4), m[2].str());
      EXPECT_EQ(formatRfc3339Utc(ev.timestamp()).substr(0, 4), "2026");
      ++checked;
    }
  }
  EXPECT_EQ(checked, 3);
}

TEST(IptablesParser, CrowdsecScanScenarioEvents) {
  RIPOSTE_REQUIRE_CORPUS(
      log, "crowdsec-hub/tests/iptables-scan-multi-port/iptables-scan-multi-port.log");
  IptablesParser p;
  ParseContext ctx;
  ctx.year = 2026;  // the year CrowdSec gave these year-less lines when the asserts were made
  const auto st = testing::checkScenarioEvents(p, log.parent_path(), log.filename().string(),
                                               {{"source_ip", "source.ip"},
                                                {"machine", "host.name"},
                                                {"service", "network.transport"},
                                                {"timestamp", "@timestamp"}},
                                               ctx);
  EXPECT_EQ(st.events, 32);
  EXPECT_EQ(st.values, 128);
}

TEST(IptablesParser, CrowdsecScanCaseParsesEveryLine) {
  RIPOSTE_REQUIRE_CORPUS(
      log, "crowdsec-hub/tests/iptables-scan-multi-port/iptables-scan-multi-port.log");
  IptablesParser p;
  Event ev;
  for (const auto& l : testing::readLines(log)) {
    if (l.empty()) continue;
    ASSERT_EQ(parseLine(p, l, ev), ParseResult::kParsed) << l;
    const size_t s = l.find(" SRC=") + 5;
    EXPECT_EQ(ev.get(Field::kSourceIp), l.substr(s, l.find(' ', s) - s));
    const size_t d = l.find(" DPT=") + 5;
    EXPECT_EQ(ev.get(Field::kDestinationPort), l.substr(d, l.find(' ', d) - d));
  }
}

TEST(IptablesParser, FormsAndEdgeCases) {
  IptablesParser p;
  Event ev;
  // nftables with an RFC 3339 header and an expanded IPv6 address.
  ASSERT_EQ(
      parseLine(
          p,
          "2026-01-12T11:16:10.792703+00:00 fw1 kernel: [1234.5] nft-drop IN=eth0 OUT= "
          "MAC=aa SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:db8::2 LEN=80 "
          "TC=0 HOPLIMIT=57 FLOWLBL=0 PROTO=TCP SPT=40000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0",
          ev),
      ParseResult::kParsed);
  EXPECT_EQ(ev.get(Field::kSourceIp), "2001:db8::1");
  EXPECT_EQ(ev.get(Field::kHostName), "fw1");
  EXPECT_EQ(ev.get(Field::kRuleName), "nft-drop");
  EXPECT_EQ(ev.get(Field::kNetworkTransport), "tcp");
  EXPECT_EQ(ev.get(Field::kDestinationPort), "22");
  EXPECT_EQ(formatRfc3339Utc(ev.timestamp()), "2026-01-12T11:16:10.792703Z");
  EXPECT_FALSE(ev.getExtra("observer.egress.interface.name").size());

  // ICMP error quoting another packet: the outer addresses count, not the quoted ones.
  ASSERT_EQ(parseLine(p,
                      "<4>Mar  3 10:15:42 gw kernel: DROP IN=eth0 OUT= SRC=198.51.100.1 "
                      "DST=192.0.2.9 LEN=56 PROTO=ICMP TYPE=3 CODE=3 [SRC=192.0.2.9 "
                      "DST=198.51.100.1 LEN=28 PROTO=UDP SPT=53 DPT=33434 LEN=8 ]",
                      ev),
            ParseResult::kParsed);
  EXPECT_EQ(ev.get(Field::kSourceIp), "198.51.100.1");
  EXPECT_EQ(ev.get(Field::kNetworkTransport), "icmp");
  EXPECT_FALSE(ev.has(Field::kSourcePort));

  // Bare kernel message (dmesg / journal export).
  ASSERT_EQ(parseLine(p, "IN=lo OUT= SRC=127.0.0.1 DST=127.0.0.1 PROTO=UDP SPT=1 DPT=2", ev),
            ParseResult::kParsed);
  EXPECT_FALSE(ev.timestamp().isSet());

  // Other syslog lines are skipped; junk is unrecognised.
  EXPECT_EQ(parseLine(p, "Mar  3 10:15:42 gw kernel: usb 1-1: new high-speed USB device", ev),
            ParseResult::kSkip);
  for (const std::string& bad : std::vector<std::string>{
           "", "IN=", "hello", "Mar  3 10:15:42 gw kernel: IN=eth0 SRC=notanip DST=1.2.3.4",
           "IN=eth0 OUT= SRC=1.2.3.4", std::string("\xff\x00IN=\x01", 6)}) {
    EXPECT_EQ(parseLine(p, bad, ev), ParseResult::kUnrecognised) << bad;
  }
  std::string big = "IN=eth0 " + std::string(1 << 20, 'A') + " SRC=1.2.3.4 DST=5.6.7.8";
  EXPECT_EQ(parseLine(p, big, ev), ParseResult::kParsed);
}

}  // namespace
}  // namespace riposte

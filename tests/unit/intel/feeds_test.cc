// Feed parsers against the real sample payloads in the shared corpora, plus damaged inputs.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "riposte/intel/builder.h"
#include "riposte/intel/feed.h"
#include "support/test_support.h"

namespace riposte::intel {
namespace {

using riposte::testing::readFile;

FeedOptions opts(std::string source) {
  FeedOptions o;
  o.source = std::move(source);
  return o;
}

const Indicator* find(const ParseResult& r, std::string_view value) {
  for (const auto& i : r.indicators) {
    if (i.value == value) return &i;
  }
  return nullptr;
}

size_t countType(const ParseResult& r, IndicatorType t) {
  return static_cast<size_t>(std::count_if(r.indicators.begin(), r.indicators.end(),
                                           [t](const Indicator& i) { return i.type == t; }));
}

// The response bodies of a mock-server YAML (elastic/integrations stream mocks), by path.
std::vector<std::string> mockBodies(const std::filesystem::path& file, const std::string& path) {
  std::vector<std::string> out;
  YAML::Node doc = YAML::LoadFile(file.string());
  for (const auto& rule : doc["rules"]) {
    if (rule["path"].as<std::string>() != path) continue;
    out.push_back(rule["responses"][0]["body"].as<std::string>());
  }
  return out;
}

// ---------------------------------------------------------------- plain lists

TEST(IntelFeedList, FireholIpsetAndNetset) {
  RIPOSTE_REQUIRE_CORPUS(ipset, "blocklists/firehol/feodo.ipset");
  RIPOSTE_REQUIRE_CORPUS(netset, "blocklists/firehol/spamhaus_drop.netset");
  auto r = parsePlainList(readFile(ipset), opts("firehol-feodo"));
  EXPECT_TRUE(r.report.status.isOk());
  EXPECT_EQ(r.report.items, 235u);  // "Entries : 235 unique IPs"
  EXPECT_EQ(r.report.errors, 0u);
  EXPECT_EQ(countType(r, IndicatorType::kIpv4), 235u);
  EXPECT_EQ(r.indicators.front().value, "2.50.11.28");
  EXPECT_EQ(r.indicators.back().value, "221.165.153.151");
  EXPECT_EQ(r.indicators.front().source, "firehol-feodo");

  auto n = parsePlainList(readFile(netset), opts("firehol-drop"));
  EXPECT_EQ(n.report.items, 683u);
  EXPECT_EQ(n.report.errors, 0u);
  EXPECT_EQ(countType(n, IndicatorType::kCidr4) + countType(n, IndicatorType::kIpv4), 683u);
  ASSERT_NE(find(n, "1.4.0.0/17"), nullptr);
  EXPECT_EQ(find(n, "1.4.0.0/17")->type, IndicatorType::kCidr4);
  ASSERT_NE(find(n, "223.254.0.0/16"), nullptr);
}

TEST(IntelFeedList, SpamhausDropWithCommentsAndReferences) {
  RIPOSTE_REQUIRE_CORPUS(drop, "blocklists/intelmq/spamhaus_drop.txt");
  auto r = parsePlainList(readFile(drop), opts("spamhaus-drop"));
  ASSERT_EQ(r.indicators.size(), 2u);
  EXPECT_EQ(r.indicators[0].type, IndicatorType::kCidr4);
  EXPECT_EQ(r.indicators[0].value, "1.4.0.0/17");
  EXPECT_EQ(r.indicators[0].reference, "SBL256893");
  EXPECT_EQ(r.indicators[1].type, IndicatorType::kCidr6);
  EXPECT_EQ(r.indicators[1].value, "2a06:e480::/29");
  EXPECT_EQ(r.indicators[1].reference, "SBL301771");
  EXPECT_EQ(r.report.errors, 0u);
}

TEST(IntelFeedList, AsnDropLinesAreErrorsWithLineNumbers) {
  RIPOSTE_REQUIRE_CORPUS(asn, "blocklists/intelmq/spamhaus_asndrop.txt");
  auto r = parsePlainList(readFile(asn), opts("spamhaus-asndrop"));
  EXPECT_TRUE(r.indicators.empty());
  EXPECT_EQ(r.report.errors, 2u);
  ASSERT_EQ(r.report.samples.size(), 2u);
  EXPECT_EQ(r.report.samples[0].where, "line 5");
  EXPECT_NE(r.report.samples[0].reason.find("AS260"), std::string::npos);
  EXPECT_EQ(r.report.samples[1].where, "line 6");
}

TEST(IntelFeedList, DocumentationAddressesAreParsedThenRejectedByTheBuilder) {
  RIPOSTE_REQUIRE_CORPUS(bde, "blocklists/intelmq/blocklistde_imap.txt");
  auto r = parsePlainList(readFile(bde), opts("blocklist.de"));
  EXPECT_EQ(r.indicators.size(), 6u);
  SnapshotBuilder b;
  b.add(r.indicators);
  auto s = b.build();
  EXPECT_EQ(s->size(), 0u);
  EXPECT_EQ(b.report().rejected_by_reason.at("documentation"), 6u);
}

TEST(IntelFeedList, MessyInput) {
  const std::string data =
      "# header\r\n"
      "; other comment\r\n"
      "\r\n"
      "45.12.0.1   # trailing comment\r\n"
      "  EVIL.example.net.  \r\n"
      "0.0.0.0 ads.example.org\n"
      "http://x.example.org/a;b=c\n"
      "not_a_value!!\n"
      "1.2.3.4/40\n"
      "45.12.0.2";  // no final newline
  auto r = parsePlainList(data, opts("mixed"));
  EXPECT_EQ(r.report.items, 7u);
  EXPECT_EQ(r.report.errors, 2u);
  ASSERT_EQ(r.indicators.size(), 5u);
  EXPECT_EQ(r.indicators[0].value, "45.12.0.1");
  EXPECT_EQ(r.indicators[0].reference, "trailing comment");
  EXPECT_EQ(r.indicators[1].value, "evil.example.net");
  EXPECT_EQ(r.indicators[2].value, "ads.example.org");
  EXPECT_EQ(r.indicators[3].value, "http://x.example.org/a;b=c");
  EXPECT_EQ(r.indicators[4].value, "45.12.0.2");
  EXPECT_EQ(r.report.samples[0].where, "line 8");
  EXPECT_EQ(r.report.samples[1].where, "line 9");

  FeedOptions typed = opts("typed");
  typed.type = IndicatorType::kDomain;
  auto t = parsePlainList("evil.example.net\n45.12.0.1\n", typed);
  EXPECT_EQ(t.indicators.size(), 1u);
  EXPECT_EQ(t.report.errors, 1u);
}

TEST(IntelFeedList, MispFreetextEveryToken) {
  RIPOSTE_REQUIRE_CORPUS(txt, "misp/misp-3.x-test-feeds/freetext/feed.txt");
  FeedOptions o = opts("freetext");
  o.every_token = true;
  auto r = parsePlainList(readFile(txt), o);
  ASSERT_EQ(r.indicators.size(), 2u);
  EXPECT_EQ(r.indicators[0].value, "8.8.8.8");
  EXPECT_EQ(r.indicators[1].value, "8.8.4.4");
}

// ---------------------------------------------------------------- CSV

TEST(IntelFeedCsv, FeodoTrackerByColumnName) {
  RIPOSTE_REQUIRE_CORPUS(csv, "blocklists/abusech/feodotracker_ipblocklist.csv");
  FeedOptions o = opts("feodo");
  o.column = "dst_ip";
  o.tag_columns = {"malware"};
  o.first_seen_column = "first_seen_utc";
  o.last_seen_column = "last_online";
  auto r = parseCsv(readFile(csv), o);
  EXPECT_TRUE(r.report.status.isOk()) << r.report.status.toString();
  EXPECT_EQ(r.report.items, 28u);  // "# END 28 entries"
  EXPECT_EQ(r.report.errors, 0u);
  ASSERT_EQ(r.indicators.size(), 28u);
  const auto& first = r.indicators.front();
  EXPECT_EQ(first.value, "192.9.135.73");
  EXPECT_EQ(first.tags, std::vector<std::string>{"Pikabot"});
  EXPECT_EQ(first.first_seen, *parseRfc3339("2023-05-23T17:51:44Z"));
  EXPECT_EQ(first.last_seen, *parseRfc3339("2024-04-01T00:00:00Z"));
  EXPECT_EQ(r.indicators.back().value, "172.233.221.61");
}

TEST(IntelFeedCsv, FeodoTrackerByIndexSkipsHeader) {
  RIPOSTE_REQUIRE_CORPUS(csv, "blocklists/abusech/feodotracker_ipblocklist.csv");
  FeedOptions o = opts("feodo");
  o.column_index = 1;
  auto r = parseCsv(readFile(csv), o);
  EXPECT_EQ(r.indicators.size(), 28u);
  EXPECT_EQ(r.report.errors, 0u);
}

TEST(IntelFeedCsv, UrlhausHeaderInLastCommentAndQuotedCommas) {
  // The URLhaus layout (formats.md §4): the last '#' line is the header, tags hold commas.
  const std::string data =
      "################\n"
      "# abuse.ch URLhaus Database Dump (CSV - recent URLs only)\n"
      "#\n"
      "# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n"
      "\"3184950\",\"2024-09-02 07:14:06\",\"http://45.61.12.89:37352/bin.sh\",\"online\","
      "\"2024-09-02 07:14:06\",\"malware_download\",\"32-bit,elf,mips,Mozi\","
      "\"https://urlhaus.abuse.ch/url/3184950/\",\"geenensp\"\n"
      "\"3184951\",\"2024-09-02 07:15:00\",\"not a url\",\"online\",\"\",\"x\",\"\",\"\",\"r\"\n"
      "\"3184952\",\"2024-09-02 07:16:00\",\"HTTP://Bad.Example.NET/a\n";  // truncated row
  FeedOptions o = opts("urlhaus");
  o.column = "url";
  o.tag_columns = {"tags", "threat"};
  o.reference_column = "id";
  auto r = parseCsv(data, o);
  EXPECT_TRUE(r.report.status.isOk()) << r.report.status.toString();
  ASSERT_EQ(r.indicators.size(), 1u);
  EXPECT_EQ(r.indicators[0].value, "http://45.61.12.89:37352/bin.sh");
  EXPECT_EQ(r.indicators[0].reference, "3184950");
  EXPECT_EQ(r.indicators[0].tags,
            (std::vector<std::string>{"32-bit", "elf", "mips", "Mozi", "malware_download"}));
  EXPECT_EQ(r.report.items, 3u);
  EXPECT_EQ(r.report.errors, 2u);
  EXPECT_EQ(r.report.samples[0].where, "line 6");
  EXPECT_EQ(r.report.samples[1].where, "line 7");
  EXPECT_NE(r.report.samples[1].reason.find("unterminated"), std::string::npos);
}

TEST(IntelFeedCsv, MissingColumnIsADocumentError) {
  FeedOptions o = opts("x");
  o.column = "ip";
  auto r = parseCsv("a,b\n1,2\n", o);
  EXPECT_FALSE(r.report.status.isOk());
  EXPECT_NE(r.report.status.message().find("'ip'"), std::string::npos);
  EXPECT_TRUE(r.indicators.empty());
}

// ---------------------------------------------------------------- OTX

TEST(IntelFeedOtx, SubscribedPulsesWithPagination) {
  RIPOSTE_REQUIRE_CORPUS(mock, "otx/elastic-ti_otx/mock-otx-api.yml");
  auto pages = mockBodies(mock, "/api/v1/pulses/subscribed");
  ASSERT_EQ(pages.size(), 2u);
  auto r = parseOtx(pages[0], opts("otx"));
  EXPECT_TRUE(r.report.status.isOk());
  EXPECT_EQ(r.report.items, 4u);
  ASSERT_EQ(r.indicators.size(), 4u);
  EXPECT_EQ(r.next_page,
            "https://otx.alienvault.com/api/v1/pulses/"
            "subscribed?limit=1&modified_since=2022-01-01T23%3A01%3A01Z&page=2");
  const Indicator* md5 = find(r, "177add288b289d43236d2dba33e65956");
  ASSERT_NE(md5, nullptr);
  EXPECT_EQ(md5->type, IndicatorType::kMd5);
  EXPECT_FALSE(md5->valid_until.isSet());
  EXPECT_EQ(md5->reference, "64e38336d783f91d6948a7b1");
  EXPECT_EQ(md5->tlp, Tlp::kClear);
  EXPECT_EQ(md5->tags, (std::vector<std::string>{"cisa", "backdoor", "whirlpool", "malware"}));
  EXPECT_EQ(find(r, "c637a9ce65083b21c834e7a68bd1bc51b412fa11")->type, IndicatorType::kSha1);
  const Indicator* ip = find(r, "172.67.177.165");
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(ip->valid_until, *parseRfc3339("2023-09-05T00:00:00Z"));
  EXPECT_EQ(ip->first_seen, *parseRfc3339("2023-08-09T05:05:15Z"));
  EXPECT_EQ(ip->last_seen, *parseRfc3339("2023-08-22T09:43:18.855Z"));
  EXPECT_EQ(find(r, "pinup-casino-tr.site")->valid_until, *parseRfc3339("2023-09-06T11:00:00Z"));

  auto last = parseOtx(pages[1], opts("otx"));
  EXPECT_TRUE(last.report.status.isOk());
  EXPECT_TRUE(last.indicators.empty());
  EXPECT_TRUE(last.next_page.empty());
}

TEST(IntelFeedOtx, IndicatorsExport) {
  RIPOSTE_REQUIRE_CORPUS(mock, "otx/elastic-ti_otx/mock-otx-api.yml");
  auto pages = mockBodies(mock, "/api/v1/indicators/export");
  ASSERT_EQ(pages.size(), 2u);
  // The rule order in the mock file: page 2 (empty) first, then the first page.
  const std::string& first =
      pages[0].find("info.3000uc.com") != std::string::npos ? pages[0] : pages[1];
  auto r = parseOtx(first, opts("otx"));
  ASSERT_EQ(r.indicators.size(), 2u);
  EXPECT_EQ(r.indicators[0].type, IndicatorType::kDomain);
  EXPECT_EQ(r.indicators[0].value, "info.3000uc.com");
  EXPECT_EQ(r.indicators[0].reference, "otx:1251");
  EXPECT_EQ(r.indicators[1].value, "ndns.hcxiaoao.com");
  EXPECT_NE(r.next_page.find("page=2"), std::string::npos);
}

TEST(IntelFeedOtx, UnsupportedTypesInactiveAndBadRows) {
  const std::string data =
      R"({"results":[{"id":"aaaaaaaaaaaaaaaaaaaaaaaa","tlp":"amber","tags":["t"],
    "modified":"2024-01-02T00:00:00","indicators":[
      {"id":1,"indicator":"CVE-2021-44228","type":"CVE"},
      {"id":2,"indicator":"45.12.0.9","type":"IPv4","is_active":0,"expiration":"2024-01-03T00:00:00"},
      {"id":3,"indicator":"not-an-ip","type":"IPv4"},
      {"id":4,"type":"domain"},
      {"id":5,"indicator":"/path/only","type":"URI"},
      {"id":6,"indicator":"45.12.0.0/16","type":"CIDR"}]}],"next":null})";
  auto r = parseOtx(data, opts("otx"));
  EXPECT_EQ(r.report.items, 6u);
  EXPECT_EQ(r.report.skipped, 2u);
  EXPECT_EQ(r.report.reasons.at("unsupported OTX type CVE"), 1u);
  EXPECT_EQ(r.report.errors, 2u);
  ASSERT_EQ(r.report.samples.size(), 2u);
  EXPECT_EQ(r.report.samples[0].where, "results[0].indicators[2] (id 3)");
  EXPECT_EQ(r.report.samples[1].where, "results[0].indicators[3] (id 4)");
  ASSERT_EQ(r.indicators.size(), 2u);
  EXPECT_TRUE(r.indicators[0].revoked);
  EXPECT_EQ(r.indicators[0].tlp, Tlp::kAmber);
  EXPECT_EQ(r.indicators[1].type, IndicatorType::kCidr4);
}

// Ids written as floating-point numbers: taken when an integer holds them, ignored when not
// (9.75e112 once reached a conversion whose result is undefined; the fuzz smoke test found it).
TEST(IntelFeedOtx, IdsBeyondAnIntegerAreIgnored) {
  const std::string data = R"({"results":[
      {"id":975E110,"indicator":"not-an-ip","type":"IPv4"},
      {"id":1e3,"indicator":"also-not-an-ip","type":"IPv4"},
      {"id":-2.5e19,"indicator":"bad","type":"IPv4"},
      {"id":975E110,"indicator":"90421f4245b72cde8090421f4245b72c","type":"FileHash-MD5"}],
      "next":null})";
  auto r = parseOtx(data, opts("otx"));
  EXPECT_EQ(r.report.items, 4u);
  EXPECT_EQ(r.report.errors, 3u);
  ASSERT_EQ(r.report.samples.size(), 3u);
  EXPECT_EQ(r.report.samples[0].where, "results[0]");
  EXPECT_EQ(r.report.samples[1].where, "results[1] (id 1000)");
  EXPECT_EQ(r.report.samples[2].where, "results[2]");
  ASSERT_EQ(r.indicators.size(), 1u);
  EXPECT_EQ(r.indicators[0].value, "90421f4245b72cde8090421f4245b72c");
}

TEST(IntelFeedOtx, TruncatedPageKeepsCompleteIndicators) {
  RIPOSTE_REQUIRE_CORPUS(mock, "otx/elastic-ti_otx/mock-otx-api.yml");
  const std::string page = mockBodies(mock, "/api/v1/pulses/subscribed")[0];
  // Cut inside the third indicator (the IPv4 one).
  const std::string cut = page.substr(0, page.find("172.67.177.165"));
  auto r = parseOtx(cut, opts("otx"));
  EXPECT_FALSE(r.report.status.isOk());
  EXPECT_NE(r.report.status.message().find("not valid JSON"), std::string::npos);
  EXPECT_EQ(r.indicators.size(), 2u);  // the MD5 and the SHA-1 before the cut
  EXPECT_EQ(r.report.errors, 1u);
  ASSERT_FALSE(r.report.samples.empty());
  EXPECT_NE(r.report.samples.back().where.find("indicators[2] at byte"), std::string::npos);
  EXPECT_EQ(r.report.samples.back().reason.rfind("truncated", 0), 0u);
}

TEST(IntelFeedOtx, GarbageNeverCrashes) {
  for (std::string_view bad :
       {"", "{", "[", "null", "42", "{\"results\": 7}", "\xff\xfe", "{\"results\":[1,\"x\",[]]}"}) {
    auto r = parseOtx(bad, opts("otx"));
    EXPECT_TRUE(r.indicators.empty()) << bad;
    EXPECT_TRUE(!r.report.status.isOk() || r.report.errors > 0 || r.report.items == 0) << bad;
  }
}

// ---------------------------------------------------------------- MISP

TEST(IntelFeedMisp, EventsRestSearchPages) {
  RIPOSTE_REQUIRE_CORPUS(mock, "misp/elastic-ti_misp/mock-misp-restsearch.yml");
  auto pages = mockBodies(mock, "/events/restSearch");
  ASSERT_EQ(pages.size(), 3u);
  auto p1 = parseMisp(pages[0], opts("misp"));
  EXPECT_TRUE(p1.report.status.isOk());
  EXPECT_EQ(p1.report.items, 2u);
  EXPECT_EQ(p1.report.reasons.at("unsupported MISP type filename"), 1u);
  ASSERT_EQ(p1.indicators.size(), 1u);  // the sha256 of the file object
  EXPECT_EQ(p1.indicators[0].type, IndicatorType::kSha256);
  EXPECT_EQ(p1.indicators[0].value,
            "f33c27745f2bd87344be790465ef984a972fd539dc83bd4f61d4242c607ef1ee");
  EXPECT_EQ(p1.indicators[0].reference, "4edb20c7-8175-484d-bdcd-fce6872c1ef3");
  EXPECT_EQ(p1.indicators[0].last_seen, Timestamp::fromSeconds(1621589548));

  auto p2 = parseMisp(pages[1], opts("misp"));
  ASSERT_EQ(p2.indicators.size(), 1u);
  EXPECT_EQ(p2.indicators[0].value, "baddom.madeup.local");
  EXPECT_EQ(p2.report.reasons.at("not flagged to_ids"), 1u);  // whatsapp.com

  FeedOptions all = opts("misp");
  all.require_to_ids = false;
  auto p2all = parseMisp(pages[1], all);
  ASSERT_EQ(p2all.indicators.size(), 2u);
  const Indicator* wa = find(p2all, "whatsapp.com");
  ASSERT_NE(wa, nullptr);
  EXPECT_EQ(wa->tlp, Tlp::kGreen);
  EXPECT_EQ(wa->tags, std::vector<std::string>{"type:OSINT"});
  EXPECT_EQ(wa->reference, "54323f2c-e50c-4268-896c-4867950d210b");

  auto p3 = parseMisp(pages[2], opts("misp"));  // {"response": []}
  EXPECT_TRUE(p3.report.status.isOk());
  EXPECT_EQ(p3.report.items, 0u);
}

TEST(IntelFeedMisp, AttributesRestSearch) {
  RIPOSTE_REQUIRE_CORPUS(mock, "misp/elastic-ti_misp/mock-misp-restsearch.yml");
  auto pages = mockBodies(mock, "/attributes/restSearch");
  ASSERT_EQ(pages.size(), 2u);
  auto r = parseMisp(pages[0], opts("misp"));
  EXPECT_TRUE(r.report.status.isOk());
  EXPECT_EQ(r.report.items, 5u);
  EXPECT_EQ(r.report.skipped, 5u);  // links, text and comment carry no indicator
  EXPECT_EQ(r.report.reasons.at("unsupported MISP type link"), 3u);
  EXPECT_TRUE(r.indicators.empty());
  auto empty = parseMisp(pages[1], opts("misp"));
  EXPECT_TRUE(empty.report.status.isOk());
  EXPECT_EQ(empty.report.items, 0u);
}

TEST(IntelFeedMisp, PymispEventFileHashes) {
  RIPOSTE_REQUIRE_CORPUS(ev, "misp/pymisp/57c4445b-c548-4654-af0b-4be3950d210f.json");
  auto r = parseMisp(readFile(ev), opts("circl"));
  EXPECT_TRUE(r.report.status.isOk());
  ASSERT_EQ(r.indicators.size(), 3u);
  EXPECT_EQ(find(r, "0749bae92ca336a02c83d126e04ec628")->type, IndicatorType::kMd5);
  EXPECT_EQ(find(r, "77b0c41b7d340b8a3d903f21347bbf06aa766b5b")->type, IndicatorType::kSha1);
  const Indicator* sha =
      find(r, "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68");
  ASSERT_NE(sha, nullptr);
  EXPECT_EQ(sha->tlp, Tlp::kClear);
  EXPECT_EQ(sha->reference, "57c4445b-c548-4654-af0b-4be3950d210f");
  EXPECT_NE(
      std::find(sha->tags.begin(), sha->tags.end(), "ms-caro-malware:malware-type=\"Ransom\""),
      sha->tags.end());
}

TEST(IntelFeedMisp, FeedEventAndDeletedAttributes) {
  RIPOSTE_REQUIRE_CORPUS(ev,
                         "misp/misp-3.x-test-feeds/misp/56bf399d-c46c-4fdb-a9cf-d9bb02de0b81.json");
  auto r = parseMisp(readFile(ev), opts("circl-osint"));
  EXPECT_TRUE(r.report.status.isOk());
  EXPECT_EQ(r.report.items, 1u);
  EXPECT_TRUE(r.indicators.empty());  // one external-analysis link

  const std::string data = R"({"response":{"Attribute":[
    {"type":"ip-dst|port","value":"45.12.0.9|443","to_ids":true,"deleted":false,"event_id":"7",
     "first_seen":"2024-05-01T10:00:00.000000+00:00","timestamp":"1717000000"},
    {"type":"domain|ip","value":"evil.example.net|45.12.0.10","to_ids":"1","deleted":true},
    {"type":"sha256","value":"zz","to_ids":true},
    {"type":"md5","value":"0749bae92ca336a02c83d126e04ec628","to_ids":true,
     "timestamp":"147248039480395"}]}})";
  auto a = parseMisp(data, opts("misp"));
  ASSERT_EQ(a.indicators.size(), 4u);
  // A timestamp past any real time (found by intel_misp_fuzz: it overflowed) is ignored.
  EXPECT_FALSE(a.indicators[3].last_seen.isSet());
  EXPECT_EQ(a.indicators[0].value, "45.12.0.9");
  EXPECT_EQ(a.indicators[0].reference, "event:7");
  EXPECT_EQ(a.indicators[0].first_seen, *parseRfc3339("2024-05-01T10:00:00Z"));
  EXPECT_EQ(a.indicators[0].last_seen, Timestamp::fromSeconds(1717000000));
  EXPECT_EQ(a.indicators[1].value, "evil.example.net");
  EXPECT_TRUE(a.indicators[1].revoked);
  EXPECT_EQ(a.indicators[2].value, "45.12.0.10");
  EXPECT_EQ(a.report.errors, 1u);
  EXPECT_EQ(a.report.samples[0].where, "response.Attribute[2]");
}

TEST(IntelFeedMisp, TruncatedEventKeepsCompleteAttributes) {
  RIPOSTE_REQUIRE_CORPUS(ev, "misp/pymisp/57c4445b-c548-4654-af0b-4be3950d210f.json");
  const std::string text = readFile(ev);
  const std::string cut = text.substr(
      0,
      text.find("\"value\": \"b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68"));
  auto r = parseMisp(cut, opts("circl"));
  EXPECT_FALSE(r.report.status.isOk());
  EXPECT_EQ(r.indicators.size(), 2u);  // md5 and sha1 are before the cut
  EXPECT_GE(r.report.errors, 1u);
}

// ---------------------------------------------------------------- STIX

TEST(IntelFeedStix, Apt1Report) {
  RIPOSTE_REQUIRE_CORPUS(apt1,
                         "stix-taxii/cti-stix2-json-schemas/examples/threat-reports/apt1.json");
  auto r = parseStix(readFile(apt1), opts("mandiant"));
  EXPECT_TRUE(r.report.status.isOk());
  EXPECT_EQ(r.report.items, 76u);
  EXPECT_EQ(r.report.reasons.at("non-indicator object"), 64u);
  EXPECT_EQ(r.report.unsupported_patterns, 2u);  // the two x509-certificate patterns
  EXPECT_EQ(r.report.errors, 0u);
  EXPECT_EQ(r.indicators.size(), 10u);
  EXPECT_EQ(countType(r, IndicatorType::kCidr4), 4u);
  EXPECT_EQ(countType(r, IndicatorType::kDomain), 3u);
  EXPECT_EQ(countType(r, IndicatorType::kMd5), 3u);
  const Indicator* net = find(r, "223.166.0.0/15");
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(net->reference.rfind("indicator--031778a4-05", 0), 0u);
  EXPECT_EQ(net->valid_from, *parseRfc3339("2015-05-15T09:12:16.432678Z"));
  ASSERT_NE(find(r, "hugesoft.org"), nullptr);
  ASSERT_NE(find(r, "001dd76872d80801692ff942308c64e6"), nullptr);
}

TEST(IntelFeedStix, DocumentationExamples) {
  RIPOSTE_REQUIRE_CORPUS(url, "stix-taxii/cti-documentation/indicator-for-malicious-url.json");
  RIPOSTE_REQUIRE_CORPUS(hash, "stix-taxii/cti-documentation/malware-indicator-for-file-hash.json");
  RIPOSTE_REQUIRE_CORPUS(mark, "stix-taxii/cti-documentation/using-marking-definitions.json");
  auto u = parseStix(readFile(url), opts("stix"));
  ASSERT_EQ(u.indicators.size(), 1u);
  EXPECT_EQ(u.indicators[0].type, IndicatorType::kUrl);
  EXPECT_EQ(u.indicators[0].value, "http://x4z9arb.cn/4712/");
  EXPECT_EQ(u.indicators[0].valid_from, *parseRfc3339("2014-06-29T13:49:37.079Z"));
  auto h = parseStix(readFile(hash), opts("stix"));
  ASSERT_EQ(h.indicators.size(), 1u);
  EXPECT_EQ(h.indicators[0].type, IndicatorType::kSha256);
  EXPECT_EQ(h.indicators[0].value,
            "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c");
  auto m = parseStix(readFile(mark), opts("stix"));
  ASSERT_EQ(m.indicators.size(), 1u);
  EXPECT_EQ(m.indicators[0].tlp, Tlp::kAmber);
  EXPECT_EQ(m.indicators[0].tags, std::vector<std::string>{"malicious-activity"});
  // 10.0.0.0 is private: parsed, then rejected when building.
  SnapshotBuilder b;
  b.add(m.indicators);
  EXPECT_EQ(b.build()->size(), 0u);
  EXPECT_EQ(b.report().rejected_by_reason.at("private"), 1u);
}

TEST(IntelFeedStix, TaxiiEnvelopeFromMedallionKeepsNewestVersion) {
  RIPOSTE_REQUIRE_CORPUS(data, "stix-taxii/medallion/default_data.json");
  auto all = nlohmann::json::parse(readFile(data));
  nlohmann::json envelope;
  envelope["more"] = true;
  envelope["next"] = "cursor-2";
  envelope["objects"] = all["trustgroup1"]["collections"][2]["objects"];
  auto r = parseStix(envelope.dump(), opts("taxii"));
  EXPECT_TRUE(r.report.status.isOk());
  EXPECT_EQ(r.next_page, "cursor-2");
  EXPECT_EQ(r.report.reasons.at("superseded by a newer version"), 2u);
  ASSERT_EQ(r.indicators.size(), 2u);
  const Indicator* url = find(r, "http://x4z9arb.cn/4712");
  ASSERT_NE(url, nullptr);  // the 2017-01-27 version, not the 2016-11-03 one
  EXPECT_EQ(url->last_seen, *parseRfc3339("2017-01-27T13:49:53.935Z"));
  EXPECT_EQ(find(r, "http://z4z10farb.cn/4712"), nullptr);
}

TEST(IntelFeedStix, ValidityRevocationConfidence) {
  const std::string bundle = R"({"type":"bundle","id":"bundle--1","objects":[
   {"type":"indicator","spec_version":"2.1","id":"indicator--a","created":"2024-05-08T09:00:00.000Z",
    "modified":"2024-05-08T09:00:00.000Z","confidence":80,"pattern_type":"stix",
    "pattern":"[ipv4-addr:value = '45.12.0.1' OR ipv4-addr:value ISSUBSET '45.13.0.0/24']",
    "valid_from":"2024-05-08T09:00:00Z","valid_until":"2024-08-08T09:00:00Z"},
   {"type":"indicator","spec_version":"2.1","id":"indicator--b","created":"2024-05-08T09:00:00.000Z",
    "modified":"2024-05-09T10:00:00.000Z","revoked":true,"pattern_type":"stix","valid_from":"2024-05-08T09:00:00Z",
    "pattern":"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f'] OR [domain-name:value = 'bad.example.com']"},
   {"type":"indicator","spec_version":"2.1","id":"indicator--c","created":"2024-05-08T09:00:00.000Z",
    "modified":"2024-05-08T09:00:00.000Z","pattern_type":"stix","valid_from":"2024-05-08T09:00:00Z",
    "pattern":"[url:value = 'http://bad.example.com/x.php' AND network-traffic:dst_port = 80]"},
   {"type":"indicator","id":"indicator--d","pattern_type":"snort","pattern":"alert tcp any any","valid_from":"2024-05-08T09:00:00Z"},
   {"type":"indicator","id":"indicator--e","pattern_type":"stix","pattern":"[ipv4-addr:value = '45.12.0.1'","valid_from":"2024-05-08T09:00:00Z"},
   {"type":"indicator","id":"indicator--f","pattern":"[ipv4-addr:value = '45.12.0.7'] FOLLOWEDBY [ipv4-addr:value = '45.12.0.8']","valid_from":"2024-05-08T09:00:00Z"}
  ]})";
  auto r = parseStix(bundle, opts("stix"));
  EXPECT_EQ(r.report.items, 6u);
  EXPECT_EQ(r.report.unsupported_patterns, 2u);  // snort, FOLLOWEDBY
  EXPECT_EQ(r.report.broadened_patterns, 1u);
  EXPECT_EQ(r.report.errors, 1u);
  EXPECT_EQ(r.report.samples.front().where, "objects[4] (indicator--e)");
  ASSERT_EQ(r.indicators.size(), 5u);
  EXPECT_EQ(r.indicators[0].value, "45.12.0.1");
  EXPECT_EQ(r.indicators[0].confidence, 80);
  EXPECT_EQ(r.indicators[0].valid_until, *parseRfc3339("2024-08-08T09:00:00Z"));
  EXPECT_EQ(r.indicators[1].value, "45.13.0.0/24");
  EXPECT_TRUE(r.indicators[2].revoked);
  EXPECT_TRUE(r.indicators[3].revoked);
  EXPECT_EQ(r.indicators[4].value, "http://bad.example.com/x.php");

  BuildOptions bo;
  bo.now = *parseRfc3339("2024-06-01T00:00:00Z");
  SnapshotBuilder b(bo);
  b.add(r.indicators);
  auto s = b.build();
  EXPECT_EQ(s->size(), 3u);
  EXPECT_EQ(b.report().dropped_revoked, 2u);
  BuildOptions later = bo;
  later.now = *parseRfc3339("2024-09-01T00:00:00Z");
  SnapshotBuilder b2(later);
  b2.add(r.indicators);
  EXPECT_EQ(b2.build()->size(), 1u);  // only the URL, which has no valid_until
  EXPECT_EQ(b2.report().dropped_expired, 2u);
}

TEST(IntelFeedStix, TruncatedBundleKeepsCompleteObjects) {
  RIPOSTE_REQUIRE_CORPUS(apt1,
                         "stix-taxii/cti-stix2-json-schemas/examples/threat-reports/apt1.json");
  const std::string text = readFile(apt1);
  const std::string cut = text.substr(0, text.find("msnhome.org"));
  auto r = parseStix(cut, opts("mandiant"));
  EXPECT_FALSE(r.report.status.isOk());
  EXPECT_EQ(countType(r, IndicatorType::kCidr4), 4u);
  EXPECT_EQ(countType(r, IndicatorType::kDomain), 2u);
  ASSERT_FALSE(r.report.samples.empty());
  EXPECT_NE(r.report.samples.back().where.find("objects["), std::string::npos);
  EXPECT_EQ(r.report.samples.back().reason.rfind("truncated", 0), 0u);
}

TEST(IntelFeed, FormatNames) {
  EXPECT_EQ(feedFormatFromName("stix"), FeedFormat::kStix);
  EXPECT_EQ(feedFormatFromName("taxii"), FeedFormat::kStix);
  EXPECT_EQ(feedFormatFromName("netset"), FeedFormat::kList);
  EXPECT_FALSE(feedFormatFromName("xml"));
  auto r = parseFeed(FeedFormat::kList, "45.12.0.1\n", opts("x"));
  EXPECT_EQ(r.indicators.size(), 1u);
}

}  // namespace
}  // namespace riposte::intel

namespace riposte::intel {
namespace {

// Every prefix (at a stride) and a few corruptions of real payloads: never a crash, and what is
// kept is always a subset of what the whole document gives.
TEST(IntelFeed, TruncatedAndCorruptedCorporaNeverCrash) {
  struct Case {
    const char* file;
    FeedFormat format;
  };
  const Case cases[] = {
      {"stix-taxii/cti-stix2-json-schemas/examples/threat-reports/apt1.json", FeedFormat::kStix},
      {"misp/pymisp/57c4445b-c548-4654-af0b-4be3950d210f.json", FeedFormat::kMisp},
      {"blocklists/abusech/feodotracker_ipblocklist.csv", FeedFormat::kCsv},
      {"blocklists/firehol/spamhaus_drop.netset", FeedFormat::kList},
  };
  for (const auto& c : cases) {
    auto path = riposte::testing::corpusFile(c.file);
    if (!path) GTEST_SKIP() << "corpora absent: " << c.file;
    const std::string text = readFile(*path);
    FeedOptions o = opts("fuzz");
    o.column = "dst_ip";
    const auto whole = parseFeed(c.format, text, o);
    std::set<std::string> all;
    for (const auto& i : whole.indicators) all.insert(i.value);
    ASSERT_FALSE(all.empty()) << c.file;
    const size_t stride = std::max<size_t>(1, text.size() / 400);
    for (size_t cut = 0; cut < text.size(); cut += stride) {
      for (int variant = 0; variant < 3; ++variant) {
        std::string damaged = text.substr(0, cut);
        if (variant == 1) damaged += "\"}]}{,\\";
        if (variant == 2 && !damaged.empty()) damaged[damaged.size() / 2] = '\x01';
        const auto r = parseFeed(c.format, damaged, o);
        if (variant == 2) continue;  // a corrupted byte may change a value
        // A line cut short is still a line ("1.4.0.0/1"): line formats cannot tell, so their
        // last value is exempt. JSON formats only ever keep complete elements.
        const bool lines = c.format == FeedFormat::kList || c.format == FeedFormat::kCsv;
        const size_t checked =
            lines && !r.indicators.empty() ? r.indicators.size() - 1 : r.indicators.size();
        for (size_t k = 0; k < checked; ++k) {
          const auto& i = r.indicators[k];
          ASSERT_TRUE(all.count(i.value)) << c.file << " cut at " << cut << ": " << i.value;
        }
      }
    }
  }
}

}  // namespace
}  // namespace riposte::intel

#include "riposte/ingest/format_detect.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace riposte {
namespace {

std::string detect(const std::filesystem::path& p, size_t n = 50) {
  Registries r;
  EXPECT_TRUE(registerBuiltins(r).isOk());
  const auto lines = testing::readLines(p);
  std::vector<std::string_view> sample(lines.begin(), lines.begin() + std::min(n, lines.size()));
  const auto d = detectFormat(r, sample);
  return d ? d->parser : "(none)";
}

TEST(FormatDetect, Fixtures) {
  EXPECT_EQ(detect(testing::fixture("ingest/access.log")), "nginx");
  EXPECT_EQ(detect(testing::fixture("ingest/eve.ndjson")), "eve");
  EXPECT_EQ(detect(testing::fixture("ingest/zeek_http.tsv")), "zeek");
  EXPECT_EQ(detect(testing::fixture("ingest/zeek_mixed.log")), "zeek");
  Registries r;
  ASSERT_TRUE(registerBuiltins(r).isOk());
  EXPECT_FALSE(detectFormat(r, {"hello", "world"}).has_value());
  const std::vector<std::string_view> ecs = {
      R"({"@timestamp":"2024-03-03T10:15:42Z","user":{"name":"x"}})"};
  EXPECT_EQ(detectFormat(r, ecs)->parser, "json");
}

TEST(FormatDetect, Corpora) {
  RIPOSTE_REQUIRE_CORPUS(apache_err, "loghub/Apache/Apache_2k.log");
  EXPECT_EQ(detect(apache_err), "apache");
  RIPOSTE_REQUIRE_CORPUS(
      ipt, "crowdsec-hub/tests/iptables-scan-multi-port/iptables-scan-multi-port.log");
  EXPECT_EQ(detect(ipt), "iptables");
  RIPOSTE_REQUIRE_CORPUS(conn, "zeek/brimdata-zed/conn.log");
  EXPECT_EQ(detect(conn), "zeek");
  RIPOSTE_REQUIRE_CORPUS(eve, "suricata/elastic/test-eve-small.log");
  EXPECT_EQ(detect(eve), "eve");
  RIPOSTE_REQUIRE_CORPUS(web, "crowdsec-hub/tests/http-dos-random-uri/http_dos_random_uri.log");
  EXPECT_EQ(detect(web), "nginx");
}

}  // namespace
}  // namespace riposte

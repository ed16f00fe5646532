// setIp's IPv4 fast path accepts exactly what inet_pton accepts, and keeps the view.
#include "ingest/field_util.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

namespace riposte {
namespace {

bool ptonAccepts(const std::string& s) {
  unsigned char b[16];
  return inet_pton(AF_INET, s.c_str(), b) == 1 || inet_pton(AF_INET6, s.c_str(), b) == 1;
}

TEST(FieldUtil, SetIpAgreesWithInetPton) {
  const char* cases[] = {
      "192.0.2.1", "0.0.0.0",  "255.255.255.255", "256.1.1.1",  "01.2.3.4",    "1.02.3.4",
      "1.2.3.04",  "1.2.3",    "1.2.3.4.5",       "1..2.3",     ".1.2.3",      "1.2.3.",
      "1.2.3.4 ",  " 1.2.3.4", "1234.1.1.1",      "1.2.3.4a",   "2001:db8::1", "::ffff:192.0.2.1",
      "::",        "",         "999.999.999.9",   "10.0.0.255", "100.64.0.0",  "1.2.3.-4"};
  for (const char* c : cases) {
    Event ev;
    EXPECT_EQ(ingest::setIp(ev, Field::kSourceIp, c), ptonAccepts(c)) << "'" << c << "'";
  }
  // Random strings over the alphabet of addresses.
  std::mt19937 rng(7);
  const std::string alphabet = "0123456789.:";
  for (int i = 0; i < 200000; ++i) {
    std::string s;
    const size_t n = 1 + rng() % 16;
    for (size_t k = 0; k < n; ++k) s += alphabet[rng() % (k % 4 == 3 ? alphabet.size() : 10 + 1)];
    Event ev;
    ASSERT_EQ(ingest::setIp(ev, Field::kSourceIp, s), ptonAccepts(s)) << "'" << s << "'";
  }
}

TEST(FieldUtil, Ipv4KeepsTheViewIntoTheLine) {
  const std::string line = "from 203.0.113.5 port 22";
  Event ev;
  ASSERT_TRUE(ingest::setIp(ev, Field::kSourceIp, std::string_view(line).substr(5, 11)));
  EXPECT_EQ(ev.get(Field::kSourceIp), "203.0.113.5");
  EXPECT_EQ(ev.get(Field::kSourceIp).data(), line.data() + 5);
}

TEST(FieldUtil, PrefixAndSuffix) {
  EXPECT_TRUE(ingest::startsWith("Failed password", "Failed "));
  EXPECT_FALSE(ingest::startsWith("Fail", "Failed "));
  EXPECT_FALSE(ingest::startsWith("failed password", "Failed "));
  EXPECT_TRUE(ingest::startsWith("", ""));
  EXPECT_TRUE(ingest::endsWith("x [preauth]", " [preauth]"));
  EXPECT_FALSE(ingest::endsWith("x [preauth ", " [preauth]"));
  EXPECT_TRUE(ingest::endsWith("abc", ""));
}

}  // namespace
}  // namespace riposte

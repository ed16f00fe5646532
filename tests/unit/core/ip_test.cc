#include "riposte/core/ip.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace riposte {
namespace {

TEST(Ip, CanonicalForms) {
  EXPECT_EQ(canonicalIp("203.0.113.5").value(), "203.0.113.5");
  EXPECT_EQ(canonicalIp("2001:0DB8:0000:0000:0000:0000:0000:0001").value(), "2001:db8::1");
  EXPECT_EQ(canonicalIp("::ffff:192.168.1.1").value(), "192.168.1.1");
  EXPECT_FALSE(canonicalIp("256.1.1.1"));
  EXPECT_FALSE(canonicalIp("example.com"));
  EXPECT_FALSE(canonicalIp(""));
}

TEST(Ip, CidrContainsAndClearsHostBits) {
  auto c = Cidr::parse("192.0.2.77/24");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->toString(), "192.0.2.0/24");
  EXPECT_TRUE(c->contains(*IpAddress::parse("192.0.2.200")));
  EXPECT_FALSE(c->contains(*IpAddress::parse("192.0.3.1")));
  EXPECT_FALSE(c->contains(*IpAddress::parse("2001:db8::1")));
  auto v6 = Cidr::parse("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*IpAddress::parse("2001:db8:ffff::1")));
  EXPECT_FALSE(v6->contains(*IpAddress::parse("2001:db9::1")));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/33").isOk());
  EXPECT_FALSE(Cidr::parse("10.0.0.0/x").isOk());
  auto host = Cidr::parse("10.1.2.3");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->prefix, 32);
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0")->contains(*IpAddress::parse("8.8.8.8")));
}

TEST(Ip, CidrList) {
  CidrList l;
  ASSERT_TRUE(l.add("10.0.0.0/8").isOk());
  ASSERT_TRUE(l.add("::1").isOk());
  EXPECT_FALSE(l.add("nonsense").isOk());
  EXPECT_TRUE(l.contains("10.9.8.7"));
  EXPECT_TRUE(l.contains("::1"));
  EXPECT_FALSE(l.contains("11.0.0.1"));
  EXPECT_FALSE(l.contains("garbage"));
}

// IpAddress::format prints exactly what inet_ntop prints, for every shape of address: random
// words with zero runs of every length and position, IPv4-compatible and -mapped forms.
TEST(Ip, FormatIsInetNtop) {
  std::mt19937_64 rng(7);
  for (int n = 0; n < 200000; ++n) {
    IpAddress ip;
    ip.v6 = n % 8 != 0;
    for (auto& b : ip.bytes) b = static_cast<uint8_t>(rng());
    if (ip.v6) {
      // Zero words: a random mask, so runs of every length and ties between runs occur.
      const uint64_t zeros = rng();
      for (int w = 0; w < 8; ++w) {
        if ((zeros >> (w * 3) & 3) != 0) continue;
        ip.bytes[static_cast<size_t>(2 * w)] = 0;
        ip.bytes[static_cast<size_t>(2 * w + 1)] = 0;
      }
      if (n % 17 == 0) std::fill(ip.bytes.begin(), ip.bytes.begin() + 10 + (n % 3), 0);
      if (n % 23 == 0) ip.bytes[10] = ip.bytes[11] = 0xff;
      if (n % 29 == 0) std::fill(ip.bytes.begin() + 6, ip.bytes.end(), 0);
      // Small values in the last word (::1, ::2 ...) and single bytes.
      if (n % 31 == 0) ip.bytes[15] = static_cast<uint8_t>(n % 3);
    }
    char want[INET6_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes.data(), want, sizeof want), nullptr);
    char got[IpAddress::kMaxText];
    const size_t len = ip.format(got);
    ASSERT_EQ(std::string_view(got, len), std::string_view(want));
  }
  // The all-zero and the loopback addresses.
  for (const char* s : {"::", "::1", "::ffff:0.0.0.0", "1::", "1:0:0:2::3", "::2:0:0:3"}) {
    auto ip = IpAddress::parse(s);
    ASSERT_TRUE(ip.has_value()) << s;
    unsigned char bytes[16];
    ASSERT_EQ(inet_pton(AF_INET6, s, bytes), 1);
    IpAddress raw;
    raw.v6 = true;
    std::copy(bytes, bytes + 16, raw.bytes.begin());
    char want[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, bytes, want, sizeof want);
    EXPECT_EQ(raw.toString(), want) << s;
  }
}

}  // namespace
}  // namespace riposte

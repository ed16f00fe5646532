#include "riposte/core/ip.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace riposte

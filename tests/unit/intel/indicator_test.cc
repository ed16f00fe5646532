#include "riposte/intel/indicator.h"

#include <gtest/gtest.h>

#include "riposte/intel/known_good.h"

namespace riposte::intel {
namespace {

NormalisedValue cls(std::string_view raw) {
  auto r = classify(raw);
  EXPECT_TRUE(r.isOk()) << raw << ": " << r.status().toString();
  return r ? *r : NormalisedValue{IndicatorType::kIpv4, "<error>"};
}

TEST(IntelIndicator, ClassifiesEveryType) {
  EXPECT_EQ(cls(" 203.0.113.5 "), (NormalisedValue{IndicatorType::kIpv4, "203.0.113.5"}));
  EXPECT_EQ(cls("2001:0DB8:0000::0001"), (NormalisedValue{IndicatorType::kIpv6, "2001:db8::1"}));
  EXPECT_EQ(cls("198.51.100.77/24"), (NormalisedValue{IndicatorType::kCidr4, "198.51.100.0/24"}));
  EXPECT_EQ(cls("2001:db8:abcd::1/32"), (NormalisedValue{IndicatorType::kCidr6, "2001:db8::/32"}));
  EXPECT_EQ(cls("10.1.2.3/32"), (NormalisedValue{IndicatorType::kIpv4, "10.1.2.3"}));
  EXPECT_EQ(cls("Evil.Example.COM."),
            (NormalisedValue{IndicatorType::kDomain, "evil.example.com"}));
  EXPECT_EQ(cls("HTTP://Evil.Example.com:80/a/B?x=1#frag"),
            (NormalisedValue{IndicatorType::kUrl, "http://evil.example.com/a/B?x=1"}));
  EXPECT_EQ(cls("https://evil.example.com:8443"),
            (NormalisedValue{IndicatorType::kUrl, "https://evil.example.com:8443/"}));
  EXPECT_EQ(cls("D41D8CD98F00B204E9800998ECF8427E"),
            (NormalisedValue{IndicatorType::kMd5, "d41d8cd98f00b204e9800998ecf8427e"}));
  EXPECT_EQ(cls("da39a3ee5e6b4b0d3255bfef95601890afd80709").type, IndicatorType::kSha1);
  EXPECT_EQ(cls("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").type,
            IndicatorType::kSha256);
  EXPECT_EQ(cls("Phish@Bad.Example.org"),
            (NormalisedValue{IndicatorType::kEmail, "phish@bad.example.org"}));
}

TEST(IntelIndicator, UrlNormalisation) {
  EXPECT_EQ(normaliseUrl("https://EX.com:443/p").value(), "https://ex.com/p");
  EXPECT_EQ(normaliseUrl("http://ex.com:443/p").value(), "http://ex.com:443/p");
  EXPECT_EQ(normaliseUrl("http://[2001:DB8::0001]:8080/x").value(), "http://[2001:db8::1]:8080/x");
  EXPECT_EQ(normaliseUrl("http://ex.com?q=1").value(), "http://ex.com/?q=1");
  EXPECT_EQ(normaliseUrl("ex.com/path").value(), "http://ex.com/path");
  // An empty port is dropped; a second colon leaves no valid host (found by intel_list_fuzz:
  // "h::/x" normalised to "http://h:/x", which normalised again to "http://h/x").
  EXPECT_EQ(normaliseUrl("http://ex.com:/p").value(), "http://ex.com/p");
  EXPECT_FALSE(normaliseUrl("http://ex.com::/p").has_value());
  EXPECT_FALSE(normaliseUrl("\x81::/29").has_value());
  EXPECT_FALSE(normaliseUrl("http://../x").has_value());  // intel_csv_fuzz: ".." → "." → ""
  EXPECT_FALSE(normaliseUrl("http://a..b/x").has_value());
  // Normalised URLs are fixed points.
  for (const char* u : {"HTTP://Ex.COM:80/a#f", "ex.com:/p", "http://u:p@EX.com:8080/?q",
                        "http://[::FFFF:1.2.3.4]:/x", "https://1.2.3.4.:443"}) {
    auto once = normaliseUrl(u);
    ASSERT_TRUE(once.has_value()) << u;
    EXPECT_EQ(normaliseUrl(*once), once) << u;
  }
  EXPECT_EQ(normaliseUrl("http://user@EX.com/").value(), "http://user@ex.com/");
  EXPECT_FALSE(normaliseUrl("http://ex.com:99999/"));
  EXPECT_FALSE(normaliseUrl("http://ex .com/"));
  EXPECT_FALSE(normaliseUrl("http:///nohost"));
}

TEST(IntelIndicator, RejectsBadValues) {
  EXPECT_FALSE(classify("").isOk());
  EXPECT_FALSE(classify("not a value").isOk());
  EXPECT_FALSE(normalise(IndicatorType::kMd5, "abc").isOk());
  EXPECT_FALSE(normalise(IndicatorType::kSha256, "zz").isOk());
  EXPECT_FALSE(normalise(IndicatorType::kDomain, "com").isOk());        // bare TLD
  EXPECT_FALSE(normalise(IndicatorType::kDomain, "1.2.3.999").isOk());  // broken IP
  EXPECT_FALSE(normalise(IndicatorType::kDomain, "bad..example").isOk());
  EXPECT_FALSE(
      normalise(IndicatorType::kDomain, "ex\xc3\xa4mple.com").isOk());  // IDN needs punycode
  EXPECT_FALSE(normalise(IndicatorType::kIpv4, "999.1.1.1").isOk());
  EXPECT_FALSE(normalise(IndicatorType::kEmail, "no-at-sign").isOk());
  auto err = normalise(IndicatorType::kIpv4, "example.org");
  ASSERT_FALSE(err.isOk());
  EXPECT_NE(err.status().message().find("example.org"), std::string::npos);
}

TEST(IntelIndicator, IpFamilyFollowsTheValue) {
  auto r = normalise(IndicatorType::kIpv4, "203.0.113.0/24");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, IndicatorType::kCidr4);
  r = normalise(IndicatorType::kIpv4, "::ffff:198.51.100.7");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, IndicatorType::kIpv4);
  EXPECT_EQ(r->value, "198.51.100.7");
}

TEST(IntelIndicator, TypeAndTlpNames) {
  for (size_t i = 0; i < kIndicatorTypeCount; ++i) {
    const auto t = static_cast<IndicatorType>(i);
    EXPECT_EQ(indicatorTypeFromName(indicatorTypeName(t)), t);
  }
  EXPECT_FALSE(indicatorTypeFromName("ipv5"));
  EXPECT_EQ(tlpFromName("TLP:WHITE"), Tlp::kClear);
  EXPECT_EQ(tlpFromName("tlp:amber+strict"), Tlp::kAmberStrict);
  EXPECT_EQ(tlpFromName("green"), Tlp::kGreen);
  EXPECT_EQ(tlpFromName("osint"), Tlp::kUnknown);
}

TEST(IntelIndicator, FeedTimes) {
  EXPECT_EQ(parseFeedTime("2023-08-09T05:05:14.946000")->micros, 1691557514946000);
  EXPECT_EQ(parseFeedTime("2024-04-04 07:03:03 UTC")->seconds(), 1712214183);
  EXPECT_EQ(parseFeedTime("2024-04-04")->seconds(), 1712188800);
  EXPECT_EQ(parseFeedTime("1617056037")->seconds(), 1617056037);
  EXPECT_EQ(parseFeedTime("2014-05-08T09:00:00.000000Z")->seconds(), 1399539600);
  EXPECT_FALSE(parseFeedTime("yesterday"));
  EXPECT_FALSE(parseFeedTime(""));
}

TEST(IntelKnownGood, BuiltinsAndConfigured) {
  KnownGood kg;
  EXPECT_EQ(kg.check(IndicatorType::kIpv4, "10.1.2.3"), "private");
  EXPECT_EQ(kg.check(IndicatorType::kIpv4, "127.0.0.1"), "loopback");
  EXPECT_EQ(kg.check(IndicatorType::kIpv6, "fe80::1"), "link-local");
  EXPECT_EQ(kg.check(IndicatorType::kIpv4, "198.51.100.1"), "documentation");
  EXPECT_EQ(kg.check(IndicatorType::kCidr6, "2001:db8::/48"), "documentation");
  EXPECT_EQ(kg.check(IndicatorType::kCidr4, "0.0.0.0/0"), "unspecified");  // overlaps everything
  EXPECT_EQ(kg.check(IndicatorType::kCidr4, "8.0.0.0/6"), "private");      // contains 10/8
  EXPECT_FALSE(kg.check(IndicatorType::kIpv4, "8.8.8.8"));
  EXPECT_EQ(kg.check(IndicatorType::kUrl, "http://192.168.1.1/x"), "private");

  KnownGoodOptions o;
  o.allow_documentation = true;
  o.cidrs = {"8.8.8.0/24"};
  o.domains = {"Example.COM"};
  auto custom = KnownGood::create(o);
  ASSERT_TRUE(custom);
  EXPECT_FALSE(custom->check(IndicatorType::kIpv4, "198.51.100.1"));
  EXPECT_EQ(custom->check(IndicatorType::kIpv4, "8.8.8.8"), "configured-cidr");
  EXPECT_EQ(custom->check(IndicatorType::kDomain, "mail.example.com"), "configured-domain");
  EXPECT_EQ(custom->check(IndicatorType::kUrl, "https://www.example.com:8443/x"),
            "configured-domain");
  EXPECT_FALSE(custom->check(IndicatorType::kDomain, "notexample.com"));
  o.cidrs = {"bogus"};
  auto bad = KnownGood::create(o);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("bogus"), std::string::npos);
}

}  // namespace
}  // namespace riposte::intel

#include "riposte/intel/stix_pattern.h"

#include <gtest/gtest.h>

namespace riposte::intel {
namespace {

std::vector<std::string> values(std::string_view p) {
  auto r = extractStixPattern(p);
  EXPECT_TRUE(r.isOk()) << p << ": " << r.status().toString();
  std::vector<std::string> out;
  if (!r) return out;
  for (const auto& v : r->values)
    out.push_back(std::string(indicatorTypeName(v.type)) + ":" + v.value);
  return out;
}

std::string unsupported(std::string_view p) {
  auto r = extractStixPattern(p);
  EXPECT_TRUE(r.isOk()) << p << ": " << r.status().toString();
  if (!r) return "<error>";
  EXPECT_TRUE(r->values.empty()) << p;
  return r->unsupported;
}

using V = std::vector<std::string>;

TEST(IntelStixPattern, Comparisons) {
  EXPECT_EQ(values("[ipv4-addr:value = '45.12.0.1']"), V{"ipv4:45.12.0.1"});
  EXPECT_EQ(values("[ ipv4-addr:value == '45.12.0.0/24' ]"), V{"cidr4:45.12.0.0/24"});
  EXPECT_EQ(values("[ipv6-addr:value = '2A01:4F8::1']"), V{"ipv6:2a01:4f8::1"});
  EXPECT_EQ(values("[domain-name:value IN ('A.example.net', 'b.example.net')]"),
            (V{"domain:a.example.net", "domain:b.example.net"}));
  EXPECT_EQ(values("[ipv4-addr:value ISSUBSET '45.12.0.9/16']"), V{"cidr4:45.12.0.0/16"});
  EXPECT_EQ(values("[domain-name:value LIKE '%.evil.example']"), V{"domain:evil.example"});
  EXPECT_EQ(values("[url:value LIKE 'http://evil.example/a']"), V{"url:http://evil.example/a"});
  EXPECT_EQ(values("[domain-name:value MATCHES '^evil\\\\.example$']"), V{"domain:evil.example"});
  EXPECT_EQ(values("[email-addr:value = 'Bad@Evil.example']"), V{"email:bad@evil.example"});
  EXPECT_EQ(values("[file:hashes.'SHA-1' = 'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709']"),
            V{"sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709"});
  EXPECT_EQ(values("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"),
            V{"md5:d41d8cd98f00b204e9800998ecf8427e"});
  EXPECT_EQ(values("[file:hashes.SHA256 = "
                   "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']"),
            V{"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"});
  EXPECT_EQ(values("[url:value = 'http://x/it\\'s']"), V{"url:http://x/it's"});
}

TEST(IntelStixPattern, BooleanStructure) {
  auto r = extractStixPattern(
      "[ipv4-addr:value = '45.12.0.1' OR ipv4-addr:value = '45.12.0.2'] OR ([domain-name:value = "
      "'a.example.net'])");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->values.size(), 3u);
  EXPECT_FALSE(r->broadened);
  EXPECT_FALSE(r->partial);

  r = extractStixPattern(
      "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' AND file:name = 'a.exe']");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->values.size(), 1u);
  EXPECT_TRUE(r->broadened);

  r = extractStixPattern("[ipv4-addr:value = '45.12.0.1'] OR [x509-certificate:issuer = 'CN=x']");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->values.size(), 1u);
  EXPECT_TRUE(r->partial);

  // Duplicates collapse; comments are ignored.
  EXPECT_EQ(
      values("/* c */ [ipv4-addr:value = '45.12.0.1'] OR [ipv4-addr:value = '45.12.0.1'] // end"),
      V{"ipv4:45.12.0.1"});
}

TEST(IntelStixPattern, UnsupportedWithReasons) {
  EXPECT_NE(unsupported("[ipv4-addr:value != '45.12.0.1']").find("!="), std::string::npos);
  EXPECT_NE(unsupported("[ipv4-addr:value NOT = '45.12.0.1']").find("NOT"), std::string::npos);
  EXPECT_NE(
      unsupported(
          "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c']")
          .find("x509"),
      std::string::npos);
  EXPECT_NE(unsupported("[ipv4-addr:value = '45.12.0.1'] AND [domain-name:value = 'a.example.net']")
                .find("AND"),
            std::string::npos);
  EXPECT_NE(unsupported("[ipv4-addr:value = '45.12.0.1'] REPEATS 5 TIMES").find("REPEATS"),
            std::string::npos);
  EXPECT_NE(unsupported("[ipv4-addr:value = '45.12.0.1'] WITHIN 300 SECONDS").find("WITHIN"),
            std::string::npos);
  EXPECT_NE(unsupported("[ipv4-addr:value = '45.12.0.1'] START t'2016-06-01T00:00:00Z' STOP "
                        "t'2016-07-01T00:00:00Z'")
                .find("START"),
            std::string::npos);
  EXPECT_NE(unsupported("[domain-name:value MATCHES '^.*evil$']").find("MATCHES"),
            std::string::npos);
  EXPECT_NE(unsupported("[url:value LIKE 'http://x/%']").find("LIKE"), std::string::npos);
  EXPECT_NE(unsupported("[network-traffic:dst_port = 22]").find("network-traffic"),
            std::string::npos);
  EXPECT_NE(unsupported("[ipv4-addr:value = 'nonsense']").find("invalid"), std::string::npos);
  EXPECT_NE(unsupported("[EXISTS windows-registry-key:values]").find("EXISTS"), std::string::npos);
  EXPECT_NE(unsupported("[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]")
                .find("path"),
            std::string::npos);
}

TEST(IntelStixPattern, SyntaxErrorsNameTheOffset) {
  for (std::string_view bad :
       {"", "[", "[ipv4-addr:value = '1.2.3.4'", "[ipv4-addr:value '1.2.3.4']",
        "[ipv4-addr:value = '1.2.3.4]", "ipv4-addr:value = '1.2.3.4'",
        "[ipv4-addr:value IN ('a', ]", "[a:b = 'x'] )", "[a:b = 'x'] /* open",
        "[ipv4-addr:value = 'x'] WITHIN SECONDS"}) {
    auto r = extractStixPattern(bad);
    ASSERT_FALSE(r.isOk()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kParseError);
    EXPECT_NE(r.status().message().find("offset"), std::string::npos) << r.status().message();
  }
}

// Parentheses nest at most 64 deep (observation and comparison expressions alike): deeper
// nesting is a syntax error naming its offset, not a stack overflow.
TEST(IntelStixPattern, DeepNestingIsAnErrorNotACrash) {
  auto nested = [](int depth, bool observation) {
    std::string p;
    if (observation) {
      p = std::string(static_cast<size_t>(depth), '(') + "[ipv4-addr:value = '1.2.3.4']" +
          std::string(static_cast<size_t>(depth), ')');
    } else {
      p = "[" + std::string(static_cast<size_t>(depth), '(') + "ipv4-addr:value = '1.2.3.4'" +
          std::string(static_cast<size_t>(depth), ')') + "]";
    }
    return p;
  };
  for (const bool observation : {true, false}) {
    SCOPED_TRACE(observation ? "observation" : "comparison");
    EXPECT_EQ(values(nested(64, observation)), V{"ipv4:1.2.3.4"});
    for (const int depth : {65, 100000}) {
      auto r = extractStixPattern(nested(depth, observation));
      ASSERT_FALSE(r.isOk());
      EXPECT_EQ(r.status().code(), StatusCode::kParseError);
      EXPECT_NE(r.status().message().find("nested more than 64"), std::string::npos)
          << r.status().message();
      EXPECT_NE(r.status().message().find("offset"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace riposte::intel

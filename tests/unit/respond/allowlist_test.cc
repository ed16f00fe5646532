// The allowlist: entry syntax, matching (per-prefix-length tables against a linear reference),
// users and host names, important customers (inline and from a file), names resolved through a
// resolver, and this host's gateways read from the routing tables — parsed from kernel-format
// text, cross-checked against `ip route` on this machine, and read for real inside a network
// namespace the test builds with a default route.
#include "riposte/respond/allowlist.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

#include "riposte/respond/policy.h"
#include "support/netns.h"
#include "support/test_support.h"

namespace riposte {
namespace {

using testing::NetnsGuard;
using testing::NetnsPair;
using testing::runProgram;
using testing::TempDir;

Target ip(const std::string& v) { return {TargetType::kIp, v}; }
Target cidr(const std::string& v) { return {TargetType::kCidr, v}; }

TEST(AllowlistEntry, KindsAndErrors) {
  auto r = parseAllowlistEntry("198.51.100.0/24");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->kind, AllowlistEntryKind::kRange);
  EXPECT_EQ(r->range.prefix, 24);
  r = parseAllowlistEntry("::ffff:192.0.2.1");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->range.base.toString(), "192.0.2.1");
  r = parseAllowlistEntry("user:Alice");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->kind, AllowlistEntryKind::kUser);
  EXPECT_EQ(r->name, "Alice");  // user names are case-sensitive
  r = parseAllowlistEntry("host:Web1.Example.");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->kind, AllowlistEntryKind::kHost);
  EXPECT_EQ(r->name, "web1.example");
  r = parseAllowlistEntry("Backup-2.Example.COM");
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->kind, AllowlistEntryKind::kName);
  EXPECT_EQ(r->name, "backup-2.example.com");
  for (const char* bad : {"10.0.0.256", "10.0.0.0/33", "user:", "host:  ", "-x.example",
                          "a..example", "bad name", "x_.example/24", "", "2001:db8::/129"}) {
    auto b = parseAllowlistEntry(bad);
    EXPECT_FALSE(b.isOk()) << "'" << bad << "' was accepted";
    if (!b.isOk()) EXPECT_NE(b.status().message().find('\''), std::string::npos);
  }
}

TEST(Allowlist, MatchesAddressesRangesUsersAndHostsWithTheirReason) {
  Allowlist a;
  ASSERT_TRUE(a.add("10.0.0.0/8", "office").isOk());
  ASSERT_TRUE(a.add("10.1.2.0/24", "lab").isOk());
  ASSERT_TRUE(a.add("2001:db8:1::/48").isOk());
  ASSERT_TRUE(a.add("user:root", "admins").isOk());
  ASSERT_TRUE(a.add("host:DB1", "database").isOk());
  ASSERT_FALSE(a.add("not an entry").isOk());
  // The longest prefix names the reason.
  ASSERT_NE(a.match(ip("10.1.2.3")), nullptr);
  EXPECT_EQ(a.match(ip("10.1.2.3"))->why, "lab");
  EXPECT_EQ(a.match(ip("10.9.9.9"))->why, "office");
  EXPECT_EQ(a.match(ip("10.9.9.9"))->entry, "10.0.0.0/8");
  EXPECT_EQ(a.match(ip("11.0.0.1")), nullptr);
  EXPECT_EQ(a.match(ip("2001:db8:1:ffff::1"))->why, "response.allowlist");
  EXPECT_EQ(a.match(ip("2001:db8:2::1")), nullptr);
  // The same bits in the other family do not match.
  EXPECT_EQ(a.match(ip("a00::1")), nullptr);
  // Ranges: inside an entry, containing one, or neither.
  EXPECT_NE(a.match(cidr("10.200.0.0/16")), nullptr);
  EXPECT_NE(a.match(cidr("8.0.0.0/6")), nullptr);  // contains 10.0.0.0/8
  EXPECT_EQ(a.match(cidr("12.0.0.0/6")), nullptr);
  EXPECT_NE(a.match(cidr("2001:db8::/32")), nullptr);
  EXPECT_EQ(a.match(cidr("2001:db9::/32")), nullptr);
  // Users exactly, hosts whatever the case.
  EXPECT_EQ(a.match({TargetType::kUser, "root"})->why, "admins");
  EXPECT_EQ(a.match({TargetType::kUser, "Root"}), nullptr);
  EXPECT_EQ(a.match({TargetType::kHost, "db1"})->entry, "host:db1");
  EXPECT_EQ(a.match({TargetType::kHost, "DB1."})->why, "database");
  EXPECT_EQ(a.match({TargetType::kHost, "db2"}), nullptr);
  // Users and hosts are not addresses.
  EXPECT_EQ(a.match({TargetType::kHost, "10.0.0.1"}), nullptr);
  // Listing the same range twice keeps the first reason.
  a.addRange(*Cidr::parse("10.0.0.0/8"), "again");
  EXPECT_EQ(a.match(ip("10.9.9.9"))->why, "office");
}

// Random ranges of random widths in both families against a linear scan of Cidr::contains.
TEST(Allowlist, AgreesWithALinearScanOverRandomRanges) {
  std::mt19937_64 rng(20261128);
  auto randomIp = [&](bool v6) {
    IpAddress a;
    a.v6 = v6;
    for (size_t i = 0; i < (v6 ? 16u : 4u); ++i) a.bytes[i] = static_cast<uint8_t>(rng() % 4);
    return a;  // small byte values: ranges and probes collide often
  };
  for (int round = 0; round < 20; ++round) {
    Allowlist a;
    std::vector<Cidr> ranges;
    for (int i = 0; i < 40; ++i) {
      const bool v6 = rng() % 2 == 0;
      const auto len = static_cast<uint8_t>(rng() % ((v6 ? 128 : 32) + 1));
      auto c = Cidr::parse(randomIp(v6).toString() + "/" + std::to_string(len));
      ASSERT_TRUE(c.isOk());
      ranges.push_back(*c);
      a.addRange(*c, "r" + std::to_string(i));
    }
    for (int q = 0; q < 2000; ++q) {
      const IpAddress probe = randomIp(rng() % 2 == 0);
      bool want = false;
      for (const auto& r : ranges) want = want || r.contains(probe);
      EXPECT_EQ(a.match(probe) != nullptr, want) << probe.toString();
      const auto len = static_cast<uint8_t>(rng() % ((probe.v6 ? 128 : 32) + 1));
      auto target = Cidr::parse(probe.toString() + "/" + std::to_string(len));
      ASSERT_TRUE(target.isOk());
      bool overlap = false;
      for (const auto& r : ranges) {
        overlap = overlap || r.contains(target->base) || target->contains(r.base);
      }
      EXPECT_EQ(a.match(cidr(target->toString())) != nullptr, overlap) << target->toString();
    }
  }
}

// /proc/net/route and /proc/net/ipv6_route as the kernel writes them (x86: host byte order).
TEST(AllowlistGateways, ParsesKernelRouteTables) {
  const std::string route =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
      "eth0\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"
      "wg0\t0000000A\t0100000A\t0003\t0\t0\t0\t000000FF\t0\t0\t0\n"
      "garbage line\n";
  const std::string route6 =
      "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
      "fe800000000000000000000000000001 00000400 00000001 00000000 00450003     eth0\n"
      "20010db8000000000000000000000000 40 00000000000000000000000000000000 00 "
      "00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
      "short\n";
  const auto gw = parseRouteGateways(route, route6);
  ASSERT_EQ(gw.size(), 3u);
  uint32_t probe = 1;
  const bool little = *reinterpret_cast<uint8_t*>(&probe) == 1;
  if (little) {
    EXPECT_EQ(gw[0].ip.toString(), "192.168.2.1");
    EXPECT_EQ(gw[1].ip.toString(), "10.0.0.1");
  }
  EXPECT_EQ(gw[0].iface, "eth0");
  EXPECT_EQ(gw[1].iface, "wg0");
  EXPECT_EQ(gw[2].ip.toString(), "fe80::1");
}

// The parser against `ip route` on this machine: every "via" next hop is found.
TEST(AllowlistGateways, FindsEveryNextHopIpRouteShows) {
  std::string v4, v6;
  if (runProgram({"ip", "-4", "route", "show", "table", "main"}, &v4) != 0) {
    GTEST_SKIP() << "`ip route` is not available here";
  }
  (void)runProgram({"ip", "-6", "route", "show", "table", "main"}, &v6);
  std::vector<std::string> want;
  for (const std::string* text : {&v4, &v6}) {
    std::istringstream in(*text);
    std::string word, prev;
    while (in >> word) {
      if (prev == "via") want.push_back(*canonicalIp(word));
      prev = word;
    }
  }
  auto read = [](const char* p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const auto gw = parseRouteGateways(read("/proc/net/route"), read("/proc/net/ipv6_route"));
  for (const auto& w : want) {
    bool found = false;
    for (const auto& g : gw) found = found || g.ip.toString() == w;
    EXPECT_TRUE(found) << "gateway " << w << " from `ip route` was not found";
  }
}

// In a namespace with a veth, a default IPv4 route and an IPv6 route through gateways: the
// allowlist built there lists both gateways and the interface's addresses.
TEST(AllowlistGateways, BuiltInANamespaceListsItsGatewaysAndAddresses) {
  NetnsPair ns(252);
  if (!ns.error().empty()) GTEST_SKIP() << ns.error();
  // The server end of the pair's veth (support/netns.cc names it after the process).
  const std::string dev = "rpv0-" + std::to_string(getpid());
  const std::vector<std::vector<std::string>> steps = {
      {"ip", "-6", "addr", "add", "fd00:252:7::2/64", "dev", dev, "nodad"},
      {"ip", "route", "add", "default", "via", ns.clientIp()},
      {"ip", "-6", "route", "add", "2001:db8:99::/48", "via", "fd00:252:7::1"},
  };
  for (const auto& s : steps) {
    std::string out;
    std::vector<std::string> argv = s;
    ASSERT_EQ(ns.execInServer(argv, &out), 0) << s[0] << " " << s[1] << ": " << out;
  }
  NetnsGuard guard(ns.server());
  if (!guard.ok()) GTEST_SKIP() << "the kernel refused setns into " << ns.server();
  Config c;
  AllowlistEnvironment env;
  env.proc_net = "/proc/thread-self/net";  // this thread's namespace, not the process's
  env.own_addresses = true;
  env.gateways = true;
  std::vector<std::string> warnings;
  auto a = buildAllowlist(c, env, &warnings);
  ASSERT_TRUE(a.isOk()) << a.status().toString();
  ASSERT_NE(a->match(ip(ns.clientIp())), nullptr);
  EXPECT_EQ(a->match(ip(ns.clientIp()))->why, "gateway (" + dev + ")");
  ASSERT_NE(a->match(ip("fd00:252:7::1")), nullptr);
  EXPECT_EQ(a->match(ip("fd00:252:7::1"))->why, "gateway (" + dev + ")");
  ASSERT_NE(a->match(ip(ns.serverIp())), nullptr);
  EXPECT_EQ(a->match(ip(ns.serverIp()))->why, "own address (" + dev + ")");
  EXPECT_NE(a->match(ip("fd00:252:7::2")), nullptr);
  EXPECT_EQ(a->match(ip("fd00:252:7::3")), nullptr);  // a neighbour is not the gateway
  // Without the environment's consent, neither.
  env.gateways = env.own_addresses = false;
  auto bare = buildAllowlist(c, env, &warnings);
  ASSERT_TRUE(bare.isOk());
  EXPECT_EQ(bare->match(ip(ns.clientIp())), nullptr);
  EXPECT_EQ(bare->size(), 0u);
}

class AllowlistBuild : public ::testing::Test {
 protected:
  AllowlistEnvironment env() {
    AllowlistEnvironment e;
    e.resolve = [this](const std::string& name) -> Result<std::vector<IpAddress>> {
      asked_.push_back(name);
      if (name == "backup.example.net") {
        return std::vector<IpAddress>{*IpAddress::parse("198.51.100.4"),
                                      *IpAddress::parse("2001:db8:5::4")};
      }
      return Status::unavailable("Name or service not known");
    };
    return e;
  }
  std::vector<std::string> asked_;
  TempDir dir_;
};

TEST_F(AllowlistBuild, NamesResolveAndCustomersAreNamedInTheReason) {
  Config c;
  c.allowlist = {"192.0.2.0/24", "backup.example.net", "gone.example.net", "user:deploy"};
  c.customers = {{"Acme Bank", {"203.0.113.0/25", "vpn.example.net", "host:acme-gw"}}};
  const auto file = (dir_.path() / "customers.txt").string();
  std::ofstream(file) << "# customers of the support contract\n"
                         "\n"
                         "203.0.113.200   Globex  Corp   # added 2026-11\n"
                         "2001:db8:77::/48 Initech\n"
                         "198.18.5.5\n";
  c.customers_file = file;
  std::vector<std::string> warnings;
  auto a = buildAllowlist(c, env(), &warnings);
  ASSERT_TRUE(a.isOk()) << a.status().toString();
  EXPECT_EQ(asked_, (std::vector<std::string>{"backup.example.net", "gone.example.net",
                                              "vpn.example.net"}));
  EXPECT_EQ(a->match(ip("198.51.100.4"))->why, "response.allowlist: backup.example.net");
  EXPECT_NE(a->match(ip("2001:db8:5::4")), nullptr);
  EXPECT_NE(a->match({TargetType::kHost, "Backup.example.net"}), nullptr);
  // A name that does not resolve: a warning, and host targets of that name still match.
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("gone.example.net did not resolve"), std::string::npos) << warnings[0];
  EXPECT_NE(a->match({TargetType::kHost, "gone.example.net"}), nullptr);
  EXPECT_NE(warnings[1].find("important customer Acme Bank"), std::string::npos) << warnings[1];
  EXPECT_EQ(a->match(ip("203.0.113.7"))->why, "important customer Acme Bank");
  EXPECT_EQ(a->match(ip("203.0.113.129")), nullptr);
  EXPECT_EQ(a->match({TargetType::kHost, "acme-gw"})->why, "important customer Acme Bank");
  EXPECT_EQ(a->match(ip("203.0.113.200"))->why, "important customer Globex  Corp");
  EXPECT_EQ(a->match(ip("2001:db8:77:1::9"))->why, "important customer Initech");
  EXPECT_EQ(a->match(ip("198.18.5.5"))->why, "important customer (" + file + ":5)");
  EXPECT_EQ(a->match({TargetType::kUser, "deploy"})->why, "response.allowlist");
}

TEST_F(AllowlistBuild, ABadEntryNamesWhereItIs) {
  Config c;
  const auto file = (dir_.path() / "customers.txt").string();
  std::ofstream(file) << "203.0.113.1 Good\n\n10.0.0.300 Typo Ltd\n";
  c.customers_file = file;
  auto a = buildAllowlist(c, env(), nullptr);
  ASSERT_FALSE(a.isOk());
  EXPECT_NE(a.status().message().find(file + ":3"), std::string::npos) << a.status().toString();
  EXPECT_NE(a.status().message().find("10.0.0.300"), std::string::npos);
  c.customers_file = (dir_.path() / "missing.txt").string();
  a = buildAllowlist(c, env(), nullptr);
  ASSERT_FALSE(a.isOk());
  EXPECT_NE(a.status().message().find("response.customers_file"), std::string::npos);
}

// The system resolver for real, on a name every Debian machine has in /etc/hosts.
TEST(AllowlistResolve, LocalhostResolvesToLoopback) {
  auto r = resolveHostName("localhost");
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  bool loop = false;
  for (const auto& a : *r) loop = loop || a.toString() == "127.0.0.1" || a.toString() == "::1";
  EXPECT_TRUE(loop);
}

// A policy refuses a customer's address and says why; a refreshed allowlist takes effect.
TEST(AllowlistPolicy, RefusalsNameTheEntryAndARefreshTakesEffect) {
  PolicyConfig pc;
  ASSERT_TRUE(pc.allowlist.add("203.0.113.0/24", "important customer Acme").isOk());
  Policy p(std::move(pc));
  EXPECT_EQ(p.allowlistedBy(ip("203.0.113.9")).value_or(""),
            "203.0.113.0/24 (important customer Acme)");
  EXPECT_FALSE(p.allowlistedBy(ip("198.51.100.1")).has_value());
  Finding f;
  f.detector = "test";
  f.entity = ip("198.51.100.1");
  Decision d;
  EXPECT_EQ(p.decide(f, Timestamp::now(), d), PolicyOutcome::kDecided);
  auto next = std::make_shared<Allowlist>(*p.allowlist());
  next->addRange(*Cidr::parse("198.51.100.0/24"), "response.allowlist");
  p.setAllowlist(std::move(next));
  f.entity = ip("198.51.100.2");
  EXPECT_EQ(p.decide(f, Timestamp::now(), d), PolicyOutcome::kAllowlisted);
  EXPECT_TRUE(p.isAllowlisted(ip("203.0.113.9")));
}

}  // namespace
}  // namespace riposte

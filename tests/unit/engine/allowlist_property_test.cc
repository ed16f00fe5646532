// Property: the allowlist always wins. Over thousands of random findings and stored decisions
// (IPv4 and IPv6 addresses, CIDR ranges of random widths that contain, sit inside, border or
// miss the allowlisted networks, IPv4-mapped and expanded spellings, users, hosts) against
// random allowlists that include this host's own interface addresses, nothing that touches an
// allowlisted network ever reaches an action — through the policy (finding → decision), the
// approval of high-risk decisions, restore after a restart, the periodic reconcile, and the
// executor's own re-check just before an action runs — and every refusal is audited.
//
// A range that contains or lies inside an allowlisted network is refused whole (the documented
// behaviour: docs/configuration.md, `response.allowlist`). Users and hosts are not addresses:
// the allowlist does not cover them and they are decided like any other target.
//
// The RNG is seeded; the seed is printed and RIPOSTE_PROPERTY_SEED replays a failing run.
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "riposte/core/ids.h"
#include "riposte/core/ip.h"
#include "riposte/core/registry.h"
#include "riposte/engine/engine.h"
#include "riposte/respond/allowlist.h"
#include "riposte/respond/executor.h"
#include "riposte/respond/policy.h"
#include "riposte/store/sqlite_store.h"
#include "support/test_support.h"

namespace riposte {
namespace {

// ---- The oracle: address ranges compared bit by bit, independently of Cidr/CidrList. ----

struct Range {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
  int prefix = 32;
  int bits() const { return v6 ? 128 : 32; }
  bool bit(int i) const { return ((bytes[static_cast<size_t>(i / 8)] >> (7 - i % 8)) & 1) != 0; }
  void setBit(int i, bool on) {
    const auto m = static_cast<uint8_t>(1u << (7 - i % 8));
    auto& b = bytes[static_cast<size_t>(i / 8)];
    b = on ? static_cast<uint8_t>(b | m) : static_cast<uint8_t>(b & ~m);
  }
  void clearHostBits() {
    for (int i = prefix; i < bits(); ++i) setBit(i, false);
  }
};

bool overlaps(const Range& a, const Range& b) {
  if (a.v6 != b.v6) return false;
  const int n = std::min(a.prefix, b.prefix);
  for (int i = 0; i < n; ++i) {
    if (a.bit(i) != b.bit(i)) return false;
  }
  return true;
}

// The range a target covers; nullopt for users, hosts and text that is not an address.
std::optional<Range> rangeOf(const Target& t) {
  if (t.type != TargetType::kIp && t.type != TargetType::kCidr) return std::nullopt;
  const auto slash = t.value.find('/');
  auto ip = IpAddress::parse(std::string_view(t.value).substr(0, slash));
  if (!ip) return std::nullopt;
  Range r;
  r.v6 = ip->v6;
  r.bytes = ip->bytes;
  r.prefix = r.bits();
  if (slash != std::string::npos) r.prefix = std::atoi(t.value.c_str() + slash + 1);
  return r;
}

bool touches(const Target& t, const std::vector<Range>& allow) {
  auto r = rangeOf(t);
  if (!r) return false;
  for (const auto& a : allow) {
    if (overlaps(*r, a)) return true;
  }
  return false;
}

std::string addrText(const Range& r) {
  IpAddress ip;
  ip.v6 = r.v6;
  ip.bytes = r.bytes;
  return ip.toString();
}
std::string cidrText(const Range& r) { return addrText(r) + "/" + std::to_string(r.prefix); }

// This host's interface addresses (what `allowlist_own_addresses` adds).
std::vector<Range> ownAddresses() {
  std::vector<Range> out;
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) != 0) return out;
  for (ifaddrs* i = ifs; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    Range r;
    if (i->ifa_addr->sa_family == AF_INET) {
      std::memcpy(r.bytes.data(), &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr, 4);
      r.prefix = 32;
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      std::memcpy(r.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr,
                  16);
      r.v6 = true;
      r.prefix = 128;
    } else {
      continue;
    }
    out.push_back(r);
  }
  freeifaddrs(ifs);
  return out;
}

// This host's gateways (what `allowlist_gateways` adds; the route parser is checked against
// `ip route` in respond_test).
std::vector<Range> gatewayAddresses() {
  std::vector<Range> out;
  auto read = [](const char* path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  for (const auto& g : parseRouteGateways(read("/proc/net/route"), read("/proc/net/ipv6_route"))) {
    Range r;
    r.v6 = g.ip.v6;
    r.bytes = g.ip.bytes;
    r.prefix = g.ip.v6 ? 128 : 32;
    out.push_back(r);
  }
  return out;
}

// ---- Random targets, biased towards the edges of the allowlist. ----

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }
  bool coin() { return below(2) == 0; }

  Range randomAddress(bool v6) {
    Range r;
    r.v6 = v6;
    r.prefix = r.bits();
    if (v6) {
      r.bytes[0] = static_cast<uint8_t>(0x20 + below(2));  // global unicast-looking
      for (size_t i = 1; i < 16; ++i) r.bytes[i] = static_cast<uint8_t>(below(256));
    } else {
      for (size_t i = 0; i < 4; ++i) r.bytes[i] = static_cast<uint8_t>(below(256));
      if (r.bytes[0] == 0 || r.bytes[0] >= 224) r.bytes[0] = static_cast<uint8_t>(1 + below(200));
    }
    return r;
  }

  Range randomRange(bool v6) {
    Range r = randomAddress(v6);
    r.prefix = v6 ? 16 + static_cast<int>(below(113)) : 8 + static_cast<int>(below(25));
    r.clearHostBits();
    return r;
  }

  // A random address inside `r`.
  Range inside(const Range& r) {
    Range a = r;
    for (int i = r.prefix; i < r.bits(); ++i) a.setBit(i, coin());
    a.prefix = a.bits();
    return a;
  }

  // The address just below or just above `r` (wrapping at the ends of the space).
  Range bordering(const Range& r) {
    Range a = r;
    a.prefix = a.bits();
    const bool above = coin();
    if (above) {
      for (int i = r.prefix; i < r.bits(); ++i) a.setBit(i, true);
    }
    for (int i = a.bits() - 1; i >= 0; --i) {  // +1 or -1 with carry
      const bool b = a.bit(i);
      a.setBit(i, !b);
      if (above ? !b : b) break;
    }
    return a;
  }

  // A target of any kind, about `r` (an allowlisted network) most of the time.
  Target target(const std::vector<Range>& allow, int serial) {
    const Range& r = allow[below(static_cast<uint32_t>(allow.size()))];
    switch (below(11)) {
      case 0: return {TargetType::kIp, addrText(inside(r))};
      case 1: return {TargetType::kIp, addrText(bordering(r))};
      case 2: {  // a range containing the allowlisted network (or equal to it)
        Range c = r;
        c.prefix = std::max(r.v6 ? 8 : 1, r.prefix - static_cast<int>(below(20)));
        c.clearHostBits();
        return {TargetType::kCidr, cidrText(c)};
      }
      case 3: {  // a range inside the allowlisted network
        Range c = inside(r);
        c.prefix =
            r.prefix + static_cast<int>(below(static_cast<uint32_t>(r.bits() - r.prefix + 1)));
        c.clearHostBits();
        return {TargetType::kCidr, cidrText(c)};
      }
      case 4: {  // the sibling network of the same width: borders it, does not overlap
        Range c = r;
        if (c.prefix == 0) return {TargetType::kCidr, cidrText(c)};
        c.setBit(c.prefix - 1, !c.bit(c.prefix - 1));
        return {TargetType::kCidr, cidrText(c)};
      }
      case 5: return {TargetType::kIp, addrText(randomAddress(coin()))};
      case 6: return {TargetType::kCidr, cidrText(randomRange(coin()))};
      case 7: {  // other spellings of an address inside: IPv4-mapped IPv6, expanded upper-case
        const Range a = inside(r);
        if (!a.v6) return {TargetType::kIp, "::ffff:" + addrText(a)};
        std::string s;
        static const char* kHex = "0123456789ABCDEF";
        for (size_t i = 0; i < 16; i += 2) {
          if (i > 0) s += ':';
          for (uint8_t b : {a.bytes[i], a.bytes[i + 1]}) {
            s += kHex[b >> 4];
            s += kHex[b & 15];
          }
        }
        return {TargetType::kIp, s};
      }
      case 8: {  // a wide range straddling: contains the network and plenty around it
        Range c = r;
        c.prefix = std::max(r.v6 ? 8 : 1, std::min(r.prefix, r.v6 ? 48 : 16) - 1);
        c.clearHostBits();
        return {TargetType::kCidr, cidrText(c)};
      }
      case 9: return {TargetType::kUser, "user" + std::to_string(serial)};
      default: return {TargetType::kHost, "host" + std::to_string(serial) + ".example.org"};
    }
  }

 private:
  std::mt19937_64 rng_;
};

uint64_t propertySeed() {
  if (const char* s = std::getenv("RIPOSTE_PROPERTY_SEED"); s != nullptr && *s != '\0') {
    return std::strtoull(s, nullptr, 10);
  }
  return std::random_device{}();
}

// ---- Components: a detector that emits scripted findings, an action that records. ----

std::deque<Finding> g_script;

class ScriptedDetector : public Detector {
 public:
  std::string_view name() const override { return "script"; }
  void onEvent(const Event&, const FindingSink& sink) override {
    if (g_script.empty()) return;
    Finding f = std::move(g_script.front());
    g_script.pop_front();
    sink(std::move(f));
  }
};

struct Reached {
  std::string via;  // apply | batch | reconcile
  Decision d;
};
std::mutex g_mu;
std::vector<Reached> g_reached;

class RecordingBlock : public Action {
 public:
  std::string_view name() const override { return "fw"; }
  Status apply(const Decision& d) override { return note("apply", {d}); }
  Status applyBatch(const std::vector<Decision>& ds) override { return note("batch", ds); }
  Status undo(const Decision&) override { return Status::ok(); }
  bool enforcing() const override { return true; }
  Result<ReconcileReport> reconcile(const std::vector<Decision>& active) override {
    RIPOSTE_RETURN_IF_ERROR(note("reconcile", active));  // reconcile re-adds what is listed
    return ReconcileReport{};
  }

 private:
  static Status note(const char* via, const std::vector<Decision>& ds) {
    std::lock_guard<std::mutex> l(g_mu);
    for (const auto& d : ds) g_reached.push_back({via, d});
    return Status::ok();
  }
};

std::vector<Reached> takeReached() {
  std::lock_guard<std::mutex> l(g_mu);
  return std::exchange(g_reached, {});
}

class AllowlistProperty : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = propertySeed();
    std::printf("allowlist property seed: %llu (replay with RIPOSTE_PROPERTY_SEED=%llu)\n",
                static_cast<unsigned long long>(seed_), static_cast<unsigned long long>(seed_));
    RecordProperty("seed", std::to_string(seed_));
    ASSERT_TRUE(registerBuiltins(reg_).isOk());
    ASSERT_TRUE(reg_.detectors
                    .add("scripted", "test",
                         [](const ComponentConfig&, const FactoryContext&) -> Result<DetectorPtr> {
                           return DetectorPtr(new ScriptedDetector);
                         })
                    .isOk());
    ASSERT_TRUE(reg_.actions
                    .add("recordblock", "test",
                         [](const ComponentConfig&, const FactoryContext&) -> Result<ActionPtr> {
                           return ActionPtr(new RecordingBlock);
                         })
                    .isOk());
    own_ = ownAddresses();
    gateways_ = gatewayAddresses();
    own_.insert(own_.end(), gateways_.begin(), gateways_.end());
    g_script.clear();
    takeReached();
  }

  uint64_t seed_ = 0;
  Registries reg_;
  std::vector<Range> own_;  // interface addresses and gateways
  std::vector<Range> gateways_;
  testing::TempDir dir_;
};

TEST_F(AllowlistProperty, NoAllowlistedAddressIsEverEnforcedAndEveryRefusalIsAudited) {
  Gen gen(seed_);
  constexpr int kRounds = 4;
  constexpr int kFindings = 700;
  constexpr int kStored = 250;
  size_t total_refused = 0, total_enforced = 0, total_cases = 0, range_refusals = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + " of seed " + std::to_string(seed_));
    // A random allowlist: 1-6 networks of random widths, plus this host's own addresses.
    std::vector<Range> configured;
    const int n = 1 + static_cast<int>(gen.below(6));
    std::string yaml_allow;
    for (int i = 0; i < n; ++i) {
      Range r = gen.randomRange(gen.coin());
      if (gen.below(4) == 0) r.prefix = r.bits();  // a single address
      configured.push_back(r);
      yaml_allow += (i ? ", \"" : "\"") + (r.prefix == r.bits() ? addrText(r) : cidrText(r)) + "\"";
    }
    std::vector<Range> allow = configured;
    allow.insert(allow.end(), own_.begin(), own_.end());
    const int v6_prefix = std::array{128, 64, 56}[gen.below(3)];
    const std::string yaml = R"(
detectors:
  - name: script
    type: scripted
actions:
  - name: fw
    type: recordblock
response:
  default_duration: 1h
  max_blocks_per_minute: 0
  max_active_blocks: 0
  reconcile_interval: 1ms
  ipv6_prefix: )" + std::to_string(v6_prefix) +
                             R"(
  allowlist_own_addresses: true
  allowlist: [)" + yaml_allow +
                             R"(]
)";
    auto cfg = parseConfig(yaml, "property.yaml", &reg_);
    ASSERT_TRUE(cfg.isOk()) << cfg.status().toString() << "\n" << yaml;
    auto st = SqliteStore::open((dir_.path() / ("r" + std::to_string(round) + ".db")).string());
    ASSERT_TRUE(st.isOk());
    std::unique_ptr<SqliteStore> store = std::move(*st);

    // Decisions already stored as active (another process wrote them, or the allowlist
    // changed since): restore and reconcile must not enforce the allowlisted ones.
    std::map<std::string, Target> stored;  // id -> target
    for (int i = 0; i < kStored; ++i) {
      Decision d;
      d.id = "stored-" + std::to_string(round) + "-" + std::to_string(i);
      d.target = gen.target(allow, i);
      d.reason = "stored " + std::to_string(i);
      d.created = Timestamp::now();
      d.expires = d.created + std::chrono::hours(1);
      ASSERT_TRUE(store->saveDecision(d).isOk());
      stored[d.id] = d.target;
    }

    EngineOptions eo;
    eo.allowlist_own_addresses = true;
    auto e = Engine::create(*cfg, reg_, store.get(), eo);
    ASSERT_TRUE(e.isOk()) << e.status().toString();
    std::unique_ptr<Engine> engine = std::move(*e);
    ASSERT_TRUE(engine->restore().isOk());

    // Findings through the real path: parser → detector → policy → store → executor.
    auto parser = engine->parser("sshd");
    ASSERT_TRUE(parser.isOk());
    std::map<std::string, Target> findings;  // reason -> entity
    for (int i = 0; i < kFindings; ++i) {
      Finding f;
      f.id = "f-" + std::to_string(round) + "-" + std::to_string(i);
      f.detector = "property";
      f.entity = gen.target(allow, kStored + i);
      f.reason = "case " + std::to_string(round) + "-" + std::to_string(i);
      f.fallback = gen.below(10) == 0;
      f.first_seen = f.last_seen = Timestamp::now();
      f.event_count = 1;
      findings[f.reason] = f.entity;
      g_script.push_back(std::move(f));
      ParseContext ctx;
      ctx.year = 2026;
      const std::string line =
          "Feb 12 14:10:22 host1 sshd[1]: Failed password for root from 203.0.113.1 port 1 ssh2";
      engine->process(**parser, ctx, SourceLine{line, "property", 0, {}, false});
    }
    ASSERT_TRUE(g_script.empty()) << "the detector did not see every event";
    engine->drain();

    // High-risk decisions (ranges, users, hosts) wait for approval: approve them all.
    DecisionFilter pf;
    pf.state = DecisionState::kPendingApproval;
    pf.limit = 100'000;
    auto pending = store->listDecisions(pf);
    ASSERT_TRUE(pending.isOk());
    for (const auto& d : *pending) {
      auto a = engine->approveDecision(d.id, "cli:property");
      EXPECT_TRUE(a.isOk() || a.status().code() == StatusCode::kPermissionDenied)
          << a.status().toString();
      if (!a.isOk()) {
        EXPECT_TRUE(touches(d.target, allow)) << d.target.value << ": " << a.status().toString();
      }
    }
    engine->drain();
    // A reconcile pass (re-applies active decisions, then repairs drift).
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    engine->tick(Timestamp::now());
    engine->drain();

    // 1. Nothing that touches the allowlist reached the action, by any path.
    const auto reached = takeReached();
    std::set<std::string> enforced_ids;
    for (const auto& r : reached) {
      EXPECT_FALSE(touches(r.d.target, allow))
          << r.d.target.value << " (" << targetTypeName(r.d.target.type)
          << ") touches the allowlist but reached the action through " << r.via
          << "; allowlist: " << yaml_allow;
      enforced_ids.insert(r.d.id);
    }
    // 2. Every refusal is audited: each finding on an allowlisted target has its
    //    decision.refused.allowlisted entry, and no other finding does.
    auto audit = store->listAudit(0, 10'000'000);
    ASSERT_TRUE(audit.isOk());
    EXPECT_TRUE(verifyAuditChain(*audit).isOk());
    std::map<std::string, int> refused_findings;  // reason -> entries
    std::map<std::string, int> refused_actions;   // decision id -> entries
    for (const auto& a : *audit) {
      if (a.kind == "decision.refused.allowlisted") {
        ++refused_findings[nlohmann::json::parse(a.details_json).value("reason", "")];
      } else if (a.kind == "action.refused.allowlisted") {
        ++refused_actions[nlohmann::json::parse(a.details_json).value("id", "")];
      }
    }
    size_t refused_here = 0;
    for (const auto& [reason, entity] : findings) {
      const bool t = touches(entity, allow);
      EXPECT_EQ(refused_findings[reason], t ? 1 : 0)
          << reason << ": " << entity.value << " (" << targetTypeName(entity.type) << ")"
          << (t ? " touches the allowlist: refusal not audited once" : " refused wrongly");
      if (t) {
        ++refused_here;
        if (entity.type == TargetType::kCidr) ++range_refusals;
      }
    }
    // Stored decisions: each allowlisted one has its refusal audited (restore, once more at
    // most by reconcile), the others were re-applied.
    for (const auto& [id, target] : stored) {
      if (touches(target, allow)) {
        ++refused_here;
        EXPECT_EQ(refused_actions[id], 1) << id << " " << target.value;
        EXPECT_EQ(enforced_ids.count(id), 0u);
      } else {
        EXPECT_EQ(enforced_ids.count(id), 1u) << id << " " << target.value << " not restored";
      }
    }
    // 3. What the engine decided from findings never touches the allowlist.
    DecisionFilter all;
    all.limit = 1'000'000;
    auto decided = store->listDecisions(all);
    ASSERT_TRUE(decided.isOk());
    for (const auto& d : *decided) {
      if (stored.count(d.id) != 0) continue;
      EXPECT_FALSE(touches(d.target, allow)) << "decided on " << d.target.value;
    }
    total_refused += refused_here;
    total_enforced += enforced_ids.size();
    total_cases += kFindings + kStored;
    engine.reset();
  }
  // Not vacuous: both sides of the property were exercised many times.
  EXPECT_GT(total_refused, 500u);
  EXPECT_GT(total_enforced, 500u);
  EXPECT_GT(range_refusals, 100u);
  std::printf("allowlist property: %zu cases, %zu refused, %zu enforced\n", total_cases,
              total_refused, total_enforced);
}

// The executor's re-check alone (the last line of defence): decisions that skipped the policy
// go straight to apply, batch and reconcile; none that touches the allowlist reaches the action
// and each is reported as refused exactly once per job.
TEST_F(AllowlistProperty, TheExecutorRefusesAllowlistedTargetsOnEveryPath) {
  Gen gen(seed_ ^ 0x9e3779b97f4a7c15ULL);
  constexpr int kCases = 4000;
  for (int round = 0; round < 2; ++round) {
    PolicyConfig pc;
    std::vector<Range> allow;
    const int n = 1 + static_cast<int>(gen.below(6));
    for (int i = 0; i < n; ++i) {
      const Range r = gen.randomRange(gen.coin());
      allow.push_back(r);
      ASSERT_TRUE(pc.allowlist.add(cidrText(r)).isOk());
    }
    for (const Range& g : gateways_) ASSERT_TRUE(pc.allowlist.add(cidrText(g)).isOk());
    Policy policy(std::move(pc));
    ASSERT_TRUE(policy.allowlistOwnAddresses().isOk());
    allow.insert(allow.end(), own_.begin(), own_.end());

    RecordingBlock action;
    std::mutex mu;
    std::map<std::string, int> reported;  // decision id -> refusals reported
    ExecutorOptions xo;
    xo.queue_capacity = 1'000'000;
    Executor x(
        {&action}, xo,
        [&](const ActionResult& r) {
          if (!r.allowlisted) return;
          std::lock_guard<std::mutex> l(mu);
          for (const auto& d : r.decisions) ++reported[d.id];
        },
        [&policy](const Target& t) { return policy.isAllowlisted(t); });
    std::map<std::string, Target> sent;
    std::vector<Decision> batch, reconcile;
    for (int i = 0; i < kCases; ++i) {
      Decision d;
      d.id = newId();
      d.target = gen.target(allow, i);
      d.created = Timestamp::now();
      d.expires = d.created + std::chrono::hours(1);
      sent[d.id] = d.target;
      switch (gen.below(3)) {
        case 0: ASSERT_TRUE(x.submitApply(d)); break;
        case 1: batch.push_back(d); break;
        default: reconcile.push_back(d); break;
      }
      if (batch.size() >= 97) ASSERT_TRUE(x.submitBatch(std::exchange(batch, {})));
      if (reconcile.size() >= 89) ASSERT_TRUE(x.submitReconcile(std::exchange(reconcile, {})));
    }
    ASSERT_TRUE(x.submitBatch(std::move(batch)));
    ASSERT_TRUE(x.submitReconcile(std::move(reconcile)));
    x.drain();
    std::set<std::string> reached;
    for (const auto& r : takeReached()) {
      EXPECT_FALSE(touches(r.d.target, allow))
          << r.d.target.value << " touches the allowlist but reached the action through " << r.via;
      reached.insert(r.d.id);
    }
    size_t refused = 0;
    std::lock_guard<std::mutex> l(mu);
    for (const auto& [id, target] : sent) {
      const bool t = touches(target, allow);
      EXPECT_EQ(reported[id], t ? 1 : 0) << target.value;
      EXPECT_EQ(reached.count(id), t ? 0u : 1u) << target.value;
      refused += t ? 1 : 0;
    }
    EXPECT_GT(refused, 300u);
    EXPECT_GT(sent.size() - refused, 300u);
  }
}

}  // namespace
}  // namespace riposte

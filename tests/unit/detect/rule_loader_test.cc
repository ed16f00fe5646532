#include "riposte/detect/rules/rule_loader.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/test_support.h"

namespace riposte::rules {
namespace {

const RuleDiagnostic* findCode(const LoadResult& r, const std::string& code) {
  for (const auto& d : r.diagnostics) {
    if (d.code == code) return &d;
  }
  return nullptr;
}

TEST(RuleLoader, CompilesAValidRule) {
  auto r = loadRuleText(R"(
rules:
  - id: web-probe
    kinds: [http]
    match:
      http.response.status_code: {gte: 400, lt: 500}
      not: {url.path: {startswith: [/static/, /img/]}}
    aggregate: {type: count, key: source.ip, threshold: 10, window: 30s}
    severity: 4
    duration: 2h
    labels: [T1595]
)",
                        "web.yaml");
  ASSERT_FALSE(r.hasErrors()) << r.toJson();
  ASSERT_EQ(r.rules.size(), 1u);
  const Rule& rule = r.rules[0];
  EXPECT_EQ(rule.id, "web-probe");
  EXPECT_EQ(rule.kinds, std::vector<EventKind>{EventKind::kHttp});
  EXPECT_EQ(rule.aggregation.type, AggregationType::kCount);
  EXPECT_EQ(rule.aggregation.threshold, 10u);
  EXPECT_EQ(rule.duration, std::chrono::hours(2));
  EXPECT_EQ(rule.condition.size(), 3u);
  EXPECT_EQ(r.files_loaded, std::vector<std::string>{"web.yaml"});
}

TEST(RuleLoader, DiagnosticsCarryPositionsAndStableCodes) {
  struct Case {
    std::string yaml, code;
    int line;
  };
  const std::vector<Case> cases = {
      {"rules:\n  - id: a\n    kinds: [auth]\n    match: {user.name: [x, y}\n", "R000", 4},
      {"rules:\n  - id: a\n    kinds: [auth]\n    colour: red\n    match: {user.name: x}\n", "R001",
       4},
      {"rules:\n  - id: a\n    kinds: [auth]\n    match: {usr: x}\n", "R002", 4},
      {"rules:\n  - id: a\n    kinds: [auth]\n    match:\n      user.name: {looks_like: x}\n",
       "R003", 5},
      {"rules:\n  - id: a\n    kinds: [http]\n    match:\n      url.path: {regex: 'a(b'}\n", "R004",
       5},
      {"rules:\n  - id: a\n    kinds: [auth]\n    match: {user.name: x}\n    aggregate: {type: "
       "count, window: 5 minutes}\n",
       "R005", 5},
      {"rules:\n  - id: a\n    kinds: [auth]\n    match:\n      user.name: {in: {list: nope}}\n",
       "R006", 5},
      {"lists:\n  a: {include: [b]}\n  b: {include: [a]}\nrules:\n  - id: r\n    kinds: [auth]\n"
       "    match:\n      user.name: {in: {list: a}}\n",
       "R007", 0},
      {"rules:\n  - id: a\n    kinds: [auth]\n    match: {user.name: x}\n  - id: a\n    kinds: "
       "[auth]\n"
       "    match: {user.name: y}\n",
       "R008", 5},
      {"rules:\n  - id: a\n    kinds: [auth]\n", "R009", 2},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.code + ":\n" + c.yaml);
    auto r = loadRuleText(c.yaml, "bad.yaml");
    EXPECT_TRUE(r.hasErrors());
    EXPECT_TRUE(r.rules.empty()) << "a file with an error is rejected whole";
    EXPECT_EQ(r.files_rejected, std::vector<std::string>{"bad.yaml"});
    const auto* d = findCode(r, c.code);
    ASSERT_NE(d, nullptr) << r.toJson();
    if (c.line > 0) {
      EXPECT_EQ(d->line, c.line) << d->toString();
    }
    EXPECT_GT(d->column, 0);
    EXPECT_EQ(d->toString().rfind("bad.yaml:", 0), 0u) << d->toString();
  }
}

TEST(RuleLoader, ABadFileDoesNotTakeTheOthersDown) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "a_good.yaml") << "rules:\n  - id: good\n    kinds: [auth]\n"
                                               "    match: {event.outcome: failure}\n";
  std::ofstream(dir.path() / "b_bad.yaml") << "rules:\n  - id: bad\n    kinds: [auth]\n"
                                              "    match: {url.path: {regex: '('}}\n";
  std::ofstream(dir.path() / "notes.txt") << "not a rule file";
  auto r = loadRuleFiles({dir.path().string()});
  ASSERT_EQ(r.rules.size(), 1u);
  EXPECT_EQ(r.rules[0].id, "good");
  EXPECT_EQ(r.files_loaded.size(), 1u);
  EXPECT_EQ(r.files_rejected.size(), 1u);
  EXPECT_EQ(r.errorCount(), 1u);
  auto missing = loadRuleFiles({(dir.path() / "nope.yaml").string()});
  ASSERT_NE(findCode(missing, "R010"), nullptr);
}

TEST(RuleLoader, ListsFromFilesAndIncludes) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "agents.txt") << "# bad agents\nsqlmap\nNikto\n\n";
  std::ofstream(dir.path() / "r.yaml")
      << "lists:\n  agents: {file: agents.txt}\n  more: {items: [masscan], include: [agents]}\n"
         "rules:\n  - id: ua\n    kinds: [http]\n    match:\n"
         "      user_agent.original: {contains: {list: more}, nocase: true}\n"
         "    aggregate: {type: trigger}\n";
  auto r = loadRuleFiles({(dir.path() / "r.yaml").string()});
  ASSERT_FALSE(r.hasErrors()) << r.toJson();
  ASSERT_EQ(r.rules.size(), 1u);
  Event e;
  e.setKind(EventKind::kHttp);
  e.set(Field::kUserAgent, "Mozilla/5.00 (Nikto/2.1.6)");
  EXPECT_TRUE(r.rules[0].condition.eval(e));
  e.set(Field::kUserAgent, "MASSCAN/1.3");
  EXPECT_TRUE(r.rules[0].condition.eval(e));
  e.set(Field::kUserAgent, "curl/8.0");
  EXPECT_FALSE(r.rules[0].condition.eval(e));
}

TEST(RuleLoader, BundledRulesetLoadsClean) {
  auto r = loadRuleFiles({std::string(RIPOSTE_SOURCE_DIR) + "/rules"});
  EXPECT_FALSE(r.hasErrors()) << r.toJson();
  EXPECT_GE(r.rules.size(), 8u);
  EXPECT_TRUE(r.files_rejected.empty());
}

}  // namespace
}  // namespace riposte::rules

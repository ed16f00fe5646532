// Field transformations (`field|lower|urldecode|...`), the equality index of RuleSet, list files
// that keep trailing spaces, and leaky buckets that forget their distinct values when drained.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>

#include "riposte/detect/rules/rule_engine.h"
#include "riposte/detect/rules/rule_loader.h"

namespace riposte::rules {
namespace {

class RulesTransformTest : public ::testing::Test {
 protected:
  Event http(const std::string& ip, const std::string& url, int64_t t,
             const std::string& status = "404") {
    store_.push_back(ip);
    Event e;
    e.setKind(EventKind::kHttp);
    e.set(Field::kSourceIp, store_.back());
    store_.push_back(url);
    e.set(Field::kUrlOriginal, store_.back());
    store_.push_back(status);
    e.set(Field::kHttpStatus, store_.back());
    e.setTimestamp(Timestamp::fromSeconds(t));
    e.setRaw(store_.back());
    return e;
  }

  std::vector<Rule> load(const std::string& yaml) {
    auto r = loadRuleText(yaml, "test.yaml");
    EXPECT_FALSE(r.hasErrors()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].toString());
    return std::move(r.rules);
  }

  void feed(RuleEngine& eng, const Event& e) {
    eng.onEvent(e, [this](Finding&& f) { findings_.push_back(std::move(f)); });
  }

  std::deque<std::string> store_;
  std::vector<Finding> findings_;
};

TEST_F(RulesTransformTest, TransformsApplyLeftToRight) {
  Event e = http("192.0.2.1", "/A/B/Shell.PHP?x=%41%2e+b", 1);
  EXPECT_EQ(FieldRef::of("url.original|path").get(e), "/A/B/Shell.PHP");
  EXPECT_EQ(FieldRef::of("url.original|basename").get(e), "Shell.PHP");
  EXPECT_EQ(FieldRef::of("url.original|extension").get(e), "php");
  EXPECT_EQ(FieldRef::of("url.original|stem").get(e), "Shell");
  EXPECT_EQ(FieldRef::of("url.original|lower").get(e), "/a/b/shell.php?x=%41%2e+b");
  EXPECT_EQ(FieldRef::of("url.original|urldecode").get(e), "/A/B/Shell.PHP?x=A. b");
  EXPECT_EQ(FieldRef::of("url.original|urldecode|upper").get(e), "/A/B/SHELL.PHP?X=A. B");
  EXPECT_EQ(FieldRef::of("url.original|basename|length").get(e), "9");
  EXPECT_EQ(FieldRef::of("url.original|urldecode|lower|basename").get(e), "shell.php");
  // A bad escape stays as written.
  Event bad = http("192.0.2.1", "/%zz%4", 1);
  EXPECT_EQ(FieldRef::of("url.original|urldecode").get(bad), "/%zz%4");
  Event noext = http("192.0.2.1", "/dir.d/file", 1);
  EXPECT_EQ(FieldRef::of("url.original|extension").get(noext), "");
}

TEST_F(RulesTransformTest, UnknownTransformationIsR011) {
  auto r = loadRuleText(R"(
rules:
  - id: x
    kinds: [http]
    match:
      url.original|rot13: abc
)",
                        "t.yaml");
  ASSERT_TRUE(r.hasErrors());
  EXPECT_EQ(r.diagnostics[0].code, "R011");
  EXPECT_EQ(r.diagnostics[0].line, 6);
}

TEST_F(RulesTransformTest, TransformedFieldsMatchAndAggregate) {
  RuleEngine eng("rules", load(R"(
rules:
  - id: ogln
    kinds: [http]
    match:
      url.original|urldecode: {contains: "@java.lang.runtime@", nocase: true}
    aggregate: {type: trigger}
  - id: backdoor
    kinds: [http]
    match:
      url.original|basename: [shell.php, c99.php]
    aggregate: {type: leaky, distinct: url.original|basename, capacity: 1, leak: 5s}
)"));
  feed(eng, http("192.0.2.1", "/x%40java.lang.Runtime%40getRuntime()", 1));
  ASSERT_EQ(findings_.size(), 1u);
  EXPECT_EQ(findings_[0].detector, "ogln");
  findings_.clear();
  feed(eng, http("192.0.2.2", "/a/shell.php?cmd=id", 1));
  feed(eng, http("192.0.2.2", "/b/shell.php", 2));  // same file name: not distinct
  EXPECT_TRUE(findings_.empty());
  feed(eng, http("192.0.2.2", "/c99.php", 3));
  ASSERT_EQ(findings_.size(), 1u);
  EXPECT_EQ(findings_[0].detector, "backdoor");
}

TEST_F(RulesTransformTest, DrainedLeakyBucketForgetsDistinctValues) {
  RuleEngine eng("rules", load(R"(
rules:
  - id: probe
    kinds: [http]
    match:
      http.response.status_code: "404"
    aggregate: {type: leaky, distinct: url.original, capacity: 1, leak: 10s}
)"));
  feed(eng, http("192.0.2.1", "/a", 1000));
  feed(eng, http("192.0.2.1", "/b", 1100));  // the bucket drained long ago: a new bucket
  EXPECT_TRUE(findings_.empty());
  feed(eng, http("192.0.2.1", "/a", 1101));  // "/a" is new to this bucket
  EXPECT_EQ(findings_.size(), 1u);
}

// Within a rule set, a transformed field is computed once per event and shared by every rule
// naming it (a condition, an equality anchor, a pattern database, a key, a distinct field): each
// event must still see its own value, whichever rule asks first, and a rule set's mode change
// (a new set) must not read the old set's values.
TEST_F(RulesTransformTest, TransformedValuesAreSharedPerEventAndNeverStale) {
  auto rules = load(R"(
rules:
  - id: ext-php
    kinds: [http]
    match: {url.original|extension: php}
    aggregate: {type: trigger}
  - id: ext-not-static
    kinds: [http]
    match: {url.original|extension: {not_in: [js, css, ""]}}
    aggregate: {type: trigger}
  - id: base-shell
    kinds: [http]
    match: {url.original|basename: {in: [shell.php, Shell.PHP]}}
    aggregate: {type: trigger}
  - id: base-contains
    kinds: [http]
    match: {url.original|basename: {contains: hell}}
    aggregate: {type: trigger}
  - id: decoded
    kinds: [http]
    match: {url.original|urldecode|lower: {contains: "union select"}}
    aggregate: {type: trigger}
  - id: per-path
    kinds: [http]
    match: {url.original|path: {startswith: /a/}}
    aggregate: {type: trigger, key: [url.original|path]}
)");
  struct Case {
    std::string url;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases = {
      {"/a/shell.php", {"ext-php", "ext-not-static", "base-shell", "base-contains", "per-path"}},
      {"/b/app.js", {}},
      {"/a/Shell.PHP?q=1", {"ext-php", "ext-not-static", "base-shell", "base-contains",
                            "per-path"}},
      {"/q?x=UNION%20Select+1", {"decoded"}},
      {"/a/", {"per-path"}},
      {"/hello.css", {"base-contains"}},
      {"/b/x.PHP", {"ext-php", "ext-not-static"}},
      {"/b/app.js", {}},
  };
  for (int round = 0; round < 2; ++round) {
    RuleEngine eng("rules", rules);
    if (round == 1) {
      ASSERT_TRUE(eng.setRuleMode("ext-php", RuleMode::kShadow).ok());
    }
    for (size_t i = 0; i < cases.size(); ++i) {
      SCOPED_TRACE(cases[i].url);
      findings_.clear();
      // Each URL from its own address and at its own time: triggers never wait on each other.
      feed(eng, http("192.0.2." + std::to_string(i + 1), cases[i].url, 100 + i, "200"));
      std::vector<std::string> got;
      for (const Finding& f : findings_) got.push_back(f.detector);
      std::sort(got.begin(), got.end());
      std::vector<std::string> want = cases[i].expect;
      std::sort(want.begin(), want.end());
      EXPECT_EQ(got, want);
      for (const Finding& f : findings_) {
        if (f.detector == "per-path") {
          EXPECT_EQ(f.entity.value, cases[i].url.substr(0, cases[i].url.find('?')));
        }
      }
    }
  }
}

// Equal predicates of several rules are one object in a rule set, evaluated once per event:
// the results stay those of each rule's own condition, event after event, and a predicate
// that differs in anything (case folding, values) or belongs to a disabled rule is not shared.
TEST_F(RulesTransformTest, EqualPredicatesAreSharedAndNeverStale) {
  auto rules = load(R"(
rules:
  - id: a
    kinds: [http]
    match:
      http.response.status_code: {in: ["404", "403"]}
      url.original: {contains: /a}
    aggregate: {type: trigger}
  - id: b
    kinds: [http]
    match:
      http.response.status_code: {in: ["403", "404"]}
      url.original|extension: {not_in: [js]}
    aggregate: {type: trigger}
  - id: c
    kinds: [http]
    mode: shadow
    match:
      http.response.status_code: {in: ["404", "403"]}
      url.original: {contains: /a}
      url.original|extension: {not_in: [js, css]}
    aggregate: {type: trigger}
  - id: d
    kinds: [http]
    match:
      http.response.status_code: {in: ["404", "403"], nocase: true}
      any:
        - url.original: {contains: /A, nocase: true}
        - url.original: {contains: /b}
    aggregate: {type: trigger}
  - id: e
    kinds: [http]
    mode: disabled
    match:
      http.response.status_code: {in: ["404", "403"]}
    aggregate: {type: trigger}
)");
  ASSERT_EQ(rules.size(), 5u);
  for (const bool hyperscan : {true, false}) {
    SCOPED_TRACE(hyperscan ? "pattern index" : "no pattern index");
    RuleSet set(rules, hyperscan);
    // The status list of a, b and c, and the /a substring of a and c.
    EXPECT_EQ(set.sharedPredicates(), 2u);
    std::vector<size_t> cand;
    const char* statuses[] = {"404", "200", "403", "404", "500"};
    const char* urls[] = {"/a/x.php", "/a/app.js", "/b/y.css", "/A/z", "/c", "/a/q.css"};
    size_t held = 0;
    for (int i = 0; i < 60; ++i) {
      const Event e = http("192.0.2.1", urls[i % 6], i, statuses[i % 5]);
      SCOPED_TRACE(std::string(e.get(Field::kUrlOriginal)) + " " +
                   std::string(e.get(Field::kHttpStatus)));
      set.candidates(e, cand);
      for (size_t r = 0; r < rules.size(); ++r) {
        if (set.rules()[r].mode == RuleMode::kDisabled) continue;
        // The loaded rule's own condition: no rule set, nothing shared.
        const bool want = rules[r].condition.eval(e);
        EXPECT_EQ(set.rules()[r].condition.eval(e), want) << rules[r].id;
        if (want) {
          ++held;
          EXPECT_TRUE(std::binary_search(cand.begin(), cand.end(), r)) << rules[r].id;
        }
      }
    }
    EXPECT_GT(held, 40u);  // the cases hold often enough to mean something
  }
}

TEST_F(RulesTransformTest, EqualityIndexKeepsOnlyRulesWhoseValueMatches) {
  std::string y = "rules:\n";
  for (int i = 0; i < 50; ++i) {
    y += "  - id: r" + std::to_string(i) +
         "\n    kinds: [http]\n    match:\n      url.original: [\"/p" + std::to_string(i) +
         "\", \"/Q" + std::to_string(i) +
         "\"]\n      http.response.status_code: \"404\"\n    aggregate: {type: trigger}\n";
  }
  y += "  - id: nocase\n    kinds: [http]\n    match:\n      url.original: {in: [/MiXeD], nocase: "
       "true}\n    aggregate: {type: trigger}\n";
  y += "  - id: open\n    kinds: [http]\n    match:\n      url.original: {contains: /p7}\n    "
       "aggregate: {type: trigger}\n";
  auto rules = load(y);
  RuleSet set(rules);
  std::vector<size_t> c;
  set.candidates(http("192.0.2.1", "/p7", 1), c);
  EXPECT_EQ(c, (std::vector<size_t>{7, 51}));
  // `open` (a substring) is anchored on its pattern in url.original's Hyperscan database: a
  // candidate only when the scan found /p7.
  set.candidates(http("192.0.2.1", "/q7", 1), c);
  EXPECT_EQ(c, (std::vector<size_t>{}));
  set.candidates(http("192.0.2.1", "/mixed", 1), c);
  EXPECT_EQ(c, (std::vector<size_t>{50}));
  set.candidates(http("192.0.2.1", "/x/p7", 1), c);
  EXPECT_EQ(c, (std::vector<size_t>{51}));
  // Without the pattern index, it is a candidate for every event.
  RuleSet plain(rules, false);
  plain.candidates(http("192.0.2.1", "/q7", 1), c);
  EXPECT_EQ(c, (std::vector<size_t>{51}));

  RuleEngine eng("rules", std::move(rules));
  feed(eng, http("192.0.2.1", "/Q9", 1));
  feed(eng, http("192.0.2.2", "/Q9", 1, "200"));  // anchor hit, rest of the condition misses
  ASSERT_EQ(findings_.size(), 1u);
  EXPECT_EQ(findings_[0].detector, "r9");
}

TEST_F(RulesTransformTest, IndexedWordListsMatchLikeThePlainLoop) {
  RuleEngine eng("rules", load(R"(
rules:
  - id: sub
    kinds: [http]
    match:
      url.original: {contains: ["union select", "../", "<script", "~", "%00"], nocase: true}
    aggregate: {type: trigger}
  - id: suffix
    kinds: [http]
    match:
      url.original: {endswith: [.sql, .sql.gz, .env, .bak, /.git/config]}
    aggregate: {type: trigger}
  - id: prefix
    kinds: [http]
    match:
      url.original: {startswith: [/wp-, /phpmyadmin, /admin, /.well-known/x]}
    aggregate: {type: trigger}
)"));
  const std::vector<std::pair<std::string, std::string>> cases = {{"/?q=1 UNION SELECT 2", "sub"},
                                                                  {"/a/../b", "sub"},
                                                                  {"/x~", "sub"},
                                                                  {"/x%00", "sub"},
                                                                  {"/dump.sql.gz", "suffix"},
                                                                  {"/.env", "suffix"},
                                                                  {"/repo/.git/config", "suffix"},
                                                                  {"/admin/x", "prefix"},
                                                                  {"/wp-login.php", "prefix"},
                                                                  {"/index.html", ""},
                                                                  {"/s", ""},
                                                                  {"/.en", ""}};
  int t = 1000;
  for (const auto& [url, rule] : cases) {
    findings_.clear();
    feed(eng, http("192.0.2." + std::to_string(t - 990), url, t));
    ++t;
    if (rule.empty()) {
      EXPECT_TRUE(findings_.empty()) << url;
    } else {
      ASSERT_EQ(findings_.size(), 1u) << url;
      EXPECT_EQ(findings_[0].detector, rule) << url;
    }
  }
}

TEST_F(RulesTransformTest, ListFilesKeepTrailingSpaces) {
  const auto dir = std::filesystem::temp_directory_path() / "riposte_rules_list_test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "words.txt") << "# comment\n<p \n\n   \r\nabc\r\n";
    std::ofstream(dir / "r.yaml")
        << "lists:\n  w: {file: words.txt}\nrules:\n  - id: x\n    kinds: [http]\n"
           "    match:\n      url.original: {contains: {list: w}}\n"
           "    aggregate: {type: trigger}\n";
  }
  auto r = loadRuleFiles({(dir / "r.yaml").string()});
  ASSERT_FALSE(r.hasErrors()) << r.toJson();
  RuleEngine eng("rules", std::move(r.rules));
  feed(eng, http("192.0.2.1", "/?x=<p>", 1));  // "<p " does not match "<p>"
  EXPECT_TRUE(findings_.empty());
  feed(eng, http("192.0.2.1", "/?x=<p onload", 2));
  EXPECT_EQ(findings_.size(), 1u);
  feed(eng, http("192.0.2.2", "/abc", 2));
  EXPECT_EQ(findings_.size(), 2u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace riposte::rules

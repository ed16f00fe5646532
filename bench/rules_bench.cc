// Rule-engine benchmarks, one core, synthetic nginx lines generated here with a fixed seed
// (addresses from documentation ranges, a few attack paths and user agents mixed in; a quarter
// of the paths and a sixteenth of the user agents are all but unique).
//
//   build/bench/rules_bench --benchmark_counters_tabular=true
//
// items_per_second is lines per second.
//  - BM_NginxDefaultHttpRules: parser + the full default HTTP ruleset (rules/http.yaml).
//    Target (issue 5): >= 500,000 lines/s.
//  - BM_StringRules/N: parser + N generated rules, each an equality test on the request path
//    plus a status filter (the shape of most string rules), and BM_ContainsRules/N: N
//    substring rules. Target: 1,000 rules cost at most 2x the time of 10 rules.
//  - *NoIndex: the same rules without the Hyperscan pattern index (each predicate on its own).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/detect/rules/rule_engine.h"
#include "riposte/detect/rules/rule_loader.h"
#include "riposte/ingest/access_log_parser.h"

#ifndef RIPOSTE_SOURCE_DIR
#define RIPOSTE_SOURCE_DIR "."
#endif

namespace {

using riposte::Event;
using riposte::ParseContext;

constexpr size_t kLines = 16384;

struct Rng {
  explicit Rng(unsigned seed) : g(seed) {}
  unsigned operator()() { return static_cast<unsigned>(g()); }
  std::mt19937 g;
};

const char* kPaths[] = {"/",
                        "/index.html",
                        "/wp-login.php",
                        "/api/v1/orders?page=2&sort=desc",
                        "/static/js/app.3f9a1c.js",
                        "/images/logo%20large.png",
                        "/search?q=running+shoes&lang=en",
                        "/.env",
                        "/cart/checkout",
                        "/blog/2024/03/how-we-scaled-our-api-to-a-million-requests",
                        "/product/1234?id=1%20union%20select%20null",
                        "/cgi-bin/../../etc/passwd",
                        "/phpmyadmin/index.php",
                        "/shell.php",
                        "/about",
                        "/contact"};
const char* kAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 zgrab/0.x"};
const char* kMethods[] = {"GET", "GET", "GET", "GET", "POST", "HEAD"};
const int kStatus[] = {200, 200, 200, 304, 404, 301, 401, 403};

std::vector<std::string> nginxLines() {
  Rng rng(42);
  std::vector<std::string> v;
  v.reserve(kLines);
  char buf[1024];
  for (size_t i = 0; i < kLines; ++i) {
    // Time advances with the lines so windows and leaky buckets behave as in a real log.
    const unsigned t = static_cast<unsigned>(i / 8);
    // One line in four asks for a page with a number in it (products, articles, pages of a
    // list), and one in sixteen comes from a browser build nobody else uses: values that repeat
    // (the common paths and agents) and values seen once, as in a real access log.
    char path[160];
    const unsigned shape = rng() % 16;
    if (shape < 4) {
      std::snprintf(path, sizeof path, shape < 2 ? "/product/%u" : "/blog/page/%u?sort=new",
                    rng() % 100000);
    } else {
      std::snprintf(path, sizeof path, "%s", kPaths[rng() % 16]);
    }
    char agent[256];
    if (rng() % 16 == 0) {
      std::snprintf(agent, sizeof agent,
                    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                    "Chrome/%u.0.%u.%u Safari/537.36",
                    100 + rng() % 30, rng() % 7000, rng() % 200);
    } else {
      std::snprintf(agent, sizeof agent, "%s", kAgents[rng() % 6]);
    }
    std::snprintf(buf, sizeof buf,
                  "203.0.113.%u - - [03/Mar/2024:%02u:%02u:%02u +0000] \"%s %s HTTP/1.1\" %d %u "
                  "\"-\" \"%s\"",
                  rng() % 254 + 1, 10 + t / 3600 % 10, t / 60 % 60, t % 60, kMethods[rng() % 6],
                  path, kStatus[rng() % 8], rng() % 50000, agent);
    v.emplace_back(buf);
  }
  return v;
}

// Each pass over the lines starts the engine's state afresh (outside the timing): the lines'
// timestamps restart at each pass, and an engine must not see time run backwards.
const std::vector<std::string>& nginxLinesOnce() {
  static const auto lines = nginxLines();
  return lines;
}

void run(benchmark::State& state, const std::vector<riposte::rules::Rule>& rules,
         bool hyperscan = true) {
  const auto& lines = nginxLinesOnce();
  riposte::AccessLogParser parser("nginx");
  auto engine = std::make_unique<riposte::rules::RuleEngine>(
      "rules", rules, std::vector<riposte::rules::RuleDiagnostic>{}, hyperscan);
  Event ev;
  const ParseContext ctx{2024, riposte::Timestamp::fromSeconds(1709460942)};
  size_t i = 0;
  int64_t findings = 0;
  const riposte::FindingSink sink = [&](riposte::Finding&&) { ++findings; };
  for (auto _ : state) {
    const std::string& l = lines[i];
    ev.clear();
    ev.setRaw(l);
    if (parser.parse(l, ctx, ev) == riposte::ParseResult::kParsed) engine->onEvent(ev, sink);
    if (++i == lines.size()) {
      i = 0;
      state.PauseTiming();
      engine->resetState();
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
  // Rules whose selection held, per line (each then meets its aggregation).
  uint64_t matches = 0;
  for (size_t r = 0; r < rules.size(); ++r) matches += engine->stats(r).matches;
  const size_t in_pass = i == 0 ? lines.size() : i;
  state.counters["matches_per_line"] =
      static_cast<double>(matches) / static_cast<double>(std::max<size_t>(1, in_pass));
  state.counters["findings_per_pass"] =
      static_cast<double>(findings) * static_cast<double>(lines.size()) /
      static_cast<double>(std::max<int64_t>(1, state.iterations()));
}

void BM_NginxParseOnly(benchmark::State& state) { run(state, {}); }
BENCHMARK(BM_NginxParseOnly);

void defaultHttpRules(benchmark::State& state, bool hyperscan) {
  auto loaded = riposte::rules::loadRuleFiles({RIPOSTE_SOURCE_DIR "/rules/http.yaml"});
  if (loaded.hasErrors() || loaded.rules.empty()) {
    state.SkipWithError("cannot load rules/http.yaml");
    return;
  }
  state.counters["rules"] = static_cast<double>(loaded.rules.size());
  run(state, loaded.rules, hyperscan);
}

void BM_NginxDefaultHttpRules(benchmark::State& state) { defaultHttpRules(state, true); }
BENCHMARK(BM_NginxDefaultHttpRules);

// The same without the pattern index: every predicate evaluates itself (the peer).
void BM_NginxDefaultHttpRulesNoIndex(benchmark::State& state) { defaultHttpRules(state, false); }
BENCHMARK(BM_NginxDefaultHttpRulesNoIndex);

std::string generatedRules(int n, bool contains) {
  std::string y = "rules:\n";
  for (int i = 0; i < n; ++i) {
    y += "  - id: r" + std::to_string(i) + "\n    kinds: [http]\n    match:\n";
    if (contains) {
      y += "      url.original: {contains: \"/probe-" + std::to_string(i) + "-x\"}\n";
    } else {
      y += "      url.path: \"/probe-" + std::to_string(i) + "\"\n";
      y += "      http.response.status_code: [\"404\", \"403\"]\n";
    }
    y += "    aggregate: {type: trigger}\n";
  }
  return y;
}

void stringRules(benchmark::State& state, bool contains, bool hyperscan = true) {
  auto loaded = riposte::rules::loadRuleText(
      generatedRules(static_cast<int>(state.range(0)), contains), "generated.yaml");
  if (loaded.hasErrors()) {
    state.SkipWithError("generated rules do not load");
    return;
  }
  run(state, loaded.rules, hyperscan);
}

void BM_StringRules(benchmark::State& state) { stringRules(state, false); }
BENCHMARK(BM_StringRules)->Arg(10)->Arg(1000);

void BM_ContainsRules(benchmark::State& state) { stringRules(state, true); }
BENCHMARK(BM_ContainsRules)->Arg(10)->Arg(1000);

void BM_ContainsRulesNoIndex(benchmark::State& state) { stringRules(state, true, false); }
BENCHMARK(BM_ContainsRulesNoIndex)->Arg(10)->Arg(1000);

// `rules_bench --passes=N [--without=RULE,...]`: N passes of the lines through parser and the
// default HTTP ruleset (a first pass not counted), without Google Benchmark, for instruction
// counts that do not depend on the machine's speed:
//   valgrind --tool=callgrind --toggle-collect='*profilePasses*' build/bench/rules_bench --passes=2
// Ir / (2 x 16,384) is the cost per line; --without disables rules (each one's share).
__attribute__((noinline)) int64_t profilePasses(riposte::rules::RuleEngine& engine, int passes) {
  const auto& lines = nginxLinesOnce();
  riposte::AccessLogParser parser("nginx");
  Event ev;
  const ParseContext ctx{2024, riposte::Timestamp::fromSeconds(1709460942)};
  int64_t findings = 0;
  const riposte::FindingSink sink = [&](riposte::Finding&&) { ++findings; };
  for (int p = 0; p < passes; ++p) {
    for (const std::string& l : lines) {
      ev.clear();
      ev.setRaw(l);
      if (parser.parse(l, ctx, ev) == riposte::ParseResult::kParsed) engine.onEvent(ev, sink);
    }
    engine.resetState();
  }
  return findings;
}

int profile(int passes, std::string_view without) {
  auto loaded = riposte::rules::loadRuleFiles({RIPOSTE_SOURCE_DIR "/rules/http.yaml"});
  if (loaded.hasErrors()) {
    std::fprintf(stderr, "cannot load rules/http.yaml\n");
    return 1;
  }
  riposte::rules::RuleEngine engine("rules", loaded.rules);
  while (!without.empty()) {
    const size_t comma = without.find(',');
    const std::string id(without.substr(0, comma));
    if (!engine.setRuleMode(id, riposte::rules::RuleMode::kDisabled).ok()) {
      std::fprintf(stderr, "no rule %s\n", id.c_str());
      return 1;
    }
    without = comma == std::string_view::npos ? std::string_view() : without.substr(comma + 1);
  }
  profilePasses(engine, 1);
  const int64_t findings = profilePasses(engine, passes);
  std::printf("%d passes of %zu lines: %lld findings\n", passes, nginxLinesOnce().size(),
              static_cast<long long>(findings));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int passes = 0;
  std::string_view without;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.rfind("--passes=", 0) == 0) passes = std::atoi(argv[i] + 9);
    if (a.rfind("--without=", 0) == 0) without = a.substr(10);
  }
  if (passes > 0) return profile(passes, without);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

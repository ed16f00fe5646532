// Parse rate of the sshd parser and of the whole first slice (parse + threshold detector).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "riposte/detect/threshold_detector.h"
#include "riposte/ingest/sshd_parser.h"

namespace {

std::vector<std::string> makeLines(size_t n) {
  static const char* kTemplates[] = {
      "Mar  3 10:15:%02zu web1 sshd[%zu]: Failed password for root from 203.0.%zu.%zu port %zu "
      "ssh2",
      "Mar  3 10:15:%02zu web1 sshd[%zu]: Invalid user admin from 198.51.%zu.%zu port %zu",
      "Mar  3 10:15:%02zu web1 sshd[%zu]: Accepted publickey for deploy from 192.0.%zu.%zu port "
      "%zu ssh2: ED25519 SHA256:abc",
      "Mar  3 10:15:%02zu web1 sshd[%zu]: Connection closed by authenticating user root "
      "203.0.%zu.%zu port %zu [preauth]",
      "Mar  3 10:15:%02zu web1 sshd[%zu]: pam_unix(sshd:session): session opened for user "
      "deploy(uid=1001) by (uid=%zu%zu%zu)",
  };
  std::vector<std::string> out;
  out.reserve(n);
  char buf[256];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, kTemplates[i % 5], i % 60, 1000 + i % 5000, (i / 256) % 256,
                  i % 256, 40000 + i % 20000);
    out.emplace_back(buf);
  }
  return out;
}

void BM_SshdParse(benchmark::State& state) {
  const auto lines = makeLines(100000);
  riposte::SshdParser p;
  riposte::Event ev;
  riposte::ParseContext ctx;
  ctx.year = 2024;
  size_t i = 0;
  for (auto _ : state) {
    const std::string& l = lines[i++ % lines.size()];
    ev.clear();
    ev.setRaw(l);
    benchmark::DoNotOptimize(p.parse(l, ctx, ev));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_SshdParse);

// Peer for the ratio: one pass over each line's bytes (counting spaces), nothing else. What a
// parser that touched every byte once and did no work would cost on the same lines.
void BM_PeerScanLine(benchmark::State& state) {
  const auto lines = makeLines(100000);
  size_t i = 0;
  size_t spaces = 0;
  for (auto _ : state) {
    const std::string& l = lines[i++ % lines.size()];
    for (char c : l) spaces += c == ' ' ? 1 : 0;
    benchmark::DoNotOptimize(spaces);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_PeerScanLine);

void BM_SshdParseAndThreshold(benchmark::State& state) {
  const auto lines = makeLines(100000);
  riposte::SshdParser p;
  riposte::Event ev;
  riposte::ParseContext ctx;
  ctx.year = 2024;
  riposte::ThresholdConfig cfg;
  cfg.filter.allowKind(riposte::EventKind::kAuth);
  cfg.filter.setOutcome("failure");
  riposte::ThresholdDetector det(cfg);
  size_t findings = 0;
  const riposte::FindingSink sink = [&](riposte::Finding&&) { ++findings; };
  size_t i = 0;
  for (auto _ : state) {
    const std::string& l = lines[i++ % lines.size()];
    ev.clear();
    ev.setRaw(l);
    if (p.parse(l, ctx, ev) == riposte::ParseResult::kParsed) det.onEvent(ev, sink);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["findings"] = static_cast<double>(findings);
}
BENCHMARK(BM_SshdParseAndThreshold);

}  // namespace

BENCHMARK_MAIN();

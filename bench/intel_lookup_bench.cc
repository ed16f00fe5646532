// Intel store benchmarks: look-up rate with 1,000,000 IPv4 + 100,000 CIDR + 1,000,000 domains +
// 1,000,000 SHA-256 loaded (half hits, half misses), resident bytes per indicator, and the parse
// rate of a 1,000,000-line plain list and of a 100,000-indicator STIX 2.1 bundle.
//
// All inputs are synthetic and deterministic (splitmix64 of the index). The store is built with
// the known-good filter off: random addresses may fall in ranges it would reject.
//
// Memory: resident set size (/proc/self/statm) before the build and after it, with the builder
// destroyed and freed heap returned to the kernel (malloc_trim), divided by the indicator count;
// reported as counter bytes_per_indicator_rss, next to the bytes the indexes account for
// (bytes_per_indicator_heap).
//
//   build/bench/intel_lookup_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "riposte/intel/builder.h"
#include "riposte/intel/feed.h"
#include "riposte/intel/snapshot.h"
#include "riposte/intel/store.h"

namespace {

using riposte::intel::Hit;
using riposte::intel::IndicatorType;

// Sizes; INTEL_BENCH_SCALE=0.1 shrinks every set (for quick runs), INTEL_BENCH_CIDRS overrides
// the CIDR count (0 isolates the exact-match tables).
double envOr(const char* name, double dflt) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atof(v) : dflt;
}
const double kScale = envOr("INTEL_BENCH_SCALE", 1.0);
const size_t kIpv4 = static_cast<size_t>(1'000'000 * kScale);
const size_t kCidrs = static_cast<size_t>(envOr("INTEL_BENCH_CIDRS", 100'000 * kScale));
const size_t kDomains = static_cast<size_t>(1'000'000 * kScale);
const size_t kHashes = static_cast<size_t>(1'000'000 * kScale);
constexpr size_t kQueries = 1 << 20;

uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Stream ids keep the generators independent.
uint64_t rnd(uint64_t stream, uint64_t i) { return splitmix((stream << 40) ^ i); }

std::string ipText(uint32_t a) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
  return buf;
}

std::string label(uint64_t h, size_t len) {
  static constexpr char kAlpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s(len, 'a');
  for (size_t i = 0; i < len; ++i) {
    s[i] = kAlpha[h % 36];
    h /= 36;
  }
  return s;
}

std::string domain(uint64_t stream, uint64_t i) {
  static constexpr std::array<const char*, 8> kTlds = {"com", "net", "org", "info",
                                                       "ru",  "cn",  "xyz", "top"};
  const uint64_t h = rnd(stream, i);
  return label(h, 9) + "." + label(h >> 45, 6) + "." + kTlds[(h >> 61) & 7];
}

std::array<uint8_t, 32> digest(uint64_t stream, uint64_t i) {
  std::array<uint8_t, 32> d{};
  for (size_t w = 0; w < 4; ++w) {
    const uint64_t x = rnd(stream, i * 4 + w);
    for (size_t b = 0; b < 8; ++b) d[w * 8 + b] = static_cast<uint8_t>(x >> (8 * b));
  }
  return d;
}

std::string hex(const std::array<uint8_t, 32>& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(64, '0');
  for (size_t i = 0; i < 32; ++i) {
    s[2 * i] = kHex[d[i] >> 4];
    s[2 * i + 1] = kHex[d[i] & 15];
  }
  return s;
}

size_t rssBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0;
  size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// The full-size store the look-ups run against (built the same way for the reload benchmark).
std::shared_ptr<const riposte::intel::Snapshot> buildStore() {
  riposte::intel::BuildOptions opts;
  opts.apply_known_good = false;
  riposte::intel::SnapshotBuilder b(opts);
  riposte::intel::Indicator ind;
  ind.source = "bench";
  ind.confidence = 80;
  ind.last_seen = riposte::Timestamp::now();
  ind.type = IndicatorType::kIpv4;
  for (size_t i = 0; i < kIpv4; ++i) {
    ind.value = ipText(static_cast<uint32_t>(rnd(1, i)));
    b.add(ind);
  }
  ind.type = IndicatorType::kCidr4;
  for (size_t i = 0; i < kCidrs; ++i) {
    const uint64_t h = rnd(2, i);
    const int prefix = 20 + static_cast<int>(h % 9);
    const uint32_t base = static_cast<uint32_t>(h >> 32) & (0xffffffffu << (32 - prefix));
    ind.value = ipText(base) + "/" + std::to_string(prefix);
    b.add(ind);
  }
  ind.type = IndicatorType::kDomain;
  for (size_t i = 0; i < kDomains; ++i) {
    ind.value = domain(3, i);
    b.add(ind);
  }
  ind.type = IndicatorType::kSha256;
  for (size_t i = 0; i < kHashes; ++i) {
    ind.value = hex(digest(4, i));
    b.add(ind);
  }
  return b.build();
}

struct Data {
  std::shared_ptr<const riposte::intel::Snapshot> snapshot;
  size_t indicators = 0;
  double rss_per_indicator = 0;
  double heap_per_indicator = 0;
  double build_seconds = 0;
  // Queries: even positions hit, odd positions miss.
  std::vector<uint32_t> ip_queries;
  std::string domain_arena;  // the query names back to back, like an event batch buffer
  std::vector<std::string_view> domain_queries;
  std::vector<std::array<uint8_t, 32>> hash_queries;
};

const Data& data() {
  static const Data d = [] {
    Data out;
    // Queries first, so their memory is not counted as the store's.
    out.ip_queries.resize(kQueries);
    std::vector<std::pair<size_t, size_t>> spans(kQueries);
    out.hash_queries.resize(kQueries);
    for (size_t q = 0; q < kQueries; ++q) {
      const bool hit = q % 2 == 0;
      const uint64_t pick = rnd(9, q);
      out.ip_queries[q] =
          hit ? static_cast<uint32_t>(rnd(1, pick % kIpv4)) : static_cast<uint32_t>(rnd(101, q));
      // Hits are listed domains or one of their subdomains (parent matching).
      std::string dom = hit ? domain(3, pick % kDomains) : domain(103, q);
      if (q % 4 == 0) dom = "www." + dom;
      spans[q] = {out.domain_arena.size(), dom.size()};
      out.domain_arena += dom;
      out.hash_queries[q] = hit ? digest(4, pick % kHashes) : digest(104, q);
    }
    out.domain_queries.reserve(kQueries);
    for (const auto& [off, len] : spans)
      out.domain_queries.emplace_back(out.domain_arena.data() + off, len);

    malloc_trim(0);
    const size_t before = rssBytes();
    const auto t0 = std::chrono::steady_clock::now();
    out.snapshot = buildStore();
    out.build_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    malloc_trim(0);
    const size_t after = rssBytes();
    out.indicators = out.snapshot->size();
    out.rss_per_indicator =
        static_cast<double>(after - before) / static_cast<double>(out.indicators);
    out.heap_per_indicator = static_cast<double>(out.snapshot->stats().memory_bytes) /
                             static_cast<double>(out.indicators);
    return out;
  }();
  return d;
}

void addStoreCounters(benchmark::State& state, const Data& d) {
  state.counters["indicators"] = static_cast<double>(d.indicators);
  state.counters["bytes_per_indicator_rss"] = d.rss_per_indicator;
  state.counters["bytes_per_indicator_heap"] = d.heap_per_indicator;
  state.counters["build_s"] = d.build_seconds;
}

// Look-ups one after the other, each on its own.
enum Kind { kIpv4Q, kDomainQ, kSha256Q, kMixedQ };

template <Kind kKind>
void BM_Lookup(benchmark::State& state) {
  const Data& d = data();
  const auto& snap = *d.snapshot;
  std::vector<Hit> hits;
  hits.reserve(64);
  size_t q = 0;
  size_t found = 0;
  for (auto _ : state) {
    hits.clear();
    const Kind k = kKind == kMixedQ ? static_cast<Kind>(q % 3) : kKind;
    switch (k) {
      case kIpv4Q: found += snap.matchIpv4(d.ip_queries[q], hits) != 0; break;
      case kDomainQ: found += snap.matchDomain(d.domain_queries[q], hits) != 0; break;
      default:
        found += snap.matchHash(IndicatorType::kSha256, d.hash_queries[q].data(), hits) != 0;
        break;
    }
    q = (q + 1) & (kQueries - 1);
    benchmark::DoNotOptimize(hits.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["hit_ratio"] =
      static_cast<double>(found) / static_cast<double>(state.iterations());
  if (kKind == kMixedQ) addStoreCounters(state, d);
}
BENCHMARK_TEMPLATE(BM_Lookup, kIpv4Q)->Name("BM_LookupIpv4");
BENCHMARK_TEMPLATE(BM_Lookup, kDomainQ)->Name("BM_LookupDomain");
BENCHMARK_TEMPLATE(BM_Lookup, kSha256Q)->Name("BM_LookupSha256");
BENCHMARK_TEMPLATE(BM_Lookup, kMixedQ)->Name("BM_LookupMixed");

// Mixed look-ups on one thread while another rebuilds the whole store (every indicator, as a
// feed sync or `intel load` does) and publishes it through Store::reload. The look-ups follow the
// store's generation like the intel detector does. Counters: look-ups per second during the
// reload (compare with BM_LookupMixed in the same run), the longest time between two blocks of
// 1,024 look-ups (a pause would show here), the reload's duration, and whether it published.
void BM_LookupMixedDuringReload(benchmark::State& state) {
  const Data& d = data();
  riposte::intel::Store store;
  store.publish(d.snapshot);
  std::vector<Hit> hits;
  hits.reserve(64);
  size_t q = 0;
  size_t found = 0;
  // Looks up in blocks of 1,024 until `until` says stop; returns {look-ups per second, the
  // longest time one block took}.
  auto run = [&](const std::function<bool()>& until) {
    auto snap = store.snapshot();
    uint64_t gen = store.generation();
    uint64_t lookups = 0;
    double max_gap = 0;
    const auto start = std::chrono::steady_clock::now();
    auto last = start;
    while (!until()) {
      for (int i = 0; i < 1024; ++i) {
        if (store.generation() != gen) {
          gen = store.generation();
          snap = store.snapshot();
        }
        hits.clear();
        switch (q % 3) {
          case 0: found += snap->matchIpv4(d.ip_queries[q], hits) != 0; break;
          case 1: found += snap->matchDomain(d.domain_queries[q], hits) != 0; break;
          default:
            found += snap->matchHash(IndicatorType::kSha256, d.hash_queries[q].data(), hits) != 0;
            break;
        }
        q = (q + 1) & (kQueries - 1);
      }
      lookups += 1024;
      const auto now = std::chrono::steady_clock::now();
      max_gap = std::max(max_gap, std::chrono::duration<double>(now - last).count());
      last = now;
    }
    const double elapsed = std::chrono::duration<double>(last - start).count();
    return std::pair<double, double>{static_cast<double>(lookups) / elapsed, max_gap};
  };
  for (auto _ : state) {
    // Baseline: the same loop for two seconds with no reload.
    const auto t_end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    const auto idle = run([&] { return std::chrono::steady_clock::now() >= t_end; });
    const uint64_t first_gen = store.generation();
    std::atomic<bool> done{false};
    double reload_s = 0;
    std::thread reloader([&] {
      const auto t0 = std::chrono::steady_clock::now();
      const auto st =
          store.reload([]() -> riposte::Result<std::shared_ptr<const riposte::intel::Snapshot>> {
            return buildStore();
          });
      reload_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!st.isOk()) std::fprintf(stderr, "reload failed: %s\n", st.toString().c_str());
      done = true;
    });
    const auto busy = run([&] { return done.load(std::memory_order_relaxed); });
    reloader.join();
    state.counters["lookups_per_s_idle"] = idle.first;
    state.counters["lookups_per_s_during_reload"] = busy.first;
    state.counters["max_gap_per_1024_us_idle"] = idle.second * 1e6;
    state.counters["max_gap_per_1024_us_during_reload"] = busy.second * 1e6;
    state.counters["reload_s"] = reload_s;
    state.counters["published"] = store.generation() > first_gen ? 1 : 0;
    // What dropping the last reference to a full snapshot costs (the thread that does it waits).
    auto last = store.snapshot();
    store.publish(riposte::intel::Snapshot::empty());
    const auto t0 = std::chrono::steady_clock::now();
    last.reset();
    state.counters["release_ms"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * 1e3;
  }
  benchmark::DoNotOptimize(found);
}
BENCHMARK(BM_LookupMixedDuringReload)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

// Batched look-ups, as a pipeline stage handling a batch of events does: every iteration is a
// batch of kBatch values of each kind used; items_per_second counts values.
constexpr size_t kBatch = 64;

template <Kind kKind>
void BM_LookupBatch(benchmark::State& state) {
  const Data& d = data();
  const auto& snap = *d.snapshot;
  std::vector<riposte::intel::Snapshot::BatchHit> hits;
  hits.reserve(4 * kBatch);
  const std::vector<std::string_view>& domains = d.domain_queries;
  std::vector<const uint8_t*> digests(kQueries);
  for (size_t i = 0; i < kQueries; ++i) digests[i] = d.hash_queries[i].data();
  size_t q = 0;
  size_t found = 0;
  size_t values = 0;
  for (auto _ : state) {
    hits.clear();
    if (kKind == kIpv4Q || kKind == kMixedQ) {
      found += snap.matchIpv4Batch(d.ip_queries.data() + q, kBatch, hits);
      values += kBatch;
    }
    if (kKind == kDomainQ || kKind == kMixedQ) {
      found += snap.matchDomainBatch(domains.data() + q, kBatch, hits);
      values += kBatch;
    }
    if (kKind == kSha256Q || kKind == kMixedQ) {
      found += snap.matchHashBatch(IndicatorType::kSha256, digests.data() + q, kBatch, hits);
      values += kBatch;
    }
    q = (q + kBatch) & (kQueries - 1);
    benchmark::DoNotOptimize(hits.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(values));
  state.counters["hits_per_value"] = static_cast<double>(found) / static_cast<double>(values);
  if (kKind == kMixedQ) addStoreCounters(state, d);
}
BENCHMARK_TEMPLATE(BM_LookupBatch, kIpv4Q)->Name("BM_LookupIpv4Batched");
BENCHMARK_TEMPLATE(BM_LookupBatch, kDomainQ)->Name("BM_LookupDomainBatched");
BENCHMARK_TEMPLATE(BM_LookupBatch, kSha256Q)->Name("BM_LookupSha256Batched");
BENCHMARK_TEMPLATE(BM_LookupBatch, kMixedQ)->Name("BM_LookupMixedBatched");

// The mixed workload through Snapshot::matchBatch, the call the intel detector makes: values
// of the three kinds interleaved (IPv4, domain, SHA-256, IPv4, ...) in batches of range(0)
// values. 6 is about one event's worth (the detector batches an event's values); 48 and 256 are
// what a caller with several events at hand would pass.
void BM_LookupMixedMatchBatch(benchmark::State& state) {
  const Data& d = data();
  const auto& snap = *d.snapshot;
  const auto batch = static_cast<size_t>(state.range(0));
  std::vector<riposte::intel::Snapshot::Value> values(kQueries);
  for (size_t q = 0; q < kQueries; ++q) {
    switch (q % 3) {
      case 0: values[q] = riposte::intel::Snapshot::Value::ipv4(d.ip_queries[q]); break;
      case 1: values[q] = riposte::intel::Snapshot::Value::domain(d.domain_queries[q]); break;
      default:
        values[q] = riposte::intel::Snapshot::Value::digest(IndicatorType::kSha256,
                                                            d.hash_queries[q].data());
        break;
    }
  }
  std::vector<riposte::intel::Snapshot::BatchHit> hits;
  hits.reserve(4 * batch);
  size_t q = 0;
  size_t found = 0;
  size_t n = 0;
  for (auto _ : state) {
    hits.clear();
    if (q + batch > kQueries) q = 0;
    snap.matchBatch(values.data() + q, batch, hits);
    // Values with at least one hit (an IPv4 hit may add its CIDRs).
    uint32_t last = ~0u;
    for (const auto& h : hits) {
      found += h.index != last;
      last = h.index;
    }
    q += batch;
    n += batch;
    benchmark::DoNotOptimize(hits.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.counters["hit_ratio"] = static_cast<double>(found) / static_cast<double>(n);
  addStoreCounters(state, d);
}
BENCHMARK(BM_LookupMixedMatchBatch)->Arg(6)->Arg(48)->Arg(256);

// Peer, same run: the same 3.1 M values as text in one std::unordered_set<std::string>, the
// same mixed queries one by one (IPv4 as text, exact only: no CIDRs; a domain and each parent
// cut at its dots; SHA-256 as hex). Its resident cost is reported as bytes_per_value_rss.
void BM_PeerUnorderedSetMixed(benchmark::State& state) {
  const Data& d = data();
  struct Peer {
    std::unordered_set<std::string> set;
    std::vector<std::string> ip_text;
    std::vector<std::string> hash_text;
    double bytes_per_value = 0;
  };
  static const Peer peer = [] {
    Peer p;
    const size_t before = rssBytes();
    p.set.reserve(kIpv4 + kDomains + kHashes);
    for (size_t i = 0; i < kIpv4; ++i) p.set.insert(ipText(static_cast<uint32_t>(rnd(1, i))));
    for (size_t i = 0; i < kDomains; ++i) p.set.insert(domain(3, i));
    for (size_t i = 0; i < kHashes; ++i) p.set.insert(hex(digest(4, i)));
    p.bytes_per_value =
        static_cast<double>(rssBytes() - before) / static_cast<double>(p.set.size());
    return p;
  }();
  // Query text prepared outside the timed loop, as the snapshot's queries are.
  static const std::pair<std::vector<std::string>, std::vector<std::string>> text = [&] {
    std::vector<std::string> ips(kQueries);
    std::vector<std::string> hashes(kQueries);
    for (size_t q = 0; q < kQueries; ++q) {
      if (q % 3 == 0) ips[q] = ipText(d.ip_queries[q]);
      if (q % 3 == 2) hashes[q] = hex(d.hash_queries[q]);
    }
    return std::make_pair(std::move(ips), std::move(hashes));
  }();
  size_t q = 0;
  size_t found = 0;
  std::string key;
  for (auto _ : state) {
    bool hit = false;
    switch (q % 3) {
      case 0: hit = peer.set.count(text.first[q]) != 0; break;
      case 1: {
        std::string_view name = d.domain_queries[q];
        for (;;) {
          key.assign(name);
          if (peer.set.count(key) != 0) hit = true;
          const size_t dot = name.find('.');
          if (dot == std::string_view::npos) break;
          name.remove_prefix(dot + 1);
          if (name.find('.') == std::string_view::npos) break;  // no single-label parents
        }
        break;
      }
      default: hit = peer.set.count(text.second[q]) != 0; break;
    }
    found += hit;
    q = (q + 1) & (kQueries - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["hit_ratio"] =
      static_cast<double>(found) / static_cast<double>(state.iterations());
  state.counters["bytes_per_value_rss"] = peer.bytes_per_value;
}
BENCHMARK(BM_PeerUnorderedSetMixed);

// The convenient path (classify + normalise + describe every hit), for comparison.
void BM_LookupRawString(benchmark::State& state) {
  const Data& d = data();
  std::vector<std::string> raw;
  for (size_t q = 0; q < 4096; ++q) {
    raw.push_back(q % 2 == 0 ? ipText(d.ip_queries[q]) : std::string(d.domain_queries[q]));
  }
  size_t q = 0;
  for (auto _ : state) {
    auto m = d.snapshot->lookup(raw[q]);
    benchmark::DoNotOptimize(m.data());
    q = (q + 1) & 4095;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_LookupRawString);

void BM_ParsePlainList1M(benchmark::State& state) {
  std::string text = "# synthetic blocklist\n; generated\n";
  text.reserve(18'000'000);
  for (size_t i = 0; i < 1'000'000; ++i) {
    if (i % 10 == 9) {
      text += domain(5, i);
    } else {
      text += ipText(static_cast<uint32_t>(rnd(5, i)));
    }
    text += '\n';
  }
  riposte::intel::FeedOptions o;
  o.source = "bench-list";
  size_t n = 0;
  for (auto _ : state) {
    auto r = riposte::intel::parsePlainList(text, o);
    n = r.indicators.size();
    benchmark::DoNotOptimize(r.indicators.data());
  }
  state.counters["indicators"] = static_cast<double>(n);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 1'000'000);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParsePlainList1M)->Unit(benchmark::kMillisecond)->MinTime(2.0);

std::string stixBundle(size_t count) {
  std::string out =
      R"({"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[)";
  out.reserve(count * 520);
  for (size_t i = 0; i < count; ++i) {
    const uint64_t h = rnd(6, i);
    std::string pattern;
    switch (i % 4) {
      case 0: pattern = "[ipv4-addr:value = '" + ipText(static_cast<uint32_t>(h)) + "']"; break;
      case 1: pattern = "[domain-name:value = '" + domain(6, i) + "']"; break;
      case 2:
        pattern = "[url:value = 'http://" + domain(7, i) + "/" + label(h, 8) +
                  ".php' AND network-traffic:dst_port = 80]";
        break;
      default:
        pattern = "[file:hashes.'SHA-256' = '" + hex(digest(6, i)) + "'] OR [file:hashes.MD5 = '" +
                  hex(digest(8, i)).substr(0, 32) + "']";
        break;
    }
    char id[64];
    std::snprintf(id, sizeof id, "indicator--%08x-%04x-4%03x-8%03x-%012llx",
                  static_cast<unsigned>(h), static_cast<unsigned>((h >> 32) & 0xffff),
                  static_cast<unsigned>((h >> 48) & 0xfff), static_cast<unsigned>(i & 0xfff),
                  static_cast<unsigned long long>(i));
    if (i != 0) out += ',';
    out += R"({"type":"indicator","spec_version":"2.1","id":")";
    out += id;
    out += R"(","created":"2024-05-08T09:00:00.000Z","modified":"2024-05-08T09:00:00.000Z",)";
    out += R"("name":"synthetic indicator","indicator_types":["malicious-activity"],"confidence":)";
    out += std::to_string(h % 101);
    out += R"(,"pattern_type":"stix","pattern":")";
    out += pattern;
    out +=
        R"(","valid_from":"2024-05-08T09:00:00Z","valid_until":"2030-05-08T09:00:00Z","labels":["c2"]})";
  }
  out += "]}";
  return out;
}

void BM_ParseStix100k(benchmark::State& state) {
  const std::string bundle = stixBundle(100'000);
  riposte::intel::FeedOptions o;
  o.source = "bench-stix";
  size_t n = 0;
  for (auto _ : state) {
    auto r = riposte::intel::parseStix(bundle, o);
    n = r.indicators.size();
    benchmark::DoNotOptimize(r.indicators.data());
  }
  state.counters["indicators"] = static_cast<double>(n);
  state.counters["bundle_MB"] = static_cast<double>(bundle.size()) / 1e6;
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 100'000);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bundle.size()));
}
BENCHMARK(BM_ParseStix100k)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();

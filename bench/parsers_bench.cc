// Parse-rate micro-benchmarks for the line parsers, on one core, over realistic synthetic lines
// generated here with a fixed seed (addresses from documentation ranges).
//
//   build/bench/parsers_bench --benchmark_counters_tabular=true
//
// items_per_second is lines (or events) per second. Targets (issue 4): nginx combined
// ≥ 2,000,000 lines/s, EVE ≥ 400,000 events/s.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "riposte/ingest/access_log_parser.h"
#include "riposte/ingest/eve_parser.h"
#include "riposte/ingest/iptables_parser.h"
#include "riposte/ingest/json_parser.h"
#include "riposte/ingest/zeek_parser.h"

namespace {

using riposte::Event;
using riposte::ParseContext;
using riposte::ParseResult;

constexpr size_t kLines = 8192;

// 32-bit draws as unsigned, for printf.
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
                        "/blog/2024/03/how-we-scaled-our-api-to-a-million-requests"};
const char* kAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
    "curl/8.5.0",
    "Go-http-client/1.1",
    "python-requests/2.31.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"};
const char* kMethods[] = {"GET", "GET", "GET", "GET", "POST", "HEAD"};
const int kStatus[] = {200, 200, 200, 304, 404, 301, 401, 500};

std::string ipv4(Rng& rng) {
  static const char* nets[] = {"192.0.2.", "198.51.100.", "203.0.113."};
  return std::string(nets[rng() % 3]) + std::to_string(rng() % 254 + 1);
}

std::vector<std::string> nginxLines() {
  Rng rng(42);
  std::vector<std::string> v;
  v.reserve(kLines);
  char buf[1024];
  for (size_t i = 0; i < kLines; ++i) {
    const std::string ip = ipv4(rng);
    std::snprintf(buf, sizeof buf,
                  "%s - %s [%02u/Mar/2024:%02u:%02u:%02u +0000] \"%s %s HTTP/1.1\" %d %u \"%s\" "
                  "\"%s\"",
                  ip.c_str(), rng() % 10 == 0 ? "alice" : "-", 1 + rng() % 28, rng() % 24,
                  rng() % 60, rng() % 60, kMethods[rng() % 6], kPaths[rng() % 10],
                  kStatus[rng() % 8], rng() % 50000, rng() % 3 == 0 ? "https://example.com/" : "-",
                  kAgents[rng() % 6]);
    v.emplace_back(buf);
  }
  return v;
}

std::vector<std::string> eveLines() {
  Rng rng(7);
  std::vector<std::string> v;
  v.reserve(kLines);
  char buf[2048];
  for (size_t i = 0; i < kLines; ++i) {
    const std::string src = ipv4(rng);
    const std::string dst = ipv4(rng);
    const unsigned long long flow = (static_cast<unsigned long long>(rng()) << 21) ^ rng();
    const unsigned sec = static_cast<unsigned>(rng() % 60);
    const unsigned usec = static_cast<unsigned>(rng() % 1000000);
    switch (rng() % 4) {
      case 0:
        std::snprintf(
            buf, sizeof buf,
            "{\"timestamp\":\"2024-03-03T10:15:%02u.%06u+0000\",\"flow_id\":%llu,\"in_iface\":"
            "\"eth0\",\"event_type\":\"alert\",\"src_ip\":\"%s\",\"src_port\":%u,\"dest_ip\":\"%"
            "s\","
            "\"dest_port\":22,\"proto\":\"TCP\",\"app_proto\":\"ssh\",\"community_id\":\"1:"
            "LQU9qZlK+B5F3KDmev6m5PMibrg=\",\"alert\":{\"action\":\"allowed\",\"gid\":1,"
            "\"signature_id\":2001219,\"rev\":20,\"signature\":\"ET SCAN Potential SSH Scan\","
            "\"category\":\"Attempted Information Leak\",\"severity\":2,\"metadata\":{\"created_"
            "at\":[\"2010_07_30\"],\"updated_at\":[\"2019_07_26\"]}},\"flow\":{\"pkts_toserver\":3,"
            "\"pkts_toclient\":1,\"bytes_toserver\":206,\"bytes_toclient\":74,\"start\":\"2024-03-"
            "03T10:15:40.100000+0000\"}}",
            sec, usec, flow, src.c_str(), 1024 + rng() % 60000, dst.c_str());
        break;
      case 1:
        std::snprintf(
            buf, sizeof buf,
            "{\"timestamp\":\"2024-03-03T10:16:%02u.%06u+0000\",\"flow_id\":%llu,\"in_iface\":"
            "\"eth0\",\"event_type\":\"http\",\"src_ip\":\"%s\",\"src_port\":%u,\"dest_ip\":\"%s\","
            "\"dest_port\":80,\"proto\":\"TCP\",\"tx_id\":0,\"http\":{\"hostname\":\"www.example."
            "com\",\"url\":\"%s\",\"http_user_agent\":\"%s\",\"http_content_type\":\"text/html\","
            "\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\",\"status\":%d,\"length\":%u}}",
            sec, usec, flow, src.c_str(), 1024 + rng() % 60000, dst.c_str(), kPaths[rng() % 10],
            kAgents[rng() % 6], kStatus[rng() % 8], rng() % 50000);
        break;
      case 2:
        std::snprintf(
            buf, sizeof buf,
            "{\"timestamp\":\"2024-03-03T10:17:%02u.%06u-0400\",\"flow_id\":%llu,\"event_type\":"
            "\"flow\",\"src_ip\":\"%s\",\"src_port\":%u,\"dest_ip\":\"%s\",\"dest_port\":443,"
            "\"proto\":\"TCP\",\"app_proto\":\"tls\",\"flow\":{\"pkts_toserver\":23,\"pkts_"
            "toclient\":21,\"bytes_toserver\":4884,\"bytes_toclient\":7392,\"start\":\"2024-03-"
            "03T10:15:41.900000-0400\",\"end\":\"2024-03-03T10:15:58.100000-0400\",\"age\":17,"
            "\"state\":\"closed\",\"reason\":\"timeout\",\"alerted\":false},\"tcp\":{\"tcp_flags\":"
            "\"1b\",\"syn\":true,\"fin\":true,\"psh\":true,\"ack\":true,\"state\":\"closed\"}}",
            sec, usec, flow, src.c_str(), 1024 + rng() % 60000, dst.c_str());
        break;
      default:
        std::snprintf(
            buf, sizeof buf,
            "{\"timestamp\":\"2024-03-03T10:18:%02u.%06u+0000\",\"flow_id\":%llu,\"event_type\":"
            "\"dns\",\"src_ip\":\"%s\",\"src_port\":%u,\"dest_ip\":\"%s\",\"dest_port\":53,"
            "\"proto\":\"UDP\",\"dns\":{\"type\":\"query\",\"id\":%u,\"rrname\":\"host%u.example."
            "net\",\"rrtype\":\"A\",\"tx_id\":0}}",
            sec, usec, flow, src.c_str(), 1024 + rng() % 60000, dst.c_str(), rng() % 65536,
            rng() % 1000);
        break;
    }
    v.emplace_back(buf);
  }
  return v;
}

std::vector<std::string> iptablesLines() {
  Rng rng(3);
  std::vector<std::string> v;
  char buf[1024];
  for (size_t i = 0; i < kLines; ++i) {
    const std::string src = ipv4(rng);
    std::snprintf(buf, sizeof buf,
                  "Jun  8 14:%02u:%02u fw1 kernel: [50028442.088484] IPTABLES-DROP: IN=enp1s0 OUT= "
                  "MAC=00:08:a2:0c:1f:12:00:c8:8b:e2:d6:87:08:00 SRC=%s DST=192.0.2.10 LEN=40 "
                  "TOS=0x00 PREC=0x00 TTL=245 ID=37308 PROTO=TCP SPT=%u DPT=%u WINDOW=1024 "
                  "RES=0x00 SYN URGP=0",
                  rng() % 60, rng() % 60, src.c_str(), 1024 + rng() % 60000, rng() % 65536);
    v.emplace_back(buf);
  }
  return v;
}

std::vector<std::string> zeekConnLines() {
  Rng rng(11);
  std::vector<std::string> v;
  char buf[1024];
  static const char* states[] = {"SF", "S0", "REJ", "RSTR", "SH"};
  for (size_t i = 0; i < kLines; ++i) {
    const std::string src = ipv4(rng);
    const std::string dst = ipv4(rng);
    std::snprintf(
        buf, sizeof buf,
        "1521911%03u.%06u\tC%08xTvM3Zf5x8fl\t%s\t%u\t%s\t%u\ttcp\t-\t0.%06u\t%u\t%u\t%s\t-\t-"
        "\t0\tShADTdtr\t10\t730\t6\t342\t-",
        rng() % 1000, rng() % 1000000, rng(), src.c_str(), 1024 + rng() % 60000, dst.c_str(),
        rng() % 65536, rng() % 1000000, rng() % 5000, rng() % 5000, states[rng() % 5]);
    v.emplace_back(buf);
  }
  return v;
}

// ECS-shaped NDJSON as Event::toJson() writes it (HTTP ingest, Redis streams).
std::vector<std::string> ecsJsonLines() {
  Rng rng(13);
  std::vector<std::string> v;
  char buf[1024];
  for (size_t i = 0; i < kLines; ++i) {
    const std::string src = ipv4(rng);
    std::snprintf(buf, sizeof buf,
                  "{\"@timestamp\":\"2024-03-03T10:15:%02u.%06uZ\",\"event.kind\":\"auth\","
                  "\"event.action\":\"ssh_failed_password\",\"event.outcome\":\"failure\","
                  "\"source\":{\"ip\":\"%s\",\"port\":%u},\"user.name\":\"user%u\","
                  "\"host.name\":\"web1\",\"process\":{\"name\":\"sshd\",\"pid\":%u}}",
                  rng() % 60, rng() % 1000000, src.c_str(), 1024 + rng() % 60000, rng() % 100,
                  rng() % 65536);
    v.emplace_back(buf);
  }
  return v;
}

template <typename P>
void runParser(benchmark::State& state, P& parser, const std::vector<std::string>& lines) {
  Event ev;
  const ParseContext ctx{2024, riposte::Timestamp::fromSeconds(1709460942)};
  size_t i = 0;
  size_t bytes = 0;
  int64_t failed = 0;
  for (auto _ : state) {
    const std::string& l = lines[i];
    ev.clear();
    ev.setRaw(l);
    const ParseResult r = parser.parse(l, ctx, ev);
    failed += r == ParseResult::kUnrecognised ? 1 : 0;
    benchmark::DoNotOptimize(ev);
    bytes += l.size();
    i = (i + 1) % lines.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["unrecognised"] = static_cast<double>(failed);
}

void BM_NginxCombined(benchmark::State& state) {
  static const auto lines = nginxLines();
  riposte::AccessLogParser p("nginx");
  runParser(state, p, lines);
}
BENCHMARK(BM_NginxCombined);

void BM_SuricataEve(benchmark::State& state) {
  static const auto lines = eveLines();
  riposte::EveParser p;
  runParser(state, p, lines);
}
BENCHMARK(BM_SuricataEve);

void BM_Iptables(benchmark::State& state) {
  static const auto lines = iptablesLines();
  riposte::IptablesParser p;
  runParser(state, p, lines);
}
BENCHMARK(BM_Iptables);

void BM_ZeekConnTsv(benchmark::State& state) {
  static const auto lines = zeekConnLines();
  riposte::ZeekParser p;
  Event ev;
  const ParseContext ctx;
  const std::string header =
      "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t"
      "orig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\t"
      "orig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents";
  p.parse("#path\tconn", ctx, ev);
  p.parse(header, ctx, ev);
  runParser(state, p, lines);
}
BENCHMARK(BM_ZeekConnTsv);

void BM_EcsJson(benchmark::State& state) {
  static const auto lines = ecsJsonLines();
  riposte::JsonParser p;
  runParser(state, p, lines);
}
BENCHMARK(BM_EcsJson);

}  // namespace

BENCHMARK_MAIN();

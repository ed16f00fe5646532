// Syslog over UDP on loopback: how many messages per second the syslog source accepts without
// loss, with every message parsed by the sshd parser on the polling thread (as serve does).
//
// A sender thread sends real-looking sshd lines at a fixed rate (arg: messages/s, 0 = as fast
// as it can) in sendmmsg batches. Counters: `sent`, `received`, `lost` (sent - received, the
// truth) and `counted` (what the source reported as dropped: queue full + kernel buffer
// overflow), `rate` (messages received per second). The peer, BM_RawUdpReceive, is a bare
// recvmmsg loop that only counts — the loopback ceiling of this machine in the same run.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "riposte/ingest/sshd_parser.h"
#include "riposte/ingest/syslog_source.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMessages = 400'000;

std::vector<std::string> makeMessages() {
  std::vector<std::string> m;
  for (int i = 0; i < 256; ++i) {
    m.push_back("<38>Feb 12 14:10:21 sd-126005 sshd[16378]: Invalid user pascal" +
                std::to_string(i) + " from 192.0.2." + std::to_string(i % 250 + 1) + " port 53502");
  }
  return m;
}

// Sends `count` datagrams to 127.0.0.1:port at `rate` per second (0: unpaced).
void sendAll(uint16_t port, size_t count, double rate) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  static const auto msgs = makeMessages();
  constexpr size_t kBatch = 32;
  mmsghdr hdr[kBatch];
  iovec iov[kBatch];
  const auto start = Clock::now();
  size_t sent = 0;
  while (sent < count) {
    const size_t n = std::min(kBatch, count - sent);
    for (size_t i = 0; i < n; ++i) {
      const auto& m = msgs[(sent + i) % msgs.size()];
      iov[i] = {const_cast<char*>(m.data()), m.size()};
      hdr[i] = {};
      hdr[i].msg_hdr.msg_iov = &iov[i];
      hdr[i].msg_hdr.msg_iovlen = 1;
    }
    const int r = sendmmsg(fd, hdr, static_cast<unsigned>(n), 0);
    if (r > 0) sent += static_cast<size_t>(r);
    if (rate > 0) {
      const auto due = start + std::chrono::duration<double>(static_cast<double>(sent) / rate);
      while (Clock::now() < due) {
        std::this_thread::sleep_until(due);
      }
    }
  }
  close(fd);
}

void report(benchmark::State& state, size_t sent, size_t received, uint64_t counted,
            double seconds) {
  state.counters["sent"] = static_cast<double>(sent);
  state.counters["received"] = static_cast<double>(received);
  state.counters["lost"] = static_cast<double>(sent - received);
  state.counters["counted"] = static_cast<double>(counted);
  state.counters["rate"] = static_cast<double>(received) / seconds;
}

void BM_SyslogSourceUdp(benchmark::State& state) {
  const double rate = static_cast<double>(state.range(0));
  riposte::SyslogSourceOptions o;
  o.listen = {*riposte::SyslogListen::parse("udp://127.0.0.1:0")};
  auto src = riposte::SyslogSource::start(o);
  if (!src) {
    state.SkipWithError(src.status().toString().c_str());
    return;
  }
  const std::string bound = (*src)->boundAddresses()[0];
  const auto port = static_cast<uint16_t>(std::stoi(bound.substr(bound.rfind(':') + 1)));
  riposte::SshdParser parser;
  riposte::ParseContext ctx;
  ctx.year = 2026;
  riposte::Event ev;
  size_t parsed = 0;
  for (auto _ : state) {
    const uint64_t dropped_before = (*src)->stats().dropped;
    size_t received = 0;
    const auto t0 = Clock::now();
    std::atomic<bool> done{false};
    std::thread sender([&] {
      sendAll(port, kMessages, rate);
      done = true;
    });
    auto sink = [&](const riposte::SourceLine& l) {
      ev.clear();
      ev.setRaw(l.text);
      parsed += parser.parse(l.text, ctx, ev) == riposte::ParseResult::kParsed ? 1 : 0;
      ++received;
    };
    auto last = Clock::now();
    while (received < kMessages) {
      auto n = (*src)->poll(sink, 100'000);
      if (*n > 0) {
        last = Clock::now();
        continue;
      }
      if (done && Clock::now() - last > std::chrono::milliseconds(200)) break;
      pollfd pfd{(*src)->waitFd(), POLLIN, 0};
      ::poll(&pfd, 1, 10);
    }
    sender.join();
    const double secs = std::chrono::duration<double>(last - t0).count();
    // A last datagram carries the kernel's drop count (SO_RXQ_OVFL) up to now.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    sendAll(port, 1, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    while (*(*src)->poll([](const riposte::SourceLine&) {}, 100'000) > 0) {
    }
    report(state, kMessages, received, (*src)->stats().dropped - dropped_before, secs);
  }
  benchmark::DoNotOptimize(parsed);
}

void BM_RawUdpReceive(benchmark::State& state) {
  const double rate = static_cast<double>(state.range(0));
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  const int buf = 8 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const uint16_t port = ntohs(a.sin_port);
  timeval tv{0, 300'000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  constexpr size_t kBatch = 64;
  std::vector<char> data(kBatch * 2048);
  for (auto _ : state) {
    size_t received = 0;
    const auto t0 = Clock::now();
    std::thread sender([&] { sendAll(port, kMessages, rate); });
    mmsghdr hdr[kBatch];
    iovec iov[kBatch];
    while (received < kMessages) {
      for (size_t i = 0; i < kBatch; ++i) {
        iov[i] = {data.data() + i * 2048, 2048};
        hdr[i] = {};
        hdr[i].msg_hdr.msg_iov = &iov[i];
        hdr[i].msg_hdr.msg_iovlen = 1;
      }
      const int n = recvmmsg(fd, hdr, kBatch, 0, nullptr);
      if (n <= 0) break;  // 300 ms without a datagram: the rest was lost
      received += static_cast<size_t>(n);
    }
    sender.join();
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    report(state, kMessages, received, 0, secs);
  }
  close(fd);
}

}  // namespace

BENCHMARK(BM_RawUdpReceive)
    ->Arg(200'000)
    ->Arg(0)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_SyslogSourceUdp)
    ->Arg(100'000)
    ->Arg(200'000)
    ->Arg(300'000)
    ->Arg(0)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();

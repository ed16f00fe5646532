#include "riposte/ingest/syslog_source.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "riposte/core/registry.h"
#include "support/test_support.h"

namespace riposte {
namespace {

using namespace std::chrono_literals;

uint16_t portOf(const std::string& bound) {
  return static_cast<uint16_t>(std::stoi(bound.substr(bound.rfind(':') + 1)));
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

class Udp {
 public:
  explicit Udp(uint16_t port) : fd_(socket(AF_INET, SOCK_DGRAM, 0)), to_(loopback(port)) {}
  ~Udp() { close(fd_); }
  void send(const std::string& m) const {
    ASSERT_EQ(
        sendto(fd_, m.data(), m.size(), 0, reinterpret_cast<const sockaddr*>(&to_), sizeof to_),
        static_cast<ssize_t>(m.size()));
  }

 private:
  int fd_;
  sockaddr_in to_;
};

class Tcp {
 public:
  explicit Tcp(uint16_t port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    const auto a = loopback(port);
    connected_ = connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Tcp() { closeNow(); }
  bool connected() const { return connected_; }
  void send(const std::string& m) const {
    size_t done = 0;
    while (done < m.size()) {
      const ssize_t n = ::send(fd_, m.data() + done, m.size() - done, MSG_NOSIGNAL);
      ASSERT_GT(n, 0) << std::strerror(errno);
      done += static_cast<size_t>(n);
    }
  }
  // Non-blocking send: bytes accepted by the kernel (0 when its buffers are full).
  size_t trySend(const std::string& m) const {
    const ssize_t n = ::send(fd_, m.data(), m.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n > 0 ? static_cast<size_t>(n) : 0;
  }
  // True when the server closed the connection (read returns 0 or an error) within the time.
  bool closedByPeer(int timeout_ms = 5000) const {
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char b[64];
    const ssize_t n = recv(fd_, b, sizeof b, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }
  void closeNow() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }

 private:
  int fd_;
  bool connected_ = false;
};

struct Collected {
  std::vector<std::string> lines;
  std::vector<std::string> origins;
  std::vector<bool> truncated;
};

// Polls until `n` lines arrived or the time is up.
Collected collect(SyslogSource& s, size_t n, int timeout_ms = 10000) {
  Collected c;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (c.lines.size() < n && std::chrono::steady_clock::now() < until) {
    auto r = s.poll(
        [&](const SourceLine& l) {
          c.lines.emplace_back(l.text);
          c.origins.emplace_back(l.file);
          c.truncated.push_back(l.truncated);
          EXPECT_EQ(l.source, s.name());
        },
        100000);
    EXPECT_TRUE(r.isOk());
    if (r.isOk() && *r == 0) {
      pollfd p{s.waitFd(), POLLIN, 0};
      ::poll(&p, 1, 5);  // readable as soon as messages wait
    }
  }
  return c;
}

std::unique_ptr<SyslogSource> startSource(SyslogSourceOptions o) {
  auto s = SyslogSource::start(std::move(o));
  EXPECT_TRUE(s.isOk()) << s.status().toString();
  if (!s.isOk()) return nullptr;
  return std::move(*s);
}

SyslogSourceOptions udpAndTcp() {
  SyslogSourceOptions o;
  o.name = "net";
  o.listen = {*SyslogListen::parse("udp://127.0.0.1:0"), *SyslogListen::parse("tcp://127.0.0.1:0")};
  return o;
}

const std::string k3164 =
    "<38>Feb 12 14:10:21 sd-126005 sshd[16378]: Invalid user pascal from 192.0.2.7 port 53502";
const std::string k5424 =
    "<38>1 2026-02-12T14:10:21.000000+00:00 sd-126005 sshd 16378 - [timeQuality tzKnown=\"1\"] "
    "Invalid user pascal1 from 192.0.2.7 port 53502";

TEST(SyslogListen, ParsesSchemesHostsAndPorts) {
  auto a = SyslogListen::parse("udp://0.0.0.0:514");
  ASSERT_TRUE(a.isOk());
  EXPECT_EQ(a->proto, SyslogListen::Proto::kUdp);
  EXPECT_EQ(a->port, 514);
  auto b = SyslogListen::parse("tls://[::1]:6514");
  ASSERT_TRUE(b.isOk()) << b.status().toString();
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->toString(), "tls://[::1]:6514");
  EXPECT_EQ(SyslogListen::parse("tcp://:601")->host, "0.0.0.0");
  EXPECT_FALSE(SyslogListen::parse("http://1.2.3.4:80").isOk());
  EXPECT_FALSE(SyslogListen::parse("udp://1.2.3.4").isOk());
  EXPECT_FALSE(SyslogListen::parse("udp://1.2.3.4:70000").isOk());
  EXPECT_FALSE(SyslogListen::parse("udp://example.org:514").isOk());
}

TEST(SyslogSource, ReceivesRfc3164AndRfc5424OverUdp) {
  auto src = startSource(udpAndTcp());
  ASSERT_TRUE(src);
  Udp udp(portOf(src->boundAddresses()[0]));
  udp.send(k3164 + "\n");  // a trailing newline is not part of the message
  udp.send(k5424);
  auto c = collect(*src, 2);
  EXPECT_EQ(c.lines, (std::vector<std::string>{k3164, k5424}));
  ASSERT_EQ(c.origins.size(), 2u);
  EXPECT_EQ(c.origins[0].rfind("127.0.0.1:", 0), 0u) << c.origins[0];
  EXPECT_EQ(src->stats().lines, 2u);
  EXPECT_EQ(src->stats().dropped, 0u);
  EXPECT_TRUE(src->stats().last_seen.isSet());
}

TEST(SyslogSource, TcpBothFramingsMixedAndSplitAcrossReads) {
  auto src = startSource(udpAndTcp());
  ASSERT_TRUE(src);
  Tcp tcp(portOf(src->boundAddresses()[1]));
  ASSERT_TRUE(tcp.connected());
  const std::string octet = std::to_string(k5424.size()) + " " + k5424;
  const std::string stream = octet + k3164 + "\n" + octet + "garbage-prefix" + k3164 + "\r\n";
  // Byte by byte at first (each piece its own read), then the rest at once.
  for (size_t i = 0; i < 40; ++i) {
    tcp.send(stream.substr(i, 1));
    std::this_thread::sleep_for(1ms);
  }
  tcp.send(stream.substr(40));
  auto c = collect(*src, 4);
  EXPECT_EQ(c.lines, (std::vector<std::string>{k5424, k3164, k5424, "garbage-prefix" + k3164}));
  EXPECT_EQ(src->stats().connections, 1u);
  tcp.closeNow();
  ASSERT_TRUE(testing::waitFor([&] { return src->stats().connections == 0; }));
  EXPECT_EQ(src->stats().connections_total, 1u);
}

TEST(SyslogSource, PartialMessageAtCloseIsDelivered) {
  auto src = startSource(udpAndTcp());
  ASSERT_TRUE(src);
  {
    Tcp tcp(portOf(src->boundAddresses()[1]));
    tcp.send(k3164);  // no newline: the end of the stream ends it
  }
  auto c = collect(*src, 1);
  EXPECT_EQ(c.lines, (std::vector<std::string>{k3164}));
}

TEST(SyslogSource, HugeLengthPrefixClosesOnlyThatConnection) {
  auto src = startSource(udpAndTcp());
  ASSERT_TRUE(src);
  const uint16_t port = portOf(src->boundAddresses()[1]);
  Tcp bad(port);
  bad.send("5 <13>a" + std::string("99999999999999 x"));  // too many digits: a newline-framed line
  bad.send("\n9999999999 <13>never\n");                   // above the frame limit: closed
  EXPECT_TRUE(bad.closedByPeer());
  Tcp good(port);
  good.send(k3164 + "\n");
  auto c = collect(*src, 3);
  EXPECT_EQ(c.lines, (std::vector<std::string>{"<13>a", "99999999999999 x", k3164}));
  EXPECT_GE(src->stats().errors, 1u);
}

TEST(SyslogSource, OversizeMessagesAreCutMarkedAndCounted) {
  auto o = udpAndTcp();
  o.max_line = 256;
  auto src = startSource(o);
  ASSERT_TRUE(src);
  const std::string big = "<13>" + std::string(1000, 'B');
  Udp udp(portOf(src->boundAddresses()[0]));
  udp.send(big);
  auto c = collect(*src, 1);
  Tcp tcp(portOf(src->boundAddresses()[1]));
  tcp.send(big + "\n" + std::to_string(big.size()) + " " + big + k3164 + "\n");
  auto t = collect(*src, 3);
  ASSERT_EQ(c.lines.size(), 1u);
  ASSERT_EQ(t.lines.size(), 3u);
  EXPECT_EQ(c.lines[0], big.substr(0, 256));
  EXPECT_TRUE(c.truncated[0]);
  EXPECT_EQ(t.lines[0], big.substr(0, 256));
  EXPECT_EQ(t.lines[1], big.substr(0, 256));
  EXPECT_EQ(t.truncated, (std::vector<bool>{true, true, false}));
  EXPECT_EQ(t.lines[2], k3164);
  EXPECT_EQ(src->stats().truncated, 3u);
}

TEST(SyslogSource, StalledTcpClientDoesNotBlockOthers) {
  auto src = startSource(udpAndTcp());
  ASSERT_TRUE(src);
  const uint16_t port = portOf(src->boundAddresses()[1]);
  Tcp stalled(port);
  stalled.send("500 <13>the first bytes of a message that never ends");  // then nothing
  Tcp slow(port);
  slow.send("<13>half a li");
  Tcp fast(port);
  std::string batch;
  for (int i = 0; i < 1000; ++i)
    batch += "<13>Feb 12 14:10:21 h app: line " + std::to_string(i) + "\n";
  fast.send(batch);
  auto c = collect(*src, 1000);
  ASSERT_EQ(c.lines.size(), 1000u);
  EXPECT_EQ(c.lines[999], "<13>Feb 12 14:10:21 h app: line 999");
  slow.send("ne\n");
  EXPECT_EQ(collect(*src, 1).lines, (std::vector<std::string>{"<13>half a line"}));
  EXPECT_EQ(src->stats().connections, 3u);
}

TEST(SyslogSource, FullQueueBackPressuresTcpWithoutLoss) {
  auto o = udpAndTcp();
  o.queue_messages = 8;
  auto src = startSource(o);
  ASSERT_TRUE(src);
  Tcp tcp(portOf(src->boundAddresses()[1]));
  const int fd = tcp.fd();
  int sndbuf = 16 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  // Nobody polls: the queue fills, the server stops reading, the kernel buffers fill, and the
  // sender is refused — back-pressure instead of loss.
  std::string pending;
  int next = 0;
  size_t sent_lines = 0;
  bool blocked = false;
  int refused_in_a_row = 0;
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (!blocked && std::chrono::steady_clock::now() < until) {
    if (pending.empty()) {
      for (int i = 0; i < 100; ++i) pending += "<13>x app: m" + std::to_string(next++) + "\n";
      sent_lines += 100;
    }
    const size_t n = tcp.trySend(pending);
    pending.erase(0, n);
    if (n > 0) {
      refused_in_a_row = 0;
    } else if (++refused_in_a_row >= 3) {
      blocked = true;
    } else {
      std::this_thread::sleep_for(100ms);
    }
  }
  ASSERT_TRUE(blocked) << "the sender never saw back-pressure";
  EXPECT_LE(src->stats().queued, 8u);
  // Now drain while the rest is sent: every line arrives, in order, none dropped.
  std::thread sender([&] {
    tcp.send(pending);
    tcp.closeNow();
  });
  auto c = collect(*src, sent_lines, 30000);
  sender.join();
  ASSERT_EQ(c.lines.size(), sent_lines);
  for (size_t i = 0; i < sent_lines; i += 997) {
    EXPECT_EQ(c.lines[i], "<13>x app: m" + std::to_string(i));
  }
  EXPECT_EQ(src->stats().dropped, 0u);
}

TEST(SyslogSource, UdpFloodWithATinyQueueCountsEveryDrop) {
  auto o = udpAndTcp();
  o.queue_messages = 16;
  auto src = startSource(o);
  ASSERT_TRUE(src);
  Udp udp(portOf(src->boundAddresses()[0]));
  constexpr size_t kSent = 2000;
  for (size_t i = 0; i < kSent; ++i) udp.send("<13>flood " + std::to_string(i));
  // Everything sent is either queued or counted as dropped — never silently lost.
  ASSERT_TRUE(testing::waitFor([&] {
    const auto& s = src->stats();
    return s.queued + s.dropped == kSent;
  })) << "queued "
      << src->stats().queued << " dropped " << src->stats().dropped;
  auto c = collect(*src, 16, 2000);
  EXPECT_EQ(c.lines.size(), 16u);
  EXPECT_EQ(c.lines[0], "<13>flood 0");
  EXPECT_EQ(src->stats().dropped, kSent - 16);
  EXPECT_EQ(src->stats().lines, 16u);
  // Room again: new datagrams are accepted.
  udp.send("<13>after the flood");
  EXPECT_EQ(collect(*src, 1).lines, (std::vector<std::string>{"<13>after the flood"}));
}

TEST(SyslogSource, ConnectionsBeyondTheLimitAreRefused) {
  auto o = udpAndTcp();
  o.max_connections = 2;
  auto src = startSource(o);
  ASSERT_TRUE(src);
  const uint16_t port = portOf(src->boundAddresses()[1]);
  Tcp a(port);
  Tcp b(port);
  ASSERT_TRUE(testing::waitFor([&] { return src->stats().connections == 2; }));
  Tcp c(port);
  EXPECT_TRUE(c.closedByPeer());
  EXPECT_EQ(src->stats().connections, 2u);
  EXPECT_EQ(src->stats().errors, 1u);
}

// ---- TLS (RFC 5425), with a certificate made for the test ----

bool makeCert(const std::filesystem::path& dir) {
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "
      "/CN=localhost -addext subjectAltName=DNS:localhost -keyout '" +
      (dir / "key.pem").string() + "' -out '" + (dir / "cert.pem").string() + "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

class TlsClient {
 public:
  TlsClient(uint16_t port, const std::string& ca) : tcp_(port) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, tcp_.fd());
    SSL_set1_host(ssl_, "localhost");
    ok_ = SSL_connect(ssl_) == 1;
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  bool ok() const { return ok_; }
  bool send(const std::string& m) {
    return SSL_write(ssl_, m.data(), static_cast<int>(m.size())) == static_cast<int>(m.size());
  }

 private:
  Tcp tcp_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool ok_ = false;
};

TEST(SyslogSource, TlsWithOctetCountingAndPlaintextRefused) {
  testing::TempDir dir;
  if (!makeCert(dir.path()))
    GTEST_SKIP() << "openssl CLI unavailable: cannot make a test certificate";
  SyslogSourceOptions o;
  o.name = "tls";
  o.listen = {*SyslogListen::parse("tls://127.0.0.1:0")};
  o.tls_cert = (dir.path() / "cert.pem").string();
  o.tls_key = (dir.path() / "key.pem").string();
  o.handshake_timeout = 1000ms;
  auto src = startSource(o);
  ASSERT_TRUE(src);
  const uint16_t port = portOf(src->boundAddresses()[0]);
  EXPECT_EQ(src->boundAddresses()[0].rfind("tls://127.0.0.1:", 0), 0u);

  Tcp plain(port);  // speaks syslog without TLS: the handshake fails, the connection closes
  plain.send(k3164 + "\n");
  EXPECT_TRUE(plain.closedByPeer());
  Tcp silent(port);  // never starts a handshake: closed after handshake_timeout
  EXPECT_TRUE(silent.closedByPeer(5000));

  TlsClient client(port, o.tls_cert);
  ASSERT_TRUE(client.ok());
  std::string many;
  for (int i = 0; i < 200; ++i) {
    const std::string m = "<13>1 2026-02-12T14:10:21Z h app - - - tls message " + std::to_string(i);
    many += std::to_string(m.size()) + " " + m;
  }
  ASSERT_TRUE(client.send(many));
  auto c = collect(*src, 200);
  ASSERT_EQ(c.lines.size(), 200u);
  EXPECT_EQ(c.lines[199], "<13>1 2026-02-12T14:10:21Z h app - - - tls message 199");
  EXPECT_GE(src->stats().errors, 2u);  // the plaintext peer and the silent one
}

TEST(SyslogSource, BadCertificateIsAClearError) {
  testing::TempDir dir;
  SyslogSourceOptions o;
  o.listen = {*SyslogListen::parse("tls://127.0.0.1:0")};
  o.tls_cert = (dir.path() / "missing.pem").string();
  o.tls_key = o.tls_cert;
  auto s = SyslogSource::start(o);
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.status().message().find("missing.pem"), std::string::npos) << s.status().toString();
}

TEST(SyslogSource, PortInUseIsAClearError) {
  auto first = startSource(udpAndTcp());
  ASSERT_TRUE(first);
  SyslogSourceOptions o;
  o.listen = {*SyslogListen::parse(first->boundAddresses()[1])};
  auto s = SyslogSource::start(o);
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.status().message().find("bind"), std::string::npos) << s.status().toString();
}

// ---- configuration ----

TEST(SyslogSourceConfig, ValidatesWithPositions) {
  Registries reg;
  ASSERT_TRUE(registerBuiltins(reg).isOk());
  std::vector<ConfigDiagnostic> diags;
  auto c = parseConfig(
      "sources:\n"
      "  - name: net\n"
      "    type: syslog\n"
      "    parser: sshd\n"
      "    listen: [udp://127.0.0.1:0, tcp://nohost:601, tls://127.0.0.1:6514]\n"
      "    max_line: 10\n"
      "    bogus: 1\n",
      "t.yaml", &reg, &diags);
  ASSERT_FALSE(c.isOk());
  std::string all;
  for (const auto& d : diags) all += d.toString() + "\n";
  EXPECT_NE(
      all.find(
          "t.yaml:5:33: sources[0].listen[1]: tcp://nohost:601: 'nohost' is not a numeric address"),
      std::string::npos)
      << all;
  EXPECT_NE(all.find("sources[0].tls: a tls:// listener needs"), std::string::npos) << all;
  EXPECT_NE(all.find("t.yaml:6:15: sources[0].max_line: must be between 256"), std::string::npos)
      << all;
  EXPECT_NE(all.find("t.yaml:7:5: sources[0].bogus: unknown key"), std::string::npos) << all;

  diags.clear();
  auto ok = parseConfig(
      "engine:\n  dead_letter: {path: /tmp/x.jsonl, max_bytes: 100000, keep: 2}\n"
      "sources:\n  - name: net\n    type: syslog\n    parser: sshd\n"
      "    listen: udp://127.0.0.1:0\n    queue: 10\n    idle_timeout: 5m\n",
      "t.yaml", &reg, &diags);
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  EXPECT_EQ(ok->dead_letter_path, "/tmp/x.jsonl");
  EXPECT_EQ(ok->dead_letter_keep, 2u);
  auto opts = SyslogSourceOptions::fromConfig(ok->sources[0]);
  ASSERT_TRUE(opts.isOk()) << opts.status().toString();
  EXPECT_EQ(opts->queue_messages, 10u);
  EXPECT_EQ(opts->idle_timeout, std::chrono::minutes(5));
}

}  // namespace
}  // namespace riposte

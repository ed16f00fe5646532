// SyslogSource: a syslog server. Listens on UDP (RFC 5426) and TCP (RFC 6587: octet counting
// and newline framing, detected per message), optionally TLS on TCP (RFC 5425, OpenSSL); the
// payloads are RFC 3164 or RFC 5424 messages, handed to the configured parser unchanged.
//
// A network thread (epoll) receives into a bounded queue that poll() drains; waitFd() becomes
// readable when messages are waiting. When the queue is full:
//   - UDP datagrams are read and dropped, and counted (stats().dropped); datagrams the kernel
//     dropped because its buffer was full are counted too (SO_RXQ_OVFL);
//   - TCP connections stop being read, so the sender sees back-pressure (its window fills);
//     bytes already read stay with their connection until there is room — nothing accepted is
//     lost. Other connections keep their own state: a stalled or slow sender never blocks
//     another one.
// Messages longer than `max_line` are cut (handed over marked truncated, counted). Connections
// beyond `max_connections` are refused (counted); a TLS handshake not done within
// `handshake_timeout` and a connection idle for `idle_timeout` (0 = never) are closed.
//
// Configuration:
//   { name, type: syslog, parser, year,
//     listen: ["udp://127.0.0.1:514", "tcp://[::]:601", "tls://0.0.0.0:6514"],
//     tls: { cert: PEM, key: PEM, ca: PEM (optional: require and verify client certificates) },
//     max_line: 65536, queue: 100000, queue_bytes: 67108864, max_connections: 1024,
//     udp_buffer: 8388608, idle_timeout: 0s, handshake_timeout: 10s }
//
// Thread safety: poll()/stats()/waitFd() from one thread; the network thread is internal.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "riposte/core/config.h"
#include "riposte/ingest/source.h"

namespace riposte {

struct SyslogListen {
  enum class Proto : uint8_t { kUdp, kTcp, kTls };
  Proto proto = Proto::kUdp;
  std::string host;   // numeric address ("0.0.0.0", "::1"); "localhost" means 127.0.0.1
  uint16_t port = 0;  // 0: any free port (see SyslogSource::boundAddresses())

  // Parses "udp://HOST:PORT", "tcp://HOST:PORT", "tls://HOST:PORT" (IPv6 as "[::1]:514").
  static Result<SyslogListen> parse(const std::string& text);
  std::string toString() const;
};

struct SyslogSourceOptions {
  std::string name = "syslog";
  std::vector<SyslogListen> listen;
  std::string tls_cert, tls_key, tls_ca;  // PEM files; cert+key needed for tls:// listeners
  size_t max_line = 64 * 1024;            // bytes per message
  size_t queue_messages = 100'000;
  size_t queue_bytes = 64ull << 20;
  size_t max_connections = 1024;
  int udp_buffer = 8 << 20;  // SO_RCVBUF asked for (the kernel may cap it: net.core.rmem_max)
  std::chrono::milliseconds idle_timeout{0};
  std::chrono::milliseconds handshake_timeout{10'000};

  // Reads the options of a `type: syslog` source (validated by validateSyslogSource).
  static Result<SyslogSourceOptions> fromConfig(const ComponentConfig& c);
};

// Checks a syslog source's keys and values, recording positioned diagnostics.
void validateSyslogSource(const ComponentConfig& c, const ConfigReader& rd);

class SyslogSource : public Source {
 public:
  // Binds every listener and starts the network thread; fails naming the listener.
  static Result<std::unique_ptr<SyslogSource>> start(SyslogSourceOptions options);
  ~SyslogSource() override;  // stops the thread, closes every socket

  std::string_view name() const override;
  Result<size_t> poll(const LineSink& sink, size_t max_lines) override;
  const SourceStats& stats() const override;
  int waitFd() const override;

  // The listeners as bound ("udp://127.0.0.1:40123"), with the ports chosen for port 0.
  std::vector<std::string> boundAddresses() const;

  struct Impl;

 private:
  explicit SyslogSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace riposte

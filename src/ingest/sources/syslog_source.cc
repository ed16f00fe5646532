#include "riposte/ingest/syslog_source.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "riposte/ingest/syslog_framing.h"

namespace riposte {

namespace {

constexpr size_t kUdpBatch = 64;           // datagrams per recvmmsg
constexpr size_t kUdpBatchesPerWake = 16;  // then let the other sockets have a turn
constexpr size_t kTcpReadsPerWake = 8;
constexpr size_t kReadChunk = 64 * 1024;

int64_t monoMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string sslErrors() {
  std::string s;
  unsigned long e = 0;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    s += (s.empty() ? "" : "; ") + std::string(buf);
  }
  return s.empty() ? "unknown TLS error" : s;
}

// A peer address, compact enough to travel with each queued message.
struct Peer {
  uint8_t family = 0;  // 4, 6 or 0 (unknown)
  uint16_t port = 0;
  uint8_t addr[16] = {};

  static Peer from(const sockaddr_storage& ss) {
    Peer p;
    if (ss.ss_family == AF_INET) {
      const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
      p.family = 4;
      p.port = ntohs(a.sin_port);
      std::memcpy(p.addr, &a.sin_addr, 4);
    } else if (ss.ss_family == AF_INET6) {
      const auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
      p.port = ntohs(a.sin6_port);
      if (IN6_IS_ADDR_V4MAPPED(&a.sin6_addr)) {
        p.family = 4;
        std::memcpy(p.addr, reinterpret_cast<const uint8_t*>(&a.sin6_addr) + 12, 4);
      } else {
        p.family = 6;
        std::memcpy(p.addr, &a.sin6_addr, 16);
      }
    }
    return p;
  }
  bool operator==(const Peer& o) const {
    return family == o.family && port == o.port && std::memcmp(addr, o.addr, 16) == 0;
  }
  std::string toString() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family == 4) {
      inet_ntop(AF_INET, addr, buf, sizeof buf);
      return std::string(buf) + ":" + std::to_string(port);
    }
    if (family == 6) {
      inet_ntop(AF_INET6, addr, buf, sizeof buf);
      return "[" + std::string(buf) + "]:" + std::to_string(port);
    }
    return "unknown";
  }
};

struct Msg {
  uint32_t off = 0;
  uint32_t len = 0;
  int64_t received = 0;  // steady clock µs
  Peer peer;
  bool truncated = false;
};

// Bounded by message count and bytes. The producer (network thread) appends under the lock;
// the consumer swaps the whole batch out, so neither waits for the other's work.
class MessageQueue {
 public:
  MessageQueue(size_t max_msgs, size_t max_bytes) : max_msgs_(max_msgs), max_bytes_(max_bytes) {}

  std::unique_lock<std::mutex> lock() { return std::unique_lock<std::mutex>(mu_); }
  // REQUIRES: lock held. False (and remembers a refusal) when `len` more bytes do not fit.
  bool tryPushLocked(std::string_view text, bool truncated, const Peer& peer, int64_t received) {
    if (msgs_.size() >= max_msgs_ || bytes_.size() + text.size() > max_bytes_) {
      refused_ = true;
      return false;
    }
    msgs_.push_back(Msg{static_cast<uint32_t>(bytes_.size()), static_cast<uint32_t>(text.size()),
                        received, peer, truncated});
    bytes_.append(text);
    size_.store(msgs_.size(), std::memory_order_relaxed);
    return true;
  }
  bool emptyLocked() const { return msgs_.empty(); }
  bool hasRoomLocked() const { return msgs_.size() < max_msgs_ && bytes_.size() < max_bytes_; }

  // Hands every queued message to the consumer (whose buffers must be empty); returns true
  // when a push was refused since the last take (the producer waits to be told there is room).
  bool takeAll(std::string& bytes, std::vector<Msg>& msgs) {
    std::lock_guard<std::mutex> l(mu_);
    bytes.swap(bytes_);
    msgs.swap(msgs_);
    size_.store(0, std::memory_order_relaxed);
    const bool r = refused_;
    refused_ = false;
    return r;
  }
  size_t size() const { return size_.load(std::memory_order_relaxed); }

 private:
  std::mutex mu_;
  size_t max_msgs_;
  size_t max_bytes_;
  std::string bytes_;
  std::vector<Msg> msgs_;
  bool refused_ = false;
  std::atomic<size_t> size_{0};
};

void signalFd(int fd) {
  const uint64_t one = 1;
  ssize_t r = 0;
  do {
    r = ::write(fd, &one, sizeof one);
  } while (r < 0 && errno == EINTR);
}

void clearFd(int fd) {
  uint64_t v = 0;
  while (::read(fd, &v, sizeof v) > 0) {
  }
}

Result<sockaddr_storage> toSockaddr(const SyslogListen& l, socklen_t& len) {
  sockaddr_storage ss{};
  const std::string host = l.host == "localhost" ? "127.0.0.1" : l.host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(l.port);
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(l.port);
    len = sizeof(sockaddr_in6);
  } else {
    return Status::invalidArgument(l.toString() + ": '" + l.host + "' is not a numeric address");
  }
  return ss;
}

const char* protoName(SyslogListen::Proto p) {
  switch (p) {
    case SyslogListen::Proto::kUdp: return "udp";
    case SyslogListen::Proto::kTcp: return "tcp";
    case SyslogListen::Proto::kTls: return "tls";
  }
  return "?";
}

}  // namespace

// ---- listen addresses and options ----

Result<SyslogListen> SyslogListen::parse(const std::string& text) {
  SyslogListen l;
  const size_t sep = text.find("://");
  if (sep == std::string::npos) {
    return Status::invalidArgument(
        "'" + text + "': expected udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT");
  }
  const std::string scheme = text.substr(0, sep);
  if (scheme == "udp") {
    l.proto = Proto::kUdp;
  } else if (scheme == "tcp") {
    l.proto = Proto::kTcp;
  } else if (scheme == "tls") {
    l.proto = Proto::kTls;
  } else {
    return Status::invalidArgument("'" + text + "': unknown scheme '" + scheme +
                                   "' (udp, tcp or tls)");
  }
  std::string rest = text.substr(sep + 3);
  std::string port;
  if (!rest.empty() && rest[0] == '[') {
    const size_t close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return Status::invalidArgument("'" + text + "': expected [IPv6]:PORT");
    }
    l.host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string::npos) {
      return Status::invalidArgument("'" + text + "': missing :PORT");
    }
    l.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (l.host.empty()) l.host = "0.0.0.0";
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
    return Status::invalidArgument("'" + text + "': port must be a number from 0 to 65535");
  }
  l.port = static_cast<uint16_t>(std::stoul(port));
  socklen_t len = 0;
  auto sa = toSockaddr(l, len);
  if (!sa) return sa.status();
  return l;
}

std::string SyslogListen::toString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(protoName(proto)) + "://" + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

namespace {

const std::set<std::string> kSyslogKeys = {"name",
                                           "type",
                                           "parser",
                                           "year",
                                           "listen",
                                           "tls",
                                           "max_line",
                                           "queue",
                                           "queue_bytes",
                                           "max_connections",
                                           "udp_buffer",
                                           "idle_timeout",
                                           "handshake_timeout"};

SyslogSourceOptions readOptions(const ComponentConfig& c, const ConfigReader& rd) {
  SyslogSourceOptions o;
  o.name = c.name;
  const YAML::Node& n = c.node;
  rd.checkKeys(n, c.path, kSyslogKeys);
  const auto listen = rd.getStringList(n, c.path, "listen");
  if (listen.empty()) {
    rd.error(n, c.path + ".listen",
             "a syslog source needs 'listen' (e.g. udp://0.0.0.0:514, tcp://0.0.0.0:601)");
  }
  bool any_tls = false;
  for (size_t i = 0; i < listen.size(); ++i) {
    auto l = SyslogListen::parse(listen[i]);
    if (!l) {
      const YAML::Node at = n["listen"].IsSequence() ? n["listen"][i] : n["listen"];
      rd.error(at,
               c.path + ".listen" + (n["listen"].IsSequence() ? "[" + std::to_string(i) + "]" : ""),
               l.status().message());
      continue;
    }
    any_tls = any_tls || l->proto == SyslogListen::Proto::kTls;
    o.listen.push_back(*l);
  }
  if (const YAML::Node t = n["tls"]) {
    const std::string tp = c.path + ".tls";
    if (rd.checkKeys(t, tp, {"cert", "key", "ca"})) {
      o.tls_cert = rd.getString(t, tp, "cert", "", true);
      o.tls_key = rd.getString(t, tp, "key", "", true);
      o.tls_ca = rd.getString(t, tp, "ca", "");
    }
  } else if (any_tls) {
    rd.error(n, c.path + ".tls", "a tls:// listener needs tls: {cert: FILE, key: FILE}");
  }
  o.max_line = static_cast<size_t>(
      rd.getInt(n, c.path, "max_line", static_cast<int64_t>(o.max_line), 256, 16 << 20));
  o.queue_messages = static_cast<size_t>(
      rd.getInt(n, c.path, "queue", static_cast<int64_t>(o.queue_messages), 1, 100'000'000));
  o.queue_bytes = static_cast<size_t>(rd.getInt(
      n, c.path, "queue_bytes", static_cast<int64_t>(o.queue_bytes), 4096, int64_t{16} << 30));
  if (o.queue_bytes < o.max_line) {
    rd.error(n["queue_bytes"], c.path + ".queue_bytes", "must be at least max_line");
  }
  o.max_connections = static_cast<size_t>(rd.getInt(
      n, c.path, "max_connections", static_cast<int64_t>(o.max_connections), 1, 1'000'000));
  o.udp_buffer =
      static_cast<int>(rd.getInt(n, c.path, "udp_buffer", o.udp_buffer, 0, int64_t{1} << 30));
  o.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
      rd.getDuration(n, c.path, "idle_timeout", o.idle_timeout));
  o.handshake_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
      rd.getDuration(n, c.path, "handshake_timeout", o.handshake_timeout));
  return o;
}

}  // namespace

void validateSyslogSource(const ComponentConfig& c, const ConfigReader& rd) {
  (void)readOptions(c, rd);
}

Result<SyslogSourceOptions> SyslogSourceOptions::fromConfig(const ComponentConfig& c) {
  std::vector<ConfigDiagnostic> diags;
  ConfigReader rd("", &diags);
  auto o = readOptions(c, rd);
  if (!diags.empty()) {
    std::string msg;
    for (const auto& d : diags) msg += (msg.empty() ? "" : "\n") + d.path + ": " + d.message;
    return Status::invalidArgument(msg);
  }
  return o;
}

// ---- the server ----

struct SyslogSource::Impl {
  struct Listener {
    int fd = -1;
    SyslogListen::Proto proto;
    std::string bound;
    uint32_t kernel_drops = 0;  // SO_RXQ_OVFL: cumulative for this socket
  };
  struct Conn {
    int fd = -1;
    SSL* ssl = nullptr;
    bool handshaking = false;
    bool paused = false;  // removed from epoll until the queue has room
    bool eof = false;     // the peer finished; deliver what is left, then close
    bool want_write = false;
    Peer peer;
    SyslogFramer framer;
    int64_t accepted = 0;
    int64_t last_activity = 0;
    explicit Conn(size_t max_line) : framer(max_line) {}
  };
  enum class Drain : uint8_t { kOk, kFull, kError };

  explicit Impl(SyslogSourceOptions o)
      : opts(std::move(o)), queue(opts.queue_messages, opts.queue_bytes) {}
  ~Impl();

  Status open();
  Status openTls();
  void run();
  void onUdp(Listener& l);
  void onAccept(Listener& l);
  void onConn(Conn& c);
  Drain drainFrames(Conn& c, bool at_end);
  void pause(Conn& c);
  void resumePaused();
  void closeConn(int fd, const char* why);
  void expireConns();
  void setEvents(Conn& c, uint32_t events);

  SyslogSourceOptions opts;
  std::vector<Listener> listeners;
  int epfd = -1;
  int wake_fd = -1;   // consumer → network thread: there is room again / stop
  int ready_fd = -1;  // network thread → consumer: messages are waiting
  SSL_CTX* ssl_ctx = nullptr;
  MessageQueue queue;
  std::thread thread;
  std::atomic<bool> stop{false};

  // network thread only
  std::unordered_map<int, std::unique_ptr<Conn>> conns;
  std::deque<int> paused;
  std::vector<int> again;  // connections with more to read (TLS buffers) without a new event
  std::vector<char> udp_buf;
  std::vector<char> tcp_buf;
  int64_t last_expiry = 0;
  uint64_t warnings = 0;

  // written by the network thread, read by stats()
  std::atomic<uint64_t> bytes{0}, truncated{0}, dropped_queue{0}, dropped_kernel{0}, errors{0},
      conns_open{0}, conns_total{0}, last_seen_us{0};

  // consumer side
  std::string cbytes;
  std::vector<Msg> cmsgs;
  size_t cpos = 0;
  uint64_t seq = 0;
  Peer last_peer;
  std::string last_peer_text = "unknown";
  mutable SourceStats snapshot;
};

SyslogSource::Impl::~Impl() {
  for (auto& [fd, c] : conns) {
    if (c->ssl != nullptr) SSL_free(c->ssl);
    close(fd);
  }
  for (auto& l : listeners) {
    if (l.fd >= 0) close(l.fd);
  }
  for (int fd : {epfd, wake_fd, ready_fd}) {
    if (fd >= 0) close(fd);
  }
  if (ssl_ctx != nullptr) SSL_CTX_free(ssl_ctx);
}

Status SyslogSource::Impl::openTls() {
  ssl_ctx = SSL_CTX_new(TLS_server_method());
  if (ssl_ctx == nullptr) return Status::internal("TLS: " + sslErrors());
  SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(ssl_ctx, opts.tls_cert.c_str()) != 1) {
    return Status::invalidArgument("tls.cert " + opts.tls_cert + ": " + sslErrors());
  }
  if (SSL_CTX_use_PrivateKey_file(ssl_ctx, opts.tls_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Status::invalidArgument("tls.key " + opts.tls_key + ": " + sslErrors());
  }
  if (SSL_CTX_check_private_key(ssl_ctx) != 1) {
    return Status::invalidArgument("tls.key " + opts.tls_key + " does not match tls.cert " +
                                   opts.tls_cert);
  }
  if (!opts.tls_ca.empty()) {
    if (SSL_CTX_load_verify_locations(ssl_ctx, opts.tls_ca.c_str(), nullptr) != 1) {
      return Status::invalidArgument("tls.ca " + opts.tls_ca + ": " + sslErrors());
    }
    SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  // A peer that vanishes mid-handshake must not kill the process with SIGPIPE.
  struct sigaction sa {};
  if (sigaction(SIGPIPE, nullptr, &sa) == 0 && sa.sa_handler == SIG_DFL) {
    std::signal(SIGPIPE, SIG_IGN);
  }
  return Status::ok();
}

Status SyslogSource::Impl::open() {
  epfd = epoll_create1(EPOLL_CLOEXEC);
  wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ready_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd < 0 || wake_fd < 0 || ready_fd < 0) {
    return Status::ioError(std::string("syslog: epoll/eventfd: ") + std::strerror(errno));
  }
  bool tls = false;
  for (const auto& l : opts.listen) tls = tls || l.proto == SyslogListen::Proto::kTls;
  if (tls) RIPOSTE_RETURN_IF_ERROR(openTls());
  for (const auto& l : opts.listen) {
    socklen_t len = 0;
    auto sa = toSockaddr(l, len);
    if (!sa) return sa.status();
    const bool udp = l.proto == SyslogListen::Proto::kUdp;
    const int fd =
        socket(sa->ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::ioError(l.toString() + ": socket: " + std::strerror(errno));
    listeners.push_back({fd, l.proto, "", 0});
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (udp) {
      if (opts.udp_buffer > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &opts.udp_buffer,
                                            sizeof opts.udp_buffer) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &opts.udp_buffer, sizeof opts.udp_buffer);
      }
      setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
    }
    if (bind(fd, reinterpret_cast<const sockaddr*>(&*sa), len) != 0) {
      return Status::ioError(l.toString() + ": bind: " + std::strerror(errno));
    }
    if (!udp && listen(fd, 1024) != 0) {
      return Status::ioError(l.toString() + ": listen: " + std::strerror(errno));
    }
    sockaddr_storage bound{};
    socklen_t blen = sizeof bound;
    getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
    SyslogListen b = l;
    b.port = Peer::from(bound).port;
    listeners.back().bound = b.toString();
  }
  for (const auto& l : listeners) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = l.fd;
    epoll_ctl(epfd, EPOLL_CTL_ADD, l.fd, &ev);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd;
  epoll_ctl(epfd, EPOLL_CTL_ADD, wake_fd, &ev);
  udp_buf.resize(kUdpBatch * std::min<size_t>(opts.max_line, 65536));
  tcp_buf.resize(kReadChunk);
  return Status::ok();
}

void SyslogSource::Impl::run() {
  epoll_event events[64];
  while (!stop.load(std::memory_order_relaxed)) {
    const int timeout = again.empty() ? 250 : 0;
    const int n = epoll_wait(epfd, events, 64, timeout);
    if (n < 0 && errno != EINTR) {
      spdlog::error("source {}: epoll_wait: {}", opts.name, std::strerror(errno));
      errors.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd) {
        clearFd(wake_fd);
        continue;
      }
      Listener* l = nullptr;
      for (auto& x : listeners) l = x.fd == fd ? &x : l;
      if (l != nullptr) {
        if (l->proto == SyslogListen::Proto::kUdp) {
          onUdp(*l);
        } else {
          onAccept(*l);
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it != conns.end() && !it->second->paused) onConn(*it->second);
    }
    if (!again.empty()) {
      std::vector<int> now;
      now.swap(again);
      for (int fd : now) {
        auto it = conns.find(fd);
        if (it != conns.end() && !it->second->paused) onConn(*it->second);
      }
    }
    if (!paused.empty()) resumePaused();
    expireConns();
  }
}

void SyslogSource::Impl::onUdp(Listener& l) {
  const size_t slot = std::min<size_t>(opts.max_line, 65536);
  mmsghdr msgs[kUdpBatch];
  iovec iov[kUdpBatch];
  sockaddr_storage addrs[kUdpBatch];
  alignas(cmsghdr) char ctrl[kUdpBatch][CMSG_SPACE(sizeof(uint32_t))];
  for (size_t batch = 0; batch < kUdpBatchesPerWake; ++batch) {
    for (size_t i = 0; i < kUdpBatch; ++i) {
      iov[i] = {udp_buf.data() + i * slot, slot};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &addrs[i];
      msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
      msgs[i].msg_hdr.msg_control = ctrl[i];
      msgs[i].msg_hdr.msg_controllen = sizeof ctrl[i];
    }
    const int n = recvmmsg(l.fd, msgs, kUdpBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        errors.fetch_add(1, std::memory_order_relaxed);
      }
      return;
    }
    const int64_t now = monoMicros();
    uint64_t nbytes = 0;
    uint64_t ntrunc = 0;
    uint64_t ndropped = 0;
    bool pushed = false;
    bool was_empty = false;
    {
      auto lock = queue.lock();
      was_empty = queue.emptyLocked();
      for (int i = 0; i < n; ++i) {
        const auto& h = msgs[i].msg_hdr;
        for (cmsghdr* cm = CMSG_FIRSTHDR(&h); cm != nullptr;
             cm = CMSG_NXTHDR(const_cast<msghdr*>(&h), cm)) {
          if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
            uint32_t v = 0;
            std::memcpy(&v, CMSG_DATA(cm), sizeof v);
            if (v > l.kernel_drops) {
              dropped_kernel.fetch_add(v - l.kernel_drops, std::memory_order_relaxed);
              l.kernel_drops = v;
            }
          }
        }
        const size_t len = std::min<size_t>(msgs[i].msg_len, slot);
        nbytes += msgs[i].msg_len;
        std::string_view text(udp_buf.data() + static_cast<size_t>(i) * slot, len);
        const bool cut = (h.msg_flags & MSG_TRUNC) != 0;
        if (!cut) {
          while (!text.empty() &&
                 (text.back() == '\n' || text.back() == '\r' || text.back() == '\0'))
            text.remove_suffix(1);
        }
        if (text.empty()) continue;
        if (queue.tryPushLocked(text, cut, Peer::from(addrs[i]), now)) {
          pushed = true;
          ntrunc += cut ? 1 : 0;
        } else {
          ++ndropped;
        }
      }
    }
    bytes.fetch_add(nbytes, std::memory_order_relaxed);
    if (ntrunc > 0) truncated.fetch_add(ntrunc, std::memory_order_relaxed);
    if (ndropped > 0) dropped_queue.fetch_add(ndropped, std::memory_order_relaxed);
    if (pushed) {
      last_seen_us.store(static_cast<uint64_t>(Timestamp::now().micros), std::memory_order_relaxed);
      if (was_empty) signalFd(ready_fd);
    }
    if (static_cast<size_t>(n) < kUdpBatch) return;
  }
}

void SyslogSource::Impl::onAccept(Listener& l) {
  for (;;) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd =
        accept4(l.fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        errors.fetch_add(1, std::memory_order_relaxed);
        if (warnings++ < 20) {
          spdlog::warn("source {}: accept on {}: {}", opts.name, l.bound, std::strerror(errno));
        }
      }
      return;
    }
    if (conns.size() >= opts.max_connections) {
      errors.fetch_add(1, std::memory_order_relaxed);  // counted before the peer can see it
      close(fd);
      if (warnings++ < 20) {
        spdlog::warn("source {}: refused a connection from {}: {} connections already open",
                     opts.name, Peer::from(ss).toString(), conns.size());
      }
      continue;
    }
    auto c = std::make_unique<Conn>(opts.max_line);
    c->fd = fd;
    c->peer = Peer::from(ss);
    c->accepted = c->last_activity = monoMicros();
    if (l.proto == SyslogListen::Proto::kTls) {
      c->ssl = SSL_new(ssl_ctx);
      if (c->ssl == nullptr || SSL_set_fd(c->ssl, fd) != 1) {
        if (c->ssl != nullptr) SSL_free(c->ssl);
        close(fd);
        errors.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      SSL_set_accept_state(c->ssl);
      c->handshaking = true;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    conns.emplace(fd, std::move(c));
    conns_open.store(conns.size(), std::memory_order_relaxed);
    conns_total.fetch_add(1, std::memory_order_relaxed);
  }
}

void SyslogSource::Impl::setEvents(Conn& c, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = c.fd;
  epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev);
}

SyslogSource::Impl::Drain SyslogSource::Impl::drainFrames(Conn& c, bool at_end) {
  SyslogFramer::Frame f;
  const int64_t now = monoMicros();
  bool pushed = false;
  bool was_empty = false;
  uint64_t ntrunc = 0;
  Drain result = Drain::kOk;
  {
    auto lock = queue.lock();
    was_empty = queue.emptyLocked();
    for (;;) {
      bool have = false;
      if (at_end) {
        have = c.framer.finish(f);
      } else {
        const auto r = c.framer.peek(f);
        if (r == SyslogFramer::Next::kError) {
          result = Drain::kError;
          break;
        }
        have = r == SyslogFramer::Next::kFrame;
      }
      if (!have) break;
      if (f.text.empty()) {
        c.framer.pop();
        continue;
      }
      if (!queue.tryPushLocked(f.text, f.truncated, c.peer, now)) {
        result = Drain::kFull;
        break;
      }
      pushed = true;
      ntrunc += f.truncated ? 1 : 0;
      c.framer.pop();
    }
  }
  if (ntrunc > 0) truncated.fetch_add(ntrunc, std::memory_order_relaxed);
  if (pushed) {
    last_seen_us.store(static_cast<uint64_t>(Timestamp::now().micros), std::memory_order_relaxed);
    if (was_empty) signalFd(ready_fd);
  }
  return result;
}

void SyslogSource::Impl::pause(Conn& c) {
  // Out of epoll until there is room: the kernel buffers fill and the sender slows down.
  epoll_ctl(epfd, EPOLL_CTL_DEL, c.fd, nullptr);
  c.paused = true;
  paused.push_back(c.fd);
}

void SyslogSource::Impl::resumePaused() {
  {
    auto lock = queue.lock();
    if (!queue.hasRoomLocked()) return;
  }
  const size_t n = paused.size();
  for (size_t k = 0; k < n && !paused.empty(); ++k) {
    const int fd = paused.front();
    paused.pop_front();
    auto it = conns.find(fd);
    if (it == conns.end()) continue;
    Conn& c = *it->second;
    const Drain d = drainFrames(c, c.eof);
    if (d == Drain::kFull) {
      paused.push_front(fd);  // keep its turn; the queue is full again
      return;
    }
    if (d == Drain::kError || c.eof) {
      c.paused = false;  // not in epoll: closeConn must not remove it
      closeConn(fd, d == Drain::kError ? "framing error" : nullptr);
      continue;
    }
    c.paused = false;
    epoll_event ev{};
    ev.events = c.want_write ? EPOLLOUT : (EPOLLIN | EPOLLRDHUP);
    ev.data.fd = fd;
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    again.push_back(fd);  // bytes may already wait in the socket or the TLS buffer
  }
}

void SyslogSource::Impl::closeConn(int fd, const char* why) {
  auto it = conns.find(fd);
  if (it == conns.end()) return;
  Conn& c = *it->second;
  if (why != nullptr) {
    errors.fetch_add(1, std::memory_order_relaxed);
    if (warnings++ < 50) {
      spdlog::warn("source {}: closing connection from {}: {}", opts.name, c.peer.toString(), why);
    }
  }
  if (!c.paused) epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
  if (c.paused) {
    for (auto p = paused.begin(); p != paused.end(); ++p) {
      if (*p == fd) {
        paused.erase(p);
        break;
      }
    }
  }
  if (c.ssl != nullptr) SSL_free(c.ssl);
  close(fd);
  conns.erase(it);
  conns_open.store(conns.size(), std::memory_order_relaxed);
}

void SyslogSource::Impl::onConn(Conn& c) {
  const int fd = c.fd;
  if (c.want_write) {
    c.want_write = false;
    setEvents(c, EPOLLIN | EPOLLRDHUP);
  }
  if (c.handshaking) {
    ERR_clear_error();
    const int r = SSL_do_handshake(c.ssl);
    if (r != 1) {
      const int e = SSL_get_error(c.ssl, r);
      if (e == SSL_ERROR_WANT_READ) return;
      if (e == SSL_ERROR_WANT_WRITE) {
        c.want_write = true;
        setEvents(c, EPOLLOUT);
        return;
      }
      const std::string why = "TLS handshake failed: " + sslErrors();
      closeConn(fd, why.c_str());
      return;
    }
    c.handshaking = false;
  }
  for (size_t i = 0; i < kTcpReadsPerWake; ++i) {
    if (c.framer.buffered() > c.framer.maxLine() + kReadChunk) break;  // defensive bound
    ssize_t n = 0;  // > 0: bytes read; 0: the stream ended (cleanly or not)
    bool fatal = false;
    std::string why;
    if (c.ssl != nullptr) {
      ERR_clear_error();
      const int r = SSL_read(c.ssl, tcp_buf.data(), static_cast<int>(tcp_buf.size()));
      if (r > 0) {
        n = r;
      } else {
        const int e = SSL_get_error(c.ssl, r);
        if (e == SSL_ERROR_WANT_READ) return;
        if (e == SSL_ERROR_WANT_WRITE) {
          c.want_write = true;
          setEvents(c, EPOLLOUT);
          return;
        }
        if (e != SSL_ERROR_ZERO_RETURN && !(e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
          // (ZERO_RETURN: close_notify; SYSCALL without an error: closed without one)
          fatal = true;
          why = "TLS: " + sslErrors();
        }
      }
    } else {
      n = ::read(fd, tcp_buf.data(), tcp_buf.size());
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        if (errno != ECONNRESET) {
          fatal = true;
          why = std::strerror(errno);
        }
        n = 0;
      }
    }
    if (n > 0) {
      bytes.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      c.last_activity = monoMicros();
      c.framer.feed(std::string_view(tcp_buf.data(), static_cast<size_t>(n)));
      const Drain d = drainFrames(c, false);
      if (d == Drain::kError) {
        const std::string msg = "framing error: " + c.framer.error();
        closeConn(fd, msg.c_str());
        return;
      }
      if (d == Drain::kFull) {
        pause(c);
        return;
      }
      continue;
    }
    // End of the stream (or an error): what was received is still delivered.
    c.eof = true;
    const Drain d = drainFrames(c, true);
    if (d == Drain::kFull) {
      pause(c);
      return;
    }
    closeConn(fd, fatal ? why.c_str() : nullptr);
    return;
  }
  again.push_back(fd);  // more may be waiting (TLS keeps decrypted bytes the kernel cannot see)
}

void SyslogSource::Impl::expireConns() {
  const int64_t now = monoMicros();
  if (now - last_expiry < 1'000'000) return;
  last_expiry = now;
  const int64_t hs =
      std::chrono::duration_cast<std::chrono::microseconds>(opts.handshake_timeout).count();
  const int64_t idle =
      std::chrono::duration_cast<std::chrono::microseconds>(opts.idle_timeout).count();
  std::vector<std::pair<int, const char*>> doomed;
  for (auto& [fd, c] : conns) {
    if (c->paused) continue;
    if (c->handshaking && hs > 0 && now - c->accepted > hs) {
      doomed.emplace_back(fd, "TLS handshake timed out");
    } else if (idle > 0 && now - c->last_activity > idle) {
      if (drainFrames(*c, true) == Drain::kOk) doomed.emplace_back(fd, nullptr);
    }
  }
  for (auto& [fd, why] : doomed) closeConn(fd, why);
}

// ---- SyslogSource ----

Result<std::unique_ptr<SyslogSource>> SyslogSource::start(SyslogSourceOptions options) {
  if (options.listen.empty()) {
    return Status::invalidArgument("syslog source " + options.name + ": nothing to listen on");
  }
  options.queue_bytes = std::max(options.queue_bytes, options.max_line);
  auto impl = std::make_unique<Impl>(std::move(options));
  if (Status st = impl->open(); !st.isOk()) {
    return st.withContext("source " + impl->opts.name);
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  std::unique_ptr<SyslogSource> s(new SyslogSource(std::move(impl)));
  for (const auto& b : s->boundAddresses()) {
    spdlog::info("source {}: syslog listening on {}", s->name(), b);
  }
  return s;
}

SyslogSource::SyslogSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SyslogSource::~SyslogSource() {
  impl_->stop.store(true);
  signalFd(impl_->wake_fd);
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string_view SyslogSource::name() const { return impl_->opts.name; }

int SyslogSource::waitFd() const { return impl_->ready_fd; }

std::vector<std::string> SyslogSource::boundAddresses() const {
  std::vector<std::string> out;
  for (const auto& l : impl_->listeners) out.push_back(l.bound);
  return out;
}

Result<size_t> SyslogSource::poll(const LineSink& sink, size_t max_lines) {
  Impl& m = *impl_;
  if (m.cpos >= m.cmsgs.size()) {
    m.cmsgs.clear();
    m.cbytes.clear();
    m.cpos = 0;
    clearFd(m.ready_fd);
    if (m.queue.takeAll(m.cbytes, m.cmsgs)) signalFd(m.wake_fd);  // room again: resume TCP
  }
  size_t delivered = 0;
  int64_t received = 0;
  while (m.cpos < m.cmsgs.size() && delivered < max_lines) {
    const Msg& msg = m.cmsgs[m.cpos++];
    if (!(msg.peer == m.last_peer)) {
      m.last_peer = msg.peer;
      m.last_peer_text = msg.peer.toString();
    }
    sink(SourceLine{std::string_view(m.cbytes).substr(msg.off, msg.len), m.last_peer_text, ++m.seq,
                    m.opts.name, msg.truncated});
    received = msg.received;
    ++delivered;
  }
  if (delivered > 0) {
    m.snapshot.lines += delivered;
    m.snapshot.lag = Duration(monoMicros() - received);
  }
  return delivered;
}

const SourceStats& SyslogSource::stats() const {
  const Impl& m = *impl_;
  SourceStats& s = m.snapshot;
  s.bytes = m.bytes.load(std::memory_order_relaxed);
  s.truncated = m.truncated.load(std::memory_order_relaxed);
  s.dropped = m.dropped_queue.load(std::memory_order_relaxed) +
              m.dropped_kernel.load(std::memory_order_relaxed);
  s.errors = m.errors.load(std::memory_order_relaxed);
  s.connections = m.conns_open.load(std::memory_order_relaxed);
  s.connections_total = m.conns_total.load(std::memory_order_relaxed);
  s.queued = m.queue.size() + (m.cmsgs.size() - m.cpos);
  const uint64_t seen = m.last_seen_us.load(std::memory_order_relaxed);
  if (seen != 0) s.last_seen = Timestamp{static_cast<int64_t>(seen), 0};
  return s;
}

}  // namespace riposte

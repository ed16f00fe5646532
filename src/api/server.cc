// The only translation unit that includes Boost.Beast/Asio (they are heavy to compile).
#include "riposte/api/server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <optional>
#include <thread>

namespace riposte::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kHeaderLimit = 16 * 1024;
constexpr size_t kMaxQueuedFrames = 1024;  // an event stream further behind is closed
constexpr auto kHeartbeat = std::chrono::seconds(15);

std::chrono::steady_clock::duration toSteady(Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
}

class ServerImpl;

// One connection; `Stream` is beast::tcp_stream or beast::ssl_stream<beast::tcp_stream>.
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <typename... Args>
  Session(ServerImpl& server, std::string client_ip, Args&&... args)
      : server_(server), stream_(std::forward<Args>(args)...), client_ip_(std::move(client_ip)) {}
  ~Session();

  void start();

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
  void readRequest(bool first);
  void onHeader(beast::error_code ec);
  void readBody();
  void onBody(beast::error_code ec);
  void dispatch();
  void sendResponse(HttpResponse res, bool keep_alive, unsigned version, bool head);
  void sendError(int status, std::string_view code, std::string_view message);
  void close();
  void drain();
  // Event streams.
  void startStream(const HttpResponse& head);
  void queueFrame(std::string frame);
  void writeNextFrame();
  void heartbeat();

  ServerImpl& server_;
  Stream stream_;
  std::string client_ip_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> res_;
  bool closing_ = false;
  bool lingering_ = false;
  // Event stream state.
  uint64_t subscription_ = 0;
  std::deque<std::string> frames_;
  bool writing_ = false;
  std::unique_ptr<asio::steady_timer> heartbeat_;
  std::array<char, 256> discard_{};
};

class ServerImpl : public HttpServer {
 public:
  ServerImpl(const ApiConfig& config, Dispatcher dispatch, EventHub* hub)
      : config_(config),
        dispatch_(std::move(dispatch)),
        hub_(hub),
        workers_(static_cast<size_t>(std::max(1, config.threads))),
        acceptor_(ioc_) {}
  ~ServerImpl() override { stop(); }

  Status listen() {
    beast::error_code ec;
    const auto addr = asio::ip::make_address(config_.host, ec);
    if (ec) return Status::invalidArgument("api.listen: bad address " + config_.host);
    if (!config_.tls_cert.empty()) {
      tls_ = std::make_unique<ssl::context>(ssl::context::tls_server);
      tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                        ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
      tls_->use_certificate_chain_file(config_.tls_cert, ec);
      if (ec) return Status::invalidArgument("api.tls.cert: " + config_.tls_cert + ": " + ec.message());
      tls_->use_private_key_file(config_.tls_key, ssl::context::pem, ec);
      if (ec) return Status::invalidArgument("api.tls.key: " + config_.tls_key + ": " + ec.message());
    }
    const tcp::endpoint ep(addr, config_.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::unavailable("api: cannot listen on " + config_.host + ":" +
                                 std::to_string(config_.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    accept();
    io_thread_ = std::thread([this] {
      for (;;) {
        try {
          ioc_.run();
          break;
        } catch (const std::exception& e) {
          spdlog::error("api: network loop: {}", e.what());
        }
      }
    });
    return Status::ok();
  }

  uint16_t port() const override { return port_; }

  ServerCounters counters() const override {
    ServerCounters c;
    c.connections = connections_.load();
    c.accepted = accepted_.load();
    c.refused = refused_.load();
    c.requests = requests_.load();
    c.timeouts = timeouts_.load();
    c.streams = streams_.load();
    return c;
  }

  void stop() override {
    if (stopped_.exchange(true)) return;
    asio::post(ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    if (hub_ != nullptr) hub_->clear();
    workers_.join();  // running handlers finish; their responses are posted to the loop
    ioc_.stop();
    if (io_thread_.joinable()) io_thread_.join();
  }

  const ApiConfig& config() const { return config_; }
  EventHub* hub() const { return hub_; }
  asio::thread_pool& workers() { return workers_; }
  bool stopping() const { return stopped_.load(); }

  HttpResponse handle(HttpRequest& req) {
    ++requests_;
    try {
      return dispatch_(req);
    } catch (const std::exception& e) {
      spdlog::error("api: {} {}: handler failed: {}", req.method, req.path, e.what());
    } catch (...) {
      spdlog::error("api: {} {}: handler failed", req.method, req.path);
    }
    return HttpResponse::error(500, "internal", "internal error");
  }

  std::atomic<uint64_t> connections_{0}, accepted_{0}, refused_{0}, requests_{0}, timeouts_{0},
      streams_{0};

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec,
                                                            tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        spdlog::warn("api: accept: {}", ec.message());
      } else {
        onAccept(std::move(socket));
      }
      if (acceptor_.is_open()) accept();
    });
  }

  void onAccept(tcp::socket socket) {
    ++accepted_;
    if (connections_.load() >= config_.max_connections) {
      ++refused_;
      beast::error_code ec;
      socket.shutdown(tcp::socket::shutdown_both, ec);
      socket.close(ec);
      return;
    }
    beast::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    std::string ip = ec ? std::string("unknown") : remote.address().to_string();
    if (ip.rfind("::ffff:", 0) == 0) ip = ip.substr(7);
    ++connections_;
    if (tls_) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(*this, std::move(ip),
                                                                      std::move(socket), *tls_)
          ->start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(*this, std::move(ip), std::move(socket))
          ->start();
    }
  }

  ApiConfig config_;
  Dispatcher dispatch_;
  EventHub* hub_;
  std::unique_ptr<ssl::context> tls_;
  asio::thread_pool workers_;
  asio::io_context ioc_{1};
  tcp::acceptor acceptor_;
  std::thread io_thread_;
  uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

template <typename Stream>
Session<Stream>::~Session() {
  if (subscription_ != 0) {
    if (server_.hub() != nullptr) server_.hub()->unsubscribe(subscription_);
    --server_.streams_;
  }
  --server_.connections_;
}

template <typename Stream>
void Session<Stream>::start() {
  auto self = this->shared_from_this();
  asio::dispatch(stream_.get_executor(), [self] {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      self->readRequest(true);
    } else {
      self->lowest().expires_after(toSteady(self->server_.config().header_timeout));
      self->stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
        if (ec) {
          if (ec == beast::error::timeout) ++self->server_.timeouts_;
          return;  // dropped: nothing useful to answer on a failed handshake
        }
        self->readRequest(true);
      });
    }
  });
}

template <typename Stream>
void Session<Stream>::readRequest(bool first) {
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  parser_->body_limit(server_.config().max_body_bytes);
  const auto& cfg = server_.config();
  lowest().expires_after(toSteady(first ? cfg.header_timeout : cfg.idle_timeout));
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = this->shared_from_this()](beast::error_code ec, size_t) {
                            self->onHeader(ec);
                          });
}

template <typename Stream>
void Session<Stream>::onHeader(beast::error_code ec) {
  if (ec) {
    if (ec == beast::error::timeout) ++server_.timeouts_;
    if (ec == http::error::header_limit) {
      return sendError(431, "headers_too_large", "request headers exceed 16 KiB");
    }
    if (ec == http::error::body_limit) {
      return sendError(413, "payload_too_large",
                       "request body exceeds " + std::to_string(server_.config().max_body_bytes) +
                           " bytes");
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted) {
      return close();
    }
    return sendError(400, "bad_request", "malformed HTTP request");
  }
  const auto& req = parser_->get();
  if (req[http::field::expect] == "100-continue" && !parser_->is_done()) {
    auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                   req.version());
    lowest().expires_after(toSteady(server_.config().body_timeout));
    http::async_write(stream_, *cont,
                      [self = this->shared_from_this(), cont](beast::error_code e, size_t) {
                        if (e) return self->close();
                        self->readBody();
                      });
    return;
  }
  readBody();
}

template <typename Stream>
void Session<Stream>::readBody() {
  lowest().expires_after(toSteady(server_.config().body_timeout));
  http::async_read(stream_, buffer_, *parser_,
                   [self = this->shared_from_this()](beast::error_code ec, size_t) {
                     self->onBody(ec);
                   });
}

template <typename Stream>
void Session<Stream>::onBody(beast::error_code ec) {
  if (ec) {
    if (ec == beast::error::timeout) {
      ++server_.timeouts_;
      return close();
    }
    if (ec == http::error::body_limit) {
      return sendError(413, "payload_too_large",
                       "request body exceeds " + std::to_string(server_.config().max_body_bytes) +
                           " bytes");
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      return close();
    }
    return sendError(400, "bad_request", "malformed HTTP request");
  }
  lowest().expires_never();
  dispatch();
}

template <typename Stream>
void Session<Stream>::dispatch() {
  auto msg = parser_->release();
  auto req = std::make_shared<HttpRequest>();
  req->method = std::string(msg.method_string());
  req->target = std::string(msg.target());
  req->client_ip = client_ip_;
  req->tls = !std::is_same_v<Stream, beast::tcp_stream>;
  for (const auto& f : msg) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value(f.value());
    auto [it, inserted] = req->headers.emplace(std::move(name), value);
    if (!inserted) it->second += (it->first == "cookie" ? "; " : ", ") + value;
  }
  req->body = std::move(msg.body());
  const bool keep_alive = msg.keep_alive();
  const unsigned version = msg.version();
  const bool head = msg.method() == http::verb::head;
  if (!parseTarget(req->target, req->path, req->query)) {
    return sendError(400, "bad_request", "malformed percent-encoding in the request target");
  }
  auto self = this->shared_from_this();
  asio::post(server_.workers(), [self, req, keep_alive, version, head] {
    HttpResponse res = self->server_.handle(*req);
    asio::post(self->stream_.get_executor(),
               [self, res = std::move(res), keep_alive, version, head]() mutable {
                 if (res.event_stream) return self->startStream(res);
                 self->sendResponse(std::move(res), keep_alive, version, head);
               });
  });
}

template <typename Stream>
void Session<Stream>::sendResponse(HttpResponse res, bool keep_alive, unsigned version,
                                   bool head) {
  res_ = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(res.status), version);
  auto& r = *res_;
  r.set(http::field::server, "riposte");
  r.set(http::field::content_type, res.content_type);
  r.set(http::field::cache_control, "no-store");
  r.set("X-Content-Type-Options", "nosniff");
  for (const auto& [k, v] : res.headers) r.insert(k, v);
  const size_t len = res.body.size();
  if (!head) r.body() = std::move(res.body);
  r.content_length(len);
  r.keep_alive(keep_alive && !closing_);
  lowest().expires_after(toSteady(server_.config().body_timeout));
  http::async_write(stream_, r, [self = this->shared_from_this()](beast::error_code ec, size_t) {
    const bool again = !ec && self->res_->keep_alive() && !self->server_.stopping();
    self->res_.reset();
    if (again) return self->readRequest(false);
    self->close();
  });
}

template <typename Stream>
void Session<Stream>::sendError(int status, std::string_view code, std::string_view message) {
  closing_ = true;  // the request could not be read whole: the connection ends after this
  sendResponse(HttpResponse::error(status, code, message), false, 11, false);
}

template <typename Stream>
void Session<Stream>::close() {
  beast::error_code ec;
  if (heartbeat_) heartbeat_->cancel();
  if (closing_ && !lingering_) {
    // After an error answer the client may still be sending (an oversized body): stop sending,
    // then read and drop what arrives for a moment, so closing does not reset the connection
    // before the client has read the answer.
    lingering_ = true;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    lowest().expires_after(std::chrono::seconds(2));
    drain();
    return;
  }
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  } else {
    // No TLS close_notify round trip: the peer may be gone or hostile.
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().socket().close(ec);
  }
}

template <typename Stream>
void Session<Stream>::drain() {
  lowest().async_read_some(asio::buffer(discard_),
                           [self = this->shared_from_this()](beast::error_code ec, size_t) {
                             if (ec) return self->close();
                             self->drain();
                           });
}

template <typename Stream>
void Session<Stream>::startStream(const HttpResponse& head) {
  EventHub* hub = server_.hub();
  if (hub == nullptr) {
    return sendResponse(HttpResponse::error(503, "unavailable", "no event stream"), false, 11,
                        false);
  }
  if (server_.streams_.load() >= server_.config().max_streams) {
    return sendResponse(
        HttpResponse::error(503, "too_many_streams", "too many open event streams"), false, 11,
        false);
  }
  ++server_.streams_;
  std::weak_ptr<Session> weak = this->shared_from_this();
  auto exec = stream_.get_executor();
  subscription_ = hub->subscribe([weak, exec](const std::string& frame) {
    asio::post(exec, [weak, frame] {
      if (auto s = weak.lock()) s->queueFrame(frame);
    });
  });
  std::string h = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
                  "Connection: close\r\nX-Accel-Buffering: no\r\n";
  for (const auto& [k, v] : head.headers) h += k + ": " + v + "\r\n";
  h += "\r\n: connected\n\n";
  lowest().expires_never();
  queueFrame(std::move(h));
  // The client sends nothing more; a read completes when it goes away.
  stream_.async_read_some(asio::buffer(discard_),
                          [self = this->shared_from_this()](beast::error_code, size_t) {
                            self->close();
                          });
  heartbeat_ = std::make_unique<asio::steady_timer>(exec);
  heartbeat();
}

template <typename Stream>
void Session<Stream>::heartbeat() {
  heartbeat_->expires_after(kHeartbeat);
  heartbeat_->async_wait([weak = std::weak_ptr<Session>(this->shared_from_this())](
                             beast::error_code ec) {
    if (ec) return;
    if (auto s = weak.lock()) {
      s->queueFrame(": ping\n\n");
      s->heartbeat();
    }
  });
}

template <typename Stream>
void Session<Stream>::queueFrame(std::string frame) {
  if (frames_.size() >= kMaxQueuedFrames) {
    spdlog::warn("api: event stream to {} too far behind; closed", client_ip_);
    frames_.clear();
    return close();
  }
  frames_.push_back(std::move(frame));
  if (!writing_) writeNextFrame();
}

template <typename Stream>
void Session<Stream>::writeNextFrame() {
  if (frames_.empty()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  lowest().expires_after(toSteady(server_.config().body_timeout));
  asio::async_write(stream_, asio::buffer(frames_.front()),
                    [self = this->shared_from_this()](beast::error_code ec, size_t) {
                      if (ec) {
                        self->frames_.clear();
                        self->writing_ = false;
                        return self->close();
                      }
                      self->frames_.pop_front();
                      if (self->frames_.empty()) self->lowest().expires_never();
                      self->writeNextFrame();
                    });
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(const ApiConfig& config, Dispatcher dispatch,
                                                      EventHub* hub) {
  auto s = std::make_unique<ServerImpl>(config, std::move(dispatch), hub);
  try {
    RIPOSTE_RETURN_IF_ERROR(s->listen());
  } catch (const std::exception& e) {
    return Status::unavailable(std::string("api: cannot start: ") + e.what());
  }
  return std::unique_ptr<HttpServer>(std::move(s));
}

}  // namespace riposte::api

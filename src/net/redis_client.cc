#include "riposte/net/redis_client.h"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <algorithm>

namespace riposte::net {

namespace {

timeval toTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

RedisReply convert(const redisReply* r) {
  RedisReply out;
  if (r == nullptr) return out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default: out.type = RedisReply::Type::kNil; break;
  }
  return out;
}

struct ArgvView {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  explicit ArgvView(const RedisCommand& cmd) {
    argv.reserve(cmd.size());
    lens.reserve(cmd.size());
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
  }
};

std::string commandName(const RedisCommand& cmd) { return cmd.empty() ? "(empty)" : cmd.front(); }

}  // namespace

RedisClient::RedisClient(RedisOptions options) : options_(std::move(options)) {}

RedisClient::~RedisClient() { disconnect(); }

void RedisClient::disconnect() {
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = nullptr;
}

Status RedisClient::fail(const std::string& what) {
  std::string msg = options_.describe() + ": " + what;
  if (ctx_ != nullptr && ctx_->err != 0) msg += ": " + std::string(ctx_->errstr);
  disconnect();
  last_error_ = msg;
  return Status::unavailable(msg);
}

Status RedisClient::connect() {
  disconnect();
  const auto now = std::chrono::steady_clock::now();
  auto schedule_retry = [&] {
    backoff_ = backoff_.count() == 0 ? options_.backoff_initial
                                     : std::min(options_.backoff_max, backoff_ * 2);
    next_attempt_ = now + backoff_;
  };
  ctx_ = redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                 toTimeval(options_.connect_timeout));
  if (ctx_ == nullptr) {
    schedule_retry();
    last_error_ = options_.describe() + ": connect: out of memory";
    return Status::unavailable(last_error_);
  }
  if (ctx_->err != 0) {
    schedule_retry();
    return fail("connect");
  }
  redisSetTimeout(ctx_, toTimeval(options_.command_timeout));
  redisEnableKeepAlive(ctx_);
  auto setup = [&](const RedisCommand& cmd) -> Status {
    auto r = command(cmd);
    if (!r) return r.status();
    return Status::ok();
  };
  if (!options_.password.empty()) {
    Status st = options_.user.empty() ? setup({"AUTH", options_.password})
                                      : setup({"AUTH", options_.user, options_.password});
    if (!st.isOk()) {
      schedule_retry();
      disconnect();
      return st;
    }
  }
  if (options_.db != 0) {
    if (Status st = setup({"SELECT", std::to_string(options_.db)}); !st.isOk()) {
      schedule_retry();
      disconnect();
      return st;
    }
  }
  backoff_ = std::chrono::milliseconds(0);
  ++connects_;
  return Status::ok();
}

Status RedisClient::ensureConnected() {
  if (ctx_ != nullptr) return Status::ok();
  const auto now = std::chrono::steady_clock::now();
  if (now < next_attempt_) {
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_attempt_ - now);
    return Status::unavailable(options_.describe() + ": not connected (next attempt in " +
                               std::to_string(wait.count()) + " ms; last error: " + last_error_ +
                               ")");
  }
  return connect();
}

Result<RedisReply> RedisClient::command(const RedisCommand& argv) {
  RIPOSTE_RETURN_IF_ERROR(ensureConnected());
  ArgvView v(argv);
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(argv.size()), v.argv.data(), v.lens.data()));
  if (r == nullptr) {
    // A failed command may succeed right after a reconnect: allow the next call to try at once.
    next_attempt_ = {};
    return fail(commandName(argv));
  }
  RedisReply out = convert(r);
  freeReplyObject(r);
  if (out.isError()) {
    return Status::failedPrecondition(options_.describe() + ": " + commandName(argv) + ": " +
                                      out.str);
  }
  return out;
}

Result<std::vector<RedisReply>> RedisClient::pipeline(const std::vector<RedisCommand>& commands) {
  RIPOSTE_RETURN_IF_ERROR(ensureConnected());
  for (const auto& c : commands) {
    ArgvView v(c);
    if (redisAppendCommandArgv(ctx_, static_cast<int>(c.size()), v.argv.data(), v.lens.data()) !=
        REDIS_OK) {
      return fail("pipeline append " + commandName(c));
    }
  }
  std::vector<RedisReply> out;
  out.reserve(commands.size());
  for (const auto& c : commands) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      next_attempt_ = {};
      return fail("pipeline " + commandName(c));
    }
    out.push_back(convert(static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
  return out;
}

Status RedisClient::subscribe(const std::vector<std::string>& channels) {
  RedisCommand cmd = {"SUBSCRIBE"};
  cmd.insert(cmd.end(), channels.begin(), channels.end());
  RIPOSTE_RETURN_IF_ERROR(ensureConnected());
  ArgvView v(cmd);
  if (redisAppendCommandArgv(ctx_, static_cast<int>(cmd.size()), v.argv.data(), v.lens.data()) !=
      REDIS_OK) {
    return fail("SUBSCRIBE");
  }
  // One confirmation per channel.
  for (size_t i = 0; i < channels.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) return fail("SUBSCRIBE");
    RedisReply r = convert(static_cast<redisReply*>(raw));
    freeReplyObject(raw);
    if (r.isError()) {
      return Status::failedPrecondition(options_.describe() + ": SUBSCRIBE: " + r.str);
    }
  }
  return Status::ok();
}

Result<std::optional<RedisReply>> RedisClient::readPush(std::chrono::milliseconds timeout) {
  if (ctx_ == nullptr) return Status::unavailable(options_.describe() + ": not connected");
  auto take = [&]() -> Result<std::optional<RedisReply>> {
    void* raw = nullptr;
    if (redisGetReplyFromReader(ctx_, &raw) != REDIS_OK) return fail("reading a message");
    if (raw == nullptr) return std::optional<RedisReply>();
    RedisReply r = convert(static_cast<redisReply*>(raw));
    freeReplyObject(raw);
    return std::optional<RedisReply>(std::move(r));
  };
  auto first = take();
  if (!first || first->has_value()) return first;
  pollfd p{ctx_->fd, POLLIN, 0};
  const int n = poll(&p, 1, static_cast<int>(timeout.count()));
  if (n == 0) return std::optional<RedisReply>();
  if (n < 0) return std::optional<RedisReply>();  // EINTR: the caller loops
  if (redisBufferRead(ctx_) != REDIS_OK) {
    next_attempt_ = {};
    return fail("connection lost");
  }
  return take();
}

}  // namespace riposte::net

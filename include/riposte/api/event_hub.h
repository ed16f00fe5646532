// EventHub: fans live events (new findings, decisions, mode changes) out to the API's
// Server-Sent Events streams. Each subscriber is a sink that must not block (the server's
// sink only queues the frame on its connection; a connection that falls too far behind is
// closed rather than letting memory grow).
//
// Frames are SSE text: "id: N\nevent: TYPE\ndata: JSON\n\n".
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace riposte::api {

class EventHub {
 public:
  using Sink = std::function<void(const std::string& frame)>;

  // Returns a subscription id (never 0).
  uint64_t subscribe(Sink sink);
  void unsubscribe(uint64_t id);
  void publish(std::string_view type, const std::string& json);
  // Drops every subscriber (server shutdown).
  void clear();
  size_t subscribers() const;
  uint64_t published() const { return seq_.load(); }

 private:
  mutable std::mutex mu_;
  std::map<uint64_t, Sink> sinks_;
  uint64_t next_ = 1;
  std::atomic<uint64_t> seq_{0};
};

}  // namespace riposte::api

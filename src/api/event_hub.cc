#include "riposte/api/event_hub.h"

namespace riposte::api {

uint64_t EventHub::subscribe(Sink sink) {
  std::lock_guard<std::mutex> l(mu_);
  const uint64_t id = next_++;
  sinks_.emplace(id, std::move(sink));
  return id;
}

void EventHub::unsubscribe(uint64_t id) {
  std::lock_guard<std::mutex> l(mu_);
  sinks_.erase(id);
}

void EventHub::publish(std::string_view type, const std::string& json) {
  const uint64_t n = ++seq_;
  std::string frame = "id: " + std::to_string(n) + "\nevent: ";
  frame.append(type);
  frame += "\ndata: ";
  // A JSON text from dump() has no raw newlines; guard anyway so a frame stays one event.
  for (char c : json) frame += c == '\n' ? ' ' : c;
  frame += "\n\n";
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [_, sink] : sinks_) sink(frame);
}

void EventHub::clear() {
  std::map<uint64_t, Sink> old;
  {
    std::lock_guard<std::mutex> l(mu_);
    old.swap(sinks_);
  }
}

size_t EventHub::subscribers() const {
  std::lock_guard<std::mutex> l(mu_);
  return sinks_.size();
}

}  // namespace riposte::api

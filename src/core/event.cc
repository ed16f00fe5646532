#include "riposte/core/event.h"

#include <nlohmann/json.hpp>

namespace riposte {

namespace {

constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "event.action",
    "event.outcome",
    "event.category",
    "event.dataset",
    "event.severity",
    "message",
    "source.ip",
    "source.port",
    "destination.ip",
    "destination.port",
    "network.transport",
    "user.name",
    "host.name",
    "process.name",
    "process.pid",
    "url.original",
    "url.path",
    "url.query",
    "url.domain",
    "http.request.method",
    "http.version",
    "http.response.status_code",
    "http.response.body.bytes",
    "http.request.referrer",
    "user_agent.original",
    "rule.id",
    "rule.name",
    "rule.category",
    "dns.question.name",
    "file.hash.md5",
    "file.hash.sha1",
    "file.hash.sha256",
    "tls.client.server_name",
};

constexpr std::array<std::string_view, kEventKindCount> kKindNames = {
    "unknown", "auth", "ssh", "http", "firewall", "ids_alert",
    "flow",    "dns",  "tls", "file", "generic"};

// Fields whose values are numbers in ECS; written as JSON numbers when they parse as such.
bool isNumericField(Field f) {
  switch (f) {
    case Field::kSourcePort:
    case Field::kDestinationPort:
    case Field::kProcessPid:
    case Field::kHttpStatus:
    case Field::kHttpBytes:
    case Field::kEventSeverity: return true;
    default: return false;
  }
}

}  // namespace

std::string_view fieldName(Field f) { return kFieldNames[static_cast<size_t>(f)]; }

std::optional<Field> fieldFromName(std::string_view name) {
  for (size_t i = 0; i < kFieldCount; ++i) {
    if (kFieldNames[i] == name) return static_cast<Field>(i);
  }
  return std::nullopt;
}

std::string_view eventKindName(EventKind k) { return kKindNames[static_cast<size_t>(k)]; }

std::optional<EventKind> eventKindFromName(std::string_view name) {
  for (size_t i = 0; i < kEventKindCount; ++i) {
    if (kKindNames[i] == name) return static_cast<EventKind>(i);
  }
  return std::nullopt;
}

Event::Event() { extra_.reserve(8); }

void Event::clear() {
  raw_ = {};
  kind_ = EventKind::kUnknown;
  timestamp_ = {};
  origin_ = {};
  repeat_ = 1;
  fields_.fill({});
  extra_.clear();
}

void Event::setOwned(Field f, std::string_view v) {
  auto& buf = owned_[static_cast<size_t>(f)];
  buf.assign(v.data(), v.size());
  fields_[static_cast<size_t>(f)] = buf;
}

void Event::setExtra(std::string_view name, std::string_view value) {
  for (auto& [k, v] : extra_) {
    if (k == name) {
      v.assign(value);
      return;
    }
  }
  extra_.emplace_back(std::string(name), std::string(value));
}

std::string_view Event::getExtra(std::string_view name) const {
  for (const auto& [k, v] : extra_) {
    if (k == name) return v;
  }
  return {};
}

std::string_view Event::getByName(std::string_view name) const {
  if (auto f = fieldFromName(name)) return get(*f);
  return getExtra(name);
}

std::string Event::toJson() const {
  nlohmann::json j = nlohmann::json::object();
  if (timestamp_.isSet()) j["@timestamp"] = formatRfc3339(timestamp_);
  j["event.kind"] = std::string(eventKindName(kind_));
  for (size_t i = 0; i < kFieldCount; ++i) {
    const auto v = fields_[i];
    if (v.empty()) continue;
    const auto f = static_cast<Field>(i);
    if (isNumericField(f)) {
      char* end = nullptr;
      const std::string s(v);
      const long long n = std::strtoll(s.c_str(), &end, 10);
      if (end != nullptr && *end == '\0') {
        j[std::string(kFieldNames[i])] = n;
        continue;
      }
    }
    j[std::string(kFieldNames[i])] = std::string(v);
  }
  if (repeat_ > 1) j["event.count"] = repeat_;
  for (const auto& [k, v] : extra_) j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

EvidenceEvent EvidenceEvent::from(const Event& e) {
  EvidenceEvent ev;
  ev.assign(e);
  return ev;
}

EvidenceEvent EvidenceEvent::withFields(const Event& e) {
  EvidenceEvent ev = from(e);
  ev.fields_json = e.toJson();
  return ev;
}

void EvidenceEvent::assign(const Event& e) {
  timestamp = e.timestamp();
  source.assign(e.origin().source);
  offset = e.origin().offset;
  raw.assign(e.raw());
  fields_json.clear();
}

}  // namespace riposte

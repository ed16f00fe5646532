#include "riposte/core/event.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "riposte/core/json_text.h"
#include "riposte/core/time_text.h"

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
  // The members in key order, a later one of the same key replacing an earlier (the extra
  // fields come last): the text nlohmann::json writes for the same object, without building it.
  struct Member {
    std::string_view key;
    std::string_view text;
    long long number = 0;
    bool is_number = false;
    bool is_time = false;  // the event's timestamp
  };
  std::vector<Member> m;
  m.reserve(kFieldCount + extra_.size() + 3);
  std::string digits;
  size_t bytes = 64;
  if (timestamp_.isSet()) m.push_back({"@timestamp", {}, 0, false, true});
  m.push_back({"event.kind", eventKindName(kind_)});
  for (size_t i = 0; i < kFieldCount; ++i) {
    const std::string_view v = fields_[i];
    if (v.empty()) continue;
    Member x{kFieldNames[i], v};
    if (isNumericField(static_cast<Field>(i))) {
      digits.assign(v);
      char* end = nullptr;
      const long long n = std::strtoll(digits.c_str(), &end, 10);
      if (end != nullptr && *end == '\0') {
        x.number = n;
        x.is_number = true;
      }
    }
    m.push_back(x);
  }
  if (repeat_ > 1) m.push_back({"event.count", {}, static_cast<long long>(repeat_), true});
  for (const auto& [k, v] : extra_) m.push_back({k, v});
  for (const Member& x : m) bytes += x.key.size() + x.text.size() + 6;
  std::stable_sort(m.begin(), m.end(),
                   [](const Member& a, const Member& b) { return a.key < b.key; });
  std::string out;
  out.reserve(bytes);
  out += '{';
  char num[24];
  for (size_t i = 0; i < m.size(); ++i) {
    if (i + 1 < m.size() && m[i + 1].key == m[i].key) continue;  // replaced by a later one
    if (out.size() > 1) out += ',';
    appendJsonString(out, m[i].key);
    out += ':';
    if (m[i].is_time) {
      out += '"';
      appendRfc3339(out, timestamp_, false);
      out += '"';
    } else if (m[i].is_number) {
      const auto r = std::to_chars(num, num + sizeof num, m[i].number);
      out.append(num, r.ptr);
    } else {
      appendJsonString(out, m[i].text);
    }
  }
  out += '}';
  return out;
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

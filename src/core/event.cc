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
  for (uint64_t m = set_mask_; m != 0; m &= m - 1) fields_[static_cast<size_t>(__builtin_ctzll(m))] = {};
  set_mask_ = 0;
  extra_.clear();
}

void Event::setOwned(Field f, std::string_view v) {
  auto& buf = owned_[static_cast<size_t>(f)];
  buf.assign(v.data(), v.size());
  set(f, buf);
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

namespace {

// Sort keys of the members an event always writes the same way: the known fields, and the
// timestamp, kind and count (index kFieldCount + 0, 1, 2), in key order, computed once.
constexpr size_t kTimestampMember = kFieldCount;
constexpr size_t kKindMember = kFieldCount + 1;
constexpr size_t kCountMember = kFieldCount + 2;

std::string_view fixedMemberKey(size_t i) {
  if (i < kFieldCount) return kFieldNames[i];
  if (i == kTimestampMember) return "@timestamp";
  if (i == kKindMember) return "event.kind";
  return "event.count";
}

const std::array<uint8_t, kFieldCount + 3>& fixedMemberOrder() {
  static const auto order = [] {
    std::array<uint8_t, kFieldCount + 3> o{};
    for (size_t i = 0; i < o.size(); ++i) o[i] = static_cast<uint8_t>(i);
    std::sort(o.begin(), o.end(),
              [](uint8_t a, uint8_t b) { return fixedMemberKey(a) < fixedMemberKey(b); });
    return o;
  }();
  return order;
}

// A field value written as a JSON number: what strtoll takes whole (digits without sign or
// spaces, the common case, are read here without a copy).
bool numericValue(std::string_view v, long long& n) {
  if (!v.empty() && v.size() <= 18 &&
      std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    n = 0;
    for (const char c : v) n = n * 10 + (c - '0');
    return true;
  }
  const std::string digits(v);
  char* end = nullptr;
  n = std::strtoll(digits.c_str(), &end, 10);
  return end != nullptr && *end == '\0';
}

}  // namespace

std::string Event::toJson() const {
  // The members in key order, a later one of the same key replacing an earlier (the extra
  // fields come last): the text nlohmann::json writes for the same object, without building it.
  // The fixed members come in their precomputed order; the extra fields (few) are sorted here
  // and merged in, an extra replacing a fixed member of the same key.
  std::array<std::string_view, kFieldCount + 3> text{};
  std::array<long long, kFieldCount + 3> number{};
  std::array<bool, kFieldCount + 3> present{};
  std::array<bool, kFieldCount + 3> is_number{};
  size_t bytes = 64;
  present[kTimestampMember] = timestamp_.isSet();
  present[kKindMember] = true;
  text[kKindMember] = eventKindName(kind_);
  if (repeat_ > 1) {
    present[kCountMember] = true;
    is_number[kCountMember] = true;
    number[kCountMember] = static_cast<long long>(repeat_);
  }
  for (size_t i = 0; i < kFieldCount; ++i) {
    const std::string_view v = fields_[i];
    if (v.empty()) continue;
    present[i] = true;
    text[i] = v;
    bytes += kFieldNames[i].size() + v.size() + 6;
    if (isNumericField(static_cast<Field>(i))) is_number[i] = numericValue(v, number[i]);
  }
  std::array<const std::pair<std::string, std::string>*, 16> extra_small{};
  std::vector<const std::pair<std::string, std::string>*> extra_big;
  const std::pair<std::string, std::string>** extra = extra_small.data();
  if (extra_.size() > extra_small.size()) {
    extra_big.resize(extra_.size());
    extra = extra_big.data();
  }
  for (size_t i = 0; i < extra_.size(); ++i) {
    extra[i] = &extra_[i];
    bytes += extra_[i].first.size() + extra_[i].second.size() + 6;
  }
  std::stable_sort(extra, extra + extra_.size(),
                   [](const auto* a, const auto* b) { return a->first < b->first; });

  std::string out;
  out.reserve(bytes);
  out += '{';
  auto key = [&](std::string_view k) {
    if (out.size() > 1) out += ',';
    appendJsonString(out, k);
    out += ':';
  };
  char num[24];
  size_t x = 0;
  // Writes the extras before `k` (all that are left when `k` is null); of several extras with
  // one key, the last replaces the others.
  auto extrasBefore = [&](const std::string_view* k) {
    for (; x < extra_.size() && (k == nullptr || extra[x]->first < *k); ++x) {
      if (x + 1 < extra_.size() && extra[x + 1]->first == extra[x]->first) continue;
      key(extra[x]->first);
      appendJsonString(out, extra[x]->second);
    }
  };
  for (const uint8_t i : fixedMemberOrder()) {
    if (!present[i]) continue;
    const std::string_view k = fixedMemberKey(i);
    extrasBefore(&k);
    if (x < extra_.size() && extra[x]->first == k) continue;  // replaced by an extra field
    key(k);
    if (i == kTimestampMember) {
      out += '"';
      appendRfc3339(out, timestamp_, false);
      out += '"';
    } else if (is_number[i]) {
      const auto r = std::to_chars(num, num + sizeof num, number[i]);
      out.append(num, r.ptr);
    } else {
      appendJsonString(out, text[i]);
    }
  }
  extrasBefore(nullptr);
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

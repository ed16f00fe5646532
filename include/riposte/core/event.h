// Event: one normalised observation, with Elastic Common Schema field names.
//
// Events are built by parsers into a reusable object: field values are string views into the
// raw line (owned by the reader's buffer) or into per-field buffers the event owns and reuses,
// so parsing a line allocates nothing once the buffers are warm. An Event is valid until the
// next line is parsed into it; whoever keeps evidence copies it (see EvidenceEvent).
//
// Thread safety: none; each worker owns its Event.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "riposte/core/time.h"

namespace riposte {

// What kind of observation an event is; detectors and rules are indexed by it.
enum class EventKind : uint8_t {
  kUnknown = 0,
  kAuth,      // authentication (sshd, pam)
  kSsh,       // ssh protocol-level events (kex, banner, disconnect without auth)
  kHttp,      // web access
  kFirewall,  // packet filter log lines
  kIdsAlert,  // IDS alert (Suricata)
  kFlow,      // network flow/connection
  kDns,
  kTls,
  kFile,
  kGeneric,
};
inline constexpr size_t kEventKindCount = 11;
std::string_view eventKindName(EventKind k);
std::optional<EventKind> eventKindFromName(std::string_view name);

// The ECS fields Riposte knows by id. Others go to Event::extra().
enum class Field : uint8_t {
  kEventAction = 0,   // event.action, e.g. ssh_failed_password
  kEventOutcome,      // event.outcome: success | failure | unknown
  kEventCategory,     // event.category
  kEventDataset,      // event.dataset, e.g. sshd, nginx.access
  kEventSeverity,     // event.severity
  kMessage,           // message (the part after the syslog header)
  kSourceIp,          // source.ip
  kSourcePort,        // source.port
  kDestinationIp,     // destination.ip
  kDestinationPort,   // destination.port
  kNetworkTransport,  // network.transport
  kUserName,          // user.name
  kHostName,          // host.name
  kProcessName,       // process.name
  kProcessPid,        // process.pid
  kUrlOriginal,       // url.original
  kUrlPath,           // url.path (percent-decoded)
  kUrlQuery,          // url.query
  kUrlDomain,         // url.domain
  kHttpMethod,        // http.request.method
  kHttpVersion,       // http.version
  kHttpStatus,        // http.response.status_code
  kHttpBytes,         // http.response.body.bytes
  kHttpReferrer,      // http.request.referrer
  kUserAgent,         // user_agent.original
  kRuleId,            // rule.id
  kRuleName,          // rule.name
  kRuleCategory,      // rule.category
  kDnsQuestion,       // dns.question.name
  kFileHashMd5,       // file.hash.md5
  kFileHashSha1,      // file.hash.sha1
  kFileHashSha256,    // file.hash.sha256
  kTlsSni,            // tls.client.server_name
  kCount
};
inline constexpr size_t kFieldCount = static_cast<size_t>(Field::kCount);

std::string_view fieldName(Field f);
std::optional<Field> fieldFromName(std::string_view name);

// Where an event came from.
struct EventOrigin {
  std::string_view source;  // configured source name or file path
  uint64_t offset = 0;      // byte offset of the line in the source
};

class Event {
 public:
  Event();

  // Resets for the next line; keeps buffers.
  void clear();

  std::string_view raw() const { return raw_; }
  void setRaw(std::string_view raw) { raw_ = raw; }

  EventKind kind() const { return kind_; }
  void setKind(EventKind k) { kind_ = k; }

  Timestamp timestamp() const { return timestamp_; }
  void setTimestamp(Timestamp t) { timestamp_ = t; }

  const EventOrigin& origin() const { return origin_; }
  void setOrigin(std::string_view source, uint64_t offset) { origin_ = {source, offset}; }

  // How many occurrences this event stands for (rsyslog "message repeated N times").
  uint32_t repeat() const { return repeat_; }
  void setRepeat(uint32_t n) { repeat_ = n; }

  std::string_view get(Field f) const { return fields_[static_cast<size_t>(f)]; }
  bool has(Field f) const { return !fields_[static_cast<size_t>(f)].empty(); }
  // Sets a view that must outlive the event's current use (the raw line or a literal).
  void set(Field f, std::string_view v) {
    fields_[static_cast<size_t>(f)] = v;
    set_mask_ |= uint64_t{1} << static_cast<unsigned>(f);
  }
  // Copies the value into the event's own buffer for that field.
  void setOwned(Field f, std::string_view v);

  // Fields outside the known set (generic JSON, parser-specific values).
  const std::vector<std::pair<std::string, std::string>>& extra() const { return extra_; }
  void setExtra(std::string_view name, std::string_view value);
  std::string_view getExtra(std::string_view name) const;
  // Looks a field up by its ECS name, known or extra.
  std::string_view getByName(std::string_view name) const;

  // ECS-shaped JSON object of the fields that are set (for storage and output).
  std::string toJson() const;

 private:
  std::string_view raw_;
  EventKind kind_ = EventKind::kUnknown;
  Timestamp timestamp_;
  EventOrigin origin_;
  uint32_t repeat_ = 1;
  std::array<std::string_view, kFieldCount> fields_{};
  static_assert(kFieldCount <= 64);
  uint64_t set_mask_ = 0;  // fields set since clear(): the only ones clear() resets
  std::array<std::string, kFieldCount> owned_{};
  std::vector<std::pair<std::string, std::string>> extra_;
};

// A copy of an event kept as evidence for a finding: the raw line and where it came from
// (cheap to take on the hot path). The parsed fields are kept only where a detector asks for
// them (withFields), e.g. for the event that triggered a finding.
struct EvidenceEvent {
  Timestamp timestamp;
  std::string source;
  uint64_t offset = 0;
  std::string raw;
  std::string fields_json;  // Event::toJson(), or empty

  static EvidenceEvent from(const Event& e);
  static EvidenceEvent withFields(const Event& e);
  // Overwrites this copy with `e`, reusing the strings' capacity.
  void assign(const Event& e);
};

}  // namespace riposte

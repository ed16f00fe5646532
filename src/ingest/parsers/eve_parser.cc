#include "riposte/ingest/eve_parser.h"

#include <simdjson.h>

#include <charconv>
#include <cstring>
#include <string>
#include <vector>

#include "ingest/parsers/parse_util.h"

namespace riposte {

using namespace ingest_detail;  // NOLINT(google-build-using-namespace)
namespace dom = simdjson::dom;

namespace {

// Lines longer than this are not EVE records worth parsing (Suricata's own limit is far lower).
constexpr size_t kMaxLine = 16u << 20;

enum class EveType : uint8_t {
  kNone,
  kAlert,
  kFlow,
  kHttp,
  kDns,
  kTls,
  kFile,
  kSsh,
  kStats,
  kOther
};

EveType eveType(std::string_view t) {
  if (t == "alert") return EveType::kAlert;
  if (t == "flow") return EveType::kFlow;
  if (t == "http") return EveType::kHttp;
  if (t == "dns") return EveType::kDns;
  if (t == "tls") return EveType::kTls;
  if (t == "fileinfo") return EveType::kFile;
  if (t == "ssh") return EveType::kSsh;
  if (t == "stats") return EveType::kStats;
  return EveType::kOther;
}

EventKind kindOf(EveType t) {
  switch (t) {
    case EveType::kAlert: return EventKind::kIdsAlert;
    case EveType::kFlow: return EventKind::kFlow;
    case EveType::kHttp: return EventKind::kHttp;
    case EveType::kDns: return EventKind::kDns;
    case EveType::kTls: return EventKind::kTls;
    case EveType::kFile: return EventKind::kFile;
    case EveType::kSsh: return EventKind::kSsh;
    default: return EventKind::kGeneric;
  }
}

}  // namespace

struct EveParser::Impl {
  // The DOM API dispatches to the best kernel for the CPU at run time (the header-only
  // On-Demand API would be fixed at compile time to the portable fallback without -mavx2).
  simdjson::dom::parser parser;
  std::vector<char> buf;  // padded copy of the line
  std::string scratch;    // percent-decoding
  Event* out = nullptr;

  static bool string(dom::element v, std::string_view& s) {
    return v.get_string().get(s) == simdjson::SUCCESS;
  }

  void stringField(dom::element v, Field f) {
    std::string_view s;
    if (string(v, s) && !s.empty()) out->setOwned(f, s);
  }

  // A number (or a numeric string) written as decimal text.
  void numberField(dom::element v, Field f) {
    char b[24];
    switch (v.type()) {
      case dom::element_type::STRING: {
        std::string_view s;
        if (string(v, s) && allDigits(s)) out->setOwned(f, s);
        return;
      }
      case dom::element_type::INT64: {
        int64_t n = 0;
        if (v.get_int64().get(n) != simdjson::SUCCESS) return;
        const auto r = std::to_chars(b, b + sizeof b, n);
        out->setOwned(f, std::string_view(b, static_cast<size_t>(r.ptr - b)));
        return;
      }
      case dom::element_type::UINT64: {
        uint64_t n = 0;
        if (v.get_uint64().get(n) != simdjson::SUCCESS) return;
        const auto r = std::to_chars(b, b + sizeof b, n);
        out->setOwned(f, std::string_view(b, static_cast<size_t>(r.ptr - b)));
        return;
      }
      default: return;
    }
  }

  void ipField(dom::element v, Field f) {
    std::string_view s;
    if (string(v, s)) setIpField(*out, f, s, /*owned=*/true);
  }

  void alert(dom::element v) {
    dom::object o;
    if (v.get_object().get(o) != simdjson::SUCCESS) return;
    for (auto [k, x] : o) {
      if (k == "signature") {
        stringField(x, Field::kRuleName);
      } else if (k == "signature_id") {
        numberField(x, Field::kRuleId);
      } else if (k == "category") {
        stringField(x, Field::kRuleCategory);
      } else if (k == "severity") {
        numberField(x, Field::kEventSeverity);
      } else if (k == "action") {
        stringField(x, Field::kEventAction);
      } else if (k == "rev") {
        uint64_t rev = 0;
        if (x.get_uint64().get(rev) == simdjson::SUCCESS) {
          char b[24];
          const auto r = std::to_chars(b, b + sizeof b, rev);
          out->setExtra("rule.version", std::string_view(b, static_cast<size_t>(r.ptr - b)));
        }
      }
    }
  }

  void http(dom::element v) {
    dom::object o;
    if (v.get_object().get(o) != simdjson::SUCCESS) return;
    for (auto [k, x] : o) {
      std::string_view s;
      if (k == "hostname") {
        stringField(x, Field::kUrlDomain);
      } else if (k == "url") {
        if (string(x, s)) setUrlFields(*out, s, /*owned=*/true, scratch);
      } else if (k == "http_user_agent") {
        stringField(x, Field::kUserAgent);
      } else if (k == "http_method") {
        stringField(x, Field::kHttpMethod);
      } else if (k == "protocol") {
        if (string(x, s)) {
          if (s.starts_with("HTTP/")) s.remove_prefix(5);
          if (!s.empty()) out->setOwned(Field::kHttpVersion, s);
        }
      } else if (k == "status") {
        numberField(x, Field::kHttpStatus);
      } else if (k == "length") {
        numberField(x, Field::kHttpBytes);
      } else if (k == "http_refer") {
        stringField(x, Field::kHttpReferrer);
      }
    }
  }

  void dns(dom::element v) {
    dom::object o;
    if (v.get_object().get(o) != simdjson::SUCCESS) return;
    for (auto [k, x] : o) {
      if (k == "rrname") {
        if (!out->has(Field::kDnsQuestion)) stringField(x, Field::kDnsQuestion);
      } else if (k == "queries") {
        // EVE dns v3: "queries":[{"rrname":…}]
        dom::array a;
        if (x.get_array().get(a) != simdjson::SUCCESS) continue;
        for (dom::element q : a) {
          dom::element name;
          if (!out->has(Field::kDnsQuestion) && q["rrname"].get(name) == simdjson::SUCCESS) {
            stringField(name, Field::kDnsQuestion);
          }
        }
      }
    }
  }

  void tls(dom::element v) {
    dom::element sni;
    if (v["sni"].get(sni) == simdjson::SUCCESS) stringField(sni, Field::kTlsSni);
  }

  void fileinfo(dom::element v) {
    dom::object o;
    if (v.get_object().get(o) != simdjson::SUCCESS) return;
    for (auto [k, x] : o) {
      std::string_view s;
      if (k == "md5") {
        stringField(x, Field::kFileHashMd5);
      } else if (k == "sha1") {
        stringField(x, Field::kFileHashSha1);
      } else if (k == "sha256") {
        stringField(x, Field::kFileHashSha256);
      } else if (k == "filename") {
        if (string(x, s)) out->setExtra("file.name", s);
      }
    }
  }

  void ssh(dom::element v) {
    dom::element sw;
    std::string_view s;
    if (v.at_pointer("/client/software_version").get(sw) == simdjson::SUCCESS && string(sw, s)) {
      out->setExtra("ssh.client.software", s);
    }
  }
};

EveParser::EveParser() : impl_(std::make_unique<Impl>()) {
  impl_->buf.resize(4096 + simdjson::SIMDJSON_PADDING);
  impl_->scratch.reserve(256);
  // Room for ordinary records up front, so the first lines do not allocate.
  [[maybe_unused]] const auto e = impl_->parser.allocate(64 * 1024);  // grows on demand anyway
}

EveParser::~EveParser() = default;

ParseResult EveParser::parse(std::string_view line, const ParseContext& ctx, Event& out) {
  (void)ctx;
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  if (line.size() < 2 || line.front() != '{' || line.back() != '}' || line.size() > kMaxLine) {
    return ParseResult::kUnrecognised;
  }
  Impl& m = *impl_;
  if (m.buf.size() < line.size() + simdjson::SIMDJSON_PADDING) {
    m.buf.resize(line.size() + simdjson::SIMDJSON_PADDING);
  }
  std::memcpy(m.buf.data(), line.data(), line.size());
  std::memset(m.buf.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);
  m.out = &out;

  dom::object obj;
  if (m.parser.parse(m.buf.data(), line.size(), false).get_object().get(obj) != simdjson::SUCCESS) {
    return ParseResult::kUnrecognised;
  }

  EveType type = EveType::kNone;
  bool have_time = false;
  for (auto [k, v] : obj) {
    std::string_view s;
    switch (k.empty() ? '\0' : k.front()) {
      case 't':
        if (k == "timestamp") {
          if (!Impl::string(v, s)) return ParseResult::kUnrecognised;
          const auto ts = parseRfc3339(s);
          if (!ts) return ParseResult::kUnrecognised;
          out.setTimestamp(*ts);
          have_time = true;
        } else if (k == "tls") {
          m.tls(v);
        }
        break;
      case 'e':
        if (k == "event_type") {
          if (!Impl::string(v, s)) return ParseResult::kUnrecognised;
          type = eveType(s);
        }
        break;
      case 's':
        if (k == "src_ip") {
          m.ipField(v, Field::kSourceIp);
        } else if (k == "src_port") {
          m.numberField(v, Field::kSourcePort);
        } else if (k == "ssh") {
          m.ssh(v);
        }
        break;
      case 'd':
        if (k == "dest_ip") {
          m.ipField(v, Field::kDestinationIp);
        } else if (k == "dest_port") {
          m.numberField(v, Field::kDestinationPort);
        } else if (k == "dns") {
          m.dns(v);
        }
        break;
      case 'p':
        if (k == "proto" && Impl::string(v, s)) setTransport(out, s);
        break;
      case 'f':
        if (k == "flow_id") {
          // A 64-bit integer (often above 2^53); anything else is not a Suricata record.
          uint64_t id = 0;
          if (v.get_uint64().get(id) != simdjson::SUCCESS) return ParseResult::kUnrecognised;
          char b[24];
          const auto r = std::to_chars(b, b + sizeof b, id);
          out.setExtra("suricata.eve.flow_id", std::string_view(b, static_cast<size_t>(r.ptr - b)));
        } else if (k == "fileinfo") {
          m.fileinfo(v);
        }
        break;
      case 'a':
        if (k == "alert") {
          m.alert(v);
        } else if (k == "app_proto" && Impl::string(v, s)) {
          out.setExtra("network.protocol", s);
        }
        break;
      case 'h':
        if (k == "http") m.http(v);
        break;
      default: break;
    }
  }
  if (!have_time || type == EveType::kNone) return ParseResult::kUnrecognised;
  if (type == EveType::kStats) return ParseResult::kSkip;
  out.setKind(kindOf(type));
  out.set(Field::kEventDataset, "suricata.eve");
  return ParseResult::kParsed;
}

}  // namespace riposte

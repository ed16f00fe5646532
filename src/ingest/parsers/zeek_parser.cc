#include "riposte/ingest/zeek_parser.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>

#include "ingest/parsers/parse_util.h"

namespace riposte {

using namespace ingest_detail;  // NOLINT(google-build-using-namespace)
namespace dom = simdjson::dom;

namespace {

enum class Col : uint8_t {
  kOther,
  kTs,
  kUid,
  kOrigH,
  kOrigP,
  kRespH,
  kRespP,
  kProto,
  kService,
  kConnState,
  kHistory,
  kAuthSuccess,
  kAuthAttempts,
  kClient,
  kMethod,
  kHost,
  kUri,
  kUserAgent,
  kStatusCode,
  kReferrer,
  kVersion,
  kRespBodyLen,
  kUsername,
  kQuery,
  kNote,
  kMsg,
  kSrc,
  kDst,
  kPath,
};

Col column(std::string_view k) {
  struct Entry {
    std::string_view name;
    Col col;
  };
  static constexpr Entry kCols[] = {
      {"ts", Col::kTs},
      {"uid", Col::kUid},
      {"id.orig_h", Col::kOrigH},
      {"id.orig_p", Col::kOrigP},
      {"id.resp_h", Col::kRespH},
      {"id.resp_p", Col::kRespP},
      {"proto", Col::kProto},
      {"service", Col::kService},
      {"conn_state", Col::kConnState},
      {"history", Col::kHistory},
      {"auth_success", Col::kAuthSuccess},
      {"auth_attempts", Col::kAuthAttempts},
      {"client", Col::kClient},
      {"method", Col::kMethod},
      {"host", Col::kHost},
      {"uri", Col::kUri},
      {"user_agent", Col::kUserAgent},
      {"status_code", Col::kStatusCode},
      {"referrer", Col::kReferrer},
      {"version", Col::kVersion},
      {"response_body_len", Col::kRespBodyLen},
      {"username", Col::kUsername},
      {"query", Col::kQuery},
      {"note", Col::kNote},
      {"msg", Col::kMsg},
      {"src", Col::kSrc},
      {"dst", Col::kDst},
      {"_path", Col::kPath},
  };
  for (const auto& e : kCols) {
    if (e.name == k) return e.col;
  }
  return Col::kOther;
}

enum class Log : uint8_t { kUnknown, kConn, kSsh, kHttp, kDns, kNotice, kOther };

Log logFromPath(std::string_view p) {
  if (p == "conn") return Log::kConn;
  if (p == "ssh") return Log::kSsh;
  if (p == "http") return Log::kHttp;
  if (p == "dns") return Log::kDns;
  if (p == "notice") return Log::kNotice;
  return p.empty() ? Log::kUnknown : Log::kOther;
}

EventKind kindOf(Log l) {
  switch (l) {
    case Log::kConn: return EventKind::kFlow;
    case Log::kSsh: return EventKind::kSsh;
    case Log::kHttp: return EventKind::kHttp;
    case Log::kDns: return EventKind::kDns;
    case Log::kNotice: return EventKind::kIdsAlert;
    default: return EventKind::kGeneric;
  }
}

std::string_view datasetOf(Log l) {
  switch (l) {
    case Log::kConn: return "zeek.conn";
    case Log::kSsh: return "zeek.ssh";
    case Log::kHttp: return "zeek.http";
    case Log::kDns: return "zeek.dns";
    case Log::kNotice: return "zeek.notice";
    default: return "zeek";
  }
}

// Epoch seconds with an optional fraction ("1521911721.255387"), or ISO 8601.
std::optional<Timestamp> parseZeekTime(std::string_view s) {
  if (s.empty()) return std::nullopt;
  const size_t dot = s.find('.');
  uint64_t secs = 0;
  if (parseUint(s.substr(0, dot), secs) && secs < (uint64_t{1} << 40)) {
    size_t p = dot == std::string_view::npos ? s.size() : dot;
    const int64_t us = parseFraction(s, p);
    if (p != s.size()) return std::nullopt;
    return Timestamp{static_cast<int64_t>(secs) * 1'000'000 + us, 0};
  }
  return parseRfc3339(s);
}

}  // namespace

struct ZeekParser::Impl {
  // TSV header state.
  char separator = '\t';
  std::string unset_field = "-";
  std::string empty_field = "(empty)";
  std::string path;
  std::string dataset;
  Log log = Log::kUnknown;
  std::vector<Col> cols;
  bool have_fields = false;

  // Per record.
  dom::parser json;
  std::vector<char> buf;
  std::string scratch;
  std::string unescaped;
  std::string version;   // http.version, applied once the log type is known
  std::string_view src;  // notice src/dst, used when the connection id is unset
  std::string_view dst;
  Log inferred = Log::kUnknown;
  bool bad_time = false;

  void reset() {
    version.clear();
    src = dst = {};
    inferred = Log::kUnknown;
    bad_time = false;
  }

  void infer(Log l) {
    if (inferred == Log::kUnknown) inferred = l;
  }

  void set(Event& out, Field f, std::string_view v, bool owned) {
    if (owned) {
      out.setOwned(f, v);
    } else {
      out.set(f, v);
    }
  }

  // Applies one value; `owned` when `v` does not outlive the event (JSON, unescaped TSV).
  void apply(Col c, std::string_view v, bool owned, Event& out) {
    switch (c) {
      case Col::kTs: {
        const auto ts = parseZeekTime(v);
        if (ts) {
          out.setTimestamp(*ts);
        } else {
          bad_time = true;
        }
        break;
      }
      case Col::kUid: out.setExtra("zeek.session_id", v); break;
      case Col::kOrigH: setIpField(out, Field::kSourceIp, v, owned); break;
      case Col::kOrigP:
        if (allDigits(v)) set(out, Field::kSourcePort, v, owned);
        break;
      case Col::kRespH: setIpField(out, Field::kDestinationIp, v, owned); break;
      case Col::kRespP:
        if (allDigits(v)) set(out, Field::kDestinationPort, v, owned);
        break;
      case Col::kProto: setTransport(out, v); break;
      case Col::kService: out.setExtra("network.protocol", v); break;
      case Col::kConnState:
        out.setExtra("zeek.conn.state", v);
        infer(Log::kConn);
        break;
      case Col::kHistory: infer(Log::kConn); break;
      case Col::kAuthSuccess:
        if (v == "T" || v == "true") out.set(Field::kEventOutcome, "success");
        if (v == "F" || v == "false") out.set(Field::kEventOutcome, "failure");
        infer(Log::kSsh);
        break;
      case Col::kAuthAttempts:
        out.setExtra("zeek.ssh.auth_attempts", v);
        infer(Log::kSsh);
        break;
      case Col::kClient: out.setExtra("ssh.client.software", v); break;
      case Col::kMethod:
        set(out, Field::kHttpMethod, v, owned);
        infer(Log::kHttp);
        break;
      case Col::kHost: set(out, Field::kUrlDomain, v, owned); break;
      case Col::kUri:
        setUrlFields(out, v, owned, scratch);
        infer(Log::kHttp);
        break;
      case Col::kUserAgent: set(out, Field::kUserAgent, v, owned); break;
      case Col::kStatusCode:
        if (allDigits(v)) set(out, Field::kHttpStatus, v, owned);
        infer(Log::kHttp);
        break;
      case Col::kReferrer: set(out, Field::kHttpReferrer, v, owned); break;
      case Col::kVersion: version.assign(v); break;
      case Col::kRespBodyLen:
        if (allDigits(v)) set(out, Field::kHttpBytes, v, owned);
        break;
      case Col::kUsername: set(out, Field::kUserName, v, owned); break;
      case Col::kQuery:
        set(out, Field::kDnsQuestion, v, owned);
        infer(Log::kDns);
        break;
      case Col::kNote:
        set(out, Field::kRuleName, v, owned);
        infer(Log::kNotice);
        break;
      case Col::kMsg: set(out, Field::kMessage, v, owned); break;
      case Col::kSrc: src = v; break;
      case Col::kDst: dst = v; break;
      case Col::kPath: inferred = logFromPath(v); break;
      case Col::kOther: break;
    }
  }

  // Fields that depend on the log type; returns the result.
  ParseResult finish(Log l, std::string_view dataset_text, bool owned_dataset, Event& out) {
    if (bad_time || !out.timestamp().isSet()) return ParseResult::kUnrecognised;
    if (l == Log::kHttp && !version.empty()) out.setOwned(Field::kHttpVersion, version);
    if (l == Log::kNotice) {
      // The notice's own src/dst are views of the record; both forms copy for simplicity.
      if (!out.has(Field::kSourceIp) && !src.empty()) setIpField(out, Field::kSourceIp, src, true);
      if (!out.has(Field::kDestinationIp) && !dst.empty()) {
        setIpField(out, Field::kDestinationIp, dst, true);
      }
    }
    out.setKind(kindOf(l));
    set(out, Field::kEventDataset, dataset_text, owned_dataset);
    return ParseResult::kParsed;
  }

  ParseResult header(std::string_view line) {
    if (line.starts_with("#separator ")) {
      std::string_view v = line.substr(11);
      if (v.size() == 4 && v[0] == '\\' && v[1] == 'x' && isHex(v[2]) && isHex(v[3])) {
        separator = static_cast<char>(hexValue(v[2]) * 16 + hexValue(v[3]));
      } else if (v.size() == 1) {
        separator = v[0];
      } else {
        return ParseResult::kUnrecognised;
      }
      have_fields = false;
      return ParseResult::kSkip;
    }
    const size_t sep = line.find(separator);
    const std::string_view key = line.substr(0, sep);
    const std::string_view rest =
        sep == std::string_view::npos ? std::string_view() : line.substr(sep + 1);
    if (key == "#fields") {
      cols.clear();
      size_t p = 0;
      while (p <= rest.size()) {
        size_t e = rest.find(separator, p);
        if (e == std::string_view::npos) e = rest.size();
        cols.push_back(column(rest.substr(p, e - p)));
        p = e + 1;
      }
      have_fields = !cols.empty();
    } else if (key == "#path") {
      path.assign(rest);
      log = logFromPath(path);
      dataset = "zeek." + path;
    } else if (key == "#unset_field") {
      unset_field.assign(rest);
    } else if (key == "#empty_field") {
      empty_field.assign(rest);
    }
    return ParseResult::kSkip;
  }

  ParseResult tsv(std::string_view line, Event& out) {
    if (!have_fields) return ParseResult::kUnrecognised;
    size_t p = 0;
    size_t i = 0;
    while (p <= line.size()) {
      size_t e = line.find(separator, p);
      if (e == std::string_view::npos) e = line.size();
      if (i >= cols.size()) return ParseResult::kUnrecognised;  // more values than fields
      const std::string_view v = line.substr(p, e - p);
      const Col c = cols[i++];
      p = e + 1;
      if (c == Col::kOther || v.empty() || v == unset_field || v == empty_field) continue;
      if (v.find("\\x") != std::string_view::npos) {
        unescapeHex(v, unescaped);
        apply(c, unescaped, true, out);
      } else {
        apply(c, v, false, out);
      }
    }
    if (i != cols.size()) return ParseResult::kUnrecognised;  // fewer values than fields
    const Log l = log != Log::kUnknown ? log : inferred;
    if (log == Log::kUnknown) return finish(l, datasetOf(l), false, out);
    return finish(l, dataset, true, out);
  }

  ParseResult jsonRecord(std::string_view line, Event& out) {
    if (buf.size() < line.size() + simdjson::SIMDJSON_PADDING) {
      buf.resize(line.size() + simdjson::SIMDJSON_PADDING);
    }
    std::memcpy(buf.data(), line.data(), line.size());
    std::memset(buf.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);
    dom::object obj;
    if (json.parse(buf.data(), line.size(), false).get_object().get(obj) != simdjson::SUCCESS) {
      return ParseResult::kUnrecognised;
    }
    char num[32];
    std::string_view path_value;
    for (auto [k, v] : obj) {
      Col c = column(k);
      if (c == Col::kOther && k == "id" && v.type() == dom::element_type::OBJECT) {
        // Some shippers nest the connection id: {"id":{"orig_h":…,"orig_p":…,…}}.
        dom::object id;
        if (v.get_object().get(id) != simdjson::SUCCESS) continue;
        for (auto [ik, iv] : id) {
          std::string_view t;
          if (iv.type() == dom::element_type::STRING) {
            if (iv.get_string().get(t) != simdjson::SUCCESS) continue;
          } else if (iv.type() == dom::element_type::INT64 ||
                     iv.type() == dom::element_type::UINT64) {
            uint64_t n = 0;
            if (iv.get_uint64().get(n) != simdjson::SUCCESS) continue;
            const auto r = std::to_chars(num, num + sizeof num, n);
            t = std::string_view(num, static_cast<size_t>(r.ptr - num));
          } else {
            continue;
          }
          if (ik == "orig_h") apply(Col::kOrigH, t, true, out);
          if (ik == "orig_p") apply(Col::kOrigP, t, true, out);
          if (ik == "resp_h") apply(Col::kRespH, t, true, out);
          if (ik == "resp_p") apply(Col::kRespP, t, true, out);
        }
        continue;
      }
      if (c == Col::kOther) continue;
      std::string_view text;
      switch (v.type()) {
        case dom::element_type::STRING:
          if (v.get_string().get(text) != simdjson::SUCCESS) continue;
          break;
        case dom::element_type::INT64: {
          const auto r =
              std::to_chars(num, num + sizeof num, int64_t(v.get_int64().value_unsafe()));
          text = std::string_view(num, static_cast<size_t>(r.ptr - num));
          break;
        }
        case dom::element_type::UINT64: {
          const auto r =
              std::to_chars(num, num + sizeof num, uint64_t(v.get_uint64().value_unsafe()));
          text = std::string_view(num, static_cast<size_t>(r.ptr - num));
          break;
        }
        case dom::element_type::DOUBLE: {
          const double d = v.get_double().value_unsafe();
          if (c == Col::kTs) {
            if (!std::isfinite(d) || d < 0 || d > 1e12) {
              bad_time = true;
              continue;
            }
            out.setTimestamp(Timestamp{std::llround(d * 1e6), 0});
            continue;
          }
          const auto r = std::to_chars(num, num + sizeof num, d);
          text = std::string_view(num, static_cast<size_t>(r.ptr - num));
          break;
        }
        case dom::element_type::BOOL: text = v.get_bool().value_unsafe() ? "true" : "false"; break;
        default: continue;  // arrays, objects, null
      }
      if (c == Col::kPath) path_value = text;
      apply(c, text, /*owned=*/true, out);
    }
    // Notice src/dst and http version views point into the DOM, alive until the next record.
    const Log l = inferred;
    if (l == Log::kOther && !path_value.empty()) {
      scratch.assign("zeek.");
      scratch.append(path_value);
      return finish(l, scratch, true, out);
    }
    return finish(l, datasetOf(l), false, out);
  }
};

ZeekParser::ZeekParser() : impl_(std::make_unique<Impl>()) {
  impl_->buf.resize(4096 + simdjson::SIMDJSON_PADDING);
}

ZeekParser::~ZeekParser() = default;

ParseResult ZeekParser::parse(std::string_view line, const ParseContext& ctx, Event& out) {
  (void)ctx;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return ParseResult::kUnrecognised;
  Impl& m = *impl_;
  m.reset();
  if (line.front() == '#') return m.header(line);
  if (line.front() == '{') return m.jsonRecord(line, out);
  return m.tsv(line, out);
}

}  // namespace riposte

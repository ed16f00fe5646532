#include "riposte/ingest/json_parser.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <vector>

#include "ingest/parsers/parse_util.h"

namespace riposte {

using namespace ingest_detail;  // NOLINT(google-build-using-namespace)
namespace dom = simdjson::dom;

namespace {

constexpr size_t kMaxDepth = 32;
constexpr size_t kMaxLine = 16u << 20;

bool isIpField(Field f) { return f == Field::kSourceIp || f == Field::kDestinationIp; }

EventKind kindFromCategory(std::string_view c) {
  // event.category may be a joined array: look at each value.
  size_t p = 0;
  while (p <= c.size()) {
    size_t e = c.find(',', p);
    if (e == std::string_view::npos) e = c.size();
    const std::string_view v = c.substr(p, e - p);
    if (v == "authentication") return EventKind::kAuth;
    if (v == "intrusion_detection") return EventKind::kIdsAlert;
    if (v == "web") return EventKind::kHttp;
    if (v == "file") return EventKind::kFile;
    if (v == "network") return EventKind::kFlow;
    p = e + 1;
  }
  return EventKind::kUnknown;
}

}  // namespace

struct JsonParser::Impl {
  std::map<std::string, std::string, std::less<>> mapping;
  dom::parser json;
  std::vector<char> buf;
  std::string path;  // dotted path being visited
  std::string text;  // joined arrays
  std::string kind_name;
  Event* out = nullptr;
  bool bad = false;
  bool have_kind = false;
  bool ecs_alert = false;
  EventKind kind = EventKind::kUnknown;

  void setValue(std::string_view key, std::string_view v) {
    if (!mapping.empty()) {
      auto it = mapping.find(key);
      if (it != mapping.end()) key = it->second;
    }
    if (key == "@timestamp") {
      auto ts = parseRfc3339(v);
      if (!ts) {
        double d = 0;
        const auto r = std::from_chars(v.data(), v.data() + v.size(), d);
        if (r.ec == std::errc() && r.ptr == v.data() + v.size() && std::isfinite(d) && d >= 0 &&
            d < 1e12) {
          ts = Timestamp{std::llround(d * 1e6), 0};
        }
      }
      if (ts) {
        out->setTimestamp(*ts);
      } else {
        bad = true;
      }
      return;
    }
    if (key == "event.kind") {
      if (auto k = eventKindFromName(v)) {
        kind = *k;
        have_kind = true;
        return;
      }
      ecs_alert = v == "alert";  // ECS event.kind: a hint for the kind, not kept
      return;
    }
    if (key == "event.count") {
      uint64_t n = 0;
      if (parseUint(v, n) && n >= 1 && n <= 0xffffffffu) out->setRepeat(static_cast<uint32_t>(n));
      return;
    }
    if (auto f = fieldFromName(key)) {
      if (isIpField(*f)) {
        if (!setIpField(*out, *f, v, /*owned=*/true)) out->setOwned(*f, v);
      } else {
        out->setOwned(*f, v);
      }
      return;
    }
    out->setExtra(key, v);
  }

  // Scalar as text into `num` (numbers) or a view of the DOM string.
  static bool scalar(dom::element v, char (&num)[40], std::string_view& s) {
    switch (v.type()) {
      case dom::element_type::STRING: return v.get_string().get(s) == simdjson::SUCCESS;
      case dom::element_type::INT64: {
        const auto r = std::to_chars(num, num + sizeof num, v.get_int64().value_unsafe());
        s = std::string_view(num, static_cast<size_t>(r.ptr - num));
        return true;
      }
      case dom::element_type::UINT64: {
        const auto r = std::to_chars(num, num + sizeof num, v.get_uint64().value_unsafe());
        s = std::string_view(num, static_cast<size_t>(r.ptr - num));
        return true;
      }
      case dom::element_type::DOUBLE: {
        const auto r = std::to_chars(num, num + sizeof num, v.get_double().value_unsafe());
        s = std::string_view(num, static_cast<size_t>(r.ptr - num));
        return true;
      }
      case dom::element_type::BOOL: s = v.get_bool().value_unsafe() ? "true" : "false"; return true;
      default: return false;
    }
  }

  void visit(dom::element v, size_t depth) {
    char num[40];
    std::string_view s;
    switch (v.type()) {
      case dom::element_type::OBJECT: {
        if (depth >= kMaxDepth) {
          setValue(path, simdjson::minify(v));
          return;
        }
        const size_t base = path.size();
        dom::object o;
        if (v.get_object().get(o) != simdjson::SUCCESS) return;
        for (auto [k, x] : o) {
          path.resize(base);
          if (base != 0) path.push_back('.');
          path.append(k);
          visit(x, depth + 1);
          if (bad) return;
        }
        path.resize(base);
        return;
      }
      case dom::element_type::ARRAY: {
        text.clear();
        bool scalars = true;
        dom::array a;
        if (v.get_array().get(a) != simdjson::SUCCESS) return;
        for (dom::element x : a) {
          if (x.type() == dom::element_type::NULL_VALUE) continue;
          if (!scalar(x, num, s)) {
            scalars = false;
            break;
          }
          if (!text.empty()) text.push_back(',');
          text.append(s);
        }
        if (scalars) {
          if (!text.empty()) setValue(path, text);
        } else {
          setValue(path, simdjson::minify(v));
        }
        return;
      }
      case dom::element_type::NULL_VALUE: return;
      default:
        if (scalar(v, num, s)) setValue(path, s);
        return;
    }
  }

  EventKind inferKind() const {
    if (out->has(Field::kEventCategory)) {
      const EventKind k = kindFromCategory(out->get(Field::kEventCategory));
      if (k != EventKind::kUnknown) return k;
    }
    if (ecs_alert || out->has(Field::kRuleName) || out->has(Field::kRuleId)) {
      return EventKind::kIdsAlert;
    }
    if (out->has(Field::kHttpMethod) || out->has(Field::kHttpStatus) ||
        out->has(Field::kUrlOriginal)) {
      return EventKind::kHttp;
    }
    if (out->has(Field::kDnsQuestion)) return EventKind::kDns;
    if (out->has(Field::kTlsSni)) return EventKind::kTls;
    if (out->has(Field::kFileHashMd5) || out->has(Field::kFileHashSha1) ||
        out->has(Field::kFileHashSha256)) {
      return EventKind::kFile;
    }
    return EventKind::kGeneric;
  }
};

JsonParser::JsonParser(std::map<std::string, std::string, std::less<>> mapping)
    : impl_(std::make_unique<Impl>()) {
  impl_->mapping = std::move(mapping);
  impl_->buf.resize(4096 + simdjson::SIMDJSON_PADDING);
  impl_->path.reserve(128);
  impl_->text.reserve(128);
}

JsonParser::~JsonParser() = default;

ParseResult JsonParser::parse(std::string_view line, const ParseContext& ctx, Event& out) {
  (void)ctx;
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.remove_suffix(1);
  }
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  if (line.size() < 2 || line.front() != '{' || line.size() > kMaxLine) {
    return ParseResult::kUnrecognised;
  }
  Impl& m = *impl_;
  if (m.buf.size() < line.size() + simdjson::SIMDJSON_PADDING) {
    m.buf.resize(line.size() + simdjson::SIMDJSON_PADDING);
  }
  std::memcpy(m.buf.data(), line.data(), line.size());
  std::memset(m.buf.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);
  dom::element root;
  if (m.json.parse(m.buf.data(), line.size(), false).get(root) != simdjson::SUCCESS ||
      root.type() != dom::element_type::OBJECT) {
    return ParseResult::kUnrecognised;
  }
  m.out = &out;
  m.bad = false;
  m.have_kind = false;
  m.ecs_alert = false;
  m.path.clear();
  m.visit(root, 0);
  if (m.bad) return ParseResult::kUnrecognised;
  out.setKind(m.have_kind ? m.kind : m.inferKind());
  return ParseResult::kParsed;
}

}  // namespace riposte

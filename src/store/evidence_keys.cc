#include "store/evidence_keys.h"

#include <nlohmann/json.hpp>

namespace riposte {

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Reads the two keys from a flat JSON object (string, number, true/false/null values: what
// Event::toJson writes) without building a document. Returns false, having set nothing, when
// the text is not of that simple shape (a nested value, an escape in a key or in a value that is
// kept, malformed text): the caller then parses it fully.
bool scanFlat(std::string_view j, std::string_view& ip, std::string_view& kind, bool& has_ip,
              bool& has_kind) {
  size_t i = 0;
  const size_t n = j.size();
  auto ws = [&] {
    while (i < n && isSpace(j[i])) ++i;
  };
  // A string starting at j[i] == '"'; sets `out` to its contents when it has no escape.
  auto str = [&](std::string_view& out, bool& escaped) {
    ++i;
    const size_t start = i;
    escaped = false;
    while (i < n && j[i] != '"') {
      if (j[i] == '\\') {
        escaped = true;
        ++i;  // the escaped character
      }
      ++i;
    }
    if (i >= n) return false;
    out = j.substr(start, i - start);
    ++i;
    return true;
  };
  ws();
  if (i >= n || j[i] != '{') return false;
  ++i;
  ws();
  if (i < n && j[i] == '}') {
    ++i;
  } else {
    for (;;) {
      ws();
      if (i >= n || j[i] != '"') return false;
      std::string_view key;
      bool escaped = false;
      if (!str(key, escaped) || escaped) return false;
      ws();
      if (i >= n || j[i] != ':') return false;
      ++i;
      ws();
      if (i >= n) return false;
      const bool wanted_ip = key == "source.ip", wanted_kind = key == "event.kind";
      if (j[i] == '"') {
        std::string_view v;
        if (!str(v, escaped)) return false;
        if (escaped && (wanted_ip || wanted_kind)) return false;
        if (wanted_ip) has_ip = true, ip = v;
        if (wanted_kind) has_kind = true, kind = v;
      } else if (j[i] == '{' || j[i] == '[') {
        return false;
      } else {  // number, true, false, null: not a string, so not kept
        while (i < n && j[i] != ',' && j[i] != '}' && !isSpace(j[i])) ++i;
        if (wanted_ip) has_ip = false;
        if (wanted_kind) has_kind = false;
      }
      ws();
      if (i >= n) return false;
      if (j[i] == ',') {
        ++i;
        continue;
      }
      if (j[i] != '}') return false;
      ++i;
      break;
    }
  }
  ws();
  return i == n;
}

}  // namespace

EvidenceKeys evidenceKeys(const Finding& f) {
  EvidenceKeys k;
  if (f.entity.type == TargetType::kIp) k.source_ip = f.entity.value;
  for (const auto& e : f.evidence) {
    if (e.fields_json.empty()) continue;
    std::string_view ip, kind;
    bool has_ip = false, has_kind = false;
    if (scanFlat(e.fields_json, ip, kind, has_ip, has_kind)) {
      if (k.source_ip.empty() && has_ip) k.source_ip.assign(ip);
      if (has_kind) k.kind.assign(kind);
      continue;
    }
    const auto j = nlohmann::json::parse(e.fields_json, nullptr, false);
    if (!j.is_object()) continue;
    if (k.source_ip.empty() && j.contains("source.ip") && j["source.ip"].is_string()) {
      k.source_ip = j["source.ip"].get<std::string>();
    }
    if (j.contains("event.kind") && j["event.kind"].is_string()) {
      k.kind = j["event.kind"].get<std::string>();
    }
  }
  return k;
}

}  // namespace riposte

#include "riposte/ingest/format_detect.h"

#include <algorithm>

#include "riposte/ingest/parser.h"

namespace riposte {

namespace {

// Lower is preferred on equal scores.
int preference(std::string_view name) {
  static constexpr std::string_view kOrder[] = {"eve",   "zeek",   "sshd", "iptables",
                                                "nginx", "apache", "json"};
  for (size_t i = 0; i < std::size(kOrder); ++i) {
    if (kOrder[i] == name) return static_cast<int>(i);
  }
  return static_cast<int>(std::size(kOrder)) - 1;  // unknown names rank just before json
}

}  // namespace

std::optional<DetectedFormat> detectFormat(const Registries& registries,
                                           const std::vector<std::string_view>& sample) {
  bool apache_errors = false;
  for (std::string_view l : sample) {
    if (l.size() > 25 && l[0] == '[' && l[4] == ' ' && l[8] == ' ') apache_errors = true;
  }
  ParseContext ctx;
  ctx.reference = Timestamp::now();
  Event ev;
  std::vector<DetectedFormat> results;
  for (const std::string& name : registries.parsers.names()) {
    ComponentConfig cfg;
    cfg.name = name;
    cfg.type = name;
    cfg.path = "detect";
    auto made = registries.parsers.create(cfg, FactoryContext{});
    if (!made.isOk()) continue;
    Parser& p = **made;
    DetectedFormat d{name, 0, 0, 0};
    for (std::string_view l : sample) {
      if (l.empty()) continue;
      ++d.sampled;
      ev.clear();
      ev.setRaw(l);
      switch (p.parse(l, ctx, ev)) {
        case ParseResult::kParsed: ++d.parsed; break;
        case ParseResult::kSkip: ++d.skipped; break;
        case ParseResult::kUnrecognised: break;
      }
    }
    if (d.parsed > 0) results.push_back(d);
  }
  // Better: more lines accepted (parsed or skipped), then more parsed, then more specific.
  auto better = [&](const DetectedFormat& a, const DetectedFormat& b) {
    const size_t aa = a.parsed + a.skipped;
    const size_t ba = b.parsed + b.skipped;
    if (aa != ba) return aa > ba;
    if (a.parsed != b.parsed) return a.parsed > b.parsed;
    if ((a.parser == "apache" && b.parser == "nginx") ||
        (a.parser == "nginx" && b.parser == "apache")) {
      return apache_errors == (a.parser == "apache");
    }
    return preference(a.parser) < preference(b.parser);
  };
  // Generic JSON accepts any JSON object: it is the answer only when no specific format reads
  // at least as many lines.
  const DetectedFormat* best = nullptr;
  const DetectedFormat* json = nullptr;
  for (const auto& d : results) {
    if (d.parser == "json") {
      json = &d;
    } else if (best == nullptr || better(d, *best)) {
      best = &d;
    }
  }
  if (json != nullptr && (best == nullptr || json->parsed > best->parsed + best->skipped))
    best = json;
  if (best == nullptr) return std::nullopt;
  return *best;
}

}  // namespace riposte

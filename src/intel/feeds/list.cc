// Plain one-value-per-line lists: Spamhaus DROP, FireHOL .netset/.ipset, Emerging Threats,
// Tor exit lists, hosts files, MISP freetext feeds.
#include "intel/feeds/common.h"
#include "riposte/intel/feed.h"

namespace riposte::intel {
namespace {

// Position of an inline comment: '#' or ';' at the start or after white space.
size_t commentStart(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if ((c == '#' || c == ';') && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) return i;
  }
  return std::string_view::npos;
}

bool isSpace(char c) { return c == ' ' || c == '\t'; }

}  // namespace

ParseResult parsePlainList(std::string_view data, const FeedOptions& o) {
  ParseResult r;
  size_t line_no = 0;
  size_t pos = 0;
  std::vector<std::string_view> tokens;
  while (pos < data.size()) {
    size_t end = data.find('\n', pos);
    if (end == std::string_view::npos) end = data.size();
    std::string_view line = data.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    line = feeds::trimView(line);
    if (line.empty() || line.starts_with("//")) continue;
    std::string_view comment;
    if (const size_t c = commentStart(line); c != std::string_view::npos) {
      comment = feeds::trimView(line.substr(c + 1));
      line = feeds::trimView(line.substr(0, c));
      if (line.empty()) continue;
    }
    ++r.report.items;
    tokens.clear();
    for (size_t i = 0; i < line.size();) {
      while (i < line.size() && isSpace(line[i])) ++i;
      const size_t start = i;
      while (i < line.size() && !isSpace(line[i])) ++i;
      if (i > start) tokens.push_back(line.substr(start, i - start));
    }
    // Hosts-file lines: "0.0.0.0 evil.com" lists the name, not the sink address.
    if (tokens.size() >= 2 && !o.every_token &&
        (tokens[0] == "0.0.0.0" || tokens[0] == "127.0.0.1" || tokens[0] == "::")) {
      tokens.erase(tokens.begin());
    }
    if (!o.every_token) tokens.resize(1);
    for (std::string_view tok : tokens) {
      auto v = o.type ? normalise(*o.type, tok) : classify(tok);
      if (!v) {
        r.report.error("line " + std::to_string(line_no), "invalid value", v.status().message(),
                       o.max_error_samples);
        continue;
      }
      Indicator ind = feeds::makeIndicator(std::move(*v), o);
      if (!comment.empty() && comment.size() <= 64) ind.reference = std::string(comment);
      r.indicators.push_back(std::move(ind));
      ++r.report.indicators;
    }
  }
  return r;
}

}  // namespace riposte::intel

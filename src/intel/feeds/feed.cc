#include "riposte/intel/feed.h"

namespace riposte::intel {

std::string_view feedFormatName(FeedFormat f) {
  switch (f) {
    case FeedFormat::kList: return "list";
    case FeedFormat::kCsv: return "csv";
    case FeedFormat::kOtx: return "otx";
    case FeedFormat::kMisp: return "misp";
    case FeedFormat::kStix: return "stix";
  }
  return "unknown";
}

std::optional<FeedFormat> feedFormatFromName(std::string_view name) {
  for (FeedFormat f : {FeedFormat::kList, FeedFormat::kCsv, FeedFormat::kOtx, FeedFormat::kMisp,
                       FeedFormat::kStix}) {
    if (feedFormatName(f) == name) return f;
  }
  if (name == "taxii" || name == "stix2") return FeedFormat::kStix;
  if (name == "text" || name == "txt" || name == "netset" || name == "ipset")
    return FeedFormat::kList;
  return std::nullopt;
}

void ParseReport::error(std::string where, const std::string& kind, const std::string& detail,
                        size_t max_samples) {
  ++errors;
  ++reasons[kind];
  if (samples.size() < max_samples) {
    samples.push_back(ParseError{std::move(where), detail.empty() ? kind : kind + ": " + detail});
  }
}

void ParseReport::skip(const std::string& reason) {
  ++skipped;
  ++reasons[reason];
}

ParseResult parseFeed(FeedFormat format, std::string_view data, const FeedOptions& options) {
  switch (format) {
    case FeedFormat::kList: return parsePlainList(data, options);
    case FeedFormat::kCsv: return parseCsv(data, options);
    case FeedFormat::kOtx: return parseOtx(data, options);
    case FeedFormat::kMisp: return parseMisp(data, options);
    case FeedFormat::kStix: return parseStix(data, options);
  }
  ParseResult r;
  r.report.status = Status::invalidArgument("unknown feed format");
  return r;
}

}  // namespace riposte::intel

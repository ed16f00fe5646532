// AlienVault OTX: /api/v1/pulses/subscribed pages (pulses with embedded indicators), a single
// pulse, /pulses/{id}/indicators and /indicators/export pages (flat rows).
#include "intel/feeds/common.h"
#include "intel/feeds/json_util.h"
#include "riposte/intel/feed.h"

namespace riposte::intel {
namespace {

using feeds::element;

struct PulseContext {
  std::string id;
  std::vector<std::string> tags;
  Tlp tlp = Tlp::kUnknown;
  Timestamp modified;
};

// OTX type name → our type; nullopt when OTX's type carries no indicator we match.
std::optional<IndicatorType> otxType(std::string_view t) {
  if (t == "IPv4" || t == "IPv6" || t == "CIDR") return IndicatorType::kIpv4;  // family by value
  if (t == "domain" || t == "hostname") return IndicatorType::kDomain;
  if (t == "URL" || t == "URI") return IndicatorType::kUrl;
  if (t == "email") return IndicatorType::kEmail;
  if (t == "FileHash-MD5") return IndicatorType::kMd5;
  if (t == "FileHash-SHA1") return IndicatorType::kSha1;
  if (t == "FileHash-SHA256") return IndicatorType::kSha256;
  return std::nullopt;
}

class OtxParser {
 public:
  OtxParser(const FeedOptions& o, ParseResult& r) : o_(o), r_(r) {}

  void document(element doc) {
    if (doc.is_array()) {
      items(doc, "[");
      return;
    }
    if (!doc.is_object()) {
      r_.report.status = Status::parseError("OTX document is neither an object nor an array");
      return;
    }
    if (auto next = feeds::str(doc, "next")) r_.next_page = std::string(*next);
    if (auto results = feeds::field(doc, "results"); results && results->is_array()) {
      items(*results, "results[");
    } else if (feeds::field(doc, "indicators")) {
      pulse(doc, "pulse");
    } else if (feeds::field(doc, "indicator")) {
      row(doc, "indicator", nullptr);
    } else {
      r_.report.status =
          Status::parseError("OTX document has no 'results', 'indicators' or 'indicator' field");
    }
  }

  void item(element el, const std::string& where) {
    if (feeds::field(el, "indicators")) {
      pulse(el, where);
    } else {
      row(el, where, nullptr);
    }
  }

 private:
  void items(element arr, const std::string& prefix) {
    simdjson::dom::array a;
    if (arr.get(a) != simdjson::SUCCESS) return;
    size_t i = 0;
    for (element el : a) item(el, prefix + std::to_string(i++) + "]");
  }

  void pulse(element p, const std::string& where) {
    PulseContext ctx;
    if (auto id = feeds::str(p, "id")) ctx.id = std::string(*id);
    ctx.tags = feeds::strings(p, "tags");
    if (auto tlp = feeds::str(p, "tlp")) ctx.tlp = tlpFromName(*tlp);
    if (auto m = feeds::str(p, "modified")) {
      if (auto ts = parseFeedTime(*m)) {
        ctx.modified = *ts;
        if (r_.newest < *ts) r_.newest = *ts;
      }
    }
    auto inds = feeds::field(p, "indicators");
    simdjson::dom::array a;
    if (!inds || inds->get(a) != simdjson::SUCCESS) {
      ++r_.report.items;
      r_.report.error(where + " (pulse " + ctx.id + ")", "bad pulse",
                      "'indicators' is not an array", o_.max_error_samples);
      return;
    }
    size_t j = 0;
    for (element el : a) row(el, where + ".indicators[" + std::to_string(j++) + "]", &ctx);
  }

  void row(element el, const std::string& where, const PulseContext* ctx) {
    ++r_.report.items;
    const auto type = feeds::str(el, "type");
    const auto value = feeds::str(el, "indicator");
    const auto id = feeds::integer(el, "id");
    const std::string loc = id ? where + " (id " + std::to_string(*id) + ")" : where;
    if (!el.is_object() || !type || !value) {
      r_.report.error(loc, "missing field", "an indicator needs 'indicator' and 'type'",
                      o_.max_error_samples);
      return;
    }
    const auto t = otxType(*type);
    if (!t) {
      r_.report.skip("unsupported OTX type " + std::string(*type));
      return;
    }
    auto v = normalise(*t, *value);
    if (!v) {
      if (*type == "URI") {  // OTX URIs are often paths without a host
        r_.report.skip("OTX URI without a host");
        return;
      }
      r_.report.error(loc, "invalid value", v.status().message(), o_.max_error_samples);
      return;
    }
    Indicator ind = feeds::makeIndicator(std::move(*v), o_);
    if (auto c = feeds::str(el, "created")) {
      if (auto ts = parseFeedTime(*c)) ind.first_seen = *ts;
    }
    ind.last_seen = ctx && ctx->modified.isSet() ? ctx->modified : ind.first_seen;
    if (auto e = feeds::str(el, "expiration")) {
      if (auto ts = parseFeedTime(*e)) ind.valid_until = *ts;
    }
    if (auto active = feeds::boolean(el, "is_active"); active && !*active) ind.revoked = true;
    if (ctx) {
      ind.reference = ctx->id;
      for (const auto& tag : ctx->tags) feeds::addTag(ind, tag);
      if (ctx->tlp != Tlp::kUnknown) ind.tlp = ctx->tlp;
    } else if (id) {
      ind.reference = "otx:" + std::to_string(*id);
    }
    r_.indicators.push_back(std::move(ind));
    ++r_.report.indicators;
  }

  const FeedOptions& o_;
  ParseResult& r_;
};

}  // namespace

ParseResult parseOtx(std::string_view data, const FeedOptions& o) {
  ParseResult r;
  OtxParser p(o, r);
  feeds::parseJsonDocument(
      data, "OTX", {"results", "indicators"}, r.report, o.max_error_samples,
      [&](element doc) { p.document(doc); },
      [&](element item, const std::string& where) { p.item(item, where); });
  return r;
}

}  // namespace riposte::intel

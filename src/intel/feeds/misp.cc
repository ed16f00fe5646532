// MISP: attributes/restSearch and events/restSearch responses, event files of a MISP feed
// ({"Event":{…}}), bare events; attributes inside objects included.
#include "intel/feeds/common.h"
#include "intel/feeds/json_util.h"
#include "riposte/intel/feed.h"

namespace riposte::intel {
namespace {

using feeds::element;

struct EventContext {
  std::string uuid;
  std::vector<std::string> tags;
};

std::vector<std::string> tagNames(element obj) {
  std::vector<std::string> out;
  auto tags = feeds::field(obj, "Tag");
  simdjson::dom::array a;
  if (!tags || tags->get(a) != simdjson::SUCCESS) return out;
  for (element t : a) {
    if (auto n = feeds::str(t, "name")) out.emplace_back(*n);
  }
  return out;
}

// The parts of an attribute value to read as indicators, with their types.
std::vector<std::pair<IndicatorType, std::string_view>> mispValues(std::string_view type,
                                                                   std::string_view value) {
  auto part = [&](size_t i) -> std::string_view {
    size_t start = 0;
    for (size_t k = 0; k < i; ++k) {
      const size_t bar = value.find('|', start);
      if (bar == std::string_view::npos) return {};
      start = bar + 1;
    }
    return value.substr(start, value.find('|', start) - start);
  };
  if (type == "ip-src" || type == "ip-dst") return {{IndicatorType::kIpv4, value}};
  if (type == "ip-src|port" || type == "ip-dst|port") return {{IndicatorType::kIpv4, part(0)}};
  if (type == "domain" || type == "hostname") return {{IndicatorType::kDomain, value}};
  if (type == "hostname|port") return {{IndicatorType::kDomain, part(0)}};
  if (type == "domain|ip")
    return {{IndicatorType::kDomain, part(0)}, {IndicatorType::kIpv4, part(1)}};
  if (type == "url") return {{IndicatorType::kUrl, value}};
  if (type == "md5") return {{IndicatorType::kMd5, value}};
  if (type == "sha1") return {{IndicatorType::kSha1, value}};
  if (type == "sha256") return {{IndicatorType::kSha256, value}};
  if (type == "filename|md5") return {{IndicatorType::kMd5, part(1)}};
  if (type == "filename|sha1") return {{IndicatorType::kSha1, part(1)}};
  if (type == "filename|sha256") return {{IndicatorType::kSha256, part(1)}};
  if (type == "email" || type == "email-src" || type == "email-dst")
    return {{IndicatorType::kEmail, value}};
  return {};
}

class MispParser {
 public:
  MispParser(const FeedOptions& o, ParseResult& r) : o_(o), r_(r) {}

  void document(element doc) {
    if (doc.is_array()) {
      events(doc, "[");
      return;
    }
    if (auto resp = feeds::field(doc, "response")) {
      if (resp->is_array()) {
        events(*resp, "response[");  // events/restSearch, or an empty page
      } else if (auto attrs = feeds::field(*resp, "Attribute")) {
        attributes(*attrs, "response.Attribute[", nullptr);
      } else {
        r_.report.status =
            Status::parseError("MISP 'response' holds neither events nor 'Attribute'");
      }
      return;
    }
    if (auto ev = feeds::field(doc, "Event")) {
      event(*ev, "Event");
    } else if (feeds::field(doc, "Attribute") || feeds::field(doc, "Object")) {
      event(doc, "event");
    } else {
      r_.report.status =
          Status::parseError("MISP document has no 'response', 'Event' or 'Attribute' field");
    }
  }

  // A recovered element: an event wrapper, an event or an attribute.
  void item(element el, const std::string& where) {
    if (auto ev = feeds::field(el, "Event"); ev && feeds::field(*ev, "Attribute")) {
      event(*ev, where + ".Event");
    } else if (feeds::field(el, "value")) {
      attribute(el, where, nullptr);
    } else {
      event(el, where);
    }
  }

 private:
  void events(element arr, const std::string& prefix) {
    simdjson::dom::array a;
    if (arr.get(a) != simdjson::SUCCESS) return;
    size_t i = 0;
    for (element el : a) {
      const std::string where = prefix + std::to_string(i++) + "]";
      if (auto ev = feeds::field(el, "Event")) {
        event(*ev, where + ".Event");
      } else {
        event(el, where);
      }
    }
  }

  void event(element ev, const std::string& where) {
    EventContext ctx;
    if (auto u = feeds::str(ev, "uuid")) ctx.uuid = std::string(*u);
    ctx.tags = tagNames(ev);
    if (auto attrs = feeds::field(ev, "Attribute")) attributes(*attrs, where + ".Attribute[", &ctx);
    if (auto objs = feeds::field(ev, "Object")) {
      simdjson::dom::array a;
      if (objs->get(a) == simdjson::SUCCESS) {
        size_t k = 0;
        for (element obj : a) {
          if (auto attrs = feeds::field(obj, "Attribute")) {
            attributes(*attrs, where + ".Object[" + std::to_string(k) + "].Attribute[", &ctx);
          }
          ++k;
        }
      }
    }
  }

  void attributes(element arr, const std::string& prefix, const EventContext* ctx) {
    simdjson::dom::array a;
    if (arr.get(a) != simdjson::SUCCESS) {
      ++r_.report.items;
      r_.report.error(prefix.substr(0, prefix.size() - 1), "bad event",
                      "'Attribute' is not an array", o_.max_error_samples);
      return;
    }
    size_t i = 0;
    for (element el : a) attribute(el, prefix + std::to_string(i++) + "]", ctx);
  }

  void attribute(element a, const std::string& where, const EventContext* ctx) {
    ++r_.report.items;
    const auto type = feeds::str(a, "type");
    const auto value = feeds::str(a, "value");
    const auto uuid = feeds::str(a, "uuid");
    const std::string loc = uuid ? where + " (uuid " + std::string(*uuid) + ")" : where;
    if (!a.is_object() || !type || !value) {
      r_.report.error(loc, "missing field", "an attribute needs 'type' and 'value'",
                      o_.max_error_samples);
      return;
    }
    const auto parts = mispValues(*type, *value);
    if (parts.empty()) {
      r_.report.skip("unsupported MISP type " + std::string(*type));
      return;
    }
    if (o_.require_to_ids && !feeds::boolean(a, "to_ids").value_or(false)) {
      r_.report.skip("not flagged to_ids");
      return;
    }
    std::vector<std::string> tags = tagNames(a);
    if (ctx) tags.insert(tags.end(), ctx->tags.begin(), ctx->tags.end());
    std::string reference = ctx ? ctx->uuid : std::string{};
    if (auto ev = feeds::field(a, "Event")) {
      if (auto u = feeds::str(*ev, "uuid")) reference = std::string(*u);
    }
    if (reference.empty()) {
      if (auto eid = feeds::str(a, "event_id")) reference = "event:" + std::string(*eid);
    }
    for (const auto& [t, raw] : parts) {
      auto v = normalise(t, raw);
      if (!v) {
        r_.report.error(loc, "invalid value", v.status().message(), o_.max_error_samples);
        continue;
      }
      Indicator ind = feeds::makeIndicator(std::move(*v), o_);
      for (const auto& tag : tags) {
        if (Tlp tlp = tlpFromName(tag); tlp != Tlp::kUnknown) {
          ind.tlp = tlp;
        } else {
          feeds::addTag(ind, tag);
        }
      }
      ind.reference = reference;
      ind.revoked = feeds::boolean(a, "deleted").value_or(false);
      if (auto fs = feeds::str(a, "first_seen")) {
        if (auto ts = parseFeedTime(*fs)) ind.first_seen = *ts;
      }
      if (auto ls = feeds::str(a, "last_seen")) {
        if (auto ts = parseFeedTime(*ls)) ind.last_seen = *ts;
      }
      if (!ind.last_seen.isSet()) {
        // Epoch seconds; a value past any real time (or negative) is ignored, not overflowed.
        if (auto ts = feeds::integer(a, "timestamp"); ts && *ts >= 0 && *ts < 1'000'000'000'000) {
          ind.last_seen = Timestamp::fromSeconds(*ts);
        }
      }
      r_.indicators.push_back(std::move(ind));
      ++r_.report.indicators;
    }
  }

  const FeedOptions& o_;
  ParseResult& r_;
};

}  // namespace

ParseResult parseMisp(std::string_view data, const FeedOptions& o) {
  ParseResult r;
  MispParser p(o, r);
  feeds::parseJsonDocument(
      data, "MISP", {"Attribute", "response"}, r.report, o.max_error_samples,
      [&](element doc) { p.document(doc); },
      [&](element item, const std::string& where) { p.item(item, where); });
  return r;
}

}  // namespace riposte::intel

// STIX 2.1 bundles, TAXII 2.1 envelopes and single indicator objects.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "intel/feeds/common.h"
#include "intel/feeds/json_util.h"
#include "riposte/intel/feed.h"
#include "riposte/intel/stix_pattern.h"

namespace riposte::intel {
namespace {

using feeds::element;

// The TLP 1.0 marking definitions predefined by the STIX 2.1 specification.
Tlp predefinedTlp(std::string_view id) {
  if (id == "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9") return Tlp::kClear;
  if (id == "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da") return Tlp::kGreen;
  if (id == "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82") return Tlp::kAmber;
  if (id == "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed") return Tlp::kRed;
  return Tlp::kUnknown;
}

class StixParser {
 public:
  StixParser(const FeedOptions& o, ParseResult& r) : o_(o), r_(r) {}

  void document(element doc) {
    simdjson::dom::array objects;
    if (doc.is_array()) {
      if (doc.get(objects) != simdjson::SUCCESS) return;
    } else if (auto objs = feeds::field(doc, "objects"); objs && objs->is_array()) {
      if (objs->get(objects) != simdjson::SUCCESS) return;
      if (feeds::boolean(doc, "more").value_or(false)) {
        if (auto next = feeds::str(doc, "next")) r_.next_page = std::string(*next);
      }
    } else if (feeds::str(doc, "type") == "indicator") {
      object(doc, "indicator");
      return;
    } else if (doc.is_object() && !feeds::field(doc, "type")) {
      return;  // an empty TAXII envelope is {}
    } else {
      r_.report.status =
          Status::parseError("STIX document is not a bundle, an envelope or an indicator");
      return;
    }
    // First pass: marking definitions, and the newest version of each object id.
    for (element el : objects) {
      const auto type = feeds::str(el, "type");
      const auto id = feeds::str(el, "id");
      if (!type || !id) continue;
      if (*type == "marking-definition") {
        Tlp tlp = Tlp::kUnknown;
        if (auto def = feeds::field(el, "definition")) {
          if (auto t = feeds::str(*def, "tlp")) tlp = tlpFromName(*t);
        }
        if (tlp == Tlp::kUnknown) {
          if (auto n = feeds::str(el, "name")) tlp = tlpFromName(*n);
        }
        if (tlp != Tlp::kUnknown) markings_[std::string(*id)] = tlp;
      } else if (*type == "indicator") {
        const auto m = feeds::str(el, "modified");
        const Timestamp ts = m ? parseFeedTime(*m).value_or(Timestamp{}) : Timestamp{};
        auto [it, inserted] = newest_.try_emplace(std::string(*id), ts);
        if (!inserted) {
          ++duplicates_;
          if (ts > it->second) it->second = ts;
        }
      }
    }
    size_t i = 0;
    for (element el : objects) object(el, "objects[" + std::to_string(i++) + "]");
  }

  void object(element el, const std::string& where) {
    ++r_.report.items;
    const auto type = feeds::str(el, "type");
    const auto id = feeds::str(el, "id");
    const std::string loc = id ? where + " (" + std::string(*id) + ")" : where;
    if (!el.is_object() || !type) {
      r_.report.error(loc, "bad object", "a STIX object needs a 'type'", o_.max_error_samples);
      return;
    }
    if (*type != "indicator") {
      r_.report.skip("non-indicator object");
      return;
    }
    if (!id) {
      r_.report.error(loc, "missing field", "an indicator needs an 'id'", o_.max_error_samples);
      return;
    }
    Timestamp modified;
    if (auto m = feeds::str(el, "modified")) modified = parseFeedTime(*m).value_or(Timestamp{});
    if (duplicates_ != 0) {
      auto it = newest_.find(std::string(*id));
      if (it != newest_.end()) {
        if (modified < it->second || emitted_.count(std::string(*id)) != 0) {
          r_.report.skip("superseded by a newer version");
          return;
        }
      }
      emitted_.insert(std::string(*id));
    }
    const auto pattern_type = feeds::str(el, "pattern_type").value_or("stix");
    if (pattern_type != "stix") {
      ++r_.report.unsupported_patterns;
      r_.report.skip("pattern_type " + std::string(pattern_type));
      return;
    }
    const auto pattern = feeds::str(el, "pattern");
    if (!pattern) {
      r_.report.error(loc, "missing field", "an indicator needs a 'pattern'", o_.max_error_samples);
      return;
    }
    auto values = extractStixPattern(*pattern);
    if (!values) {
      r_.report.error(loc, "bad pattern", values.status().message(), o_.max_error_samples);
      return;
    }
    if (values->values.empty()) {
      ++r_.report.unsupported_patterns;
      r_.report.skip("unsupported pattern");
      if (r_.report.samples.size() < o_.max_error_samples) {
        r_.report.samples.push_back({loc, "unsupported pattern: " + values->unsupported});
      }
      return;
    }
    if (values->broadened) ++r_.report.broadened_patterns;

    Indicator base;
    base.source = o_.source;
    base.confidence = o_.confidence;
    base.tags = o_.tags;
    base.tlp = o_.tlp;
    base.reference = std::string(*id);
    base.last_seen = modified;
    if (auto c = feeds::integer(el, "confidence")) {
      base.confidence = static_cast<uint8_t>(std::clamp<int64_t>(*c, 0, 100));
    }
    if (auto vf = feeds::str(el, "valid_from")) {
      if (auto ts = parseFeedTime(*vf)) {
        base.valid_from = *ts;
        base.first_seen = *ts;
      }
    }
    if (auto vu = feeds::str(el, "valid_until")) {
      if (auto ts = parseFeedTime(*vu)) base.valid_until = *ts;
    }
    base.revoked = feeds::boolean(el, "revoked").value_or(false);
    for (const auto& t : feeds::strings(el, "labels")) feeds::addTag(base, t);
    for (const auto& t : feeds::strings(el, "indicator_types")) feeds::addTag(base, t);
    for (const auto& ref : feeds::strings(el, "object_marking_refs")) {
      Tlp tlp = predefinedTlp(ref);
      if (tlp == Tlp::kUnknown) {
        if (auto it = markings_.find(ref); it != markings_.end()) tlp = it->second;
      }
      if (tlp != Tlp::kUnknown) base.tlp = tlp;
    }
    for (auto& v : values->values) {
      Indicator ind = base;
      ind.type = v.type;
      ind.value = std::move(v.value);
      r_.indicators.push_back(std::move(ind));
      ++r_.report.indicators;
    }
  }

 private:
  const FeedOptions& o_;
  ParseResult& r_;
  std::unordered_map<std::string, Tlp> markings_;
  std::unordered_map<std::string, Timestamp> newest_;
  std::unordered_set<std::string> emitted_;
  size_t duplicates_ = 0;
};

}  // namespace

ParseResult parseStix(std::string_view data, const FeedOptions& o) {
  ParseResult r;
  StixParser p(o, r);
  feeds::parseJsonDocument(
      data, "STIX", {"objects"}, r.report, o.max_error_samples,
      [&](element doc) { p.document(doc); },
      [&](element item, const std::string& where) { p.object(item, where); });
  return r;
}

}  // namespace riposte::intel

#include "riposte/detect/rules/intel_predicate.h"

#include "riposte/core/ip.h"
#include "riposte/detect/rules/rule.h"
#include "riposte/detect/shared_intel.h"
#include "riposte/intel/indicator.h"

namespace riposte::rules {

IntelView::IntelView(std::shared_ptr<SharedIntel> shared)
    : shared_(std::move(shared)), store_(shared_->store()) {}

IntelView::IntelView(std::shared_ptr<intel::Store> store) : store_(std::move(store)) {}

void IntelView::addMatch(std::string_view field, std::string_view value, const intel::Hit& hit) {
  if (n_matches_ == matches_.size()) matches_.emplace_back();
  Match& m = matches_[n_matches_++];
  m.field.assign(field);
  m.value.assign(value);
  m.hit = hit;
}

namespace {

int hexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool hexDigest(std::string_view hex, uint8_t* out) {
  for (size_t i = 0; i < hex.size() / 2; ++i) {
    const int hi = hexNibble(hex[2 * i]);
    const int lo = hexNibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

// A host name or address: the address's hits, else the domain's (lower case, no final dot).
void matchHost(const intel::Snapshot& s, std::string_view host, std::vector<intel::Hit>& out,
               std::string& buf) {
  if (host.empty()) return;
  if (auto ip = IpAddress::parse(host)) {
    s.matchIp(*ip, out);
    return;
  }
  buf.assign(host);
  for (char& c : buf) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  if (!buf.empty() && buf.back() == '.') buf.pop_back();
  if (buf.find('.') == std::string::npos) return;  // a listed domain has two labels or more
  s.matchDomain(buf, out);
}

}  // namespace

void lookupIntelValue(const intel::Snapshot& s, std::string_view v, std::vector<intel::Hit>& out,
                      std::string& buf) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  if (v.empty()) return;
  if (auto ip = IpAddress::parse(v)) {
    s.matchIp(*ip, out);
    return;
  }
  if (v.size() == 32 || v.size() == 40 || v.size() == 64) {
    uint8_t digest[32];
    if (hexDigest(v, digest)) {
      const intel::IndicatorType t = v.size() == 32   ? intel::IndicatorType::kMd5
                                     : v.size() == 40 ? intel::IndicatorType::kSha1
                                                      : intel::IndicatorType::kSha256;
      s.matchHash(t, digest, out);
      return;
    }
  }
  if (v.find("://") != std::string_view::npos) {
    // A URL (rare in the fields rules ask about): the normalised URL, then its host.
    const auto url = intel::normaliseUrl(v);
    if (!url) return;
    s.matchUrl(*url, out);
    std::string_view rest = std::string_view(*url).substr(url->find("://") + 3);
    rest = rest.substr(0, rest.find('/'));
    if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
    std::string_view host = rest;
    if (!host.empty() && host.front() == '[') {
      host = host.substr(1, host.find(']') - 1);
    } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
      host = host.substr(0, colon);
    }
    matchHost(s, host, out, buf);
    return;
  }
  if (const size_t at = v.rfind('@'); at != std::string_view::npos) {
    if (const auto email = intel::normaliseEmail(v)) s.matchEmail(*email, out);
    matchHost(s, v.substr(at + 1), out, buf);
    return;
  }
  matchHost(s, v, out, buf);
}

bool IntelTest::eval(std::string_view field, std::string_view value) const {
  if (!view || value.empty()) return false;
  const intel::Snapshot* s = view->current();
  if (s == nullptr || s->size() == 0) return false;
  auto& hits = view->hits;
  hits.clear();
  lookupIntelValue(*s, value, hits, view->buf);
  const intel::Hit* best = nullptr;
  for (const intel::Hit& h : hits) {
    if (h.score < min_score) continue;
    if (best != nullptr && h.score <= best->score) continue;
    if (!tags.empty()) {
      bool any = false;
      for (const auto& t : tags) {
        if (s->hitHasTag(h, t)) {
          any = true;
          break;
        }
      }
      if (!any) continue;
    }
    if (!sources.empty()) {
      bool any = false;
      for (const auto& src : sources) {
        if (s->hitReportedBy(h, src)) {
          any = true;
          break;
        }
      }
      if (!any) continue;
    }
    best = &h;
  }
  if (best == nullptr) return false;
  view->addMatch(field, value, *best);
  return true;
}

size_t bindIntel(std::vector<Rule>& rules, const std::shared_ptr<IntelView>& view) {
  size_t n = 0;
  auto bind = [&](Predicate& p) {
    if (!p.intel) return;
    p.intel->view = view;
    ++n;
  };
  for (Rule& r : rules) {
    r.condition.forEachPredicate(bind);
    for (SequenceStep& s : r.aggregation.steps) s.condition.forEachPredicate(bind);
  }
  return n;
}

}  // namespace riposte::rules

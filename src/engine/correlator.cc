#include "riposte/engine/correlator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "riposte/core/ids.h"
#include "riposte/core/ip.h"
#include "riposte/store/store.h"

namespace riposte {

namespace {
constexpr uint64_t kSweepEvery = 1024;  // findings between sweeps of the in-memory incidents
constexpr int kMaxSeverity = 10;

void addDistinct(std::vector<std::string>& v, const std::string& s) {
  if (s.empty()) return;
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

// The severity rule (core/incident.h): the highest of the findings', one step more when two or
// more distinct detectors or rules contributed.
int incidentSeverity(int finding_severity, size_t detectors) {
  return std::min(kMaxSeverity, finding_severity + (detectors >= 2 ? 1 : 0));
}
}  // namespace

std::string Correlator::keyFor(const Target& t, uint32_t ipv6_prefix, Target* keyed) {
  Target k = t;
  if (ipv6_prefix < 128 && (t.type == TargetType::kIp || t.type == TargetType::kCidr)) {
    auto c = Cidr::parse(t.value);
    if (c && c->base.v6 && c->prefix > ipv6_prefix) {
      auto wide = Cidr::parse(c->base.toString() + "/" + std::to_string(ipv6_prefix));
      if (wide) k = Target{TargetType::kCidr, wide->toString()};
    }
  }
  std::string key;
  key.reserve(k.value.size() + 6);
  key.append(targetTypeName(k.type));
  key.push_back(':');
  key.append(k.value);
  if (keyed != nullptr) *keyed = std::move(k);
  return key;
}

Status Correlator::load() {
  if (store_ == nullptr) return Status::ok();
  auto open = store_->openIncidents(options_.max_open);
  if (!open) return open.status().withContext("loading open incidents");
  for (auto& i : *open) {
    auto it = by_key_.find(i.key);
    if (it != by_key_.end() && it->second.last_seen >= i.last_seen) continue;
    if (i.last_seen > watermark_) watermark_ = i.last_seen;
    std::string key = i.key;
    by_key_[std::move(key)] = std::move(i);
  }
  return Status::ok();
}

void Correlator::save(const Incident& i) {
  if (store_ == nullptr) return;
  if (Status st = store_->saveIncident(i); !st.isOk()) {
    ++stats_.store_errors;
    spdlog::error("storing incident {}: {}", i.id, st.toString());
  }
}

const Incident* Correlator::add(const Finding& f, const std::string& decision_id, Timestamp now) {
  if (f.shadow || f.entity.value.empty()) return nullptr;
  Target keyed;
  std::string key = keyFor(f.entity, options_.ipv6_prefix, &keyed);
  if (f.last_seen > watermark_) watermark_ = f.last_seen;
  auto it = by_key_.find(key);
  const bool fresh = it == by_key_.end() || it->second.status == IncidentStatus::kClosed ||
                     f.first_seen > it->second.last_seen + options_.gap;
  if (fresh) {
    Incident inc;
    inc.id = newId(f.first_seen.isSet() ? f.first_seen : now);
    inc.key = key;
    inc.target = std::move(keyed);
    inc.first_seen = f.first_seen;
    inc.last_seen = f.last_seen;
    inc.created = now;
    if (it == by_key_.end()) {
      it = by_key_.emplace(std::move(key), std::move(inc)).first;
    } else {
      it->second = std::move(inc);  // the previous one stays in the store, no longer extended
    }
    ++stats_.opened;
  } else {
    ++stats_.extended;
    if (f.first_seen < it->second.first_seen) it->second.first_seen = f.first_seen;
    if (f.last_seen > it->second.last_seen) it->second.last_seen = f.last_seen;
  }
  Incident& inc = it->second;
  ++inc.finding_count;
  const size_t detectors_before = inc.detectors.size();
  addDistinct(inc.detectors, f.detector);
  for (const auto& l : f.labels) addDistinct(inc.labels, l);
  addDistinct(inc.decision_ids, decision_id);
  inc.finding_severity = std::max(inc.finding_severity, f.severity);
  inc.severity = incidentSeverity(inc.finding_severity, inc.detectors.size());
  if (fresh || inc.detectors.size() != detectors_before) {
    inc.title = incidentTitle(inc.detectors, inc.target);
  }
  inc.updated = now;
  save(inc);
  if (store_ != nullptr) {
    if (Status st = store_->linkIncidentFinding(inc.id, f.id); !st.isOk()) {
      ++stats_.store_errors;
      spdlog::error("linking finding {} to incident {}: {}", f.id, inc.id, st.toString());
    }
  }
  if (++adds_ % kSweepEvery == 0 || by_key_.size() > options_.max_open) {
    const std::string id = inc.id;
    sweep();
    auto again = by_key_.find(keyFor(f.entity, options_.ipv6_prefix));
    return again != by_key_.end() && again->second.id == id ? &again->second : nullptr;
  }
  return &inc;
}

void Correlator::sweep() {
  // Incidents whose gap has passed can no longer be extended: drop them from memory.
  for (auto it = by_key_.begin(); it != by_key_.end();) {
    if (it->second.last_seen + options_.gap < watermark_) {
      it = by_key_.erase(it);
    } else {
      ++it;
    }
  }
  if (by_key_.size() <= options_.max_open) return;
  // Still too many: the least recently seen go (down to 15/16 of the bound, so this is rare).
  std::vector<std::pair<int64_t, std::string>> ages;
  ages.reserve(by_key_.size());
  for (const auto& [k, i] : by_key_) ages.emplace_back(i.last_seen.micros, k);
  const size_t keep = options_.max_open - options_.max_open / 16;
  const size_t drop = ages.size() - std::min(keep, ages.size());
  std::nth_element(ages.begin(), ages.begin() + static_cast<std::ptrdiff_t>(drop), ages.end());
  for (size_t i = 0; i < drop; ++i) by_key_.erase(ages[i].second);
}

size_t Correlator::syncStatus(Timestamp now, Duration every) {
  if (store_ == nullptr || by_key_.empty()) return 0;
  if (last_sync_.isSet() && now - last_sync_ < every) return 0;
  last_sync_ = now;
  size_t applied = 0;
  for (IncidentStatus st : {IncidentStatus::kClosed, IncidentStatus::kAcknowledged}) {
    IncidentQuery q;
    q.status = st;
    q.since = watermark_ - options_.gap;
    q.limit = 1000;
    auto changed = store_->listIncidents(q);
    if (!changed) {
      ++stats_.store_errors;
      continue;
    }
    for (const auto& c : *changed) {
      auto it = by_key_.find(c.key);
      if (it == by_key_.end() || it->second.id != c.id) continue;
      Incident& mine = it->second;
      if (c.status_at <= mine.status_at) continue;
      ++applied;
      if (c.status == IncidentStatus::kClosed) {
        by_key_.erase(it);
        continue;
      }
      mine.status = c.status;
      mine.status_by = c.status_by;
      mine.status_at = c.status_at;
      mine.status_note = c.status_note;
    }
  }
  return applied;
}

Result<Incident> Correlator::setStatus(const std::string& id, IncidentStatus status,
                                       const std::string& actor, const std::string& note,
                                       Timestamp now) {
  Incident* live = nullptr;
  for (auto& [k, i] : by_key_) {
    if (i.id == id) {
      live = &i;
      break;
    }
  }
  Incident stored;
  if (live == nullptr) {
    if (store_ == nullptr) return Status::notFound("no incident " + id);
    auto got = store_->getIncident(id);
    if (!got) return got.status();
    if (!got->has_value()) return Status::notFound("no incident " + id);
    stored = std::move(**got);
  }
  Incident& inc = live != nullptr ? *live : stored;
  if (inc.status == IncidentStatus::kClosed) {
    return Status::failedPrecondition("incident " + id + " is closed");
  }
  inc.status = status;
  inc.status_by = actor;
  inc.status_at = now;
  inc.status_note = note;
  inc.updated = now;
  if (store_ != nullptr) {
    if (Status st = store_->saveIncident(inc); !st.isOk()) {
      ++stats_.store_errors;
      return st.withContext("storing incident " + id);
    }
  }
  Incident out = inc;
  if (live != nullptr && status == IncidentStatus::kClosed) by_key_.erase(out.key);
  return out;
}

}  // namespace riposte

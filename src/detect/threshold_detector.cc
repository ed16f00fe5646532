#include "riposte/detect/threshold_detector.h"

#include "riposte/core/ids.h"
#include "riposte/core/ip.h"

namespace riposte {

ThresholdConfig ThresholdConfig::fromConfig(const ComponentConfig& c, const ConfigReader& rd) {
  static const std::set<std::string> kKeys = {"name",     "type",   "kinds",     "outcome",
                                              "actions",  "key",    "threshold", "window",
                                              "severity", "action", "labels",    "max_evidence"};
  ThresholdConfig t;
  rd.checkKeys(c.node, c.path, kKeys);
  t.name = c.name;
  t.filter = EventFilter::fromConfig(c, rd);
  const std::string key = rd.getString(c.node, c.path, "key", "source.ip");
  if (auto f = fieldFromName(key)) {
    t.key = *f;
  } else {
    rd.error(c.node["key"], c.path + ".key", "unknown field '" + key + "'");
  }
  t.threshold = static_cast<uint32_t>(rd.getInt(c.node, c.path, "threshold", 6, 1, 1'000'000));
  t.window = rd.getDuration(c.node, c.path, "window", t.window);
  if (t.window.count() <= 0) rd.error(c.node["window"], c.path + ".window", "must be positive");
  t.severity = static_cast<int>(rd.getInt(c.node, c.path, "severity", 5, 0, 10));
  t.action = rd.getString(c.node, c.path, "action", "block");
  t.labels = rd.getStringList(c.node, c.path, "labels");
  t.max_evidence = static_cast<size_t>(rd.getInt(c.node, c.path, "max_evidence", 20, 0, 1000));
  return t;
}

void ThresholdDetector::onEvent(const Event& event, const FindingSink& sink) {
  if (!cfg_.filter.matches(event)) return;
  const std::string_view key = event.get(cfg_.key);
  if (key.empty()) return;
  auto it = state_.find(key);
  if (it == state_.end()) it = state_.emplace(std::string(key), KeyState{}).first;
  KeyState& st = it->second;
  const Timestamp now = event.timestamp();
  const uint32_t n = event.repeat();
  st.hits.push_back({now, n});
  st.total += n;
  while (!st.hits.empty() && now - st.hits.front().ts > cfg_.window) {
    st.total -= st.hits.front().count;
    st.hits.pop_front();
    if (!st.evidence.empty()) st.evidence.erase(st.evidence.begin());
  }
  if (st.total < cfg_.threshold) {
    if (st.evidence.size() < cfg_.max_evidence) st.evidence.push_back(EvidenceEvent::from(event));
    return;
  }
  // The triggering event is kept with its parsed fields.
  if (st.evidence.size() >= cfg_.max_evidence && !st.evidence.empty()) st.evidence.pop_back();
  if (cfg_.max_evidence > 0) st.evidence.push_back(EvidenceEvent::withFields(event));

  Finding f;
  f.id = newId(now);
  f.detector = cfg_.name;
  f.entity.type = cfg_.key == Field::kUserName ? TargetType::kUser : TargetType::kIp;
  f.entity.value = std::string(key);
  f.severity = cfg_.severity;
  f.score = 1.0;
  f.suggested_action = cfg_.action;
  f.first_seen = st.hits.front().ts;
  f.last_seen = now;
  f.event_count = st.total;
  f.labels = cfg_.labels;
  f.reason = std::to_string(st.total) + " matching events from " + std::string(key) + " within " +
             formatDuration(now - f.first_seen) + " (threshold " + std::to_string(cfg_.threshold) +
             " in " + formatDuration(cfg_.window) + ")";
  f.evidence = std::move(st.evidence);
  state_.erase(it);
  sink(std::move(f));
}

void ThresholdDetector::expire(Timestamp now) {
  for (auto it = state_.begin(); it != state_.end();) {
    const auto& hits = it->second.hits;
    if (hits.empty() || now - hits.back().ts > cfg_.window) {
      it = state_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace riposte

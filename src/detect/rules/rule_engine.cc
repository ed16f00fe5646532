#include "riposte/detect/rules/rule_engine.h"

#include "riposte/core/ids.h"
#include "riposte/core/ip.h"
#include "riposte/detect/intel_evidence.h"

namespace riposte::rules {

RuleEngine::RuleEngine(std::string name, std::vector<Rule> rules,
                       std::vector<RuleDiagnostic> diagnostics, bool hyperscan)
    : name_(std::move(name)),
      set_(std::move(rules), hyperscan),
      diagnostics_(std::move(diagnostics)) {
  state_.resize(set_.rules().size());
  stats_.resize(set_.rules().size());
  for (const auto& r : set_.rules()) file_modes_.push_back(r.mode);
}

Status RuleEngine::setRuleMode(std::string_view rule_id, RuleMode mode) {
  std::vector<Rule> rules = set_.rules();
  for (size_t i = 0; i < rules.size(); ++i) {
    if (rules[i].id != rule_id) continue;
    if (rules[i].mode == mode) return Status::ok();
    rules[i].mode = mode;
    set_ = RuleSet(std::move(rules), set_.hyperscan());
    state_[i].clear();
    return Status::ok();
  }
  return Status::notFound("no rule '" + std::string(rule_id) + "'");
}

void RuleEngine::keepEvidence(KeyState& st, const Event& e) const {
  if (st.evidence_n >= max_evidence_) return;
  if (st.evidence_n < st.evidence.size()) {
    st.evidence[st.evidence_n].assign(e);  // reuses the strings of a forgotten event
  } else {
    st.evidence.push_back(EvidenceEvent::from(e));
  }
  ++st.evidence_n;
}

void RuleEngine::resetState() {
  for (auto& m : state_) m.clear();
  std::fill(stats_.begin(), stats_.end(), RuleStats{});
}

std::string_view RuleEngine::keyOf(const Rule& r, const Event& e) {
  key_field_ = &r.aggregation.key.front();
  if (r.aggregation.key.size() == 1 && r.aggregation.ipv6_prefix == 0) {
    // One field (the source address, usually): the key is its value, not a copy.
    std::string_view v = r.aggregation.key.front().get(e);
    if (!v.empty()) return v;
    for (const FieldRef& f : r.aggregation.fallback) {
      v = f.get(e);
      if (!v.empty()) {
        key_field_ = &f;
        return v;
      }
    }
    return {};
  }
  key_buf_.clear();
  for (size_t i = 0; i < r.aggregation.key.size(); ++i) {
    if (i > 0) key_buf_ += '\x1f';
    std::string_view v = r.aggregation.key[i].get(e);
    if (i == 0 && v.empty()) {
      for (const FieldRef& f : r.aggregation.fallback) {
        v = f.get(e);
        if (!v.empty()) {
          key_field_ = &f;
          break;
        }
      }
    }
    if (r.aggregation.ipv6_prefix > 0 && v.find(':') != std::string_view::npos) {
      auto c = Cidr::parse(std::string(v) + "/" + std::to_string(r.aggregation.ipv6_prefix));
      if (c) {
        key_buf_ += c->toString();
        continue;
      }
    }
    key_buf_ += v;
  }
  return key_buf_;
}

void RuleEngine::onEvent(const Event& e, const FindingSink& sink) {
  set_.candidates(e, candidates_);
  for (size_t i : candidates_) {
    const Rule& r = set_.rules()[i];
    if (r.intel && intel_) intel_->clearMatches();
    if (!r.condition.eval(e)) continue;
    ++stats_[i].matches;
    evaluate(i, r, e, sink);
  }
}

void RuleEngine::evaluate(size_t idx, const Rule& r, const Event& e, const FindingSink& sink) {
  const std::string_view key = keyOf(r, e);
  if (key.empty() || key.find_first_not_of('\x1f') == std::string_view::npos) return;
  KeyState& st = *state_[idx].tryEmplace(key).first;  // one hash; the key copied only when new
  const Timestamp now = e.timestamp();
  const Aggregation& a = r.aggregation;
  if (st.blackhole_until.isSet() && now < st.blackhole_until) return;
  const uint32_t n = e.repeat();

  // A leaky bucket that has drained is a new bucket: it forgets its distinct values too.
  if (a.type == AggregationType::kLeaky && st.last.isSet()) {
    const double leaked =
        static_cast<double>((now - st.last).count()) / static_cast<double>(a.leak.count());
    if (st.level - leaked <= 0) {
      st.level = 0;
      st.count = 0;
      st.last = now;
      st.evidence_n = 0;
      st.values.clear();
    }
  }

  // Distinct: an already-seen value does not count.
  if (a.distinct) {
    const std::string_view v = a.distinct->get(e);
    if (a.type == AggregationType::kDistinct || a.type == AggregationType::kCount) {
      while (!st.values.empty() && now - st.values.front().first > a.window) st.values.pop_front();
    }
    // Distinct values are remembered by a 64-bit hash of the value: two different values of one
    // key collide with a probability of about n^2 / 2^65 (never, for buckets of at most a few
    // thousand values).
    const uint64_t h = FlatStringSet::hash(v);
    for (const auto& [t, seen] : st.values) {
      if (seen == h) return;
    }
    st.values.push_back({now, h});
  }

  bool fired = false;
  switch (a.type) {
    case AggregationType::kTrigger:
      st.count = n;
      st.first = now;
      fired = true;
      break;
    case AggregationType::kCount:
    case AggregationType::kDistinct:
      for (uint32_t i = 0; i < n; ++i) st.hits.push_back(now);
      while (!st.hits.empty() && now - st.hits.front() > a.window) st.hits.pop_front();
      st.count = static_cast<uint32_t>(st.hits.size());
      st.first = st.hits.front();
      fired = st.count >= a.threshold;
      break;
    case AggregationType::kSequence:
      keepEvidence(st, e);
      st.count += n;
      if (!st.first.isSet()) st.first = now;
      st.last = now;
      fired = sequenceStep(r, e, st);
      if (!fired) return;
      --st.evidence_n;  // the last event is added with its fields by fire()
      break;
    case AggregationType::kLeaky: {
      if (st.last.isSet()) {
        const double leaked =
            static_cast<double>((now - st.last).count()) / static_cast<double>(a.leak.count());
        st.level = std::max(0.0, st.level - leaked);
        if (st.level == 0) {
          st.count = 0;
          st.evidence_n = 0;
        }
      }
      if (st.count == 0) st.first = now;
      st.last = now;
      st.level += n;
      st.count += n;
      fired = st.level > a.threshold;  // capacity C overflows on event C+1
      break;
    }
  }
  if (!fired) {
    keepEvidence(st, e);
    return;
  }
  fire(r, key, st, e, sink, idx);
}

bool RuleEngine::sequenceStep(const Rule& r, const Event& e, KeyState& st) {
  const Aggregation& a = r.aggregation;
  const size_t n = a.steps.size();
  if (st.step_done.size() != n) {
    st.step_hits.assign(n, {});
    st.step_done.assign(n, Timestamp{});
    st.step_start.assign(n, Timestamp{});
  }
  const Timestamp now = e.timestamp();
  // Steps are checked last to first so one event completes at most one step of a chain.
  for (size_t i = n; i-- > 0;) {
    const SequenceStep& s = a.steps[i];
    if (!s.condition.eval(e)) continue;
    const Duration within = s.within.count() > 0 ? s.within : a.window;
    auto& hits = st.step_hits[i];
    for (uint32_t k = 0; k < e.repeat(); ++k) hits.push_back(now);
    while (!hits.empty() && now - hits.front() > within) hits.pop_front();
    while (hits.size() > s.count) hits.pop_front();
    if (hits.size() < s.count) continue;
    if (!a.ordered) {
      st.step_done[i] = now;
      continue;
    }
    if (i == 0) {
      st.step_done[0] = now;
      st.step_start[0] = now;
    } else if (st.step_done[i - 1].isSet() && now - st.step_start[i - 1] <= a.window &&
               st.step_done[i - 1] <= now) {
      st.step_done[i] = now;
      st.step_start[i] = st.step_start[i - 1];
      if (i + 1 == n) return true;
    }
  }
  if (a.ordered) return n == 1 && st.step_done[0] == now;
  uint32_t complete = 0;
  for (size_t i = 0; i < n; ++i) {
    if (st.step_done[i].isSet() && now - st.step_done[i] <= a.window) ++complete;
  }
  const uint32_t needed = a.threshold > 1 ? a.threshold : static_cast<uint32_t>(n);
  return complete >= needed;
}

void RuleEngine::fire(const Rule& r, std::string_view key, KeyState& st, const Event& e,
                      const FindingSink& sink, size_t idx) {
  const Timestamp now = e.timestamp();
  Finding f;
  f.id = newId(now);
  f.detector = r.id;
  const FieldRef& k0 = key_field_ != nullptr ? *key_field_ : r.aggregation.key.front();
  std::string_view entity = k0.get(e);
  if (r.aggregation.ipv6_prefix > 0 && entity.find(':') != std::string_view::npos) {
    f.entity = {TargetType::kCidr, std::string(key.substr(0, key.find('\x1f')))};
  } else if (k0.id == Field::kSourceIp || k0.id == Field::kDestinationIp) {
    f.entity = {TargetType::kIp, std::string(entity)};
  } else if (k0.id == Field::kUserName) {
    f.entity = {TargetType::kUser, std::string(entity)};
  } else {
    f.entity = {TargetType::kHost, std::string(entity)};
  }
  f.severity = r.severity;
  f.score = 1.0;
  f.suggested_action = r.action;
  f.duration = r.duration;
  f.shadow = r.mode == RuleMode::kShadow;
  f.first_seen = st.first.isSet() ? st.first : now;
  f.last_seen = now;
  f.event_count = st.count;
  f.labels = r.labels;
  // The indicator an intel predicate hit for this event (the first that held).
  std::optional<intel::IndicatorMatch> hit;
  int hit_score = 0;
  if (r.intel && intel_ && intel_->matchCount() > 0 && intel_->snapshot()) {
    hit_score = intel_->match(0).hit.score;
    hit = intel_->snapshot()->describe(intel_->match(0).hit);
    addIntelLabels(*hit, f.labels);
  }
  // Reason template: {rule} {count} {key} {intel} {<field>}
  std::string reason;
  const std::string& t = r.reason;
  for (size_t i = 0; i < t.size();) {
    if (t[i] == '{') {
      const size_t close = t.find('}', i);
      if (close != std::string::npos) {
        const std::string_view name(t.data() + i + 1, close - i - 1);
        if (name == "rule")
          reason += r.id;
        else if (name == "count")
          reason += std::to_string(st.count);
        else if (name == "key")
          reason += std::string(entity);
        else if (name == "intel")
          reason +=
              hit ? intelHitReason(intel_->match(0).field, intel_->match(0).value, *hit, hit_score)
                  : std::string("no intel hit");
        else
          reason += e.getByName(name);
        i = close + 1;
        continue;
      }
    }
    reason += t[i++];
  }
  f.reason = std::move(reason);
  st.evidence.resize(st.evidence_n);
  f.evidence = std::move(st.evidence);
  f.evidence.push_back(EvidenceEvent::withFields(e));
  if (hit) addIndicatorEvidence(*hit, hit_score, f.evidence.back());
  ++stats_[idx].findings;
  const Duration blackhole = r.aggregation.blackhole;
  // Restart the key; keep only the blackhole.
  st = KeyState{};
  if (blackhole.count() > 0) {
    st.blackhole_until = now + blackhole;
  } else {
    state_[idx].erase(key);
  }
  sink(std::move(f));
}

void RuleEngine::expire(Timestamp now) {
  for (size_t i = 0; i < state_.size(); ++i) {
    const Aggregation& a = set_.rules()[i].aggregation;
    Duration horizon =
        std::max({a.window, a.leak * std::max<int64_t>(1, a.threshold) * 2, a.blackhole});
    for (const SequenceStep& s : a.steps) horizon = std::max(horizon, s.within);
    KeyMap& m = state_[i];
    for (size_t k = m.size(); k-- > 0;) {  // last to first: eraseAt moves the last entry
      const KeyState& st = m.entry(k).value;
      const Timestamp last =
          std::max({st.last, st.hits.empty() ? Timestamp{} : st.hits.back(), st.blackhole_until});
      if (now - last > horizon) m.eraseAt(k);
    }
  }
}

}  // namespace riposte::rules

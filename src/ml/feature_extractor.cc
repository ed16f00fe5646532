#include "riposte/ml/feature_extractor.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>

namespace riposte::ml {

namespace {

constexpr size_t kBloomBits = size_t{1} << 23;
constexpr double kBloomResetFill = 0.4;

uint64_t hashValue(Field f, std::string_view v) {
  // FNV-1a over the field id and the value.
  uint64_t h = 1469598103934665603ULL ^ static_cast<uint64_t>(f);
  h *= 1099511628211ULL;
  for (unsigned char c : v) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h ^ (h >> 29);
}

double seconds(Duration d) { return static_cast<double>(d.count()) / 1e6; }

}  // namespace

bool EntityFeatureExtractor::DistinctSet::insert(uint32_t h) {
  auto it = std::lower_bound(v.begin(), v.end(), h);
  if (it != v.end() && *it == h) return false;
  if (v.size() >= kDistinctCap) return false;  // saturated
  v.insert(it, h);
  return true;
}

void EntityFeatureExtractor::State::reset(Timestamp start) {
  window_start = start;
  last = start;
  events = auth = auth_failures = http = http4 = http5 = gaps = 0;
  values_checked = values_new = 0;
  bytes = gap_mean = gap_m2 = 0;
  users.clear();
  paths.clear();
  ports.clear();
  agents.clear();
}

EntityFeatureExtractor::EntityFeatureExtractor(ExtractorConfig cfg)
    : cfg_(std::move(cfg)), seen_(kBloomBits / 64, 0) {}

bool EntityFeatureExtractor::novel(Field f, std::string_view v) {
  const uint64_t h = hashValue(f, v);
  const size_t b1 = h & (kBloomBits - 1);
  const size_t b2 = (h >> 32) & (kBloomBits - 1);
  const bool was = (seen_[b1 >> 6] >> (b1 & 63) & 1) && (seen_[b2 >> 6] >> (b2 & 63) & 1);
  if (was) return false;
  for (size_t b : {b1, b2}) {
    uint64_t& w = seen_[b >> 6];
    const uint64_t bit = uint64_t{1} << (b & 63);
    if ((w & bit) == 0) {
      w |= bit;
      ++seen_bits_set_;
    }
  }
  if (static_cast<double>(seen_bits_set_) > kBloomResetFill * kBloomBits) {
    std::fill(seen_.begin(), seen_.end(), 0);
    seen_bits_set_ = 0;
  }
  return true;
}

const EntityFeatureExtractor::View* EntityFeatureExtractor::observe(const Event& e) {
  const std::string_view key = e.get(cfg_.key);
  if (key.empty()) return nullptr;
  const Timestamp now = e.timestamp();
  auto it = entities_.find(key);
  if (it == entities_.end()) {
    if (entities_.size() >= cfg_.max_entities) evictOldest();
    it = entities_.emplace(std::string(key), State{}).first;
    it->second.reset(now);
  } else if (now - it->second.window_start >= cfg_.window) {
    close(it->first, it->second);
    it->second.reset(now);
  }
  State& s = it->second;
  const uint32_t n = std::max<uint32_t>(e.repeat(), 1);
  if (s.events > 0) {
    const double gap = std::max(0.0, seconds(now - s.last));
    ++s.gaps;
    const double d = gap - s.gap_mean;
    s.gap_mean += d / s.gaps;
    s.gap_m2 += d * (gap - s.gap_mean);
  }
  if (now > s.last) s.last = now;
  s.events += n;

  const std::string_view outcome = e.get(Field::kEventOutcome);
  if (e.kind() == EventKind::kAuth) {
    s.auth += n;
    if (outcome == "failure") s.auth_failures += n;
  }
  const std::string_view status = e.get(Field::kHttpStatus);
  if (!status.empty()) {
    s.http += n;
    if (status.front() == '4') s.http4 += n;
    if (status.front() == '5') s.http5 += n;
  }
  const std::string_view bytes = e.get(Field::kHttpBytes);
  if (!bytes.empty()) {
    uint64_t b = 0;
    auto [p, ec] = std::from_chars(bytes.data(), bytes.data() + bytes.size(), b);
    if (ec == std::errc()) s.bytes += static_cast<double>(b);
  }
  struct Tracked {
    Field field;
    DistinctSet* set;
  };
  // Keyed by user, the first distinct count is of source addresses instead of user names.
  const Tracked tracked[] = {
      {cfg_.key == Field::kUserName ? Field::kSourceIp : Field::kUserName, &s.users},
      {Field::kUrlPath, &s.paths},
      {Field::kDestinationPort, &s.ports},
      {Field::kUserAgent, &s.agents}};
  for (const auto& t : tracked) {
    const std::string_view v = e.get(t.field);
    if (v.empty()) continue;
    t.set->insert(static_cast<uint32_t>(hashValue(t.field, v)));
    ++s.values_checked;
    if (novel(t.field, v)) ++s.values_new;
  }
  compute(s, features_);
  view_.entity = it->first;
  view_.events = s.events;
  view_.window_start = s.window_start;
  view_.features = features_;
  return &view_;
}

void EntityFeatureExtractor::compute(const State& s, float* out) const {
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  const double span = std::max(60.0, seconds(s.last - s.window_start));
  auto set = [&](EntityFeature f, double v) {
    out[static_cast<size_t>(f)] = static_cast<float>(v);
  };
  set(EntityFeature::kEventRate, s.events * 60.0 / span);
  set(EntityFeature::kAuthFailures, s.auth_failures);
  set(EntityFeature::kAuthFailureRatio, ratio(s.auth_failures, s.auth));
  set(EntityFeature::kDistinctUsers, static_cast<double>(s.users.v.size()));
  set(EntityFeature::kDistinctPaths, static_cast<double>(s.paths.v.size()));
  set(EntityFeature::kHttp4xxRatio, ratio(s.http4, s.http));
  set(EntityFeature::kHttp5xxRatio, ratio(s.http5, s.http));
  set(EntityFeature::kDistinctDestPorts, static_cast<double>(s.ports.v.size()));
  set(EntityFeature::kBytes, s.bytes);
  set(EntityFeature::kDistinctUserAgents, static_cast<double>(s.agents.v.size()));
  set(EntityFeature::kInterArrivalMean, s.gap_mean);
  const double sd = s.gaps > 1 ? std::sqrt(s.gap_m2 / (s.gaps - 1)) : 0.0;
  set(EntityFeature::kInterArrivalCv, s.gap_mean > 0 ? sd / s.gap_mean : 0.0);
  set(EntityFeature::kNewValueShare, ratio(s.values_new, s.values_checked));
}

void EntityFeatureExtractor::close(const std::string& entity, const State& s) {
  if (!cfg_.record || s.events < cfg_.record_min_events) return;
  WindowRecord r;
  r.entity = entity;
  r.window_start = s.window_start;
  r.window_end = s.last;
  r.events = s.events;
  r.values.resize(kEntityFeatureCount);
  compute(s, r.values.data());
  closed_.push_back(std::move(r));
}

void EntityFeatureExtractor::expire(Timestamp now) {
  for (auto it = entities_.begin(); it != entities_.end();) {
    if (now - it->second.last > cfg_.window) {
      close(it->first, it->second);
      it = entities_.erase(it);
    } else {
      ++it;
    }
  }
}

void EntityFeatureExtractor::closeAll() {
  for (const auto& [k, s] : entities_) close(k, s);
  entities_.clear();
}

void EntityFeatureExtractor::evictOldest() {
  // Amortised: one pass evicts the least recently seen tenth.
  std::vector<int64_t> lasts;
  lasts.reserve(entities_.size());
  for (const auto& [_, s] : entities_) lasts.push_back(s.last.micros);
  const size_t k = std::max<size_t>(1, lasts.size() / 10);
  std::nth_element(lasts.begin(), lasts.begin() + static_cast<ptrdiff_t>(k - 1), lasts.end());
  const int64_t cutoff = lasts[k - 1];
  size_t removed = 0;
  for (auto it = entities_.begin(); it != entities_.end() && removed < k;) {
    if (it->second.last.micros <= cutoff) {
      close(it->first, it->second);
      it = entities_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  evicted_ += removed;
}

std::vector<WindowRecord> EntityFeatureExtractor::takeClosed() {
  std::vector<WindowRecord> out;
  out.swap(closed_);
  return out;
}

}  // namespace riposte::ml

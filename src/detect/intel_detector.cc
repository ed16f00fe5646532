#include "riposte/detect/intel_detector.h"

#include "riposte/core/ids.h"
#include "riposte/core/ip.h"
#include "riposte/detect/intel_evidence.h"
#include "riposte/detect/shared_intel.h"
#include "riposte/intel/store_updater.h"

namespace riposte {

namespace {

int hexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Hex digest → bytes; false when the text is not `n` bytes of hex.
bool digest(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != n * 2) return false;
  for (size_t i = 0; i < n; ++i) {
    const int hi = hexNibble(hex[2 * i]);
    const int lo = hexNibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace

IntelDetector::IntelDetector(IntelDetectorConfig cfg,
                             std::shared_ptr<const intel::Snapshot> snapshot)
    : cfg_(std::move(cfg)), snapshot_(std::move(snapshot)) {}

IntelDetector::IntelDetector(IntelDetectorConfig cfg, std::shared_ptr<intel::Store> store,
                             std::unique_ptr<intel::StoreUpdater> refresher)
    : cfg_(std::move(cfg)),
      snapshot_(store->snapshot()),
      store_(std::move(store)),
      generation_(store_->generation()),
      refresher_(std::move(refresher)) {
  if (refresher_) refresher_->start();
}

IntelDetector::IntelDetector(IntelDetectorConfig cfg, std::shared_ptr<SharedIntel> shared)
    : cfg_(std::move(cfg)),
      snapshot_(shared->store()->snapshot()),
      store_(shared->store()),
      generation_(store_->generation()),
      shared_(std::move(shared)) {}

IntelDetector::~IntelDetector() {
  if (refresher_) refresher_->stop();
}

void IntelDetector::onEvent(const Event& e, const FindingSink& sink) {
  if (store_ && store_->generation() != generation_) {  // a relaxed counter: cheap per event
    generation_ = store_->generation();
    snapshot_ = store_->snapshot();
  }
  if (!snapshot_ || snapshot_->size() == 0) return;
  const std::string_view src = e.get(Field::kSourceIp);
  // Every value of the event, then one batched look-up.
  static constexpr size_t kMaxValues = 8;
  struct Asked {
    Field field;
    std::string_view value;
    bool is_ip;
  };
  intel::Snapshot::Value values[kMaxValues];
  Asked asked[kMaxValues];
  IpAddress ips[2];
  uint8_t digests[3][32];
  size_t n = 0;
  size_t n_ips = 0;
  for (Field f : {Field::kSourceIp, Field::kDestinationIp}) {
    const std::string_view v = e.get(f);
    if (v.empty()) continue;
    auto ip = IpAddress::parse(v);
    if (!ip) continue;
    ips[n_ips] = *ip;
    values[n] = intel::Snapshot::Value::ip(ips[n_ips++]);
    asked[n++] = Asked{f, v, true};
  }
  for (Field f : {Field::kUrlDomain, Field::kDnsQuestion, Field::kTlsSni}) {
    const std::string_view v = e.get(f);
    if (v.empty()) continue;
    values[n] = intel::Snapshot::Value::domain(v);
    asked[n++] = Asked{f, v, false};
  }
  static constexpr struct {
    Field field;
    intel::IndicatorType type;
    size_t bytes;
  } kHashes[] = {{Field::kFileHashMd5, intel::IndicatorType::kMd5, 16},
                 {Field::kFileHashSha1, intel::IndicatorType::kSha1, 20},
                 {Field::kFileHashSha256, intel::IndicatorType::kSha256, 32}};
  for (size_t i = 0; i < 3; ++i) {
    const std::string_view v = e.get(kHashes[i].field);
    if (v.empty() || !digest(v, digests[i], kHashes[i].bytes)) continue;
    values[n] = intel::Snapshot::Value::digest(kHashes[i].type, digests[i]);
    asked[n++] = Asked{kHashes[i].field, v, false};
  }
  if (n == 0) return;
  hits_.clear();
  if (snapshot_->matchBatch(values, n, hits_) == 0) return;
  for (const auto& bh : hits_) {
    const Asked& a = asked[bh.index];
    // An address is its own target (and may be blocked); other values point at the source.
    report(e, bh.hit, fieldName(a.field), a.value, TargetType::kIp, a.is_ip ? a.value : src,
           a.is_ip, sink);
  }
}

void IntelDetector::report(const Event& e, const intel::Hit& hit, std::string_view field,
                           std::string_view value, TargetType target_type, std::string_view target,
                           bool may_block, const FindingSink& sink) {
  if (hit.score < cfg_.min_score || target.empty()) return;
  const Timestamp now = e.timestamp();
  std::string key(target);
  key += '|';
  key += std::to_string(hit.entry);
  auto it = recent_.find(key);
  if (it != recent_.end() && now - it->second < cfg_.repeat_after) return;
  recent_[key] = now;

  const intel::IndicatorMatch m = snapshot_->describe(hit);
  Finding f;
  f.id = newId(now);
  f.detector = cfg_.name;
  f.entity = {target_type, std::string(target)};
  f.score = hit.score / 100.0;
  f.severity = hit.score >= cfg_.block_score ? 8 : 5;
  f.suggested_action = may_block && hit.score >= cfg_.block_score ? "block" : "alert";
  f.first_seen = f.last_seen = now;
  f.event_count = 1;
  f.reason = intelHitReason(field, value, m, hit.score);
  addIntelLabels(m, f.labels);
  EvidenceEvent ev = EvidenceEvent::withFields(e);
  addIndicatorEvidence(m, hit.score, ev);
  f.evidence.push_back(std::move(ev));
  sink(std::move(f));
}

void IntelDetector::expire(Timestamp now) {
  for (auto it = recent_.begin(); it != recent_.end();) {
    if (now - it->second > cfg_.repeat_after) {
      it = recent_.erase(it);
    } else {
      ++it;
    }
  }
}

Status IntelDetector::requestFeedSync(const std::string& feed) {
  if (shared_) return shared_->requestFeedSync(feed);
  if (!refresher_) return Status::failedPrecondition(intel::StoreUpdater::kNoCollector);
  return refresher_->requestSync(feed);
}

}  // namespace riposte

#include "riposte/detect/anomaly_detector.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "riposte/core/ids.h"

namespace riposte {

namespace {

// A number in [0, 1] (a score threshold), or the default when absent.
double getScore(const ConfigReader& rd, const ComponentConfig& c, const std::string& key,
                double def) {
  const YAML::Node n = c.node[key];
  if (!n) return def;
  const std::string path = c.path + "." + key;
  try {
    const double v = n.as<double>();
    if (!(v >= 0 && v <= 1)) {
      rd.error(n, path, "must be a score between 0 and 1");
      return def;
    }
    return v;
  } catch (const YAML::Exception&) {
    rd.error(n, path, "expected a number between 0 and 1");
    return def;
  }
}

std::string formatScore(double s) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

}  // namespace

AnomalyDetectorConfig AnomalyDetectorConfig::fromConfig(const ComponentConfig& c,
                                                        const ConfigReader& rd) {
  static const std::set<std::string> kKeys = {"name",
                                              "type",
                                              "model",
                                              "entity",
                                              "window",
                                              "min_events",
                                              "alert_threshold",
                                              "block_threshold",
                                              "mode",
                                              "repeat_after",
                                              "max_entities",
                                              "record",
                                              "record_min_events",
                                              "keep"};
  AnomalyDetectorConfig a;
  rd.checkKeys(c.node, c.path, kKeys);
  a.name = c.name;
  a.model_path = rd.getString(c.node, c.path, "model", "");
  const std::string entity = rd.getString(c.node, c.path, "entity", "source.ip");
  if (entity == "source.ip") {
    a.entity = Field::kSourceIp;
  } else if (entity == "user.name") {
    a.entity = Field::kUserName;
  } else {
    rd.error(c.node["entity"], c.path + ".entity", "must be source.ip or user.name");
  }
  a.window = rd.getDuration(c.node, c.path, "window", a.window);
  if (a.window.count() <= 0) rd.error(c.node["window"], c.path + ".window", "must be positive");
  a.min_events = static_cast<uint32_t>(rd.getInt(c.node, c.path, "min_events", 5, 1, 1'000'000));
  a.alert_threshold = getScore(rd, c, "alert_threshold", a.alert_threshold);
  a.block_threshold = getScore(rd, c, "block_threshold", a.block_threshold);
  if (a.alert_threshold > a.block_threshold) {
    rd.error(c.node["alert_threshold"], c.path + ".alert_threshold",
             "must not exceed block_threshold");
  }
  const std::string mode = rd.getString(c.node, c.path, "mode", "enabled");
  if (mode == "shadow") {
    a.shadow = true;
  } else if (mode != "enabled") {
    rd.error(c.node["mode"], c.path + ".mode", "must be enabled or shadow");
  }
  a.repeat_after = rd.getDuration(c.node, c.path, "repeat_after", a.repeat_after);
  a.max_entities =
      static_cast<size_t>(rd.getInt(c.node, c.path, "max_entities", 50'000, 1, 100'000'000));
  a.record = rd.getBool(c.node, c.path, "record", false);
  a.record_min_events =
      static_cast<uint32_t>(rd.getInt(c.node, c.path, "record_min_events", 5, 1, 1'000'000));
  a.keep = rd.getDuration(c.node, c.path, "keep", a.keep);
  return a;
}

AnomalyDetector::AnomalyDetector(AnomalyDetectorConfig cfg, std::shared_ptr<const ml::Model> model,
                                 Store* store)
    : cfg_(std::move(cfg)),
      model_(std::move(model)),
      store_(store),
      schema_(ml::entityWindowSchema(std::string(fieldName(cfg_.entity)))),
      extractor_([&] {
        ml::ExtractorConfig x;
        x.key = cfg_.entity;
        x.window = cfg_.window;
        x.max_entities = cfg_.max_entities;
        x.record = cfg_.record && store != nullptr;
        x.record_min_events = cfg_.record_min_events;
        return x;
      }()) {
  if (cfg_.record && store_ == nullptr) {
    spdlog::warn("{}: record is set but there is no store; feature vectors are not recorded",
                 cfg_.name);
  }
}

AnomalyDetector::~AnomalyDetector() {
  if (cfg_.record && store_ != nullptr) {
    extractor_.closeAll();
    flush();
  }
  spdlog::info("{}: {} scores, {} monitored, {} alerts, {} blocks{}, {} vectors recorded",
               cfg_.name, stats_.scored, stats_.monitored, stats_.alerts, stats_.blocks,
               cfg_.shadow ? " (shadow)" : "", stats_.recorded);
}

Result<std::shared_ptr<const ml::Model>> AnomalyDetector::loadModelFor(
    const AnomalyDetectorConfig& cfg) {
  auto m = ml::loadModel(cfg.model_path);
  if (!m) return m.status();
  const ml::FeatureSchema want = ml::entityWindowSchema(std::string(fieldName(cfg.entity)));
  if (Status st = want.checkSame(m->schema); !st.isOk()) {
    return Status::failedPrecondition("model " + cfg.model_path +
                                      " was trained on other features: " + st.message() +
                                      "; the model is not used");
  }
  return std::shared_ptr<const ml::Model>(std::make_shared<ml::Model>(std::move(*m)));
}

void AnomalyDetector::onEvent(const Event& event, const FindingSink& sink) {
  const ml::EntityFeatureExtractor::View* v = extractor_.observe(event);
  if (v == nullptr) return;
  last_event_ = event.timestamp();
  if (model_ == nullptr || v->events < cfg_.min_events) return;
  const double score = model_->forest.score(v->features);
  ++stats_.scored;
  if (score < cfg_.alert_threshold) {
    ++stats_.monitored;
    return;
  }
  const bool block = score >= cfg_.block_threshold;
  const Timestamp now = event.timestamp();
  auto it = recent_.find(v->entity);
  if (it != recent_.end() && now - it->second.at < cfg_.repeat_after &&
      (it->second.blocked || !block)) {
    return;  // already reported; only an escalation from alert to block goes through
  }
  if (it == recent_.end()) it = recent_.emplace(std::string(v->entity), Recent{}).first;
  it->second = {now, block};
  (block ? stats_.blocks : stats_.alerts)++;

  Finding f;
  f.id = newId(now);
  f.detector = cfg_.name;
  f.entity.type = cfg_.entity == Field::kUserName ? TargetType::kUser : TargetType::kIp;
  f.entity.value = std::string(v->entity);
  f.score = score;
  f.severity = block ? 7 : 4;
  f.suggested_action = block ? "block" : "alert";
  f.shadow = cfg_.shadow;
  f.fallback = true;
  f.first_seen = v->window_start;
  f.last_seen = now;
  f.event_count = v->events;
  f.labels = {"anomaly"};
  nlohmann::json feats = nlohmann::json::object();
  std::string top;
  for (size_t i = 0; i < schema_.dim(); ++i) {
    feats[schema_.features[i]] = v->features[i];
    if (v->features[i] != 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v->features[i]));
      top += (top.empty() ? "" : ", ") + schema_.features[i] + "=" + buf;
    }
  }
  f.reason = "anomaly score " + formatScore(score) + " >= " + (block ? "block" : "alert") +
             " threshold " + formatScore(block ? cfg_.block_threshold : cfg_.alert_threshold) +
             " for " + f.entity.value + " (" + std::to_string(v->events) + " events in " +
             formatDuration(now - v->window_start) + "; " + top + ")";
  EvidenceEvent ev = EvidenceEvent::withFields(event);
  auto fields = nlohmann::json::parse(ev.fields_json, nullptr, false);
  if (!fields.is_discarded()) {
    fields["riposte.anomaly"] = {{"score", score},
                                 {"model", cfg_.model_path},
                                 {"schema", schema_.name},
                                 {"schema_version", schema_.version},
                                 {"features", std::move(feats)}};
    ev.fields_json = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  f.evidence.push_back(std::move(ev));
  sink(std::move(f));
}

void AnomalyDetector::expire(Timestamp now) {
  extractor_.expire(now);
  for (auto it = recent_.begin(); it != recent_.end();) {
    if (now - it->second.at > cfg_.repeat_after) {
      it = recent_.erase(it);
    } else {
      ++it;
    }
  }
  flush();
  if (cfg_.record && store_ != nullptr && cfg_.keep.count() > 0) {
    (void)store_->deleteFeatureVectorsBefore(now - cfg_.keep);
  }
}

void AnomalyDetector::flush() {
  if (store_ == nullptr) return;
  std::vector<ml::WindowRecord> closed = extractor_.takeClosed();
  if (closed.empty()) return;
  std::vector<FeatureVectorRecord> out;
  out.reserve(closed.size());
  for (auto& w : closed) {
    FeatureVectorRecord r;
    r.schema = schema_.name;
    r.schema_version = schema_.version;
    r.entity_field = schema_.entity;
    r.entity = std::move(w.entity);
    r.window_start = w.window_start;
    r.window_end = w.window_end;
    r.events = w.events;
    r.values = std::move(w.values);
    out.push_back(std::move(r));
  }
  if (Status st = store_->saveFeatureVectors(out); !st.isOk()) {
    ++stats_.record_errors;
    spdlog::error("{}: recording {} feature vectors: {}", cfg_.name, out.size(), st.toString());
    return;
  }
  stats_.recorded += out.size();
}

}  // namespace riposte

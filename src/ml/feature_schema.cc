#include "riposte/ml/feature_schema.h"

#include <nlohmann/json.hpp>

namespace riposte::ml {

Status FeatureSchema::checkSame(const FeatureSchema& other) const {
  if (other.name != name) {
    return Status::failedPrecondition("feature schema '" + other.name + "' where '" + name +
                                      "' is expected");
  }
  if (other.version != version) {
    return Status::failedPrecondition("feature schema " + name + " version " +
                                      std::to_string(other.version) + " where version " +
                                      std::to_string(version) + " is expected");
  }
  if (other.entity != entity) {
    return Status::failedPrecondition("features keyed by '" + other.entity + "' where '" + entity +
                                      "' is expected");
  }
  if (other.features.size() != features.size()) {
    return Status::failedPrecondition(std::to_string(other.features.size()) + " features where " +
                                      std::to_string(features.size()) + " are expected");
  }
  for (size_t i = 0; i < features.size(); ++i) {
    if (other.features[i] != features[i]) {
      return Status::failedPrecondition("feature " + std::to_string(i) + " is '" +
                                        other.features[i] + "' where '" + features[i] +
                                        "' is expected");
    }
  }
  return Status::ok();
}

std::string FeatureSchema::toJson() const {
  nlohmann::json j;
  j["name"] = name;
  j["version"] = version;
  j["features"] = features;
  if (!entity.empty()) j["entity"] = entity;
  if (!columns.empty()) {
    auto cols = nlohmann::json::array();
    for (const auto& c : columns) {
      nlohmann::json cj{{"name", c.name}, {"categorical", c.categorical}};
      if (c.categorical) cj["categories"] = c.categories;
      cols.push_back(std::move(cj));
    }
    j["columns"] = std::move(cols);
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<FeatureSchema> FeatureSchema::fromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::parseError("feature schema: not JSON");
  try {
    FeatureSchema s;
    s.name = j.at("name").get<std::string>();
    s.version = j.at("version").get<int>();
    s.features = j.at("features").get<std::vector<std::string>>();
    s.entity = j.value("entity", std::string());
    if (j.contains("columns")) {
      size_t encoded = 0;
      for (const auto& cj : j.at("columns")) {
        CsvColumn c;
        c.name = cj.at("name").get<std::string>();
        c.categorical = cj.at("categorical").get<bool>();
        if (c.categorical) c.categories = cj.at("categories").get<std::vector<std::string>>();
        encoded += c.categorical ? c.categories.size() : 1;
        s.columns.push_back(std::move(c));
      }
      if (encoded != s.features.size()) {
        return Status::parseError("feature schema: columns encode " + std::to_string(encoded) +
                                  " features but " + std::to_string(s.features.size()) +
                                  " are named");
      }
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    return Status::parseError(std::string("feature schema: ") + e.what());
  }
}

FeatureSchema entityWindowSchema(const std::string& entity_field) {
  FeatureSchema s;
  s.name = kEntityWindowSchemaName;
  s.version = kEntityWindowVersion;
  s.entity = entity_field;
  s.features = {"event_rate",           "auth_failures",       "auth_failure_ratio",
                "distinct_users",       "distinct_paths",      "http_4xx_ratio",
                "http_5xx_ratio",       "distinct_dest_ports", "bytes",
                "distinct_user_agents", "interarrival_mean_s", "interarrival_cv",
                "new_value_share"};
  // Keyed by user: the distinct count is of the addresses the user came from.
  if (entity_field == "user.name") s.features[3] = "distinct_sources";
  return s;
}

}  // namespace riposte::ml

// Threat-intel services for tests, on the loopback HttpServer, speaking each protocol and
// serving the real payloads of the shared corpora:
//   - OTX: the pulses/subscribed pages of elastic's ti_otx mock (otx/elastic-ti_otx), links to
//     otx.alienvault.com rewritten to the local server; X-OTX-API-KEY checked.
//   - MISP: POST /attributes/restSearch over the attributes of the events in elastic's ti_misp
//     mock and PyMISP's event file, paged by the body's page/limit, to_ids honoured, an empty
//     page as {"response": []}; Authorization checked.
//   - OTX indicators/export: the export pages of the same mock (types required).
//   - MISP feed: manifest.json + event files (FakeMispFeed below).
//   - TAXII 2.1: medallion's default_data.json (discovery, API roots, collections, objects with
//     added_after / limit / next / more, match[type], version "last", X-TAXII-Date-Added-*);
//     Accept checked (406), basic auth user1/Password1 checked (401).
// Each fake answers from `handle()`; tests wrap it to inject failures.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/http_server.h"
#include "support/test_support.h"

namespace riposte::testing {

inline std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

// The body of the mock rule for `path` whose query_params contain `param` = `value` (any
// value when `value` is empty; `absent` = the rule must not have `param`).
inline std::optional<std::string> mockBody(const YAML::Node& rules, const std::string& path,
                                           const std::string& param, const std::string& value,
                                           bool absent = false) {
  for (const auto& r : rules) {
    if (r["path"].as<std::string>() != path) continue;
    const YAML::Node q = r["query_params"];
    const bool has = q && q[param];
    if (absent ? has : !has) continue;
    if (!absent && !value.empty() && q[param].as<std::string>() != value) continue;
    return r["responses"][0]["body"].as<std::string>();
  }
  return std::nullopt;
}

class FakeOtx {
 public:
  // nullopt when the corpus is absent.
  static std::optional<FakeOtx> load() {
    auto f = corpusFile("otx/elastic-ti_otx/mock-otx-api.yml");
    if (!f) return std::nullopt;
    const YAML::Node rules = YAML::LoadFile(f->string())["rules"];
    FakeOtx o;
    o.first_ = *mockBody(rules, "/api/v1/pulses/subscribed", "page", "", true);
    o.second_ = *mockBody(rules, "/api/v1/pulses/subscribed", "page", "2");
    o.export_first_ = *mockBody(rules, "/api/v1/indicators/export", "page", "", true);
    o.export_second_ = *mockBody(rules, "/api/v1/indicators/export", "page", "2");
    return o;
  }

  HttpReply handle(const HttpRequest& r, const std::string& base) const {
    const bool exporting = r.target() == "/api/v1/indicators/export";
    if (r.target() != "/api/v1/pulses/subscribed" && !exporting) {
      return {404, {}, R"({"detail":"Not found."})"};
    }
    if (r.headers.count("x-otx-api-key") == 0 || r.headers.at("x-otx-api-key") != "testing") {
      return {403, {}, R"({"detail":"Authentication required"})"};
    }
    if (exporting) {
      // The export endpoint answers 400 without types, as OTX does for a missing filter.
      if (r.query("types").empty()) return {400, {}, R"({"types":["This field is required."]})"};
      if (r.query("page") == "2") return {200, {}, export_second_};
      return {200, {}, replaceAll(export_first_, "https://otx.alienvault.com", base)};
    }
    if (r.query("page") == "2") return {200, {}, second_};
    return {200, {}, replaceAll(first_, "https://otx.alienvault.com", base)};
  }

 private:
  std::string first_, second_, export_first_, export_second_;
};

// A MISP feed of static files under /feed/: CIRCL's manifest.json and event file from the
// misp-3.x test feed, plus PyMISP's example event (its manifest entry made from its own Event
// fields, as PyMISP's feed generator writes it). manifest.json has an ETag and answers 304.
class FakeMispFeed {
 public:
  static std::optional<FakeMispFeed> load() {
    auto manifest = corpusFile("misp/misp-3.x-test-feeds/misp/manifest.json");
    auto circl =
        corpusFile("misp/misp-3.x-test-feeds/misp/56bf399d-c46c-4fdb-a9cf-d9bb02de0b81.json");
    auto pymisp = corpusFile("misp/pymisp/57c4445b-c548-4654-af0b-4be3950d210f.json");
    if (!manifest || !circl || !pymisp) return std::nullopt;
    FakeMispFeed f;
    f.manifest_ = nlohmann::json::parse(readFile(*manifest));
    f.events_["56bf399d-c46c-4fdb-a9cf-d9bb02de0b81"] = readFile(*circl);
    const std::string body = readFile(*pymisp);
    const auto ev = nlohmann::json::parse(body)["Event"];
    const std::string uuid = ev["uuid"];
    f.manifest_[uuid] = {{"Orgc", ev.value("Orgc", nlohmann::json::object())},
                         {"Tag", ev.value("Tag", nlohmann::json::array())},
                         {"info", ev.value("info", "")},
                         {"date", ev.value("date", "")},
                         {"analysis", ev.value("analysis", "0")},
                         {"threat_level_id", ev.value("threat_level_id", "0")},
                         {"timestamp", ev.value("timestamp", "0")}};  // a string, as in the file
    f.events_[uuid] = body;
    return f;
  }

  nlohmann::json& manifest() { return manifest_; }
  std::map<std::string, std::string>& events() { return events_; }

  HttpReply handle(const HttpRequest& r) const {
    const std::string etag =
        "\"" + std::to_string(std::hash<std::string>()(manifest_.dump())) + "\"";
    if (r.target() == "/feed/manifest.json") {
      if (r.headers.count("if-none-match") != 0 && r.headers.at("if-none-match") == etag) {
        return {304, {{"ETag", etag}}, ""};
      }
      return {200, {{"ETag", etag}}, manifest_.dump(4)};
    }
    const std::string prefix = "/feed/";
    if (r.target().rfind(prefix, 0) == 0 && r.target().size() > prefix.size() + 5 &&
        r.target().substr(r.target().size() - 5) == ".json") {
      const std::string uuid =
          r.target().substr(prefix.size(), r.target().size() - prefix.size() - 5);
      if (auto it = events_.find(uuid); it != events_.end()) return {200, {}, it->second};
    }
    return {404, {}, "Not Found"};
  }

 private:
  nlohmann::json manifest_;
  std::map<std::string, std::string> events_;
};

class FakeMisp {
 public:
  static std::optional<FakeMisp> load() {
    auto mock = corpusFile("misp/elastic-ti_misp/mock-misp-restsearch.yml");
    auto event = corpusFile("misp/pymisp/57c4445b-c548-4654-af0b-4be3950d210f.json");
    if (!mock || !event) return std::nullopt;
    FakeMisp m;
    const YAML::Node rules = YAML::LoadFile(mock->string())["rules"];
    for (const auto& r : rules) {
      if (r["path"].as<std::string>() != "/events/restSearch") continue;
      auto j = nlohmann::json::parse(r["responses"][0]["body"].as<std::string>());
      if (!j["response"].is_array()) continue;
      for (const auto& e : j["response"]) m.addEvent(e["Event"]);
    }
    m.addEvent(nlohmann::json::parse(readFile(*event))["Event"]);
    return m;
  }

  const std::vector<nlohmann::json>& attributes() const { return attributes_; }

  HttpReply handle(const HttpRequest& r) const {
    if (r.target() != "/attributes/restSearch" || r.method != "POST") {
      return {404, {}, R"({"name":"Not Found","message":"Not Found","url":"/"})"};
    }
    if (r.headers.count("authorization") == 0 || r.headers.at("authorization") != "test") {
      return {403, {}, R"({"name":"Authentication failed.","message":"Authentication failed."})"};
    }
    auto body = nlohmann::json::parse(r.body, nullptr, false);
    if (body.is_discarded()) return {400, {}, R"({"message":"bad JSON"})"};
    const bool to_ids = body.contains("to_ids") && body["to_ids"] == 1;
    std::vector<nlohmann::json> pool;
    for (const auto& a : attributes_) {
      if (!to_ids || a.value("to_ids", false)) pool.push_back(a);
    }
    const size_t limit = body.value("limit", 0);
    const size_t page = body.value("page", 1);
    size_t from = 0, to = pool.size();
    if (limit > 0) {
      from = std::min(pool.size(), (page - 1) * limit);
      to = std::min(pool.size(), from + limit);
    }
    if (from == to) return {200, {}, R"({"response": []})"};
    nlohmann::json out = {{"response", {{"Attribute", nlohmann::json::array()}}}};
    for (size_t i = from; i < to; ++i) out["response"]["Attribute"].push_back(pool[i]);
    return {200, {}, out.dump(2)};
  }

 private:
  void addEvent(const nlohmann::json& e) {
    const nlohmann::json ev = {{"id", e.value("id", "")},
                               {"uuid", e.value("uuid", "")},
                               {"info", e.value("info", "")},
                               {"orgc_id", e.value("orgc_id", "")}};
    auto add = [&](nlohmann::json a) {
      a["Event"] = ev;
      attributes_.push_back(std::move(a));
    };
    if (e.contains("Attribute")) {
      for (const auto& a : e["Attribute"]) add(a);
    }
    if (e.contains("Object")) {
      for (const auto& o : e["Object"]) {
        if (o.contains("Attribute")) {
          for (const auto& a : o["Attribute"]) add(a);
        }
      }
    }
  }

  std::vector<nlohmann::json> attributes_;
};

class FakeTaxii {
 public:
  static constexpr const char* kMedia = "application/taxii+json;version=2.1";

  static std::optional<FakeTaxii> load() {
    auto f = corpusFile("stix-taxii/medallion/default_data.json");
    if (!f) return std::nullopt;
    FakeTaxii t;
    t.data_ = nlohmann::json::parse(readFile(*f));
    return t;
  }

  HttpReply handle(const HttpRequest& r, const std::string& base) {
    const std::string accept = r.headers.count("accept") ? r.headers.at("accept") : "";
    if (accept.find("application/taxii+json") == std::string::npos) {
      return {406, {}, R"({"title":"Not Acceptable"})"};
    }
    // user1:Password1
    if (r.headers.count("authorization") == 0 ||
        r.headers.at("authorization") != "Basic dXNlcjE6UGFzc3dvcmQx") {
      return {401, {{"WWW-Authenticate", "Basic realm=\"taxii\""}}, R"({"title":"Unauthorized"})"};
    }
    const std::vector<std::pair<std::string, std::string>> type = {{"Content-Type", kMedia}};
    const std::string path = r.target();
    if (path == "/taxii2/") {
      return {200, type, replaceAll(data_["/discovery"].dump(), "http://localhost:5000", base)};
    }
    // /<root>/, /<root>/collections/, /<root>/collections/<id>/objects/
    std::vector<std::string> parts;
    for (size_t p = 1; p < path.size();) {
      size_t e = path.find('/', p);
      if (e == std::string::npos) e = path.size();
      parts.push_back(path.substr(p, e - p));
      p = e + 1;
    }
    if (parts.empty() || !data_.contains(parts[0])) return {404, type, R"({"title":"Not Found"})"};
    const auto& root = data_[parts[0]];
    if (parts.size() == 1) return {200, type, root["information"].dump()};
    if (parts.size() == 2 && parts[1] == "collections") {
      nlohmann::json cols = nlohmann::json::array();
      for (auto c : root["collections"]) {
        c.erase("objects");
        c.erase("manifest");
        cols.push_back(c);
      }
      return {200, type, nlohmann::json{{"collections", cols}}.dump()};
    }
    if (parts.size() == 4 && parts[1] == "collections" && parts[3] == "objects") {
      for (const auto& c : root["collections"]) {
        if (c["id"] != parts[2]) continue;
        return objects(c, r, type);
      }
    }
    return {404, type, R"({"title":"Not Found"})"};
  }

 private:
  // The last version of each object, in date_added order, filtered like medallion.
  HttpReply objects(const nlohmann::json& c, const HttpRequest& r,
                    const std::vector<std::pair<std::string, std::string>>& type) {
    struct Item {
      std::string added;
      nlohmann::json object;
    };
    std::map<std::string, Item> last;  // id → newest version
    for (const auto& o : c["objects"]) {
      const std::string id = o["id"];
      const std::string version = o.value("modified", o.value("created", ""));
      std::string added;
      for (const auto& m : c["manifest"]) {
        if (m["id"] == id && m["version"] == version) added = m["date_added"];
      }
      auto it = last.find(id);
      if (it == last.end() || it->second.object.value("modified", "") < version) {
        last[id] = {added, o};
      }
    }
    std::vector<Item> items;
    const std::string want_type = r.query("match[type]");
    const std::string after = r.query("added_after");
    for (auto& [_, it] : last) {
      if (!want_type.empty() && it.object["type"] != want_type) continue;
      if (!after.empty() && it.added.substr(0, 19) <= after.substr(0, 19)) continue;
      items.push_back(it);
    }
    std::sort(items.begin(), items.end(),
              [](const Item& a, const Item& b) { return a.added < b.added; });
    size_t from = 0;
    const std::string next = r.query("next");
    if (!next.empty()) {
      std::lock_guard<std::mutex> l(*mu_);
      auto it = cursors_.find(next);
      if (it == cursors_.end()) return {400, type, R"({"title":"unknown next"})"};
      from = it->second;
    }
    const std::string lim = r.query("limit");
    const size_t limit = lim.empty() ? 100 : std::stoul(lim);
    const size_t to = std::min(items.size(), from + limit);
    if (from >= to) return {200, type, "{}"};
    nlohmann::json env = {{"more", to < items.size()}, {"objects", nlohmann::json::array()}};
    for (size_t i = from; i < to; ++i) env["objects"].push_back(items[i].object);
    if (to < items.size()) {
      std::lock_guard<std::mutex> l(*mu_);
      const std::string cursor = "cursor-" + std::to_string(++counter_);
      cursors_[cursor] = to;
      env["next"] = cursor;
    }
    auto headers = type;
    headers.emplace_back("X-TAXII-Date-Added-First", items[from].added);
    headers.emplace_back("X-TAXII-Date-Added-Last", items[to - 1].added);
    return {200, headers, env.dump()};
  }

  nlohmann::json data_;
  std::shared_ptr<std::mutex> mu_ = std::make_shared<std::mutex>();
  std::map<std::string, size_t> cursors_;
  int counter_ = 0;
};

}  // namespace riposte::testing

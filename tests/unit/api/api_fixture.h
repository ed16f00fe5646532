// A real `serve` loop (engine, store, API on a random loopback port) for API tests, with one
// user and one token per role.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "riposte/api/auth.h"
#include "riposte/core/registry.h"
#include "riposte/engine/serve.h"
#include "riposte/store/sqlite_store.h"
#include "support/http_client.h"
#include "support/test_support.h"

namespace riposte::api {

inline const char* kPassword = "correct horse battery";
inline const char* kThresholdDetector =
    "detectors:\n  - name: ssh-bruteforce\n    type: threshold\n"
    "    kinds: [auth]\n    outcome: failure\n    threshold: 3\n    window: 60s\n";

class ApiServer {
 public:
  // `api_extra` is appended under `api:` (indented two spaces per line by the caller).
  explicit ApiServer(const std::string& api_extra = "", const std::string& response_extra = "",
                     const std::string& detectors = kThresholdDetector) {
    EXPECT_TRUE(registerBuiltins(registries_).isOk());
    db_ = (dir_.path() / "r.db").string();
    actions_ = (dir_.path() / "actions.jsonl").string();
    const std::string yaml = "store:\n  path: " + db_ + "\n" + detectors +
                             "actions:\n  - name: log\n    type: log\n    path: " + actions_ +
                             "\n"
                             "response:\n  allowlist: [192.0.2.0/24]\n" +
                             response_extra + "api:\n  listen: 127.0.0.1:0\n" + api_extra;
    auto cfg = parseConfig(yaml, "test.yaml", &registries_);
    EXPECT_TRUE(cfg.isOk()) << cfg.status().toString();
    config_ = *cfg;
    {
      // Accounts before the server starts, straight into the store.
      auto store = SqliteStore::open(db_);
      EXPECT_TRUE(store.isOk());
      for (const char* role : {"viewer", "analyst", "admin", "ingest"}) {
        EXPECT_TRUE(addUser(**store, role, *roleFromName(role), kPassword, "test").isOk());
        auto t = createToken(**store, role, "test", "test");
        EXPECT_TRUE(t.isOk());
        tokens_[role] = t->secret;
      }
    }
    start();
  }
  ~ApiServer() {
    stop_ = true;
    thread_.join();
  }

  // Stops `serve` and starts it again on the same store (a new port).
  void restart() {
    stop_ = true;
    thread_.join();
    stop_ = false;
    done_ = false;
    port_ = 0;
    start();
  }

  int port() const { return port_.load(); }
  const std::string& token(const std::string& role) { return tokens_[role]; }
  const std::string& db() const { return db_; }
  const std::string& actionsFile() const { return actions_; }

  testing::HttpReply call(const std::string& method, const std::string& path,
                          const std::string& role, const std::string& body = "",
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
    if (!role.empty()) headers.emplace_back("Authorization", "Bearer " + tokens_[role]);
    return testing::httpRequest(port(), method, path, body, headers);
  }

 private:
  void start() {
    ServeOptions so;
    so.idle_sleep = std::chrono::milliseconds(20);
    so.on_listening = [this](uint16_t p) { port_ = p; };
    thread_ = std::thread([this, so] {
      Status st = serve(config_, registries_, stop_, so);
      if (!st.isOk()) error_ = st.toString();
      done_ = true;
    });
    EXPECT_TRUE(testing::waitFor([&] { return port_.load() != 0 || done_.load(); }, 20000))
        << error_;
    EXPECT_NE(port_.load(), 0) << error_;
  }

  testing::TempDir dir_;
  Registries registries_;
  Config config_;
  std::string db_, actions_;
  std::map<std::string, std::string> tokens_;
  std::atomic<bool> stop_{false}, done_{false};
  std::atomic<int> port_{0};
  std::string error_;
  std::thread thread_;
};

inline nlohmann::json bodyJson(const testing::HttpReply& r) {
  return nlohmann::json::parse(r.body, nullptr, false);
}

inline std::string errorCode(const testing::HttpReply& r) {
  auto j = bodyJson(r);
  if (!j.is_object() || !j.contains("error")) return "";
  return j["error"].value("code", "");
}

// sshd lines of a brute force from `ip`, as NDJSON raw events for POST /api/v1/events.
inline std::string bruteForceNdjson(const std::string& ip, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    nlohmann::json j = {{"type", "sshd"},
                        {"message", "Mar  3 10:15:4" + std::to_string(i % 10) + " web1 sshd[12" +
                                        std::to_string(i) + "]: Failed password for root from " +
                                        ip + " port 5124" + std::to_string(i) + " ssh2"}};
    out += j.dump() + "\n";
  }
  return out;
}

}  // namespace riposte::api

// Hostile and broken clients: bad JSON, oversized bodies, slowloris, many idle connections,
// unknown routes; errors are JSON with stable codes and carry no internals.
#include <unistd.h>

#include "api_fixture.h"

namespace riposte::api {
namespace {

TEST(ApiHardening, BadJsonIsA400WithAStableCode) {
  ApiServer srv;
  for (const std::string body : {"{not json", "[1,2,3]", "\"text\"", "{\"target\": 5}"}) {
    auto r = srv.call("POST", "/api/v1/decisions", "analyst", body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    const std::string code = errorCode(r);
    EXPECT_TRUE(code == "bad_json" || code == "invalid_argument") << code;
    auto j = bodyJson(r);
    EXPECT_TRUE(j["error"]["message"].is_string());
    // No exception texts or internals.
    EXPECT_EQ(r.body.find("nlohmann"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("what()"), std::string::npos) << r.body;
  }
  auto bad_ingest = srv.call("POST", "/api/v1/events", "ingest", "{\"a\":1}\n{broken\n");
  EXPECT_EQ(bad_ingest.status, 400);
  EXPECT_NE(bodyJson(bad_ingest)["error"]["message"].get<std::string>().find("line 2"),
            std::string::npos)
      << bad_ingest.body;
  auto bad_type = srv.call("POST", "/api/v1/events", "ingest",
                           R"([{"type":"nope","message":"x"}])");
  EXPECT_EQ(bad_type.status, 400);
  EXPECT_EQ(errorCode(bad_type), "bad_event");
  auto wrong_ct = srv.call("POST", "/api/v1/decisions", "analyst", "target=1.2.3.4",
                           {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(wrong_ct.status, 415);
}

TEST(ApiHardening, OversizedBodyIs413AndNotRead) {
  ApiServer srv("  max_body_bytes: 2048\n");
  const std::string big = "[" + std::string(8000, ' ') + "]";
  auto r = srv.call("POST", "/api/v1/events", "ingest", big);
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(errorCode(r), "payload_too_large");
  // A declared length over the limit is refused before any body byte is sent.
  const int fd = testing::connectLoopback(srv.port());
  ASSERT_GE(fd, 0);
  testing::sendAll(fd, "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           srv.token("ingest") + "\r\nContent-Length: 100000000\r\n\r\n");
  const std::string answer = testing::readSome(fd, 5000, "\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer;
  ::close(fd);
  // Within the limit is fine.
  auto small = srv.call("POST", "/api/v1/events", "ingest", bruteForceNdjson("203.0.113.5", 2));
  EXPECT_EQ(small.status, 202) << small.body;
}

TEST(ApiHardening, UnknownRouteAndWrongMethod) {
  ApiServer srv;
  auto r = srv.call("GET", "/api/v1/nope", "admin");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(errorCode(r), "not_found");
  auto m = srv.call("DELETE", "/api/v1/mode", "admin");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(errorCode(m), "method_not_allowed");
  auto lim = srv.call("GET", "/api/v1/decisions?limit=0", "viewer");
  EXPECT_EQ(lim.status, 400);
  auto bad_state = srv.call("GET", "/api/v1/decisions?state=sideways", "viewer");
  EXPECT_EQ(bad_state.status, 400);
  auto garbage = testing::connectLoopback(srv.port());
  testing::sendAll(garbage, "NOT HTTP AT ALL\r\n\r\n");
  const std::string answer = testing::readSome(garbage, 3000, "\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  ::close(garbage);
}

TEST(ApiHardening, SlowlorisAndIdleConnectionsDoNotStopOthers) {
  ApiServer srv("  header_timeout: 1s\n  idle_timeout: 2s\n  max_connections: 400\n");
  std::vector<int> slow;
  std::vector<int> idle;
  for (int i = 0; i < 40; ++i) {
    const int fd = testing::connectLoopback(srv.port());
    ASSERT_GE(fd, 0);
    testing::sendAll(fd, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    slow.push_back(fd);
  }
  for (int i = 0; i < 200; ++i) {
    const int fd = testing::connectLoopback(srv.port());
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  // Meanwhile a normal client is answered, promptly, many times.
  for (int i = 0; i < 20; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = srv.call("GET", "/api/v1/mode", "viewer");
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - t0)
                        .count();
    ASSERT_EQ(r.status, 200);
    EXPECT_LT(ms, 1000);
  }
  // The slow senders keep trickling bytes, yet are cut off at the header deadline.
  for (int k = 0; k < 3; ++k) {
    for (int fd : slow) testing::sendAll(fd, "a");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  int closed = 0;
  for (int fd : slow) closed += testing::waitClosed(fd, 3000) ? 1 : 0;
  EXPECT_EQ(closed, static_cast<int>(slow.size()));
  int idle_closed = 0;
  for (int fd : idle) idle_closed += testing::waitClosed(fd, 3000) ? 1 : 0;
  EXPECT_EQ(idle_closed, static_cast<int>(idle.size()));
  for (int fd : slow) ::close(fd);
  for (int fd : idle) ::close(fd);
  auto m = srv.call("GET", "/metrics", "viewer");
  EXPECT_NE(m.body.find("riposte_api_timeouts_total"), std::string::npos);
}

TEST(ApiHardening, ConnectionsBeyondTheCapAreClosedAtOnce) {
  ApiServer srv("  max_connections: 10\n  header_timeout: 5s\n");
  std::vector<int> held;
  for (int i = 0; i < 10; ++i) held.push_back(testing::connectLoopback(srv.port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int extra = testing::connectLoopback(srv.port());
  ASSERT_GE(extra, 0);
  EXPECT_TRUE(testing::waitClosed(extra, 2000));
  ::close(extra);
  for (int fd : held) ::close(fd);
  // Freed slots are usable again.
  ASSERT_TRUE(testing::waitFor([&] { return srv.call("GET", "/api/v1/health", "").status == 200; },
                               5000));
}

TEST(ApiHardening, KeepAliveServesSeveralRequestsOnOneConnection) {
  ApiServer srv;
  const int fd = testing::connectLoopback(srv.port());
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 3; ++i) {
    testing::sendAll(fd, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::string a = testing::readSome(fd, 3000, "\"ok\"");
    EXPECT_EQ(a.rfind("HTTP/1.1 200", 0), 0u) << a;
  }
  ::close(fd);
}

}  // namespace
}  // namespace riposte::api

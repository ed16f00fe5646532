// Incidents over real HTTP: list with filters and pages, one incident with its findings and
// decisions, status changes by analysts (audited, streamed), and the errors.
#include <unistd.h>

#include "api_fixture.h"

namespace riposte::api {
namespace {

nlohmann::json items(ApiServer& srv, const std::string& path, const std::string& role = "viewer") {
  auto r = srv.call("GET", path, role);
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  return bodyJson(r)["items"];
}

// Ingests a brute force and waits for its incident; returns the incident.
nlohmann::json attackAndWait(ApiServer& srv, const std::string& ip) {
  auto r = srv.call("POST", "/api/v1/events", "ingest", bruteForceNdjson(ip, 3),
                    {{"Content-Type", "application/x-ndjson"}});
  EXPECT_EQ(r.status, 202) << r.body;
  nlohmann::json found;
  EXPECT_TRUE(testing::waitFor([&] {
    auto list = items(srv, "/api/v1/incidents?target=" + ip);
    if (list.empty()) return false;
    found = list[0];
    return true;
  }));
  return found;
}

TEST(ApiIncidents, AnAttackBecomesAnIncidentWithItsFindingsAndDecisions) {
  ApiServer srv;
  const auto inc = attackAndWait(srv, "203.0.113.40");
  ASSERT_TRUE(inc.is_object());
  EXPECT_EQ(inc["status"], "open");
  EXPECT_EQ(inc["scope"], "ip");
  EXPECT_EQ(inc["findings"], 1);
  EXPECT_EQ(inc["title"], "ssh-bruteforce on 203.0.113.40");
  ASSERT_EQ(inc["decisions"].size(), 1u);

  auto one = srv.call("GET", "/api/v1/incidents/" + inc["id"].get<std::string>(), "viewer");
  ASSERT_EQ(one.status, 200) << one.body;
  const auto j = bodyJson(one);
  ASSERT_EQ(j["finding_items"].size(), 1u) << one.body;
  EXPECT_EQ(j["finding_items"][0]["detector"], "ssh-bruteforce");
  EXPECT_EQ(j["finding_items"][0]["entity"], "203.0.113.40");
  ASSERT_EQ(j["decision_items"].size(), 1u) << one.body;
  EXPECT_EQ(j["decision_items"][0]["id"], inc["decisions"][0]);
  EXPECT_EQ(j["decision_items"][0]["target"], "203.0.113.40");

  auto missing = srv.call("GET", "/api/v1/incidents/nope", "viewer");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(errorCode(missing), "not_found");
}

TEST(ApiIncidents, ListFiltersAndPages) {
  ApiServer srv;
  const auto a = attackAndWait(srv, "203.0.113.41");
  const auto b = attackAndWait(srv, "203.0.113.42");
  const auto c = attackAndWait(srv, "203.0.113.43");
  auto all = items(srv, "/api/v1/incidents");
  ASSERT_EQ(all.size(), 3u);
  // Pages: 2 then 1, every incident once.
  auto p1 = srv.call("GET", "/api/v1/incidents?limit=2", "viewer");
  ASSERT_EQ(p1.status, 200);
  const auto j1 = bodyJson(p1);
  ASSERT_EQ(j1["items"].size(), 2u);
  ASSERT_TRUE(j1["next_cursor"].is_string()) << p1.body;
  auto p2 = items(srv, "/api/v1/incidents?limit=2&cursor=" + j1["next_cursor"].get<std::string>());
  ASSERT_EQ(p2.size(), 1u);
  std::set<std::string> seen = {j1["items"][0]["id"], j1["items"][1]["id"], p2[0]["id"]};
  EXPECT_EQ(seen, (std::set<std::string>{a["id"], b["id"], c["id"]}));

  auto ack = srv.call("POST", "/api/v1/incidents/" + b["id"].get<std::string>() + "/status",
                      "analyst", R"({"status":"acknowledged","note":"mine"})");
  ASSERT_EQ(ack.status, 200) << ack.body;
  auto acked = items(srv, "/api/v1/incidents?status=acknowledged");
  ASSERT_EQ(acked.size(), 1u);
  EXPECT_EQ(acked[0]["id"], b["id"]);
  EXPECT_EQ(items(srv, "/api/v1/incidents?status=open").size(), 2u);
  EXPECT_EQ(items(srv, "/api/v1/incidents?status=all").size(), 3u);
  EXPECT_EQ(items(srv, "/api/v1/incidents?since=2099-01-01T00:00:00Z").size(), 0u);
  EXPECT_EQ(items(srv, "/api/v1/incidents?since=2000-01-01T00:00:00Z").size(), 3u);

  for (const char* bad : {"/api/v1/incidents?status=pending", "/api/v1/incidents?limit=0",
                          "/api/v1/incidents?since=yesterday"}) {
    auto r = srv.call("GET", bad, "viewer");
    EXPECT_EQ(r.status, 400) << bad << " " << r.body;
    EXPECT_EQ(errorCode(r), "invalid_argument") << bad;
  }
}

TEST(ApiIncidents, StatusChangesAreAuditedStreamedAndClosedIsFinal) {
  ApiServer srv;
  const auto inc = attackAndWait(srv, "203.0.113.44");
  const std::string path = "/api/v1/incidents/" + inc["id"].get<std::string>() + "/status";

  const int fd = testing::connectLoopback(srv.port());
  ASSERT_GE(fd, 0);
  testing::sendAll(fd, "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           srv.token("viewer") + "\r\n\r\n");
  ASSERT_NE(testing::readSome(fd, 5000, ": connected").find(": connected"), std::string::npos);

  // A viewer may not; bad bodies are refused with their codes.
  auto viewer = srv.call("POST", path, "viewer", R"({"status":"closed"})");
  EXPECT_EQ(viewer.status, 403);
  auto bad_json = srv.call("POST", path, "analyst", "{\"status\":");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(errorCode(bad_json), "bad_json");
  auto no_status = srv.call("POST", path, "analyst", R"({"note":"x"})");
  EXPECT_EQ(no_status.status, 400);
  EXPECT_EQ(errorCode(no_status), "invalid_argument");
  auto unknown = srv.call("POST", path, "analyst", R"({"status":"resolved"})");
  EXPECT_EQ(unknown.status, 400);
  auto wrong_type = srv.call("POST", path, "analyst", R"({"status":"closed","note":5})");
  EXPECT_EQ(wrong_type.status, 400);
  auto no_such =
      srv.call("POST", "/api/v1/incidents/nope/status", "analyst", R"({"status":"closed"})");
  EXPECT_EQ(no_such.status, 404) << no_such.body;

  auto ack = srv.call("POST", path, "analyst", R"({"status":"acknowledged","note":"on it"})");
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(bodyJson(ack)["status"], "acknowledged");
  EXPECT_EQ(bodyJson(ack)["status_by"], "api:analyst");
  EXPECT_EQ(bodyJson(ack)["status_note"], "on it");
  std::string got = testing::readSome(fd, 5000, "\"acknowledged\"");
  EXPECT_NE(got.find("event: incident"), std::string::npos) << got;
  ::close(fd);

  auto close = srv.call("POST", path, "admin", R"({"status":"closed","note":"blocked"})");
  ASSERT_EQ(close.status, 200) << close.body;
  auto again = srv.call("POST", path, "analyst", R"({"status":"open"})");
  EXPECT_EQ(again.status, 409) << again.body;

  auto audit = items(srv, "/api/v1/audit?kind=incident.status", "admin");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0]["actor"], "api:admin");  // newest first
  EXPECT_EQ(audit[0]["reason"], "acknowledged -> closed: blocked");
  EXPECT_EQ(audit[1]["actor"], "api:analyst");
  EXPECT_EQ(audit[0]["target"], "203.0.113.44");

  // A closed incident is not extended: the next attack from the same address opens a new one.
  srv.call("POST", "/api/v1/events", "ingest", bruteForceNdjson("203.0.113.44", 6),
           {{"Content-Type", "application/x-ndjson"}});
  EXPECT_TRUE(testing::waitFor(
      [&] { return items(srv, "/api/v1/incidents?target=203.0.113.44").size() == 2; }));
  auto open = items(srv, "/api/v1/incidents?target=203.0.113.44&status=open");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_NE(open[0]["id"], inc["id"]);
}

TEST(ApiIncidents, OpenIncidentsContinueAcrossARestart) {
  ApiServer srv;
  const auto inc = attackAndWait(srv, "203.0.113.45");
  srv.restart();
  srv.call("POST", "/api/v1/events", "ingest", bruteForceNdjson("203.0.113.45", 6),
           {{"Content-Type", "application/x-ndjson"}});
  EXPECT_TRUE(testing::waitFor([&] {
    auto list = items(srv, "/api/v1/incidents?target=203.0.113.45");
    return list.size() == 1 && list[0]["findings"].get<int>() >= 2;
  })) << items(srv, "/api/v1/incidents?target=203.0.113.45").dump();
  auto list = items(srv, "/api/v1/incidents?target=203.0.113.45");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], inc["id"]);
}

}  // namespace
}  // namespace riposte::api

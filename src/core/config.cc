#include "riposte/core/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "riposte/core/allowlist_entry.h"
#include "riposte/core/ip.h"
#include "riposte/core/registry.h"
#include "riposte/core/target.h"
#include "riposte/net/redis_url.h"

namespace riposte {

namespace {

constexpr size_t kMaxConfigBytes = 4 * 1024 * 1024;  // limits before parsing

int lineOf(const std::string& text, size_t pos) {
  int line = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) line += text[i] == '\n' ? 1 : 0;
  return line;
}

std::string join(const std::vector<ConfigDiagnostic>& d) {
  std::string s;
  for (const auto& x : d) s += (s.empty() ? "" : "\n") + x.toString();
  return s;
}

std::string childPath(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

const std::set<std::string> kTopKeys = {"engine",  "store", "sources", "detectors", "response",
                                        "actions", "intel", "api",     "cluster",   "incidents"};
const std::set<std::string> kIncidentsKeys = {"enabled", "gap", "max_open"};
const std::set<std::string> kIntelCacheKeys = {"type", "url", "ttl", "refresh", "prefix"};
const std::set<std::string> kClusterKeys = {"redis", "node",   "prefix", "reconcile_interval",
                                            "role",  "streams"};
const std::set<std::string> kStreamsKeys = {"partitions", "lease", "replay", "max_len", "batch"};

// A redis:// URL at `key` of `map`, checked; "" when absent.
std::string getRedisUrl(const ConfigReader& rd, const YAML::Node& map, const std::string& path,
                        const std::string& key, bool required) {
  const std::string url = rd.getString(map, path, key, "", required);
  if (url.empty()) return url;
  net::RedisOptions o;
  if (Status st = net::parseRedisUrl(url, o); !st.isOk()) {
    rd.error(map[key], childPath(path, key), st.message());
  }
  return url;
}

// Names used in Redis keys: no spaces, no glob characters.
void checkKeyPrefix(const ConfigReader& rd, const YAML::Node& map, const std::string& path,
                    const std::string& key, const std::string& value) {
  for (char ch : value) {
    if (ch == ' ' || ch == '*' || ch == '?' || ch == '[' || ch == ']' || ch == '\\' ||
        static_cast<unsigned char>(ch) < 0x20) {
      rd.error(map[key], childPath(path, key),
               "'" + value + "' may not contain spaces, control or glob characters (*?[]\\)");
      return;
    }
  }
}
// Each entry of `map[allowlist]` must be in the allowlist syntax (core/allowlist_entry.h).
void checkAllowlistEntries(const ConfigReader& rd, const YAML::Node& map, const std::string& path,
                           const std::vector<std::string>& entries) {
  for (size_t i = 0; i < entries.size(); ++i) {
    if (auto e = parseAllowlistEntry(entries[i]); !e) {
      const YAML::Node list = map["allowlist"];
      rd.error(list.IsSequence() ? list[i] : list, path + ".allowlist[" + std::to_string(i) + "]",
               e.status().message());
    }
  }
}
const std::set<std::string> kEngineKeys = {"log_level", "log_format",  "dry_run",
                                           "data_dir",  "dead_letter", "threads"};
const std::set<std::string> kDeadLetterKeys = {"path", "max_bytes", "keep", "per_second"};
// Every built-in store's keys; each store checks its own when the registries are given.
const std::set<std::string> kStoreKeys = {"type",
                                          "path",
                                          "url",
                                          "retention_days",
                                          "spill_path",
                                          "spill_max_bytes",
                                          "retry_interval",
                                          "connect_timeout",
                                          "event_log"};
const std::set<std::string> kSourceKeys = {"name",   "type",     "path", "paths",
                                           "parser", "start_at", "year"};
const std::set<std::string> kResponseKeys = {"default_duration",
                                             "allowlist",
                                             "allowlist_own_addresses",
                                             "max_blocks_per_minute",
                                             "max_active_blocks",
                                             "notify",
                                             "action_timeout",
                                             "action_attempts",
                                             "retry_backoff",
                                             "queue_capacity",
                                             "reconcile_interval",
                                             "approval",
                                             "escalation",
                                             "ipv6_prefix",
                                             "by_action",
                                             "allowlist_gateways",
                                             "allowlist_refresh",
                                             "customers",
                                             "customers_file"};
const std::set<std::string> kCustomerKeys = {"name", "allowlist"};
const std::set<std::string> kApprovalKeys = {"targets", "actions", "timeout", "default"};

const std::set<std::string> kApiKeys = {"listen",
                                        "tls",
                                        "threads",
                                        "max_body_bytes",
                                        "header_timeout",
                                        "body_timeout",
                                        "idle_timeout",
                                        "max_connections",
                                        "max_streams",
                                        "session_ttl",
                                        "login_max_failures",
                                        "login_window",
                                        "ingest_queue",
                                        "command_timeout",
                                        "metrics_public",
                                        "console_dir"};

void readApi(const YAML::Node& a, const ConfigReader& rd, ApiConfig& api) {
  rd.checkKeys(a, "api", kApiKeys);  // unknown keys reported; the rest is still checked
  if (!a.IsMap()) return;
  if (a["listen"]) {
    const std::string listen = rd.getString(a, "api", "listen", "");
    if (Status st = parseListenAddress(listen, api.host, api.port); !st.isOk()) {
      rd.error(a["listen"], "api.listen", st.message());
    } else {
      api.enabled = true;
    }
  }
  if (const YAML::Node t = a["tls"]) {
    if (rd.checkKeys(t, "api.tls", {"cert", "key"})) {
      api.tls_cert = rd.getString(t, "api.tls", "cert", "", true);
      api.tls_key = rd.getString(t, "api.tls", "key", "", true);
    }
  }
  api.threads = static_cast<int>(rd.getInt(a, "api", "threads", api.threads, 1, 64));
  api.max_body_bytes = static_cast<uint64_t>(rd.getInt(
      a, "api", "max_body_bytes", static_cast<int64_t>(api.max_body_bytes), 1024, 1LL << 30));
  api.header_timeout = rd.getDuration(a, "api", "header_timeout", api.header_timeout);
  api.body_timeout = rd.getDuration(a, "api", "body_timeout", api.body_timeout);
  api.idle_timeout = rd.getDuration(a, "api", "idle_timeout", api.idle_timeout);
  api.max_connections = static_cast<uint32_t>(
      rd.getInt(a, "api", "max_connections", api.max_connections, 1, 1'000'000));
  api.max_streams =
      static_cast<uint32_t>(rd.getInt(a, "api", "max_streams", api.max_streams, 0, 100'000));
  api.session_ttl = rd.getDuration(a, "api", "session_ttl", api.session_ttl);
  api.login_max_failures = static_cast<uint32_t>(
      rd.getInt(a, "api", "login_max_failures", api.login_max_failures, 1, 1'000'000));
  api.login_window = rd.getDuration(a, "api", "login_window", api.login_window);
  api.ingest_queue =
      static_cast<uint32_t>(rd.getInt(a, "api", "ingest_queue", api.ingest_queue, 1, 100'000'000));
  api.command_timeout = rd.getDuration(a, "api", "command_timeout", api.command_timeout);
  api.metrics_public = rd.getBool(a, "api", "metrics_public", api.metrics_public);
  api.console_dir = rd.getString(a, "api", "console_dir", api.console_dir);
  for (const char* k : {"header_timeout", "body_timeout", "idle_timeout", "session_ttl",
                        "login_window", "command_timeout"}) {
    if (a[k] && rd.getDuration(a, "api", k, Duration(1)).count() <= 0) {
      rd.error(a[k], std::string("api.") + k, "must be longer than zero");
    }
  }
}

// `escalation` (a list of durations, or {durations, lookback}) and `ipv6_prefix` in `n`, over
// the values in `base`.
ResponseTuning readTuning(const YAML::Node& n, const std::string& path, const ConfigReader& rd,
                          ResponseTuning base) {
  if (const YAML::Node e = n["escalation"]) {
    const std::string ep = path + ".escalation";
    // Copies, never assignments: assigning a YAML::Node rewrites the node it refers to.
    const YAML::Node list = e.IsMap() ? YAML::Node(e["durations"]) : e;
    if (e.IsMap()) {
      rd.checkKeys(e, ep, {"durations", "lookback"});
      base.escalation_lookback = rd.getDuration(e, ep, "lookback", base.escalation_lookback);
      if (base.escalation_lookback.count() <= 0) {
        rd.error(e["lookback"], ep + ".lookback", "must be positive");
      }
      if (!list) rd.error(e, ep + ".durations", "a list of durations is required");
    }
    if (list && !list.IsSequence()) {
      rd.error(list, ep, "a list of durations such as [1h, 4h, 24h, 7d]");
    } else if (list) {
      base.escalation.clear();
      for (size_t i = 0; i < list.size(); ++i) {
        const std::string ip = ep + "[" + std::to_string(i) + "]";
        auto d = list[i].IsScalar() ? parseDuration(list[i].Scalar())
                                    : Result<Duration>(Status::invalidArgument("not a duration"));
        if (!d || d->count() <= 0) {
          rd.error(list[i], ip, "must be a positive duration such as 4h");
          continue;
        }
        if (!base.escalation.empty() && *d < base.escalation.back()) {
          rd.error(list[i], ip, "a ladder never shortens: shorter than the step before");
        }
        base.escalation.push_back(*d);
      }
    }
  }
  base.ipv6_prefix =
      static_cast<uint32_t>(rd.getInt(n, path, "ipv6_prefix", base.ipv6_prefix, 1, 128));
  return base;
}

// Checks a list of components (name + type + factory keys) against a registry.
template <typename R>
std::vector<ComponentConfig> readComponents(const YAML::Node& root, const std::string& key,
                                            const ConfigReader& rd, const R* registry) {
  std::vector<ComponentConfig> out;
  const YAML::Node list = root[key];
  if (!list) return out;
  if (!list.IsSequence()) {
    rd.error(list, key, "must be a list");
    return out;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node n = list[i];
    const std::string path = key + "[" + std::to_string(i) + "]";
    if (!n.IsMap()) {
      rd.error(n, path, "must be a map with at least 'type'");
      continue;
    }
    ComponentConfig c;
    c.path = path;
    c.node = n;
    c.type = rd.getString(n, path, "type", "", true);
    c.name = rd.getString(n, path, "name", c.type);
    if (!c.name.empty() && !names.insert(c.name).second) {
      rd.error(n["name"], path + ".name", "duplicate name '" + c.name + "'");
    }
    if (registry != nullptr && !c.type.empty()) {
      const auto* entry = registry->find(c.type);
      if (entry == nullptr) {
        rd.error(n["type"], path + ".type",
                 "unknown " + registry->category() + " type '" + c.type +
                     "' (known: " + registry->namesJoined() + ")");
      } else if (entry->validate) {
        entry->validate(c, rd);
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

const std::set<std::string>& sourceCommonKeys() { return kSourceKeys; }
bool validClusterRole(const std::string& role) {
  return role == "all" || role == "ingest" || role == "analyze" || role == "enforce";
}

Status parseListenAddress(const std::string& s, std::string& host, uint16_t& port) {
  std::string h;
  std::string p;
  if (!s.empty() && s.front() == '[') {
    const size_t close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return Status::invalidArgument("'" + s + "' is not [address]:port");
    }
    h = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else {
    const size_t colon = s.rfind(':');
    if (colon == std::string::npos || s.find(':') != colon) {
      return Status::invalidArgument("'" + s + "' is not address:port (IPv6: [address]:port)");
    }
    h = s.substr(0, colon);
    p = s.substr(colon + 1);
  }
  if (h.empty()) h = "127.0.0.1";
  if (!IpAddress::parse(h)) {
    return Status::invalidArgument("'" + h + "' is not an IP address");
  }
  char* end = nullptr;
  const long v = std::strtol(p.c_str(), &end, 10);
  if (p.empty() || end == nullptr || *end != '\0' || v < 0 || v > 65535) {
    return Status::invalidArgument("'" + p + "' is not a port number (0-65535)");
  }
  host = h;
  port = static_cast<uint16_t>(v);
  return Status::ok();
}

std::string ConfigDiagnostic::toString() const {
  std::string s = file.empty() ? "<config>" : file;
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
  s += ": ";
  if (!path.empty()) s += path + ": ";
  return s + message;
}

void ConfigReader::error(const YAML::Node& at, const std::string& path,
                         const std::string& message) const {
  ConfigDiagnostic d{file_, 0, 0, path, message};
  if (at.IsDefined() && at.Mark().line >= 0) {
    d.line = at.Mark().line + 1;
    d.column = at.Mark().column + 1;
  }
  out_->push_back(std::move(d));
}

bool ConfigReader::checkKeys(const YAML::Node& node, const std::string& path,
                             const std::set<std::string>& allowed) const {
  if (!node.IsMap()) {
    error(node, path, "must be a map");
    return false;
  }
  bool ok = true;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string k = it->first.as<std::string>("");
    if (allowed.count(k) == 0) {
      std::string known;
      for (const auto& a : allowed) known += (known.empty() ? "" : ", ") + a;
      error(it->first, childPath(path, k), "unknown key (allowed here: " + known + ")");
      ok = false;
    }
  }
  return ok;
}

std::string ConfigReader::getString(const YAML::Node& map, const std::string& path,
                                    const std::string& key, const std::string& def,
                                    bool required) const {
  const YAML::Node n = map[key];
  if (!n) {
    if (required) error(map, childPath(path, key), "is required");
    return def;
  }
  if (!n.IsScalar()) {
    error(n, childPath(path, key), "must be a string");
    return def;
  }
  return n.Scalar();
}

int64_t ConfigReader::getInt(const YAML::Node& map, const std::string& path, const std::string& key,
                             int64_t def, int64_t min, int64_t max) const {
  const YAML::Node n = map[key];
  if (!n) return def;
  int64_t v = 0;
  if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v)) {
    error(n, childPath(path, key), "must be an integer");
    return def;
  }
  if (v < min || v > max) {
    error(n, childPath(path, key),
          "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return def;
  }
  return v;
}

bool ConfigReader::getBool(const YAML::Node& map, const std::string& path, const std::string& key,
                           bool def) const {
  const YAML::Node n = map[key];
  if (!n) return def;
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
    error(n, childPath(path, key), "must be true or false");
    return def;
  }
  return v;
}

Duration ConfigReader::getDuration(const YAML::Node& map, const std::string& path,
                                   const std::string& key, Duration def) const {
  const YAML::Node n = map[key];
  if (!n) return def;
  if (!n.IsScalar()) {
    error(n, childPath(path, key), "must be a duration such as 90s, 10m, 4h, 30d");
    return def;
  }
  auto d = parseDuration(n.Scalar());
  if (!d) {
    error(n, childPath(path, key), d.status().message());
    return def;
  }
  return *d;
}

std::vector<std::string> ConfigReader::getStringList(const YAML::Node& map, const std::string& path,
                                                     const std::string& key) const {
  std::vector<std::string> out;
  const YAML::Node n = map[key];
  if (!n) return out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
    return out;
  }
  if (!n.IsSequence()) {
    error(n, childPath(path, key), "must be a list of strings");
    return out;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar()) {
      error(n[i], childPath(path, key) + "[" + std::to_string(i) + "]", "must be a string");
      continue;
    }
    out.push_back(n[i].Scalar());
  }
  return out;
}

Result<std::string> substituteEnv(const std::string& text, const std::string& file) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  bool in_single = false;
  bool in_double = false;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      in_single = in_double = false;
    } else if (c == '\'' && !in_double) {
      in_single = !in_single;
    } else if (c == '"' && !in_single && (i == 0 || text[i - 1] != '\\')) {
      in_double = !in_double;
    } else if (c == '#' && !in_single && !in_double &&
               (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n')) {
      // A comment: copied as it is, no substitution.
      const size_t nl = text.find('\n', i);
      const size_t end = nl == std::string::npos ? text.size() : nl;
      out.append(text, i, end - i);
      i = end;
      continue;
    }
    if (c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      const size_t close = text.find('}', i + 2);
      if (close == std::string::npos) {
        return Status::parseError(file + ":" + std::to_string(lineOf(text, i)) +
                                  ": unterminated ${...}");
      }
      std::string inner = text.substr(i + 2, close - i - 2);
      std::string def;
      bool has_def = false;
      if (const size_t d = inner.find(":-"); d != std::string::npos) {
        def = inner.substr(d + 2);
        inner = inner.substr(0, d);
        has_def = true;
      }
      const char* v = std::getenv(inner.c_str());
      if (v != nullptr) {
        out += v;
      } else if (has_def) {
        out += def;
      } else {
        return Status::invalidArgument(file + ":" + std::to_string(lineOf(text, i)) +
                                       ": environment variable '" + inner + "' is not set (use ${" +
                                       inner + ":-default} for a default)");
      }
      i = close + 1;
      continue;
    }
    if (c == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';  // "$$" escapes a literal dollar
      i += 2;
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

Result<Config> parseConfig(const std::string& raw, const std::string& file,
                           const Registries* registries,
                           std::vector<ConfigDiagnostic>* diagnostics) {
  std::vector<ConfigDiagnostic> local;
  std::vector<ConfigDiagnostic>& diags = diagnostics != nullptr ? *diagnostics : local;
  if (raw.size() > kMaxConfigBytes) {
    diags.push_back({file, 0, 0, "", "file is larger than 4 MiB"});
    return Status::invalidArgument(join(diags));
  }
  auto text = substituteEnv(raw, file);
  if (!text) {
    diags.push_back({file, 0, 0, "", text.status().message()});
    return text.status();
  }
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    diags.push_back({file, e.mark.line + 1, e.mark.column + 1, "", "malformed YAML: " + e.msg});
    return Status::parseError(join(diags));
  }
  ConfigReader rd(file, &diags);
  Config c;
  c.file = file;
  if (root.IsNull()) return c;  // empty file: all defaults
  try {
    if (!rd.checkKeys(root, "", kTopKeys)) {
      if (!root.IsMap()) return Status::invalidArgument(join(diags));
    }
    if (const YAML::Node e = root["engine"]) {
      if (rd.checkKeys(e, "engine", kEngineKeys)) {
        c.log_level = rd.getString(e, "engine", "log_level", c.log_level);
        static const std::set<std::string> kLevels = {"trace", "debug", "info",
                                                      "warn",  "error", "off"};
        if (kLevels.count(c.log_level) == 0) {
          rd.error(e["log_level"], "engine.log_level",
                   "must be one of trace, debug, info, warn, error, off");
        }
        c.log_format = rd.getString(e, "engine", "log_format", c.log_format);
        if (c.log_format != "text" && c.log_format != "json") {
          rd.error(e["log_format"], "engine.log_format", "must be text or json");
        }
        c.dry_run = rd.getBool(e, "engine", "dry_run", c.dry_run);
        c.data_dir = rd.getString(e, "engine", "data_dir", c.data_dir);
        c.threads = static_cast<uint32_t>(rd.getInt(e, "engine", "threads", c.threads, 0, 256));
        if (const YAML::Node dl = e["dead_letter"]) {
          const std::string dp = "engine.dead_letter";
          if (dl.IsScalar()) {
            c.dead_letter_path = dl.Scalar();
          } else if (rd.checkKeys(dl, dp, kDeadLetterKeys)) {
            c.dead_letter_path = rd.getString(dl, dp, "path", "", true);
            c.dead_letter_max_bytes = static_cast<uint64_t>(
                rd.getInt(dl, dp, "max_bytes", static_cast<int64_t>(c.dead_letter_max_bytes), 4096,
                          int64_t{1} << 40));
            c.dead_letter_keep =
                static_cast<uint32_t>(rd.getInt(dl, dp, "keep", c.dead_letter_keep, 0, 100));
            c.dead_letter_per_second = static_cast<uint32_t>(
                rd.getInt(dl, dp, "per_second", c.dead_letter_per_second, 0, 10'000'000));
          }
          if (dl.IsScalar() && c.dead_letter_path.empty()) {
            rd.error(dl, dp, "needs a file path");
          }
        }
      }
    }
    if (const YAML::Node s = root["store"]) {
      if (!s.IsMap()) {
        rd.error(s, "store", "must be a map");
      } else {
        c.store_node = s;
        c.store_type = rd.getString(s, "store", "type", c.store_type);
        c.store_path = rd.getString(s, "store", "path", c.store_path);
        const auto* entry = registries != nullptr ? registries->stores.find(c.store_type) : nullptr;
        if (registries != nullptr && entry == nullptr) {
          rd.error(s["type"], "store.type",
                   "unknown store type '" + c.store_type +
                       "' (known: " + registries->stores.namesJoined() + ")");
        } else if (entry != nullptr && entry->validate) {
          // The store's own keys (path for sqlite, url for postgres, ...).
          ComponentConfig cc;
          cc.name = "store";
          cc.type = c.store_type;
          cc.path = "store";
          cc.node = s;
          entry->validate(cc, rd);
        } else {
          rd.checkKeys(s, "store", kStoreKeys);
        }
      }
    }
    if (const YAML::Node srcs = root["sources"]) {
      auto comps = readComponents(root, "sources", rd,
                                  registries != nullptr ? &registries->sources : nullptr);
      for (auto& comp : comps) {
        SourceConfig sc;
        static_cast<ComponentConfig&>(sc) = comp;
        const YAML::Node n = comp.node;
        // A source type with its own keys checks them all in its validator.
        const auto* entry = registries != nullptr ? registries->sources.find(sc.type) : nullptr;
        if (entry == nullptr || !entry->validate) rd.checkKeys(n, comp.path, kSourceKeys);
        sc.paths = rd.getStringList(n, comp.path, "paths");
        for (auto& p : rd.getStringList(n, comp.path, "path")) sc.paths.push_back(p);
        sc.parser = rd.getString(n, comp.path, "parser", "", true);
        if (registries != nullptr && !sc.parser.empty() &&
            registries->parsers.find(sc.parser) == nullptr) {
          rd.error(n["parser"], comp.path + ".parser",
                   "unknown parser '" + sc.parser +
                       "' (known: " + registries->parsers.namesJoined() + ")");
        }
        const std::string start = rd.getString(n, comp.path, "start_at", "end");
        if (start != "beginning" && start != "end") {
          rd.error(n["start_at"], comp.path + ".start_at", "must be beginning or end");
        }
        sc.from_beginning = start == "beginning";
        if (n["year"]) sc.year = static_cast<int>(rd.getInt(n, comp.path, "year", 0, 1970, 9999));
        if (sc.type == "file" && sc.paths.empty()) {
          rd.error(n, comp.path, "a file source needs 'path' or 'paths'");
        }
        c.sources.push_back(std::move(sc));
      }
    }
    c.detectors = readComponents(root, "detectors", rd,
                                 registries != nullptr ? &registries->detectors : nullptr);
    c.actions =
        readComponents(root, "actions", rd, registries != nullptr ? &registries->actions : nullptr);
    // Every action may be put in dry run on its own (the engine reads the flag from the node).
    for (const auto& a : c.actions) (void)rd.getBool(a.node, a.path, "dry_run", false);
    if (const YAML::Node r = root["response"]) {
      if (rd.checkKeys(r, "response", kResponseKeys)) {
        c.default_duration = rd.getDuration(r, "response", "default_duration", c.default_duration);
        c.allowlist = rd.getStringList(r, "response", "allowlist");
        checkAllowlistEntries(rd, r, "response", c.allowlist);
        c.allowlist_own_addresses =
            rd.getBool(r, "response", "allowlist_own_addresses", c.allowlist_own_addresses);
        c.allowlist_gateways =
            rd.getBool(r, "response", "allowlist_gateways", c.allowlist_gateways);
        c.allowlist_refresh =
            rd.getDuration(r, "response", "allowlist_refresh", c.allowlist_refresh);
        c.customers_file = rd.getString(r, "response", "customers_file", "");
        if (const YAML::Node cs = r["customers"]) {
          if (!cs.IsSequence()) {
            rd.error(cs, "response.customers", "must be a list of {name, allowlist}");
          } else {
            for (size_t i = 0; i < cs.size(); ++i) {
              const std::string cp = "response.customers[" + std::to_string(i) + "]";
              if (!rd.checkKeys(cs[i], cp, kCustomerKeys)) continue;
              AllowlistCustomer cu;
              cu.name = rd.getString(cs[i], cp, "name", "", true);
              cu.entries = rd.getStringList(cs[i], cp, "allowlist");
              if (cu.entries.empty()) rd.error(cs[i], cp + ".allowlist", "lists nothing");
              checkAllowlistEntries(rd, cs[i], cp, cu.entries);
              c.customers.push_back(std::move(cu));
            }
          }
        }
        c.max_blocks_per_minute = static_cast<uint32_t>(rd.getInt(
            r, "response", "max_blocks_per_minute", c.max_blocks_per_minute, 0, 10'000'000));
        c.max_active_blocks = static_cast<uint32_t>(
            rd.getInt(r, "response", "max_active_blocks", c.max_active_blocks, 0, 100'000'000));
        c.notify = rd.getStringList(r, "response", "notify");
        c.action_timeout = rd.getDuration(r, "response", "action_timeout", c.action_timeout);
        c.action_attempts =
            static_cast<int>(rd.getInt(r, "response", "action_attempts", c.action_attempts, 1, 20));
        c.retry_backoff = rd.getDuration(r, "response", "retry_backoff", c.retry_backoff);
        c.queue_capacity = static_cast<uint32_t>(
            rd.getInt(r, "response", "queue_capacity", c.queue_capacity, 1, 10'000'000));
        c.reconcile_interval =
            rd.getDuration(r, "response", "reconcile_interval", c.reconcile_interval);
        if (const YAML::Node a = r["approval"]) {
          const std::string at = "response.approval";
          if (rd.checkKeys(a, at, kApprovalKeys)) {
            if (a["targets"]) c.approval_targets = rd.getStringList(a, at, "targets");
            for (size_t i = 0; i < c.approval_targets.size(); ++i) {
              if (!targetTypeFromName(c.approval_targets[i])) {
                rd.error(a["targets"][i], at + ".targets[" + std::to_string(i) + "]",
                         "'" + c.approval_targets[i] + "' is not ip, cidr, user or host");
              }
            }
            c.approval_actions = rd.getStringList(a, at, "actions");
            c.approval_timeout = rd.getDuration(a, at, "timeout", c.approval_timeout);
            if (c.approval_timeout.count() <= 0) {
              rd.error(a["timeout"], at + ".timeout", "must be > 0");
            }
            const std::string def = rd.getString(a, at, "default", "reject");
            if (def != "approve" && def != "reject") {
              rd.error(a["default"], at + ".default", "must be approve or reject");
            }
            c.approval_default_approve = def == "approve";
          }
        }
        c.tuning = readTuning(r, "response", rd, c.tuning);
        if (const YAML::Node b = r["by_action"]) {
          if (!b.IsMap()) {
            rd.error(b, "response.by_action", "a map of decision action -> overrides");
          } else {
            for (const auto& kv : b) {
              const std::string action = kv.first.as<std::string>("");
              const std::string bp = "response.by_action." + action;
              if (!rd.checkKeys(kv.second, bp, {"escalation", "ipv6_prefix"})) continue;
              c.tuning_by_action[action] = readTuning(kv.second, bp, rd, c.tuning);
            }
          }
        }
      }
    }
    for (size_t i = 0; i < c.notify.size(); ++i) {
      bool found = false;
      for (const auto& a : c.actions) found = found || a.name == c.notify[i];
      if (!found) {
        rd.error(root["response"]["notify"][i], "response.notify[" + std::to_string(i) + "]",
                 "no action named '" + c.notify[i] + "'");
      }
    }
    if (const YAML::Node i = root["intel"]) {
      if (!i.IsMap()) rd.error(i, "intel", "must be a map");
      c.intel = i;
      if (const YAML::Node cache = i.IsMap() ? i["cache"] : YAML::Node()) {
        // Every value is checked even when an unknown key is reported beside it.
        if (rd.checkKeys(cache, "intel.cache", kIntelCacheKeys) || cache.IsMap()) {
          c.intel_cache_type = rd.getString(cache, "intel.cache", "type", "", true);
          if (!c.intel_cache_type.empty() && c.intel_cache_type != "redis") {
            rd.error(cache["type"], "intel.cache.type",
                     "unknown cache type '" + c.intel_cache_type + "' (known: redis)");
          }
          c.intel_cache_url = getRedisUrl(rd, cache, "intel.cache", "url", true);
          c.intel_cache_ttl = rd.getDuration(cache, "intel.cache", "ttl", c.intel_cache_ttl);
          if (c.intel_cache_ttl < std::chrono::seconds(1)) {
            rd.error(cache["ttl"], "intel.cache.ttl", "must be at least 1s");
          }
          c.intel_cache_refresh =
              rd.getDuration(cache, "intel.cache", "refresh", c.intel_cache_refresh);
          if (c.intel_cache_refresh < std::chrono::milliseconds(100)) {
            rd.error(cache["refresh"], "intel.cache.refresh", "must be at least 100ms");
          }
          c.intel_cache_prefix = rd.getString(cache, "intel.cache", "prefix", c.intel_cache_prefix);
          checkKeyPrefix(rd, cache, "intel.cache", "prefix", c.intel_cache_prefix);
        }
      }
    }
    if (const YAML::Node cl = root["cluster"]) {
      if (rd.checkKeys(cl, "cluster", kClusterKeys) || cl.IsMap()) {
        c.cluster_redis = getRedisUrl(rd, cl, "cluster", "redis", true);
        c.cluster_node = rd.getString(cl, "cluster", "node", "");
        if (cl["node"] && c.cluster_node.empty()) {
          rd.error(cl["node"], "cluster.node", "must not be empty");
        }
        checkKeyPrefix(rd, cl, "cluster", "node", c.cluster_node);
        c.cluster_prefix = rd.getString(cl, "cluster", "prefix", c.cluster_prefix);
        checkKeyPrefix(rd, cl, "cluster", "prefix", c.cluster_prefix);
        c.cluster_reconcile_interval =
            rd.getDuration(cl, "cluster", "reconcile_interval", c.cluster_reconcile_interval);
        if (c.cluster_reconcile_interval < std::chrono::milliseconds(100)) {
          rd.error(cl["reconcile_interval"], "cluster.reconcile_interval",
                   "must be at least 100ms");
        }
        c.cluster_role = rd.getString(cl, "cluster", "role", c.cluster_role);
        if (!validClusterRole(c.cluster_role)) {
          rd.error(cl["role"], "cluster.role", "must be all, ingest, analyze or enforce");
        }
        if (const YAML::Node st = cl["streams"]) {
          auto& o = c.cluster_streams;
          if (rd.checkKeys(st, "cluster.streams", kStreamsKeys) || st.IsMap()) {
            o.enabled = true;
            o.partitions = static_cast<int>(
                rd.getInt(st, "cluster.streams", "partitions", o.partitions, 1, 4096));
            o.lease = rd.getDuration(st, "cluster.streams", "lease", o.lease);
            if (o.lease < std::chrono::milliseconds(300)) {
              rd.error(st["lease"], "cluster.streams.lease", "must be at least 300ms");
            }
            o.replay = rd.getDuration(st, "cluster.streams", "replay", o.replay);
            o.max_len = static_cast<uint64_t>(rd.getInt(st, "cluster.streams", "max_len",
                                                        static_cast<int64_t>(o.max_len), 1000,
                                                        int64_t{1} << 40));
            o.batch =
                static_cast<int>(rd.getInt(st, "cluster.streams", "batch", o.batch, 1, 100'000));
          }
        }
      }
    }
    if (const YAML::Node in = root["incidents"]) {
      // Every value is checked even when an unknown key is reported beside it.
      if (rd.checkKeys(in, "incidents", kIncidentsKeys) || in.IsMap()) {
        c.incidents_enabled = rd.getBool(in, "incidents", "enabled", c.incidents_enabled);
        c.incident_gap = rd.getDuration(in, "incidents", "gap", c.incident_gap);
        if (in["gap"] && c.incident_gap < std::chrono::seconds(1)) {
          rd.error(in["gap"], "incidents.gap", "must be at least 1s");
        }
        c.incidents_max_open = static_cast<uint32_t>(
            rd.getInt(in, "incidents", "max_open", c.incidents_max_open, 16, 100'000'000));
      }
    }
    if (const YAML::Node a = root["api"]) readApi(a, rd, c.api);
  } catch (const YAML::Exception& e) {
    diags.push_back({file, e.mark.line + 1, e.mark.column + 1, "", e.msg});
  }
  if (!diags.empty()) return Status::invalidArgument(join(diags));
  return c;
}

Result<Config> loadConfig(const std::string& path, const Registries* registries,
                          std::vector<ConfigDiagnostic>* diagnostics) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (diagnostics != nullptr) diagnostics->push_back({path, 0, 0, "", "cannot open file"});
    return Status::ioError(path + ": cannot open file");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parseConfig(ss.str(), path, registries, diagnostics);
}

}  // namespace riposte

// Registers the built-in components of the respond area: actions.
#include <cstdlib>
#include <set>

#include "riposte/core/registry.h"
#include "riposte/respond/exec_action.h"
#include "riposte/respond/ipset_action.h"
#include "riposte/respond/iptables_action.h"
#include "riposte/respond/log_action.h"
#include "riposte/respond/nftables_action.h"
#include "riposte/respond/smtp_action.h"
#include "riposte/respond/syslog_cef_action.h"
#include "riposte/respond/webhook_action.h"

namespace riposte {

namespace {

std::string str(const YAML::Node& n, const char* key, const std::string& def) {
  return n[key] ? n[key].as<std::string>(def) : def;
}

Duration dur(const YAML::Node& n, const char* key, Duration def) {
  if (!n[key]) return def;
  auto d = parseDuration(n[key].as<std::string>(""));
  return d ? *d : def;
}

bool validName(const std::string& s, size_t max) {
  return !s.empty() && s.size() <= max &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
             std::string::npos;
}

bool chainName(const std::string& s) { return validName(s, 28); }

void checkHooks(const ComponentConfig& c, const ConfigReader& rd) {
  for (const auto& h : rd.getStringList(c.node, c.path, "hooks")) {
    if (!chainName(h)) {
      rd.error(c.node["hooks"], c.path + ".hooks", "bad chain name '" + h + "'");
    }
  }
}

void checkProgram(const ComponentConfig& c, const ConfigReader& rd, const char* key,
                  const char* def) {
  const std::string p = rd.getString(c.node, c.path, key, def);
  if (p.empty() || p[0] != '/') {
    rd.error(c.node[key], c.path + "." + key, "must be an absolute program path");
  }
}

}  // namespace

Status registerRespondBuiltins(Registries& r) {
  RIPOSTE_RETURN_IF_ERROR(r.actions.add(
      "log", "writes what would be enforced as JSON lines (file or '-' for stderr)",
      [](const ComponentConfig& c, const FactoryContext&) -> Result<ActionPtr> {
        const std::string path = c.node["path"] ? c.node["path"].as<std::string>("-") : "-";
        auto a = LogAction::create(c.name, path);
        if (!a) return a.status();
        return ActionPtr(std::move(*a));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        rd.checkKeys(c.node, c.path, {"name", "type", "dry_run", "path"});
        (void)rd.getString(c.node, c.path, "path", "-");
      }));
  RIPOSTE_RETURN_IF_ERROR(r.actions.add(
      "nftables", "blocks addresses and ranges in nftables sets with per-element timeouts",
      [](const ComponentConfig& c, const FactoryContext&) -> Result<ActionPtr> {
        NftablesConfig cfg;
        const YAML::Node& n = c.node;
        if (n["table"]) cfg.table = n["table"].as<std::string>();
        if (n["family"]) cfg.family = n["family"].as<std::string>();
        if (n["chain_priority"]) cfg.chain_priority = n["chain_priority"].as<int>();
        if (n["hooks"]) cfg.hooks = n["hooks"].as<std::vector<std::string>>();
        auto a = NftablesAction::create(c.name, std::move(cfg));
        if (!a) return a.status();
        return ActionPtr(std::move(*a));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        rd.checkKeys(c.node, c.path,
                     {"name", "type", "dry_run", "table", "family", "chain_priority", "hooks"});
        const std::string table = rd.getString(c.node, c.path, "table", "riposte");
        if (table.empty() || table.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                                 std::string::npos) {
          rd.error(c.node["table"], c.path + ".table", "letters, digits, '_' and '-' only");
        }
        const std::string family = rd.getString(c.node, c.path, "family", "inet");
        if (family != "inet" && family != "ip" && family != "ip6") {
          rd.error(c.node["family"], c.path + ".family", "must be inet, ip or ip6");
        }
        (void)rd.getInt(c.node, c.path, "chain_priority", -10, -1000, 1000);
        for (const auto& h : rd.getStringList(c.node, c.path, "hooks")) {
          if (h != "input" && h != "forward" && h != "prerouting") {
            rd.error(c.node["hooks"], c.path + ".hooks",
                     "unknown hook '" + h + "' (input, forward, prerouting)");
          }
        }
      }));
  RIPOSTE_RETURN_IF_ERROR(r.actions.add(
      "ipset", "blocks addresses and ranges in hash:net ip sets (ipset restore, no shell)",
      [](const ComponentConfig& c, const FactoryContext&) -> Result<ActionPtr> {
        IpsetConfig cfg;
        const YAML::Node& n = c.node;
        cfg.set4 = str(n, "set4", cfg.set4);
        cfg.set6 = str(n, "set6", cfg.set6);
        if (n["maxelem"]) cfg.maxelem = n["maxelem"].as<uint32_t>(cfg.maxelem);
        if (n["hooks"]) cfg.hooks = n["hooks"].as<std::vector<std::string>>();
        cfg.ipset = str(n, "ipset", cfg.ipset);
        cfg.iptables = str(n, "iptables", cfg.iptables);
        cfg.ip6tables = str(n, "ip6tables", cfg.ip6tables);
        cfg.timeout = dur(n, "timeout", cfg.timeout);
        auto a = IpsetAction::create(c.name, std::move(cfg));
        if (!a) return a.status();
        return ActionPtr(std::move(*a));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        rd.checkKeys(c.node, c.path,
                     {"name", "type", "dry_run", "set4", "set6", "maxelem", "hooks", "ipset",
                      "iptables", "ip6tables", "timeout"});
        const std::string s4 = rd.getString(c.node, c.path, "set4", "riposte4");
        const std::string s6 = rd.getString(c.node, c.path, "set6", "riposte6");
        for (const auto& [key, v] : {std::pair{"set4", s4}, std::pair{"set6", s6}}) {
          if (!validName(v, 31)) {
            rd.error(c.node[key], c.path + "." + key, "1-31 letters, digits, '_' and '-' only");
          }
        }
        if (s4 == s6) rd.error(c.node["set6"], c.path + ".set6", "must differ from set4");
        (void)rd.getInt(c.node, c.path, "maxelem", 1 << 20, 1, 1 << 30);
        checkHooks(c, rd);
        checkProgram(c, rd, "ipset", "/usr/sbin/ipset");
        checkProgram(c, rd, "iptables", "/usr/sbin/iptables");
        checkProgram(c, rd, "ip6tables", "/usr/sbin/ip6tables");
        (void)rd.getDuration(c.node, c.path, "timeout", std::chrono::seconds(30));
      }));
  RIPOSTE_RETURN_IF_ERROR(r.actions.add(
      "iptables", "one iptables/ip6tables rule per blocked address or range (no shell)",
      [](const ComponentConfig& c, const FactoryContext&) -> Result<ActionPtr> {
        IptablesConfig cfg;
        const YAML::Node& n = c.node;
        cfg.chain = str(n, "chain", cfg.chain);
        if (n["hooks"]) cfg.hooks = n["hooks"].as<std::vector<std::string>>();
        cfg.jump = str(n, "jump", cfg.jump);
        cfg.iptables = str(n, "iptables", cfg.iptables);
        cfg.ip6tables = str(n, "ip6tables", cfg.ip6tables);
        cfg.iptables_restore = str(n, "iptables_restore", cfg.iptables_restore);
        cfg.ip6tables_restore = str(n, "ip6tables_restore", cfg.ip6tables_restore);
        cfg.timeout = dur(n, "timeout", cfg.timeout);
        auto a = IptablesAction::create(c.name, std::move(cfg));
        if (!a) return a.status();
        return ActionPtr(std::move(*a));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        rd.checkKeys(c.node, c.path,
                     {"name", "type", "dry_run", "chain", "hooks", "jump", "iptables", "ip6tables",
                      "iptables_restore", "ip6tables_restore", "timeout"});
        if (!chainName(rd.getString(c.node, c.path, "chain", "RIPOSTE"))) {
          rd.error(c.node["chain"], c.path + ".chain", "1-28 letters, digits, '_' and '-' only");
        }
        const std::string jump = rd.getString(c.node, c.path, "jump", "DROP");
        if (jump != "DROP" && jump != "REJECT") {
          rd.error(c.node["jump"], c.path + ".jump", "must be DROP or REJECT");
        }
        checkHooks(c, rd);
        checkProgram(c, rd, "iptables", "/usr/sbin/iptables");
        checkProgram(c, rd, "ip6tables", "/usr/sbin/ip6tables");
        checkProgram(c, rd, "iptables_restore", "/usr/sbin/iptables-restore");
        checkProgram(c, rd, "ip6tables_restore", "/usr/sbin/ip6tables-restore");
        (void)rd.getDuration(c.node, c.path, "timeout", std::chrono::seconds(30));
      }));
  RIPOSTE_RETURN_IF_ERROR(r.actions.add(
      "webhook", "HTTP POST: JSON with HMAC signature, Slack-style message, or Splunk HEC",
      [](const ComponentConfig& c, const FactoryContext&) -> Result<ActionPtr> {
        WebhookConfig w;
        w.url = str(c.node, "url", "");
        w.format = str(c.node, "format", "json");
        w.secret = str(c.node, "secret", "");
        w.token = str(c.node, "token", "");
        w.index = str(c.node, "index", "");
        w.sourcetype = str(c.node, "sourcetype", w.sourcetype);
        w.timeout = dur(c.node, "timeout", w.timeout);
        if (c.node["on_undo"]) w.on_undo = c.node["on_undo"].as<bool>(true);
        auto a = WebhookAction::create(c.name, std::move(w));
        if (!a) return a.status();
        return ActionPtr(std::move(*a));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        rd.checkKeys(c.node, c.path,
                     {"name", "type", "dry_run", "url", "format", "secret", "token", "index",
                      "sourcetype", "timeout", "on_undo"});
        const std::string url = rd.getString(c.node, c.path, "url", "", true);
        if (!url.empty() && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
          rd.error(c.node["url"], c.path + ".url", "must start with http:// or https://");
        }
        const std::string fmt = rd.getString(c.node, c.path, "format", "json");
        if (fmt != "json" && fmt != "slack" && fmt != "hec") {
          rd.error(c.node["format"], c.path + ".format", "must be json, slack or hec");
        }
        const std::string token = rd.getString(c.node, c.path, "token", "");
        if (fmt == "hec" && token.empty()) {
          rd.error(c.node, c.path + ".token", "a hec webhook needs a token (use ${ENV})");
        }
        (void)rd.getString(c.node, c.path, "secret", "");
        (void)rd.getString(c.node, c.path, "index", "");
        (void)rd.getString(c.node, c.path, "sourcetype", "");
        (void)rd.getDuration(c.node, c.path, "timeout", std::chrono::seconds(5));
        (void)rd.getBool(c.node, c.path, "on_undo", true);
      }));
  RIPOSTE_RETURN_IF_ERROR(r.actions.add(
      "smtp", "e-mails decisions and admin notifications over SMTP (optional STARTTLS)",
      [](const ComponentConfig& c, const FactoryContext&) -> Result<ActionPtr> {
        SmtpConfig m;
        const YAML::Node& n = c.node;
        m.server = str(n, "server", "");
        if (n["starttls"]) m.starttls = n["starttls"].as<bool>(false);
        m.ca_file = str(n, "ca_file", "");
        m.username = str(n, "username", "");
        m.password = str(n, "password", "");
        m.from = str(n, "from", "");
        if (n["to"] && n["to"].IsSequence()) {
          m.to = n["to"].as<std::vector<std::string>>();
        } else if (n["to"]) {
          m.to = {n["to"].as<std::string>()};
        }
        m.subject = str(n, "subject", m.subject);
        m.timeout = dur(n, "timeout", m.timeout);
        if (n["on_undo"]) m.on_undo = n["on_undo"].as<bool>(true);
        auto a = SmtpAction::create(c.name, std::move(m));
        if (!a) return a.status();
        return ActionPtr(std::move(*a));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        rd.checkKeys(c.node, c.path,
                     {"name", "type", "dry_run", "server", "starttls", "ca_file", "username",
                      "password", "from", "to", "subject", "timeout", "on_undo"});
        const std::string server = rd.getString(c.node, c.path, "server", "", true);
        if (server.find("://") != std::string::npos && server.rfind("smtp://", 0) != 0 &&
            server.rfind("smtps://", 0) != 0) {
          rd.error(c.node["server"], c.path + ".server", "host:port, smtp:// or smtps://");
        }
        (void)rd.getBool(c.node, c.path, "starttls", false);
        (void)rd.getString(c.node, c.path, "ca_file", "");
        (void)rd.getString(c.node, c.path, "username", "");
        (void)rd.getString(c.node, c.path, "password", "");
        const std::string from = rd.getString(c.node, c.path, "from", "", true);
        if (!from.empty() && !validMailAddress(from)) {
          rd.error(c.node["from"], c.path + ".from", "'" + from + "' is not a mail address");
        }
        std::vector<std::string> to;
        if (c.node["to"] && c.node["to"].IsScalar()) {
          to = {rd.getString(c.node, c.path, "to", "")};
        } else {
          to = rd.getStringList(c.node, c.path, "to");
        }
        if (to.empty()) rd.error(c.node, c.path + ".to", "at least one recipient is required");
        for (size_t i = 0; i < to.size(); ++i) {
          if (!validMailAddress(to[i])) {
            rd.error(c.node["to"], c.path + ".to", "'" + to[i] + "' is not a mail address");
          }
        }
        (void)rd.getString(c.node, c.path, "subject", "");
        (void)rd.getDuration(c.node, c.path, "timeout", std::chrono::seconds(10));
        (void)rd.getBool(c.node, c.path, "on_undo", true);
      }));
  RIPOSTE_RETURN_IF_ERROR(r.actions.add(
      "syslog_cef", "RFC 5424 syslog with a CEF payload over UDP or TCP",
      [](const ComponentConfig& c, const FactoryContext&) -> Result<ActionPtr> {
        SyslogCefConfig s;
        const std::string addr = str(c.node, "address", "127.0.0.1:514");
        const size_t colon = addr.rfind(':');
        s.host = colon == std::string::npos ? addr : addr.substr(0, colon);
        if (s.host.size() > 2 && s.host.front() == '[')
          s.host = s.host.substr(1, s.host.size() - 2);
        s.port = colon == std::string::npos ? 514 : std::atoi(addr.c_str() + colon + 1);
        s.protocol = str(c.node, "protocol", "udp");
        if (c.node["facility"]) s.facility = c.node["facility"].as<int>(10);
        auto a = SyslogCefAction::create(c.name, std::move(s));
        if (!a) return a.status();
        return ActionPtr(std::move(*a));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        rd.checkKeys(c.node, c.path,
                     {"name", "type", "dry_run", "address", "protocol", "facility"});
        const std::string addr = rd.getString(c.node, c.path, "address", "", true);
        if (!addr.empty() && addr.rfind(':') == std::string::npos) {
          rd.error(c.node["address"], c.path + ".address", "must be host:port");
        }
        const std::string proto = rd.getString(c.node, c.path, "protocol", "udp");
        if (proto != "udp" && proto != "tcp") {
          rd.error(c.node["protocol"], c.path + ".protocol", "must be udp or tcp");
        }
        (void)rd.getInt(c.node, c.path, "facility", 10, 0, 23);
      }));
  RIPOSTE_RETURN_IF_ERROR(r.actions.add(
      "exec", "runs a program with arguments (no shell); the decision in its environment",
      [](const ComponentConfig& c, const FactoryContext&) -> Result<ActionPtr> {
        ExecConfig e;
        if (c.node["command"]) e.command = c.node["command"].as<std::vector<std::string>>();
        if (c.node["undo_command"]) {
          e.undo_command = c.node["undo_command"].as<std::vector<std::string>>();
        }
        e.timeout = dur(c.node, "timeout", e.timeout);
        if (c.node["enforcing"]) e.enforcing = c.node["enforcing"].as<bool>(false);
        auto a = ExecAction::create(c.name, std::move(e));
        if (!a) return a.status();
        return ActionPtr(std::move(*a));
      },
      [](const ComponentConfig& c, const ConfigReader& rd) {
        rd.checkKeys(
            c.node, c.path,
            {"name", "type", "dry_run", "command", "undo_command", "timeout", "enforcing"});
        const auto cmd = rd.getStringList(c.node, c.path, "command");
        if (cmd.empty() || cmd[0].empty() || cmd[0][0] != '/') {
          rd.error(c.node["command"] ? c.node["command"] : c.node, c.path + ".command",
                   "a list starting with an absolute program path (no shell is used)");
        }
        const auto undo = rd.getStringList(c.node, c.path, "undo_command");
        if (!undo.empty() && (undo[0].empty() || undo[0][0] != '/')) {
          rd.error(c.node["undo_command"], c.path + ".undo_command",
                   "must start with an absolute program path");
        }
        (void)rd.getDuration(c.node, c.path, "timeout", std::chrono::seconds(10));
        (void)rd.getBool(c.node, c.path, "enforcing", false);
      }));
  return Status::ok();
}

}  // namespace riposte

// Registers the built-in components of the ingest area.
#include <memory>

#include <yaml-cpp/yaml.h>

#include "riposte/core/registry.h"
#include "riposte/ingest/access_log_parser.h"
#include "riposte/ingest/eve_parser.h"
#include "riposte/ingest/file_source.h"
#include "riposte/ingest/iptables_parser.h"
#include "riposte/ingest/json_parser.h"
#include "riposte/ingest/sshd_parser.h"
#include "riposte/ingest/syslog_source.h"
#include "riposte/ingest/zeek_parser.h"

namespace riposte {

namespace {

template <typename P, typename... Args>
Registry<Parser>::Create parserFactory(Args... args) {
  return [=](const ComponentConfig&, const FactoryContext&) -> Result<std::unique_ptr<Parser>> {
    return std::unique_ptr<Parser>(std::make_unique<P>(args...));
  };
}

}  // namespace

Status registerIngestBuiltins(Registries& r) {
  RIPOSTE_RETURN_IF_ERROR(r.parsers.add("sshd",
                                        "OpenSSH sshd/sshd-session/sshd-auth lines in syslog files",
                                        parserFactory<SshdParser>()));
  RIPOSTE_RETURN_IF_ERROR(
      r.sources.add("file", "tails files and glob patterns, following rotation",
                    [](const ComponentConfig& c, const FactoryContext& ctx) -> Result<SourcePtr> {
                      const auto& sc = static_cast<const SourceConfig&>(c);
                      FileSource::Options o;
                      o.name = sc.name;
                      o.patterns = sc.paths;
                      o.from_beginning = sc.from_beginning;
                      o.offsets = ctx.store;
                      return SourcePtr(std::make_unique<FileSource>(std::move(o)));
                    }));
  RIPOSTE_RETURN_IF_ERROR(r.sources.add(
      "syslog", "syslog server: UDP, TCP (octet counting or newline framing), TLS",
      [](const ComponentConfig& c, const FactoryContext&) -> Result<SourcePtr> {
        auto o = SyslogSourceOptions::fromConfig(c);
        if (!o) return o.status().withContext(c.path);
        auto s = SyslogSource::start(std::move(*o));
        if (!s) return s.status().withContext(c.path);
        return SourcePtr(std::move(*s));
      },
      validateSyslogSource));
  RIPOSTE_RETURN_IF_ERROR(
      r.parsers.add("nginx", "nginx access (combined/common, optional vhost) and error logs",
                    parserFactory<AccessLogParser>(std::string("nginx"))));
  RIPOSTE_RETURN_IF_ERROR(
      r.parsers.add("apache", "Apache access (combined/common, optional vhost) and error logs",
                    parserFactory<AccessLogParser>(std::string("apache"))));
  RIPOSTE_RETURN_IF_ERROR(
      r.parsers.add("eve", "Suricata EVE JSON (alert, flow, http, dns, tls, fileinfo, ssh)",
                    parserFactory<EveParser>()));
  RIPOSTE_RETURN_IF_ERROR(r.parsers.add("iptables",
                                        "iptables/nftables kernel LOG lines (IN= OUT= SRC= DST= …)",
                                        parserFactory<IptablesParser>()));
  RIPOSTE_RETURN_IF_ERROR(r.parsers.add(
      "zeek", "Zeek logs, JSON or TSV with #fields headers (conn, ssh, http, dns, notice)",
      parserFactory<ZeekParser>()));
  RIPOSTE_RETURN_IF_ERROR(r.parsers.add(
      "json",
      "generic JSON objects as ECS (dotted or nested keys); optional `fields:` renaming map",
      [](const ComponentConfig& cfg, const FactoryContext&) -> Result<std::unique_ptr<Parser>> {
        std::map<std::string, std::string, std::less<>> mapping;
        const YAML::Node fields = cfg.node ? cfg.node["fields"] : YAML::Node();
        if (fields) {
          if (!fields.IsMap()) {
            return Status::invalidArgument(cfg.path +
                                           ".fields: expected a map of source key to ECS name");
          }
          for (const auto& kv : fields) {
            if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
              return Status::invalidArgument(cfg.path + ".fields: keys and values must be strings");
            }
            mapping.emplace(kv.first.as<std::string>(), kv.second.as<std::string>());
          }
        }
        return std::unique_ptr<Parser>(std::make_unique<JsonParser>(std::move(mapping)));
      }));
  return Status::ok();
}

}  // namespace riposte

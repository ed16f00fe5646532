// Registers the built-in components of the ingest area.
#include <memory>

#include "riposte/core/registry.h"
#include "riposte/ingest/access_log_parser.h"
#include "riposte/ingest/eve_parser.h"
#include "riposte/ingest/iptables_parser.h"
#include "riposte/ingest/zeek_parser.h"

namespace riposte {

namespace {

template <typename P, typename... Args>
Registry<Parser>::Create parserFactory(Args... args) {
  return [=](const ComponentConfig&, const FactoryContext&) -> Result<std::unique_ptr<Parser>> {
    return std::unique_ptr<Parser>(std::make_unique<P>(args...));
  };
}

} // namespace

Status registerIngestBuiltins(Registries& r) {
  RIPOSTE_RETURN_IF_ERROR(r.parsers.add(
      "nginx", "nginx access (combined/common, optional vhost) and error logs",
      parserFactory<AccessLogParser>(std::string("nginx"))));
  RIPOSTE_RETURN_IF_ERROR(r.parsers.add(
      "apache", "Apache access (combined/common, optional vhost) and error logs",
      parserFactory<AccessLogParser>(std::string("apache"))));
  RIPOSTE_RETURN_IF_ERROR(r.parsers.add("eve", "Suricata EVE JSON (alert, flow, http, dns, tls, fileinfo, ssh)",
                                        parserFactory<EveParser>()));
  RIPOSTE_RETURN_IF_ERROR(r.parsers.add("iptables", "iptables/nftables kernel LOG lines (IN= OUT= SRC= DST= …)",
                                        parserFactory<IptablesParser>()));
  RIPOSTE_RETURN_IF_ERROR(r.parsers.add("zeek", "Zeek logs, JSON or TSV with #fields headers (conn, ssh, http, dns, notice)",
                                        parserFactory<ZeekParser>()));
  return Status::ok();
}

} // namespace riposte

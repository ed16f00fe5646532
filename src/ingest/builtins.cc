// Registers the built-in components of the ingest area: sources and parsers.
#include "riposte/core/registry.h"
#include "riposte/ingest/file_source.h"
#include "riposte/ingest/sshd_parser.h"

namespace riposte {

Status registerIngestBuiltins(Registries& r) {
  RIPOSTE_RETURN_IF_ERROR(
      r.parsers.add("sshd", "OpenSSH sshd/sshd-session/sshd-auth lines in syslog files",
                    [](const ComponentConfig&, const FactoryContext&) -> Result<ParserPtr> {
                      return ParserPtr(std::make_unique<SshdParser>());
                    }));
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
  return Status::ok();
}

}  // namespace riposte

// JsonParser: generic JSON objects, one per line, taken as Elastic Common Schema (registered as
// "json").
//
// Keys may be dotted (`"source.ip"`) or nested (`{"source":{"ip":…}}`); either way the dotted
// path names the field: known ECS names go to their Field ids, others to Event::extra().
// `@timestamp` is RFC 3339 or epoch seconds (number); `message` → message; `event.kind` is
// Riposte's kind name when it is one (what Event::toJson() writes, so events round-trip),
// otherwise the kind comes from event.category (authentication → kAuth, web → kHttp,
// intrusion_detection → kIdsAlert, network → kFlow, file → kFile) or from the fields present
// (http.*/url.* → kHttp, dns.* → kDns, tls.* → kTls, file.hash.* → kFile, rule.* → kIdsAlert),
// else kGeneric. `event.count` > 1 sets Event::repeat(). Numbers and booleans keep their JSON
// text; arrays of scalars are joined with ","; other arrays and objects nested deeper than 32
// levels are kept as minified JSON. IP fields are canonicalised.
//
// An optional field mapping renames keys of other shapes before that (e.g. `src` →
// `source.ip`, `ts` → `@timestamp`); mapping is by the full dotted path.
//
// Malformed JSON, a non-object, or an unparseable `@timestamp` is kUnrecognised.
//
// Thread safety: one instance per thread (owns a simdjson parser and buffers).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "riposte/ingest/parser.h"

namespace riposte {

class JsonParser : public Parser {
 public:
  // `mapping`: source key path → ECS name, applied before interpretation.
  explicit JsonParser(std::map<std::string, std::string, std::less<>> mapping = {});
  ~JsonParser() override;
  JsonParser(const JsonParser&) = delete;
  JsonParser& operator=(const JsonParser&) = delete;

  std::string_view name() const override { return "json"; }
  ParseResult parse(std::string_view line, const ParseContext& ctx, Event& out) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace riposte

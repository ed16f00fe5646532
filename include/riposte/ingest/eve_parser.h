// EveParser: Suricata EVE JSON, one object per line (registered as "eve").
//
// Common fields: timestamp (RFC 3339, also `+0000`/`-0400` offsets without a colon) →
// @timestamp; src_ip/dest_ip (canonicalised, so fully expanded IPv6 folds to its short form),
// src_port/dest_port, proto → network.transport (lower case), flow_id (a 64-bit integer, kept
// exactly in extra `suricata.eve.flow_id`), app_proto → extra `network.protocol`.
// Per event_type:
//   alert    → kIdsAlert: signature → rule.name, signature_id → rule.id, category →
//              rule.category, severity → event.severity, action → event.action, rev → extra
//              `rule.version`
//   flow     → kFlow
//   http     → kHttp: hostname → url.domain, url → url.original/path (decoded)/query,
//              http_user_agent, http_method, protocol → http.version, status (number or
//              string), length → http.response.body.bytes, http_refer
//   dns      → kDns: rrname (or queries[0].rrname) → dns.question.name
//   tls      → kTls: sni → tls.client.server_name
//   fileinfo → kFile: md5/sha1/sha256 → file.hash.*, filename → extra `file.name`
//   ssh      → kSsh: client software → extra `ssh.client.software`
//   stats    → kSkip; any other type → kGeneric.
// Nested objects are read wherever they appear (alert data on an http record is kept too).
// Malformed or truncated JSON, a line that is not an object, or one without a valid timestamp
// and event_type is kUnrecognised.
//
// Thread safety: one instance per thread (owns a simdjson parser and buffers).
#pragma once

#include <memory>
#include <string_view>

#include "riposte/ingest/parser.h"

namespace riposte {

class EveParser : public Parser {
 public:
  EveParser();
  ~EveParser() override;
  EveParser(const EveParser&) = delete;
  EveParser& operator=(const EveParser&) = delete;

  std::string_view name() const override { return "eve"; }
  ParseResult parse(std::string_view line, const ParseContext& ctx, Event& out) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace riposte

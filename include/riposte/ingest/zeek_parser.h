// ZeekParser: Zeek logs in JSON (one object per line) or TSV (registered as "zeek").
//
// TSV is stateful per instance: the `#separator`, `#unset_field`, `#empty_field`, `#path` and
// `#fields` header lines (kSkip) set how the following records are read, so one instance must
// read one file (a new header resets it; a record before any `#fields` is kUnrecognised).
// JSON records carry their own keys; the log type comes from `_path` or, when absent, from the
// keys present (conn_state/history → conn, auth_* → ssh, method/uri/status_code → http,
// query → dns, note → notice).
//
// Fields: ts (epoch seconds with fraction, or ISO 8601) → @timestamp; id.orig_h/id.orig_p →
// source.ip/port, id.resp_h/id.resp_p → destination.ip/port (canonical); proto →
// network.transport; uid → extra `zeek.session_id`; and per log:
//   conn   → kFlow: service → extra `network.protocol`, conn_state → extra `zeek.conn.state`
//   ssh    → kSsh: auth_success T/F → event.outcome success/failure, auth_attempts → extra
//            `zeek.ssh.auth_attempts`, client → extra `ssh.client.software`
//   http   → kHttp: method, host → url.domain, uri → url.original/path (decoded)/query,
//            user_agent, status_code, referrer, version, response_body_len, username
//   dns    → kDns: query → dns.question.name
//   notice → kIdsAlert: note → rule.name, msg → message, src/dst → source/destination.ip when
//            the connection id is unset
//   other  → kGeneric with the common fields.
// event.dataset is `zeek.<path>`. Unset (`-`) and empty (`(empty)`) values are left unset.
// A record with a ts that is not a time is kUnrecognised.
//
// Thread safety: one instance per thread and per input file (header state).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/ingest/parser.h"

namespace riposte {

class ZeekParser : public Parser {
 public:
  ZeekParser();
  ~ZeekParser() override;
  ZeekParser(const ZeekParser&) = delete;
  ZeekParser& operator=(const ZeekParser&) = delete;

  std::string_view name() const override { return "zeek"; }
  ParseResult parse(std::string_view line, const ParseContext& ctx, Event& out) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace riposte

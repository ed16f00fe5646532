// The syslog header in front of a program's message, as found in log files and on the wire.
//
// Understands: an optional <PRI>; RFC 3164 "Mmm dd hh:mm:ss HOST TAG[PID]: MSG" (day padded or
// not, and with a year "Mmm dd yyyy hh:mm:ss" or "yyyy Mmm dd hh:mm:ss"); RFC 3339 timestamps
// as written by rsyslog on Ubuntu 24.04 ("2026-01-12T11:15:58.792703+00:00 HOST TAG[PID]: MSG");
// and RFC 5424 "<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG".
//
// Thread safety: pure function.
#pragma once

#include <string_view>

#include "riposte/core/time.h"
#include "riposte/ingest/parser.h"

namespace riposte {

struct SyslogHeader {
  int pri = -1;  // -1 when absent
  Timestamp timestamp;
  std::string_view timestamp_text;
  std::string_view host;
  std::string_view program;  // "sshd", "sshd-session", "kernel"...
  std::string_view pid;      // may be empty
  std::string_view message;  // the rest of the line after "TAG[PID]: "
};

// Returns false when the line does not start with a syslog header.
bool parseSyslogHeader(std::string_view line, const ParseContext& ctx, SyslogHeader& out);

}  // namespace riposte

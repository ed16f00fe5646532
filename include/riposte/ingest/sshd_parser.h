// Parser for OpenSSH server logs (sshd, sshd-session, sshd-auth) in syslog files.
//
// Recognises the messages that matter for attacks and sets event.action to one of the
// SshdAction names below, event.outcome (failure for every failed or refused authentication),
// source.ip (canonical), source.port, user.name, process.name/pid, host.name and message.
// Authentication messages get EventKind::kAuth; protocol-level ones (kex, banner, timeouts,
// disconnects without a user) kSsh. rsyslog's "message repeated N times: [ ... ]" becomes one
// event with repeat() == N. Lines of other programs are kSkip; sshd lines it does not know are
// kUnrecognised.
//
// Thread safety: stateless; one instance per thread by convention.
#pragma once

#include <string_view>

#include "riposte/ingest/parser.h"

namespace riposte {

namespace sshd_action {
inline constexpr std::string_view kAuthFailed = "auth_failed";    // Failed <method> for
inline constexpr std::string_view kAuthSuccess = "auth_success";  // Accepted <method> for
inline constexpr std::string_view kAuthPartial = "auth_partial";  // Partial/Postponed
inline constexpr std::string_view kInvalidUser = "invalid_user";  // Invalid user X from
inline constexpr std::string_view kMaxAuthAttempts = "max_auth_attempts";
inline constexpr std::string_view kPamAuthFailure = "pam_auth_failure";
inline constexpr std::string_view kPreauthClose =
    "preauth_close";  // closed by authenticating/invalid user
inline constexpr std::string_view kNotAllowed = "user_not_allowed";  // not listed in AllowUsers...
inline constexpr std::string_view kConnectionClosed =
    "connection_closed";                                           // closed by IP [preauth]
inline constexpr std::string_view kDisconnected = "disconnected";  // normal disconnect of a user
inline constexpr std::string_view kReceivedDisconnect = "received_disconnect";
inline constexpr std::string_view kNoIdentification = "no_identification";
inline constexpr std::string_view kBannerError = "banner_error";  // banner exchange / bad protocol
inline constexpr std::string_view kKexFailed = "kex_failed";      // Unable to negotiate
inline constexpr std::string_view kKexIdentification = "kex_identification";
inline constexpr std::string_view kAuthTimeout = "auth_timeout";  // Timeout before authentication
inline constexpr std::string_view kProtocolError =
    "protocol_error";  // ssh_dispatch_run_fatal, bad MAC
inline constexpr std::string_view kBadHandshake = "bad_handshake";      // obfuscated handshake
inline constexpr std::string_view kRefusedConnect = "refused_connect";  // tcp wrappers
inline constexpr std::string_view kReverseMapping = "reverse_mapping_failed";
inline constexpr std::string_view kSessionOpened = "session_opened";
inline constexpr std::string_view kSessionClosed = "session_closed";
inline constexpr std::string_view kConnectionOpened = "connection_opened";
inline constexpr std::string_view kInfo = "info";  // recognised, no entity
}  // namespace sshd_action

class SshdParser : public Parser {
 public:
  std::string_view name() const override { return "sshd"; }
  ParseResult parse(std::string_view line, const ParseContext& ctx, Event& out) override;

  // Parses the message part (after the syslog header) of an sshd line.
  static ParseResult parseMessage(std::string_view msg, Event& out);

  // Whether a syslog program name is OpenSSH's server (sshd, sshd-session, sshd-auth).
  static bool isSshdProgram(std::string_view program);
};

}  // namespace riposte

// Authentication for the API: console users (argon2id password hashes, libsodium), cookie
// sessions with a CSRF token, machine tokens (shown once, stored as SHA-256), and login
// throttling per user and per client address.
//
// Accounts are managed through these functions by the CLI (`riposte user`, `riposte token`)
// and the API alike; every change is audited with its actor.
//
// Thread safety: the free functions are thread-safe (the Store locks); LoginThrottle and
// Authenticator lock internally.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "riposte/api/http.h"
#include "riposte/api/router.h"
#include "riposte/core/config.h"
#include "riposte/core/digest.h"  // sha256Hex, used by the account code
#include "riposte/store/store.h"

namespace riposte::api {

inline constexpr std::string_view kSessionCookie = "riposte_session";
inline constexpr std::string_view kCsrfHeader = "x-csrf-token";
inline constexpr size_t kMinPasswordLength = 10;

// argon2id (crypto_pwhash_str, interactive limits): the encoded string with salt and parameters.
Result<std::string> hashPassword(std::string_view password);
bool verifyPassword(const std::string& encoded, std::string_view password);
// Random bytes as lower-case hex (2 characters a byte).
std::string randomHex(size_t bytes);
bool constantTimeEquals(std::string_view a, std::string_view b);

Status validateUserName(std::string_view name);
Status validatePassword(std::string_view password);

// Creates a user (audited "user.created" by `actor`).
Status addUser(Store& store, const std::string& name, Role role, const std::string& password,
               const std::string& actor);
// Changes role / password / disabled of an existing user (audited "user.updated"); a password
// change or a disable ends the user's sessions.
Status updateUser(Store& store, const std::string& name, std::optional<Role> role,
                  std::optional<std::string> password, std::optional<bool> disabled,
                  const std::string& actor);
Status removeUser(Store& store, const std::string& name, const std::string& actor);

struct NewToken {
  TokenRecord record;
  std::string secret;  // "rpt_<hex>": shown once, never stored
};
Result<NewToken> createToken(Store& store, const std::string& user, const std::string& name,
                             const std::string& actor);
Status revokeToken(Store& store, const std::string& id, const std::string& actor);

// Failed logins per user and per client address within a window; over the limit, further
// attempts are refused until the oldest failure leaves the window.
class LoginThrottle {
 public:
  LoginThrottle(uint32_t max_failures, Duration window) : max_(max_failures), window_(window) {}
  // How long the caller must wait, or nullopt when an attempt is allowed.
  std::optional<Duration> blocked(const std::string& user, const std::string& ip, Timestamp now);
  void failure(const std::string& user, const std::string& ip, Timestamp now);
  void success(const std::string& user);

 private:
  std::optional<Duration> check(std::map<std::string, std::vector<int64_t>>& m,
                                const std::string& key, Timestamp now);
  void prune(std::vector<int64_t>& v, Timestamp now) const;

  uint32_t max_;
  Duration window_;
  std::mutex mu_;
  std::map<std::string, std::vector<int64_t>> by_user_, by_ip_;
};

struct LoginResult {
  std::string cookie;  // Set-Cookie value
  std::string csrf;
  Principal principal;
  Timestamp expires;
};

// Authenticates requests (session cookie or bearer token) and performs logins.
class Authenticator {
 public:
  Authenticator(Store* store, const ApiConfig& config);

  // The caller, or an error response (401 unauthenticated / session_expired / invalid_token).
  Result<Principal> authenticate(const HttpRequest& req, HttpResponse* error);
  // A login: 200 with a session, 401 invalid_credentials, 429 too_many_attempts.
  Result<LoginResult> login(const std::string& user, const std::string& password,
                            const std::string& client_ip, HttpResponse* error);
  Status logout(const Principal& p);
  // The Set-Cookie value that clears the session cookie.
  std::string clearCookie(bool tls) const;

 private:
  Store* store_;
  const ApiConfig& config_;
  LoginThrottle throttle_;
  std::string dummy_hash_;  // verified against when the user does not exist (same timing)
};

}  // namespace riposte::api

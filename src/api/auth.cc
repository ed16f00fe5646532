#include "riposte/api/auth.h"

#include "riposte/core/digest.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "riposte/core/ids.h"

namespace riposte::api {

namespace {

bool sodiumReady() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

void auditAccount(Store& store, const std::string& actor, const std::string& kind,
                  const std::string& target, const std::string& reason, nlohmann::json details) {
  AuditEntry a;
  a.actor = actor;
  a.kind = kind;
  a.target = target;
  a.reason = reason;
  a.details_json = details.dump();
  if (Status st = store.appendAudit(a); !st.isOk()) {
    spdlog::error("audit {} for {}: {}", kind, target, st.toString());
  }
}

}  // namespace

Result<std::string> hashPassword(std::string_view password) {
  if (!sodiumReady()) return Status::internal("libsodium failed to initialise");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::resourceExhausted("password hashing ran out of memory");
  }
  return std::string(out);
}

bool verifyPassword(const std::string& encoded, std::string_view password) {
  if (!sodiumReady()) return false;
  return crypto_pwhash_str_verify(encoded.c_str(), password.data(), password.size()) == 0;
}

std::string randomHex(size_t bytes) {
  (void)sodiumReady();
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return hexEncode(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

Status validateUserName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return Status::invalidArgument("a user name has 1 to 64 characters");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == '@';
    if (!ok) {
      return Status::invalidArgument("a user name may use letters, digits and . _ - @ only");
    }
  }
  return Status::ok();
}

Status validatePassword(std::string_view password) {
  if (password.size() < kMinPasswordLength) {
    return Status::invalidArgument("a password needs at least " +
                                   std::to_string(kMinPasswordLength) + " characters");
  }
  if (password.size() > 1024)
    return Status::invalidArgument("a password has at most 1024 characters");
  return Status::ok();
}

Status addUser(Store& store, const std::string& name, Role role, const std::string& password,
               const std::string& actor) {
  RIPOSTE_RETURN_IF_ERROR(validateUserName(name));
  RIPOSTE_RETURN_IF_ERROR(validatePassword(password));
  auto hash = hashPassword(password);
  if (!hash) return hash.status();
  UserRecord u;
  u.name = name;
  u.role = std::string(roleName(role));
  u.password_hash = std::move(*hash);
  u.created = Timestamp::now();
  RIPOSTE_RETURN_IF_ERROR(store.createUser(u));
  auditAccount(store, actor, "user.created", name, "user " + name + " (" + u.role + ")",
               {{"user", name}, {"role", u.role}});
  return Status::ok();
}

Status updateUser(Store& store, const std::string& name, std::optional<Role> role,
                  std::optional<std::string> password, std::optional<bool> disabled,
                  const std::string& actor) {
  auto found = store.getUser(name);
  if (!found) return found.status();
  if (!found->has_value()) return Status::notFound("no user '" + name + "'");
  UserRecord u = **found;
  nlohmann::json changes = nlohmann::json::object();
  if (role) {
    u.role = std::string(roleName(*role));
    changes["role"] = u.role;
  }
  if (password) {
    RIPOSTE_RETURN_IF_ERROR(validatePassword(*password));
    auto hash = hashPassword(*password);
    if (!hash) return hash.status();
    u.password_hash = std::move(*hash);
    changes["password"] = "changed";
  }
  if (disabled) {
    u.disabled = *disabled;
    changes["disabled"] = *disabled;
  }
  RIPOSTE_RETURN_IF_ERROR(store.updateUser(u));
  if (password || (disabled && *disabled) || role) (void)store.deleteUserSessions(name);
  auditAccount(store, actor, "user.updated", name, "user " + name + " changed",
               {{"user", name}, {"changes", changes}});
  return Status::ok();
}

Status removeUser(Store& store, const std::string& name, const std::string& actor) {
  RIPOSTE_RETURN_IF_ERROR(store.deleteUser(name));
  auditAccount(store, actor, "user.deleted", name, "user " + name + " deleted", {{"user", name}});
  return Status::ok();
}

Result<NewToken> createToken(Store& store, const std::string& user, const std::string& name,
                             const std::string& actor) {
  auto u = store.getUser(user);
  if (!u) return u.status();
  if (!u->has_value()) return Status::notFound("no user '" + user + "'");
  if (name.size() > 128) return Status::invalidArgument("a token name has at most 128 characters");
  NewToken t;
  t.secret = "rpt_" + randomHex(32);
  t.record.id = newId();
  t.record.user = user;
  t.record.name = name.empty() ? "token" : name;
  t.record.hash = sha256Hex(t.secret);
  t.record.created = Timestamp::now();
  RIPOSTE_RETURN_IF_ERROR(store.saveToken(t.record));
  auditAccount(store, actor, "token.created", user, "token " + t.record.id + " for " + user,
               {{"token", t.record.id}, {"user", user}, {"name", t.record.name}});
  return t;
}

Status revokeToken(Store& store, const std::string& id, const std::string& actor) {
  RIPOSTE_RETURN_IF_ERROR(store.revokeToken(id));
  auditAccount(store, actor, "token.revoked", id, "token " + id + " revoked", {{"token", id}});
  return Status::ok();
}

// ---- LoginThrottle ----

void LoginThrottle::prune(std::vector<int64_t>& v, Timestamp now) const {
  const int64_t horizon = now.micros - window_.count();
  v.erase(std::remove_if(v.begin(), v.end(), [&](int64_t t) { return t <= horizon; }), v.end());
}

std::optional<Duration> LoginThrottle::check(std::map<std::string, std::vector<int64_t>>& m,
                                             const std::string& key, Timestamp now) {
  auto it = m.find(key);
  if (it == m.end()) return std::nullopt;
  prune(it->second, now);
  if (it->second.empty()) {
    m.erase(it);
    return std::nullopt;
  }
  if (it->second.size() < max_) return std::nullopt;
  // Allowed again when the oldest counted failure leaves the window.
  const int64_t oldest = it->second[it->second.size() - max_];
  return Duration(std::max<int64_t>(1'000'000, oldest + window_.count() - now.micros));
}

std::optional<Duration> LoginThrottle::blocked(const std::string& user, const std::string& ip,
                                               Timestamp now) {
  std::lock_guard<std::mutex> l(mu_);
  auto a = check(by_user_, user, now);
  // The address limit is higher: several people may share one address (NAT, a bastion).
  std::optional<Duration> b;
  if (auto it = by_ip_.find(ip); it != by_ip_.end()) {
    prune(it->second, now);
    if (it->second.size() >= static_cast<size_t>(max_) * 4) {
      const int64_t oldest = it->second[it->second.size() - static_cast<size_t>(max_) * 4];
      b = Duration(std::max<int64_t>(1'000'000, oldest + window_.count() - now.micros));
    }
  }
  if (a && b) return std::max(*a, *b);
  return a ? a : b;
}

void LoginThrottle::failure(const std::string& user, const std::string& ip, Timestamp now) {
  std::lock_guard<std::mutex> l(mu_);
  // Bounded memory: a flood of distinct names or addresses drops the oldest keys' history.
  if (by_user_.size() > 100'000) by_user_.clear();
  if (by_ip_.size() > 100'000) by_ip_.clear();
  by_user_[user].push_back(now.micros);
  by_ip_[ip].push_back(now.micros);
}

void LoginThrottle::success(const std::string& user) {
  std::lock_guard<std::mutex> l(mu_);
  by_user_.erase(user);
}

// ---- Authenticator ----

Authenticator::Authenticator(Store* store, const ApiConfig& config)
    : store_(store), config_(config), throttle_(config.login_max_failures, config.login_window) {
  auto h = hashPassword(randomHex(16));
  if (h) dummy_hash_ = std::move(*h);
}

Result<Principal> Authenticator::authenticate(const HttpRequest& req, HttpResponse* error) {
  const std::string& auth = req.header("authorization");
  const Timestamp now = Timestamp::now();
  if (!auth.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() <= kBearer.size() || auth.compare(0, kBearer.size(), kBearer) != 0) {
      *error = HttpResponse::error(401, "invalid_token", "Authorization must be 'Bearer <token>'");
      return Status::permissionDenied("bad authorization header");
    }
    const std::string secret = auth.substr(kBearer.size());
    auto tok = store_->getTokenByHash(sha256Hex(secret));
    if (!tok) {
      *error = HttpResponse::fromStatus(tok.status());
      return tok.status();
    }
    if (!tok->has_value() || (*tok)->revoked) {
      *error = HttpResponse::error(401, "invalid_token", "unknown or revoked token");
      return Status::permissionDenied("invalid token");
    }
    const TokenRecord& t = **tok;
    auto user = store_->getUser(t.user);
    if (!user || !user->has_value() || (*user)->disabled) {
      *error = HttpResponse::error(401, "invalid_token", "the token's user is disabled or gone");
      return Status::permissionDenied("token user");
    }
    auto role = roleFromName((*user)->role);
    if (!role) {
      *error = HttpResponse::error(401, "invalid_token", "the token's user has no valid role");
      return Status::permissionDenied("role");
    }
    // last_used is a hint: written at most once a minute per token, not on every request.
    if (now - t.last_used > std::chrono::minutes(1)) (void)store_->touchToken(t.id, now);
    Principal p;
    p.user = t.user;
    p.role = *role;
    p.token_id = t.id;
    return p;
  }
  const std::string cookie = req.cookie(kSessionCookie);
  if (cookie.empty()) {
    *error = HttpResponse::error(401, "unauthenticated", "log in or send a bearer token");
    return Status::permissionDenied("no credentials");
  }
  const std::string hash = sha256Hex(cookie);
  auto sess = store_->getSession(hash);
  if (!sess) {
    *error = HttpResponse::fromStatus(sess.status());
    return sess.status();
  }
  if (!sess->has_value()) {
    *error = HttpResponse::error(401, "unauthenticated", "no such session; log in again");
    return Status::permissionDenied("no session");
  }
  if ((*sess)->expires <= now) {
    (void)store_->deleteSession(hash);
    *error = HttpResponse::error(401, "session_expired", "the session has expired; log in again");
    return Status::permissionDenied("expired");
  }
  auto user = store_->getUser((*sess)->user);
  std::optional<Role> role;
  if (user && user->has_value() && !(*user)->disabled) role = roleFromName((*user)->role);
  if (!role) {
    *error = HttpResponse::error(401, "unauthenticated", "the session's user is disabled or gone");
    return Status::permissionDenied("session user");
  }
  Principal p;
  p.user = (*sess)->user;
  p.role = *role;
  p.session = true;
  p.session_hash = hash;
  p.csrf = (*sess)->csrf;
  return p;
}

Result<LoginResult> Authenticator::login(const std::string& user, const std::string& password,
                                         const std::string& client_ip, HttpResponse* error) {
  const Timestamp now = Timestamp::now();
  if (auto wait = throttle_.blocked(user, client_ip, now)) {
    const int64_t secs = (wait->count() + 999'999) / 1'000'000;
    *error =
        HttpResponse::error(429, "too_many_attempts",
                            "too many failed logins; try again in " + std::to_string(secs) + " s")
            .header("Retry-After", std::to_string(secs));
    return Status::resourceExhausted("throttled");
  }
  auto u = store_->getUser(user);
  if (!u) {
    *error = HttpResponse::fromStatus(u.status());
    return u.status();
  }
  const bool exists = u->has_value();
  // The same work whether or not the user exists, so timing does not tell names apart.
  const bool ok = verifyPassword(exists ? (*u)->password_hash : dummy_hash_, password) && exists &&
                  !(*u)->disabled;
  std::optional<Role> role;
  if (ok) role = roleFromName((*u)->role);
  if (!ok || !role) {
    throttle_.failure(user, client_ip, now);
    spdlog::warn("api: failed login for '{}' from {}", user, client_ip);
    *error = HttpResponse::error(401, "invalid_credentials", "wrong user name or password");
    return Status::permissionDenied("invalid credentials");
  }
  throttle_.success(user);
  const std::string secret = randomHex(32);
  SessionRecord s;
  s.id_hash = sha256Hex(secret);
  s.user = user;
  s.csrf = randomHex(24);
  s.created = now;
  s.expires = now + config_.session_ttl;
  if (Status st = store_->saveSession(s); !st.isOk()) {
    *error = HttpResponse::fromStatus(st);
    return st;
  }
  LoginResult r;
  const bool tls = !config_.tls_cert.empty();
  r.cookie = std::string(kSessionCookie) + "=" + secret +
             "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
             std::to_string(config_.session_ttl.count() / 1'000'000) + (tls ? "; Secure" : "");
  r.csrf = s.csrf;
  r.expires = s.expires;
  r.principal.user = user;
  r.principal.role = *role;
  r.principal.session = true;
  r.principal.session_hash = s.id_hash;
  r.principal.csrf = s.csrf;
  return r;
}

Status Authenticator::logout(const Principal& p) {
  if (!p.session) return Status::ok();
  return store_->deleteSession(p.session_hash);
}

std::string Authenticator::clearCookie(bool tls) const {
  return std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
         (tls ? "; Secure" : "");
}

}  // namespace riposte::api

#include "riposte/api/service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <unordered_map>

#include "riposte/core/ids.h"
#include "riposte/core/ip.h"
#include "riposte/core/json_text.h"
#include "riposte/core/time_text.h"
#include "riposte/engine/approval.h"
#include "riposte/engine/config_history.h"
#include "riposte/engine/engine.h"
#include "riposte/intel/collector.h"
#include "riposte/intel/commands.h"
#include "riposte/intel/feed_client.h"

namespace riposte::api {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr size_t kDefaultLimit = 100;
constexpr size_t kMaxLimit = 1000;
constexpr size_t kMaxIncidentFindings = 1000;  // findings listed with one incident

// A handler's early exit with a ready response.
struct Reply {
  HttpResponse res;
};

std::string dumpJson(const ojson& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

HttpResponse okJson(const ojson& j, int status = 200) {
  return HttpResponse::jsonText(status, dumpJson(j));
}

void appendTimeField(std::string& out, const char* key, Timestamp ts, bool utc) {
  out += ",\"";
  out += key;
  out += "\":\"";
  appendRfc3339(out, ts, utc);
  out += '"';
}

void appendField(std::string& out, const char* key, std::string_view value, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += key;
  out += "\":";
  appendJsonString(out, value);
}

// The Decision shape written directly (the decisions list is the API's hottest path).
void appendDecisionJson(std::string& out, const Decision& d, const Config& c) {
  out += '{';
  appendField(out, "id", d.id, true);
  appendField(out, "target", d.target.value);
  appendField(out, "scope", targetTypeName(d.target.type));
  appendField(out, "action", d.action);
  appendField(out, "state", decisionStateName(d.state));
  appendField(out, "detector", d.detector);
  appendField(out, "reason", d.reason);
  out += ",\"events\":";
  out += std::to_string(d.events);
  appendTimeField(out, "first_seen", d.first_seen, false);
  appendTimeField(out, "last_seen", d.last_seen, false);
  appendTimeField(out, "created", d.created, true);
  appendTimeField(out, "expires", d.expires, true);
  appendField(out, "origin", d.origin);
  appendField(out, "finding_id", d.finding_id);
  if (d.state == DecisionState::kPendingApproval) {
    appendTimeField(out, "default_at", approvalDeadline(d, c), true);
    appendField(out, "default_action", approvalDefault(c));
  }
  out += '}';
}

HttpResponse decisionPage(const std::vector<Decision>& ds, size_t limit, const Config& c) {
  std::string out;
  out.reserve(64 + ds.size() * 420);
  out += "{\"items\":[";
  for (size_t i = 0; i < ds.size(); ++i) {
    if (i > 0) out += ',';
    appendDecisionJson(out, ds[i], c);
  }
  out += "],\"next_cursor\":";
  if (ds.size() == limit && !ds.empty()) {
    appendJsonString(out, ds.back().id);
  } else {
    out += "null";
  }
  out += '}';
  return HttpResponse::jsonText(200, std::move(out));
}

ojson decisionJson(const Decision& d, const Config& c) {
  ojson j;
  j["id"] = d.id;
  j["target"] = d.target.value;
  j["scope"] = std::string(targetTypeName(d.target.type));
  j["action"] = d.action;
  j["state"] = std::string(decisionStateName(d.state));
  j["detector"] = d.detector;
  j["reason"] = d.reason;
  j["events"] = d.events;
  j["first_seen"] = formatRfc3339(d.first_seen);
  j["last_seen"] = formatRfc3339(d.last_seen);
  j["created"] = formatRfc3339Utc(d.created);
  j["expires"] = formatRfc3339Utc(d.expires);
  j["origin"] = d.origin;
  j["finding_id"] = d.finding_id;
  if (d.state == DecisionState::kPendingApproval) {
    j["default_at"] = formatRfc3339Utc(approvalDeadline(d, c));
    j["default_action"] = std::string(approvalDefault(c));
  }
  return j;
}

ojson findingJson(const FindingRecord& r) {
  const Finding& f = r.finding;
  ojson j;
  j["id"] = f.id;
  j["detector"] = f.detector;
  j["entity"] = f.entity.value;
  j["entity_type"] = std::string(targetTypeName(f.entity.type));
  j["severity"] = f.severity;
  j["score"] = f.score;
  j["reason"] = f.reason;
  j["action"] = f.suggested_action;
  j["events"] = f.event_count;
  j["first_seen"] = formatRfc3339Utc(f.first_seen);
  j["last_seen"] = formatRfc3339Utc(f.last_seen);
  j["labels"] = f.labels;
  j["created"] = formatRfc3339Utc(r.created);
  j["false_positive"] = r.false_positive;
  return j;
}

ojson incidentJson(const Incident& i) {
  ojson j = ojson::parse(i.toJson(), nullptr, false);
  return j.is_discarded() ? ojson::object() : j;
}

ojson eventJson(const StoredEvent& e) {
  ojson j;
  j["id"] = e.id;
  j["finding_id"] = e.finding_id;
  j["timestamp"] = formatRfc3339(e.event.timestamp);
  j["source"] = e.event.source;
  j["offset"] = e.event.offset;
  j["raw"] = e.event.raw;
  j["fields"] = e.event.fields_json.empty() ? ojson::object()
                                            : ojson::parse(e.event.fields_json, nullptr, false);
  if (j["fields"].is_discarded()) j["fields"] = ojson::object();
  return j;
}

ojson auditJson(const AuditEntry& a) {
  ojson j;
  j["seq"] = a.seq;
  j["time"] = formatRfc3339Utc(a.time);
  j["actor"] = a.actor;
  j["kind"] = a.kind;
  j["target"] = a.target;
  j["reason"] = a.reason;
  auto details = ojson::parse(a.details_json.empty() ? "{}" : a.details_json, nullptr, false);
  j["details"] = details.is_discarded() ? ojson(a.details_json) : details;
  j["hash"] = a.hash;
  return j;
}

// The store's rule and configuration history, or a 412-style error when it keeps none.
ConfigHistoryStore& historyStore(Store& s) {
  auto* h = dynamic_cast<ConfigHistoryStore*>(&s);
  if (h == nullptr) {
    throw Reply{HttpResponse::fromStatus(
        Status::failedPrecondition("this store keeps no rule or configuration history"))};
  }
  return *h;
}

ojson userJson(const UserRecord& u) {
  return ojson{{"name", u.name},
               {"role", u.role},
               {"created", formatRfc3339Utc(u.created)},
               {"disabled", u.disabled}};
}

ojson tokenJson(const TokenRecord& t) {
  ojson j{{"id", t.id},
          {"user", t.user},
          {"name", t.name},
          {"created", formatRfc3339Utc(t.created)},
          {"revoked", t.revoked}};
  j["last_used"] = t.last_used.isSet() ? ojson(formatRfc3339Utc(t.last_used)) : ojson(nullptr);
  return j;
}

// Parses a JSON object body; throws Reply on failure.
json parseBody(const HttpRequest& req, bool allow_empty = false) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    if (allow_empty) return json::object();
    throw Reply{HttpResponse::error(400, "bad_json", "the request needs a JSON object body")};
  }
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) {
    throw Reply{HttpResponse::error(400, "bad_json", "the body is not valid JSON")};
  }
  if (!j.is_object()) {
    throw Reply{HttpResponse::error(400, "bad_json", "the body must be a JSON object")};
  }
  return j;
}

std::optional<std::string> optString(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    throw Reply{HttpResponse::error(400, "invalid_argument",
                                    std::string("'") + key + "' must be a string")};
  }
  return it->get<std::string>();
}

std::string reqString(const json& j, const char* key) {
  auto v = optString(j, key);
  if (!v || v->empty()) {
    throw Reply{
        HttpResponse::error(400, "invalid_argument", std::string("'") + key + "' is required")};
  }
  return *v;
}

std::optional<bool> optBool(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) {
    throw Reply{HttpResponse::error(400, "invalid_argument",
                                    std::string("'") + key + "' must be true or false")};
  }
  return it->get<bool>();
}

size_t limitOf(const HttpRequest& req) {
  auto v = req.queryParam("limit");
  if (!v) return kDefaultLimit;
  char* end = nullptr;
  const long n = std::strtol(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || n < 1 || n > static_cast<long>(kMaxLimit)) {
    throw Reply{HttpResponse::error(400, "invalid_argument",
                                    "limit must be between 1 and " + std::to_string(kMaxLimit))};
  }
  return static_cast<size_t>(n);
}

Timestamp timeParam(const HttpRequest& req, const char* name) {
  auto v = req.queryParam(name);
  auto t = parseRfc3339(*v);
  if (!t) {
    throw Reply{HttpResponse::error(400, "invalid_argument",
                                    std::string(name) + " must be an RFC 3339 time")};
  }
  return *t;
}

template <typename T>
T unwrap(Result<T> r) {
  if (!r) throw Reply{HttpResponse::fromStatus(r.status())};
  return std::move(*r);
}

void check(const Status& st) {
  if (!st.isOk()) throw Reply{HttpResponse::fromStatus(st)};
}

// A page: items and the cursor of the next page (null at the end).
HttpResponse page(ojson items, size_t limit, const std::string& next) {
  ojson j;
  const bool more = items.size() == limit;
  j["items"] = std::move(items);
  j["next_cursor"] = more ? ojson(next) : ojson(nullptr);
  return okJson(j);
}

bool isWrite(const std::string& method) { return method != "GET" && method != "HEAD"; }

std::string contentTypeOf(const std::filesystem::path& p) {
  const auto ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  return "application/octet-stream";
}

}  // namespace

struct ApiService::Impl {
  explicit Impl(const ApiDeps& d) : deps(d), auth(d.store, d.config->api) {}

  const ApiDeps& deps;
  Authenticator auth;

  Store& store() const { return *deps.store; }

  // Rendered pages of GET /decisions, reused while nothing new was published on the event hub
  // (the engine publishes every decision change there) and for at most kPageTtl, so a change
  // made by another process (the CLI on the same store) shows within that.
  static constexpr std::chrono::milliseconds kPageTtl{1000};
  static constexpr size_t kMaxPages = 64;
  struct CachedPage {
    uint64_t seq = 0;
    std::chrono::steady_clock::time_point at;
    HttpResponse page;
  };
  mutable std::mutex pages_mu;
  mutable std::unordered_map<std::string, CachedPage> pages;

  template <typename Render>
  HttpResponse cachedPage(const std::string& key, Render render) const {
    if (deps.hub == nullptr) return render();
    const uint64_t seq = deps.hub->published();
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> l(pages_mu);
      auto it = pages.find(key);
      if (it != pages.end() && it->second.seq == seq && now - it->second.at < kPageTtl) {
        return it->second.page;
      }
    }
    HttpResponse page = render();
    if (page.status == 200) {
      std::lock_guard<std::mutex> l(pages_mu);
      if (pages.size() >= kMaxPages) pages.clear();
      pages[key] = CachedPage{seq, now, page};
    }
    return page;
  }

  bool tls() const { return !deps.config->api.tls_cert.empty(); }
  std::chrono::milliseconds commandTimeout() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deps.config->api.command_timeout);
  }

  // Runs `fn` on the engine thread.
  void onEngine(const std::function<Status(Engine&)>& fn) const {
    if (deps.commands == nullptr) {
      throw Reply{HttpResponse::error(503, "unavailable", "no engine is running")};
    }
    Status st = deps.commands->run(fn, commandTimeout());
    if (st.code() == StatusCode::kUnavailable) {
      throw Reply{HttpResponse::error(504, "engine_timeout", st.message())};
    }
    check(st);
  }

  void audit(const Principal& p, const std::string& kind, const std::string& target,
             const std::string& reason, const json& details) const {
    AuditEntry a;
    a.actor = p.actor();
    a.kind = kind;
    a.target = target;
    a.reason = reason;
    a.details_json = details.dump(-1, ' ', false, json::error_handler_t::replace);
    if (Status st = deps.store->appendAudit(a); !st.isOk()) {
      spdlog::error("audit {}: {}", kind, st.toString());
    }
  }

  // An enabled admin other than `except` exists.
  bool otherAdmin(const std::string& except) const {
    auto users = unwrap(store().listUsers());
    for (const auto& u : users) {
      if (u.name != except && u.role == "admin" && !u.disabled) return true;
    }
    return false;
  }

  std::string intelDb() const {
    for (const auto& d : deps.config->detectors) {
      if (d.type == "intel" && d.node["db"] && d.node["db"].IsScalar())
        return d.node["db"].Scalar();
    }
    if (deps.config->intel && deps.config->intel.IsMap() && deps.config->intel["db"] &&
        deps.config->intel["db"].IsScalar()) {
      return deps.config->intel["db"].Scalar();
    }
    return {};
  }
};

ApiService::~ApiService() = default;

ApiService::ApiService(ApiDeps deps)
    : deps_(std::move(deps)), impl_(std::make_unique<Impl>(deps_)) {
  Impl& I = *impl_;
  auto& R = router_;
  const std::string v1 = "/api/v1";

  // ---- public ----
  R.add("GET", v1 + "/health", kPublic, [this](HttpRequest&, const Principal&) {
    ojson j{{"status", "ok"}, {"version", RIPOSTE_VERSION}};
    // The engine's mode as the serve loop last published it (a second old at most).
    if (deps_.state != nullptr) {
      const auto e = deps_.state->snapshot().engine;
      j["mode"] = e.dry_run_mode ? "dry-run" : e.manual_mode ? "manual" : "auto";
    }
    return okJson(j);
  });
  R.add("GET", v1 + "/openapi.json", kPublic, [](HttpRequest&, const Principal&) {
    return HttpResponse::jsonText(200, openApiDocument());
  });
  R.add("POST", v1 + "/auth/login", kPublic, [&I](HttpRequest& req, const Principal&) {
    const json body = parseBody(req);
    const std::string user = reqString(body, "username");
    const std::string password = reqString(body, "password");
    HttpResponse err;
    auto r = I.auth.login(user, password, req.client_ip, &err);
    if (!r) return err;
    I.audit(r->principal, "auth.login", user, "logged in from " + req.client_ip,
            {{"client", req.client_ip}});
    return okJson({{"user", user},
                   {"role", roleName(r->principal.role)},
                   {"csrf_token", r->csrf},
                   {"expires", formatRfc3339Utc(r->expires)}})
        .header("Set-Cookie", r->cookie);
  });
  // /metrics is registered with its own check in handle() (public when configured).

  // ---- session ----
  R.add("POST", v1 + "/auth/logout", kReaders | kIngesters,
        [&I](HttpRequest& req, const Principal& p) {
          check(I.auth.logout(p));
          return okJson({{"logged_out", true}}).header("Set-Cookie", I.auth.clearCookie(req.tls));
        });
  R.add("GET", v1 + "/auth/me", kReaders | kIngesters, [](HttpRequest&, const Principal& p) {
    ojson j{
        {"user", p.user}, {"role", roleName(p.role)}, {"auth", p.session ? "session" : "token"}};
    if (p.session) j["csrf_token"] = p.csrf;
    return okJson(j);
  });
  R.add("GET", v1 + "/status", kReaders, [this](HttpRequest&, const Principal&) {
    ojson j;
    j["version"] = RIPOSTE_VERSION;
    auto mode = unwrap(impl_->store().loadMode());
    j["mode"] = mode.name();
    if (deps_.state != nullptr) {
      const auto s = deps_.state->snapshot();
      const auto& e = s.engine;
      j["started"] = formatRfc3339Utc(s.started);
      j["engine"] = {{"lines", e.lines},
                     {"parsed", e.parsed},
                     {"unparsed", e.unparsed},
                     {"skipped", e.skipped},
                     {"findings", e.findings},
                     {"decisions", e.decisions},
                     {"proposed", e.proposed},
                     {"dry_run", e.dry_run},
                     {"expired", e.expired},
                     {"allowlisted", e.allowlisted},
                     {"action_errors", e.action_errors},
                     {"actions_applied", e.actions_applied}};
      j["queues"] = {
          {"actions", s.action_queue}, {"commands", s.command_queue}, {"ingest", s.ingest_queue}};
    }
    j["decisions"] = {
        {"active", unwrap(impl_->store().countDecisionsInState(DecisionState::kActive))},
        {"pending_approval",
         unwrap(impl_->store().countDecisionsInState(DecisionState::kPendingApproval))}};
    j["findings"] = unwrap(impl_->store().countFindings());
    return okJson(j);
  });

  // ---- decisions ----
  R.add("GET", v1 + "/decisions", kReaders, [&I](HttpRequest& req, const Principal&) {
    DecisionQuery q;
    q.limit = limitOf(req);
    q.state = DecisionState::kActive;
    if (auto s = req.queryParam("state")) {
      if (*s == "all") {
        q.state.reset();
      } else {
        q.state = decisionStateFromName(*s);
        if (!q.state) {
          throw Reply{HttpResponse::error(400, "invalid_argument", "unknown state '" + *s + "'")};
        }
      }
    }
    if (auto t = req.queryParam("target")) q.target = canonicalIp(*t).value_or(*t);
    if (auto a = req.queryParam("action")) q.action = *a;
    if (auto d = req.queryParam("detector")) q.detector = *d;
    if (auto c = req.queryParam("cursor")) q.before_id = *c;
    return I.cachedPage(req.target, [&] {
      return decisionPage(unwrap(I.store().queryDecisions(q)), q.limit, *I.deps.config);
    });
  });
  R.add("GET", v1 + "/decisions/{id}", kReaders, [&I](HttpRequest& req, const Principal&) {
    auto d = unwrap(I.store().getDecision(req.params["id"]));
    if (!d) return HttpResponse::error(404, "not_found", "no decision " + req.params["id"]);
    return okJson(decisionJson(*d, *I.deps.config));
  });
  R.add("POST", v1 + "/decisions", kAnalysts, [&I](HttpRequest& req, const Principal& p) {
    const json body = parseBody(req);
    const std::string target = reqString(body, "target");
    auto cidr = Cidr::parse(target);
    if (!cidr) {
      return HttpResponse::error(400, "invalid_argument",
                                 "target '" + target + "' is not an IP address or CIDR range");
    }
    const Duration dur = unwrap(parseDuration(
        optString(body, "duration").value_or(formatDuration(I.deps.config->default_duration))));
    if (dur.count() <= 0)
      return HttpResponse::error(400, "invalid_argument", "duration must be > 0");
    auto d = std::make_shared<Decision>();
    const Timestamp now = Timestamp::now();
    d->id = newId(now);
    d->action = optString(body, "action").value_or("block");
    const bool host = cidr->prefix == (cidr->base.v6 ? 128 : 32);
    d->target = {host ? TargetType::kIp : TargetType::kCidr,
                 host ? cidr->base.toString() : cidr->toString()};
    d->detector = "manual";
    d->reason = optString(body, "reason").value_or("added by " + p.user);
    d->first_seen = d->last_seen = d->created = now;
    d->expires = now + dur;
    const std::string actor = p.actor();
    I.onEngine([d, actor](Engine& e) {
      d->origin = actor;
      return e.addManualDecision(*d, actor);
    });
    return okJson(decisionJson(*d, *I.deps.config), 201);
  });
  auto decisionCommand = [&I](HttpRequest& req, const Principal& p, const std::string& what) {
    const json body = parseBody(req, true);
    const std::string id = req.params["id"];
    const std::string reason = optString(body, "reason").value_or("");
    std::optional<Timestamp> expires;
    if (what == "extend") {
      if (auto e = optString(body, "expires")) {
        expires = parseRfc3339(*e);
        if (!expires) {
          throw Reply{HttpResponse::error(400, "invalid_argument", "expires must be RFC 3339")};
        }
      } else if (auto dur = optString(body, "duration")) {
        expires = Timestamp::now() + unwrap(parseDuration(*dur));
      } else {
        throw Reply{HttpResponse::error(400, "invalid_argument",
                                        "give 'duration' (from now) or 'expires'")};
      }
    }
    auto out = std::make_shared<Decision>();
    const std::string actor = p.actor();
    I.onEngine([=](Engine& e) -> Status {
      Result<Decision> r = Status::internal("unknown command");
      if (what == "revoke") r = e.revokeDecision(id, actor, reason);
      if (what == "extend") r = e.extendDecision(id, *expires, actor);
      if (what == "approve") r = e.approveDecision(id, actor);
      if (what == "reject") r = e.rejectDecision(id, actor, reason);
      if (!r) return r.status();
      *out = std::move(*r);
      return Status::ok();
    });
    return okJson(decisionJson(*out, *I.deps.config));
  };
  R.add("POST", v1 + "/decisions/{id}/revoke", kAnalysts,
        [decisionCommand](HttpRequest& r, const Principal& p) {
          return decisionCommand(r, p, "revoke");
        });
  R.add("POST", v1 + "/decisions/{id}/extend", kAnalysts,
        [decisionCommand](HttpRequest& r, const Principal& p) {
          return decisionCommand(r, p, "extend");
        });

  // ---- approvals ----
  R.add("GET", v1 + "/approvals", kReaders, [&I](HttpRequest& req, const Principal&) {
    DecisionQuery q;
    q.limit = limitOf(req);
    q.state = DecisionState::kPendingApproval;
    if (auto c = req.queryParam("cursor")) q.before_id = *c;
    auto ds = unwrap(I.store().queryDecisions(q));
    ojson items = ojson::array();
    for (const auto& d : ds) items.push_back(decisionJson(d, *I.deps.config));
    return page(std::move(items), q.limit, ds.empty() ? "" : ds.back().id);
  });
  R.add("POST", v1 + "/approvals/{id}/approve", kAnalysts,
        [decisionCommand](HttpRequest& r, const Principal& p) {
          return decisionCommand(r, p, "approve");
        });
  R.add("POST", v1 + "/approvals/{id}/reject", kAnalysts,
        [decisionCommand](HttpRequest& r, const Principal& p) {
          return decisionCommand(r, p, "reject");
        });

  // ---- findings ----
  R.add("GET", v1 + "/findings", kReaders, [&I](HttpRequest& req, const Principal&) {
    FindingQuery q;
    q.limit = limitOf(req);
    if (auto d = req.queryParam("detector")) q.detector = *d;
    if (auto e = req.queryParam("entity")) q.entity = canonicalIp(*e).value_or(*e);
    if (auto fp = req.queryParam("false_positive")) {
      if (*fp != "true" && *fp != "false") {
        return HttpResponse::error(400, "invalid_argument", "false_positive must be true or false");
      }
      q.false_positive = *fp == "true";
    }
    if (auto c = req.queryParam("cursor")) q.before_id = *c;
    auto fs = unwrap(I.store().listFindings(q));
    ojson items = ojson::array();
    for (const auto& f : fs) items.push_back(findingJson(f));
    return page(std::move(items), q.limit, fs.empty() ? "" : fs.back().finding.id);
  });
  R.add("GET", v1 + "/findings/{id}", kReaders, [&I](HttpRequest& req, const Principal&) {
    auto f = unwrap(I.store().getFinding(req.params["id"]));
    if (!f) return HttpResponse::error(404, "not_found", "no finding " + req.params["id"]);
    ojson j = findingJson(*f);
    EventQuery q;
    q.finding_id = f->finding.id;
    q.limit = 100;
    ojson ev = ojson::array();
    for (const auto& e : unwrap(I.store().searchEvents(q))) ev.push_back(eventJson(e));
    j["evidence"] = std::move(ev);
    return okJson(j);
  });
  R.add("POST", v1 + "/findings/{id}/false-positive", kAnalysts,
        [&I](HttpRequest& req, const Principal& p) {
          const json body = parseBody(req, true);
          const bool fp = optBool(body, "false_positive").value_or(true);
          const std::string reason = optString(body, "reason").value_or("");
          const std::string id = req.params["id"];
          check(I.store().setFindingFalsePositive(id, fp));
          I.audit(p, fp ? "finding.false_positive" : "finding.confirmed", id,
                  reason.empty() ? (fp ? "marked false positive" : "false-positive mark removed")
                                 : reason,
                  {{"finding", id}, {"false_positive", fp}});
          auto f = unwrap(I.store().getFinding(id));
          return okJson(f ? findingJson(*f) : ojson::object());
        });

  // ---- incidents ----
  R.add("GET", v1 + "/incidents", kReaders, [&I](HttpRequest& req, const Principal&) {
    IncidentQuery q;
    q.limit = limitOf(req);
    if (auto s = req.queryParam("status"); s && *s != "all") {
      q.status = incidentStatusFromName(*s);
      if (!q.status) {
        return HttpResponse::error(400, "invalid_argument",
                                   "status must be open, acknowledged, closed or all");
      }
    }
    if (auto t = req.queryParam("target")) q.target = canonicalIp(*t).value_or(*t);
    if (req.queryParam("since")) q.since = timeParam(req, "since");
    if (auto c = req.queryParam("cursor")) q.before_id = *c;
    auto is = unwrap(I.store().listIncidents(q));
    ojson items = ojson::array();
    for (const auto& i : is) items.push_back(incidentJson(i));
    return page(std::move(items), q.limit, is.empty() ? "" : is.back().id);
  });
  R.add("GET", v1 + "/incidents/{id}", kReaders, [&I](HttpRequest& req, const Principal&) {
    auto inc = unwrap(I.store().getIncident(req.params["id"]));
    if (!inc) return HttpResponse::error(404, "not_found", "no incident " + req.params["id"]);
    ojson j = incidentJson(*inc);
    // Its findings as a timeline (oldest first; the latest kMaxIncidentFindings of a long one)
    // and the decisions taken on them.
    const auto ids = unwrap(I.store().incidentFindings(inc->id));
    const size_t skip = ids.size() > kMaxIncidentFindings ? ids.size() - kMaxIncidentFindings : 0;
    std::vector<FindingRecord> fs;
    for (size_t k = skip; k < ids.size(); ++k) {
      if (auto f = unwrap(I.store().getFinding(ids[k]))) fs.push_back(std::move(*f));
    }
    std::stable_sort(fs.begin(), fs.end(), [](const FindingRecord& a, const FindingRecord& b) {
      return a.finding.first_seen < b.finding.first_seen;
    });
    ojson findings = ojson::array();
    for (const auto& f : fs) findings.push_back(findingJson(f));
    ojson decisions = ojson::array();
    for (const auto& id : inc->decision_ids) {
      if (auto d = unwrap(I.store().getDecision(id))) {
        decisions.push_back(decisionJson(*d, *I.deps.config));
      }
    }
    j["finding_items"] = std::move(findings);
    j["findings_omitted"] = skip;
    j["decision_items"] = std::move(decisions);
    return okJson(j);
  });
  R.add("POST", v1 + "/incidents/{id}/status", kAnalysts,
        [&I](HttpRequest& req, const Principal& p) {
          const json body = parseBody(req);
          const std::string name = reqString(body, "status");
          const auto status = incidentStatusFromName(name);
          if (!status) {
            return HttpResponse::error(400, "invalid_argument",
                                       "status must be open, acknowledged or closed");
          }
          const std::string note = optString(body, "note").value_or("");
          const std::string id = req.params["id"];
          const std::string actor = p.actor();
          auto out = std::make_shared<Incident>();
          I.onEngine([=](Engine& e) -> Status {
            auto r = e.setIncidentStatus(id, *status, actor, note);
            if (!r) return r.status();
            *out = std::move(*r);
            return Status::ok();
          });
          return okJson(incidentJson(*out));
        });

  // ---- events ----
  R.add("GET", v1 + "/events", kReaders, [&I](HttpRequest& req, const Principal&) {
    EventQuery q;
    q.limit = limitOf(req);
    if (req.queryParam("since")) q.since = timeParam(req, "since");
    if (req.queryParam("until")) q.until = timeParam(req, "until");
    if (auto ip = req.queryParam("source_ip")) q.source_ip = canonicalIp(*ip).value_or(*ip);
    if (auto k = req.queryParam("kind")) q.kind = *k;
    if (auto t = req.queryParam("text")) q.text = *t;
    if (auto f = req.queryParam("finding_id")) q.finding_id = *f;
    if (auto c = req.queryParam("cursor")) {
      char* end = nullptr;
      q.before_id = std::strtoll(c->c_str(), &end, 10);
      if (c->empty() || *end != '\0' || q.before_id <= 0) {
        return HttpResponse::error(400, "invalid_argument", "cursor must be a positive integer");
      }
    }
    auto es = unwrap(I.store().searchEvents(q));
    ojson items = ojson::array();
    for (const auto& e : es) items.push_back(eventJson(e));
    return page(std::move(items), q.limit, es.empty() ? "" : std::to_string(es.back().id));
  });
  R.add("POST", v1 + "/events", kIngesters, [&I](HttpRequest& req, const Principal&) {
    if (I.deps.ingest == nullptr) {
      return HttpResponse::error(503, "unavailable", "no engine is running");
    }
    std::vector<IngestItem> batch;
    size_t index = 0;
    auto take = [&](const json& item) {
      if (!item.is_object()) {
        throw Reply{HttpResponse::error(400, "bad_event",
                                        "event " + std::to_string(index) + " is not an object")};
      }
      IngestItem it;
      auto type = item.find("type");
      const auto* line = item.contains("message") ? &item["message"]
                         : item.contains("line")  ? &item["line"]
                                                  : nullptr;
      if (type != item.end() && type->is_string() && line != nullptr && line->is_string()) {
        it.parser = type->get<std::string>();
        it.line = line->get<std::string>();
        if (I.deps.registries->parsers.find(it.parser) == nullptr) {
          throw Reply{HttpResponse::error(
              400, "bad_event",
              "event " + std::to_string(index) + ": unknown type '" + it.parser +
                  "' (known: " + I.deps.registries->parsers.namesJoined() + ")")};
        }
      } else {
        it.parser = "json";  // an ECS-shaped object, as it is
        it.line = item.dump(-1, ' ', false, json::error_handler_t::replace);
      }
      batch.push_back(std::move(it));
      ++index;
    };
    const size_t first = req.body.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return HttpResponse::error(400, "bad_json", "empty body");
    if (req.body[first] == '[') {
      json arr = json::parse(req.body, nullptr, false);
      if (arr.is_discarded() || !arr.is_array()) {
        return HttpResponse::error(400, "bad_json", "the body is not a valid JSON array");
      }
      for (const auto& item : arr) take(item);
    } else {
      size_t pos = 0;
      size_t line_no = 0;
      while (pos < req.body.size()) {
        size_t nl = req.body.find('\n', pos);
        if (nl == std::string::npos) nl = req.body.size();
        ++line_no;
        std::string_view l(req.body.data() + pos, nl - pos);
        pos = nl + 1;
        if (l.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        json item = json::parse(l, nullptr, false);
        if (item.is_discarded()) {
          return HttpResponse::error(400, "bad_json",
                                     "line " + std::to_string(line_no) + " is not valid JSON");
        }
        take(item);
      }
    }
    const size_t n = batch.size();
    if (!I.deps.ingest->tryPush(std::move(batch))) {
      return HttpResponse::error(429, "queue_full",
                                 "the pipeline is full; retry later (nothing was accepted)")
          .header("Retry-After", "1");
    }
    return okJson({{"accepted", n}}, 202);
  });

  // ---- audit ----
  R.add("GET", v1 + "/audit", kReaders, [&I](HttpRequest& req, const Principal&) {
    AuditQuery q;
    q.limit = limitOf(req);
    if (auto k = req.queryParam("kind")) q.kind = *k;
    if (auto a = req.queryParam("actor")) q.actor = *a;
    if (auto t = req.queryParam("target")) q.target = *t;
    if (auto c = req.queryParam("cursor")) {
      char* end = nullptr;
      q.before_seq = std::strtoll(c->c_str(), &end, 10);
      if (c->empty() || *end != '\0' || q.before_seq <= 0) {
        return HttpResponse::error(400, "invalid_argument", "cursor must be a positive integer");
      }
    }
    auto es = unwrap(I.store().queryAudit(q));
    ojson items = ojson::array();
    for (const auto& e : es) items.push_back(auditJson(e));
    return page(std::move(items), q.limit, es.empty() ? "" : std::to_string(es.back().seq));
  });
  R.add("GET", v1 + "/audit/verify", kReaders, [&I](HttpRequest&, const Principal&) {
    std::vector<AuditEntry> all;
    int64_t after = 0;
    for (;;) {
      auto chunk = unwrap(I.store().listAudit(after, 10000));
      if (chunk.empty()) break;
      after = chunk.back().seq;
      for (auto& e : chunk) all.push_back(std::move(e));
    }
    Status st = verifyAuditChain(all);
    ojson j{{"ok", st.isOk()}, {"entries", all.size()}};
    if (!st.isOk()) j["error"] = st.message();
    return okJson(j);
  });

  // ---- mode ----
  R.add("GET", v1 + "/mode", kReaders, [&I](HttpRequest&, const Principal&) {
    auto m = unwrap(I.store().loadMode());
    const int64_t pending =
        unwrap(I.store().countDecisionsInState(DecisionState::kPendingApproval));
    ojson j{{"mode", m.name()},
            {"reason", m.reason},
            {"actor", m.actor},
            {"pending_approval", pending}};
    j["since"] = m.since.isSet() ? ojson(formatRfc3339Utc(m.since)) : ojson(nullptr);
    return okJson(j);
  });
  R.add("PUT", v1 + "/mode", kAdmins, [&I](HttpRequest& req, const Principal& p) {
    const json body = parseBody(req);
    const std::string mode = reqString(body, "mode");
    if (mode != "manual" && mode != "auto" && mode != "dry-run") {
      return HttpResponse::error(400, "invalid_argument", "mode must be auto, manual or dry-run");
    }
    const std::string reason = optString(body, "reason").value_or("");
    const std::string actor = p.actor();
    I.onEngine([=](Engine& e) { return e.setMode(mode, reason, actor); });
    auto m = unwrap(I.store().loadMode());
    ojson j{{"mode", m.name()}, {"reason", m.reason}, {"actor", m.actor}};
    j["since"] = m.since.isSet() ? ojson(formatRfc3339Utc(m.since)) : ojson(nullptr);
    return okJson(j);
  });

  // ---- intel ----
  R.add("GET", v1 + "/intel/lookup", kReaders, [&I](HttpRequest& req, const Principal&) {
    auto value = req.queryParam("value");
    if (!value || value->empty()) {
      return HttpResponse::error(400, "invalid_argument", "give ?value=<ip, domain or hash>");
    }
    const std::string db = I.intelDb();
    if (db.empty()) {
      return HttpResponse::error(404, "no_intel", "no intel database is configured");
    }
    return HttpResponse::json(200, unwrap(intel::lookupInDb(db, *value)));
  });

  // Every configured feed with the health the collector recorded in the intel database (what
  // `riposte intel feeds` prints); a feed that has not run yet has no health fields.
  R.add("GET", v1 + "/intel/feeds", kReaders, [&I](HttpRequest&, const Principal&) {
    ojson items = ojson::array();
    auto feeds = intel::feedConfigsFrom(*I.deps.config);
    if (!feeds) return HttpResponse::error(500, "internal", feeds.status().message());
    if (feeds->empty()) return okJson({{"items", std::move(items)}});
    std::map<std::string, nlohmann::json> recorded;
    if (auto h = intel::feedHealthOfDb(intel::feedDbPath(*I.deps.config))) {
      for (auto& x : *h) {
        if (!x.is_object()) continue;
        const std::string name = x.value("name", "");
        recorded[name] = std::move(x);
      }
    }
    for (const auto& f : *feeds) {
      ojson j{{"name", f.name},
              {"type", f.type},
              {"enabled", f.enabled},
              {"interval_s", std::chrono::duration_cast<std::chrono::seconds>(f.interval).count()}};
      auto it = recorded.find(f.name);
      if (it != recorded.end()) {
        for (const auto& [k, v] : it->second.items()) {
          // The URL may carry a key in its query; the cursor is internal.
          if (k != "url" && k != "cursor" && k != "name" && k != "type" && k != "enabled") {
            j[k] = ojson::parse(v.dump());
          }
        }
        j["healthy"] = it->second.value("consecutive_failures", 0) == 0;
      } else {
        j["healthy"] = nullptr;  // not run yet
      }
      items.push_back(std::move(j));
    }
    return okJson({{"items", std::move(items)}});
  });

  // A run of one feed (or of every enabled feed) now, on the collector's threads: 202 at once;
  // the feed's health in GET /intel/feeds shows the run when it is over.
  auto sync = [&I](const std::string& feed, const Principal& p) {
    const std::string actor = p.actor();
    I.onEngine([=](Engine& e) { return e.requestFeedSync(feed, actor); });
    return okJson({{"feed", feed.empty() ? ojson(nullptr) : ojson(feed)}, {"requested", true}},
                  202);
  };
  R.add("POST", v1 + "/intel/feeds/{name}/sync", kAnalysts,
        [sync](HttpRequest& req, const Principal& p) { return sync(req.params["name"], p); });
  R.add("POST", v1 + "/intel/sync", kAnalysts,
        [sync](HttpRequest&, const Principal& p) { return sync("", p); });

  // ---- rules ----
  R.add("GET", v1 + "/rules", kReaders, [&I](HttpRequest&, const Principal&) {
    auto out = std::make_shared<std::vector<RuleInfo>>();
    I.onEngine([out](Engine& e) {
      *out = e.rules();
      return Status::ok();
    });
    ojson items = ojson::array();
    for (const auto& r : *out) {
      items.push_back(
          {{"id", r.id},
           {"name", r.name},
           {"description", r.description},
           {"detector", r.detector},
           {"file", r.file},
           {"line", r.line},
           {"mode", r.mode},
           {"file_mode", r.file_mode},
           {"mode_set_by", r.mode_set_by.empty() ? ojson(nullptr) : ojson(r.mode_set_by)},
           {"mode_since",
            r.mode_since.isSet() ? ojson(formatRfc3339Utc(r.mode_since)) : ojson(nullptr)},
           {"severity", r.severity},
           {"action", r.action},
           {"matches", r.matches},
           {"findings", r.findings}});
    }
    return okJson({{"items", std::move(items)}});
  });
  // Rule-set and configuration loads (engine/config_history.h); the configuration's text is
  // for admins only.
  for (const std::string kind : {"rules", "config"}) {
    const auto roles = kind == "rules" ? kReaders : kAdmins;
    R.add("GET", v1 + "/" + kind + "/history", roles,
          [&I, kind](HttpRequest& req, const Principal&) {
            ConfigHistoryQuery q;
            q.kind = kind;
            q.limit = limitOf(req);
            if (auto c = req.queryParam("cursor")) {
              char* end = nullptr;
              q.before_id = std::strtoll(c->c_str(), &end, 10);
              if (c->empty() || *end != '\0' || q.before_id <= 0) {
                return HttpResponse::error(400, "invalid_argument",
                                           "cursor must be a positive integer");
              }
            }
            auto rs = unwrap(historyStore(I.store()).listConfigHistory(q));
            ojson items = ojson::array();
            for (const auto& r : rs) items.push_back(configHistoryJson(r, false));
            return page(std::move(items), q.limit, rs.empty() ? "" : std::to_string(rs.back().id));
          });
    R.add("GET", v1 + "/" + kind + "/history/{id}", roles,
          [&I, kind](HttpRequest& req, const Principal&) {
            const std::string& idText = req.params["id"];
            char* end = nullptr;
            const int64_t id = std::strtoll(idText.c_str(), &end, 10);
            std::optional<ConfigHistoryRecord> r;
            if (!idText.empty() && *end == '\0' && id > 0)
              r = unwrap(historyStore(I.store()).getConfigHistory(id));
            if (!r || r->kind != kind) {
              return HttpResponse::error(404, "not_found", "no " + kind + " load " + idText);
            }
            return okJson(configHistoryJson(*r, true));
          });
  }
  R.add("GET", v1 + "/rules/errors", kReaders, [&I](HttpRequest&, const Principal&) {
    auto rep = std::make_shared<RuleLoadReport>();
    I.onEngine([rep](Engine& e) {
      *rep = e.ruleLoadReport();
      return Status::ok();
    });
    ojson items = ojson::array();
    ojson diags = ojson::array();
    size_t errors = 0;
    for (const auto& d : rep->diagnostics) {
      const bool error = d.severity == rules::RuleDiagnostic::Severity::kError;
      errors += error ? 1 : 0;
      items.push_back(d.toString());
      diags.push_back({{"severity", error ? "error" : "warning"},
                       {"code", d.code},
                       {"file", d.file},
                       {"line", d.line},
                       {"column", d.column},
                       {"rule", d.rule},
                       {"message", d.message}});
    }
    ojson j{{"items", std::move(items)},
            {"diagnostics", std::move(diags)},
            {"errors", errors},
            {"rejected", rep->rejected},
            {"loaded_by", rep->actor}};
    j["loaded_at"] = rep->time.isSet() ? ojson(formatRfc3339Utc(rep->time)) : ojson(nullptr);
    if (rep->rejected) j["error"] = rep->error;
    return okJson(j);
  });
  R.add("PUT", v1 + "/rules/{id}/mode", kAdmins, [&I](HttpRequest& req, const Principal& p) {
    const json body = parseBody(req);
    const std::string mode = reqString(body, "mode");
    const std::string id = req.params["id"];
    const std::string actor = p.actor();
    I.onEngine([=](Engine& e) { return e.setRuleMode(id, mode, actor); });
    return okJson({{"id", id}, {"mode", mode}});
  });
  R.add("POST", v1 + "/rules/reload", kAdmins, [&I](HttpRequest&, const Principal& p) {
    const std::string actor = p.actor();
    auto count = std::make_shared<size_t>(0);
    if (I.deps.commands == nullptr) {
      return HttpResponse::error(503, "unavailable", "no engine is running");
    }
    Status st = I.deps.commands->run(
        [=, &I](Engine& e) {
          const Status loaded = e.reloadDetectors(actor);
          *count = e.rules().size();
          // Accepted or refused, the load is kept in the rule history.
          if (I.deps.config != nullptr) {
            recordRuleLoad(I.store(), *I.deps.config, actor, loaded, *count);
          }
          return loaded;
        },
        I.commandTimeout());
    if (!st.isOk() && st.code() != StatusCode::kUnavailable &&
        st.code() != StatusCode::kResourceExhausted) {
      // Diagnostics with file:line:col positions, one a line; the running rules stay.
      ojson diags = ojson::array();
      size_t pos = 0;
      const std::string& m = st.message();
      while (pos < m.size()) {
        size_t nl = m.find('\n', pos);
        if (nl == std::string::npos) nl = m.size();
        std::string line = m.substr(pos, nl - pos);
        const size_t start = line.find_first_not_of(' ');
        if (start != std::string::npos) diags.push_back(line.substr(start));
        pos = nl + 1;
      }
      return okJson({{"error",
                      {{"code", "rules_rejected"},
                       {"message", "the rule files have errors; the running rules stay"}}},
                     {"diagnostics", diags}},
                    422);
    }
    check(st);
    return okJson({{"reloaded", true}, {"rules", *count}});
  });

  // ---- sources ----
  R.add("GET", v1 + "/sources", kReaders, [this](HttpRequest&, const Principal&) {
    ojson items = ojson::array();
    if (deps_.state != nullptr) {
      const auto s = deps_.state->snapshot();
      for (const auto& h : s.sources) {
        ojson j{{"name", h.name},
                {"type", h.type},
                {"parser", h.parser},
                {"lines", h.stats.lines},
                {"bytes", h.stats.bytes},
                {"rotations", h.stats.rotations},
                {"truncations", h.stats.truncations},
                {"read_errors", h.stats.errors},
                {"poll_errors", h.errors},
                {"last_error", h.last_error}};
        j["last_line"] =
            h.last_line.isSet() ? ojson(formatRfc3339Utc(h.last_line)) : ojson(nullptr);
        j["healthy"] = h.last_error.empty();
        items.push_back(std::move(j));
      }
    }
    if (deps_.ingest != nullptr) {
      const auto st = deps_.ingest->stats();
      items.push_back({{"name", "api"},
                       {"type", "http"},
                       {"parser", "per event"},
                       {"lines", st.accepted},
                       {"refused", st.refused},
                       {"processed", st.processed},
                       {"queued", deps_.ingest->depth()},
                       {"capacity", deps_.ingest->capacity()},
                       {"healthy", true}});
    }
    return okJson({{"items", std::move(items)}});
  });

  // ---- users and tokens (admin) ----
  R.add("GET", v1 + "/users", kAdmins, [&I](HttpRequest&, const Principal&) {
    ojson items = ojson::array();
    for (const auto& u : unwrap(I.store().listUsers())) items.push_back(userJson(u));
    return okJson({{"items", std::move(items)}});
  });
  R.add("POST", v1 + "/users", kAdmins, [&I](HttpRequest& req, const Principal& p) {
    const json body = parseBody(req);
    const std::string name = reqString(body, "name");
    const std::string role_name = reqString(body, "role");
    auto role = roleFromName(role_name);
    if (!role) {
      return HttpResponse::error(400, "invalid_argument",
                                 "role must be viewer, analyst, admin or ingest");
    }
    const std::string password = reqString(body, "password");
    check(addUser(I.store(), name, *role, password, p.actor()));
    auto u = unwrap(I.store().getUser(name));
    return okJson(u ? userJson(*u) : ojson::object(), 201);
  });
  R.add("PATCH", v1 + "/users/{name}", kAdmins, [&I](HttpRequest& req, const Principal& p) {
    const json body = parseBody(req);
    const std::string name = req.params["name"];
    std::optional<Role> role;
    if (auto r = optString(body, "role")) {
      role = roleFromName(*r);
      if (!role) {
        return HttpResponse::error(400, "invalid_argument",
                                   "role must be viewer, analyst, admin or ingest");
      }
    }
    auto disabled = optBool(body, "disabled");
    auto password = optString(body, "password");
    auto cur = unwrap(I.store().getUser(name));
    if (!cur) return HttpResponse::error(404, "not_found", "no user '" + name + "'");
    const bool loses_admin =
        cur->role == "admin" && ((role && *role != Role::kAdmin) || (disabled && *disabled));
    if (loses_admin && !I.otherAdmin(name)) {
      return HttpResponse::error(409, "last_admin", "the last enabled admin cannot be demoted");
    }
    check(updateUser(I.store(), name, role, password, disabled, p.actor()));
    auto u = unwrap(I.store().getUser(name));
    return okJson(u ? userJson(*u) : ojson::object());
  });
  R.add("DELETE", v1 + "/users/{name}", kAdmins, [&I](HttpRequest& req, const Principal& p) {
    const std::string name = req.params["name"];
    auto cur = unwrap(I.store().getUser(name));
    if (!cur) return HttpResponse::error(404, "not_found", "no user '" + name + "'");
    if (cur->role == "admin" && !I.otherAdmin(name)) {
      return HttpResponse::error(409, "last_admin", "the last enabled admin cannot be deleted");
    }
    check(removeUser(I.store(), name, p.actor()));
    return okJson({{"deleted", name}});
  });
  R.add("GET", v1 + "/tokens", kAdmins, [&I](HttpRequest&, const Principal&) {
    ojson items = ojson::array();
    for (const auto& t : unwrap(I.store().listTokens())) items.push_back(tokenJson(t));
    return okJson({{"items", std::move(items)}});
  });
  R.add("POST", v1 + "/tokens", kAdmins, [&I](HttpRequest& req, const Principal& p) {
    const json body = parseBody(req);
    const std::string user = reqString(body, "user");
    const std::string name = optString(body, "name").value_or("token");
    auto t = unwrap(createToken(I.store(), user, name, p.actor()));
    ojson j = tokenJson(t.record);
    j["token"] = t.secret;  // shown once
    return okJson(j, 201);
  });
  R.add("DELETE", v1 + "/tokens/{id}", kAdmins, [&I](HttpRequest& req, const Principal& p) {
    check(revokeToken(I.store(), req.params["id"], p.actor()));
    return okJson({{"revoked", req.params["id"]}});
  });

  // ---- live events ----
  R.add("GET", v1 + "/stream", kReaders, [this](HttpRequest&, const Principal&) {
    if (deps_.hub == nullptr) return HttpResponse::error(503, "unavailable", "no event stream");
    HttpResponse r;
    r.event_stream = true;
    return r;
  });

  // ---- metrics ----
  R.add("GET", "/metrics", kReaders, [this](HttpRequest&, const Principal&) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = renderMetrics(deps_);
    return r;
  });
}

HttpResponse ApiService::handle(HttpRequest& req) {
  try {
    const Route* route = nullptr;
    switch (router_.match(req, &route)) {
      case Router::Match::kNoPath: {
        const std::string& dir = deps_.config->api.console_dir;
        if (!dir.empty() && (req.method == "GET" || req.method == "HEAD") &&
            req.path.rfind("/api/", 0) != 0) {
          return serveStatic(req);
        }
        return HttpResponse::error(404, "not_found", "no route " + req.path);
      }
      case Router::Match::kWrongMethod:
        return HttpResponse::error(405, "method_not_allowed",
                                   req.method + " is not allowed on " + req.path);
      case Router::Match::kFound: break;
    }
    Principal p;
    const bool metrics_public = route->pattern == "/metrics" && deps_.config->api.metrics_public;
    if (route->roles != kPublic && !metrics_public) {
      HttpResponse err;
      auto who = impl_->auth.authenticate(req, &err);
      if (!who) return err;
      p = std::move(*who);
      if (!allows(route->roles, p.role)) {
        return HttpResponse::error(403, "forbidden",
                                   "role " + std::string(roleName(p.role)) + " may not " +
                                       req.method + " " + route->pattern);
      }
      if (p.session && isWrite(req.method)) {
        const std::string& token = req.header(std::string(kCsrfHeader));
        if (token.empty() || !constantTimeEquals(token, p.csrf)) {
          return HttpResponse::error(403, "csrf_failed",
                                     "a cookie session needs the X-CSRF-Token header on writes");
        }
      }
    }
    if (isWrite(req.method) && !req.body.empty()) {
      const std::string& ct = req.header("content-type");
      const bool jsonish = ct.empty() || ct.find("json") != std::string::npos;
      if (!jsonish) {
        return HttpResponse::error(415, "unsupported_media_type",
                                   "send application/json (or application/x-ndjson for events)");
      }
    }
    return route->handler(req, p);
  } catch (Reply& r) {
    return std::move(r.res);
  } catch (const std::exception& e) {
    spdlog::error("api: {} {}: {}", req.method, req.path, e.what());
    return HttpResponse::error(500, "internal", "internal error");
  }
}

std::string builtConsoleDir() {
#ifdef RIPOSTE_CONSOLE_BUILD_DIR
  return RIPOSTE_CONSOLE_BUILD_DIR;
#else
  return {};
#endif
}

std::string consoleDirectory(const std::string& configured, const std::string& built) {
  if (configured == "none") return {};
  if (!configured.empty()) return configured;
  std::error_code ec;
  if (!built.empty() &&
      std::filesystem::is_regular_file(std::filesystem::path(built) / "index.html", ec)) {
    return built;
  }
  return {};
}

HttpResponse ApiService::serveStatic(const HttpRequest& req) const {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(deps_.config->api.console_dir, ec);
  std::string rel = req.path == "/" ? "index.html" : req.path.substr(1);
  fs::path p = fs::weakly_canonical(root / rel, ec);
  // Only files under the console directory (not a sibling sharing its name as a prefix);
  // anything else gets the console's index.html.
  const fs::path inside = p.lexically_relative(root);
  const bool under = !inside.empty() && *inside.begin() != ".." && *inside.begin() != ".";
  if (ec || !under || !fs::is_regular_file(p, ec)) {
    p = root / "index.html";
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) return HttpResponse::error(404, "not_found", "no console at " + req.path);
  HttpResponse r;
  r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  r.content_type = contentTypeOf(p);
  r.header("Content-Security-Policy",
           "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
  r.header("X-Frame-Options", "DENY");
  return r;
}

}  // namespace riposte::api

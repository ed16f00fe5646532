#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "riposte/cluster/decision_bus.h"
#include "riposte/core/ids.h"
#include "riposte/core/ip.h"
#include "riposte/engine/serve.h"

namespace riposte::cli {

namespace {

// With a `cluster:` section, tells every node (their running engines apply it through their
// own policy). A failure is reported; the local store already holds the change, and a
// running `serve` of this node publishes it again at its next cluster reconcile.
void fanOut(const Config& cfg, const Decision& d, bool revoke) {
  auto opts = cluster::DecisionBusOptions::fromConfig(cfg);
  if (!opts || !*opts) return;
  cluster::WireMessage m;
  m.type = revoke ? cluster::WireMessage::Type::kRevoke : cluster::WireMessage::Type::kDecision;
  m.node = (*opts)->node;
  m.instance = (*opts)->node + "/cli/" + newId();
  m.decision = d;
  if (Status st = cluster::publishOnce(**opts, m); !st.isOk()) {
    std::fprintf(stderr, "riposte decisions: not sent to the cluster: %s\n", st.toString().c_str());
  }
}

Result<StorePtr> storeFor(Context& ctx, const std::string& config) {
  auto cfg = loadConfigOrDefault(ctx, config);
  if (!cfg) return cfg.status();
  return openStore(*cfg, ctx.registries);
}

}  // namespace

void addDecisionCommands(CLI::App& app, Context& ctx) {
  auto* dec = app.add_subcommand("decisions", "List, add and delete decisions in the store");
  dec->require_subcommand(1);
  dec->fallthrough();  // --config may follow the sub-command
  auto config = std::make_shared<std::string>();
  dec->add_option("--config,-c", *config, "configuration file (names the store)");

  auto state = std::make_shared<std::string>("active");
  auto* list = dec->add_subcommand("list", "Print decisions as JSON lines");
  list->add_option("--state", *state, "pending-approval, active, expired, revoked, failed, all")
      ->capture_default_str();
  list->callback([&ctx, config, state] {
    auto store = storeFor(ctx, *config);
    if (!store) {
      std::fprintf(stderr, "riposte decisions: %s\n", store.status().toString().c_str());
      ctx.exit_code = 1;
      return;
    }
    DecisionFilter f;
    if (*state != "all") {
      f.state = decisionStateFromName(*state);
      if (!f.state) {
        std::fprintf(stderr, "riposte decisions list: unknown state '%s'\n", state->c_str());
        ctx.exit_code = 2;
        return;
      }
    }
    f.limit = 1'000'000;
    auto ds = (*store)->listDecisions(f);
    if (!ds) {
      std::fprintf(stderr, "riposte decisions: %s\n", ds.status().toString().c_str());
      ctx.exit_code = 1;
      return;
    }
    for (const auto& d : *ds) std::printf("%s\n", d.toJson().c_str());
  });

  struct AddOpts {
    std::string target;
    std::string duration = "4h";
    std::string reason = "manual";
    std::string action = "block";
  };
  auto ao = std::make_shared<AddOpts>();
  auto* add = dec->add_subcommand("add", "Add a decision by hand (audited)");
  add->add_option("target", ao->target, "IP address or CIDR range")->required();
  add->add_option("--duration,-d", ao->duration, "how long")->capture_default_str();
  add->add_option("--reason,-r", ao->reason, "why")->capture_default_str();
  add->add_option("--action", ao->action, "block, alert, ...")->capture_default_str();
  add->callback([&ctx, config, ao] {
    auto cfg = loadConfigOrDefault(ctx, *config);
    if (!cfg) {
      ctx.exit_code = 2;
      return;
    }
    auto dur = parseDuration(ao->duration);
    auto cidr = Cidr::parse(ao->target);
    if (!dur || !cidr) {
      std::fprintf(stderr, "riposte decisions add: %s\n",
                   (!dur ? dur.status() : cidr.status()).toString().c_str());
      ctx.exit_code = 2;
      return;
    }
    auto store = openStore(*cfg, ctx.registries);
    if (!store) {
      std::fprintf(stderr, "riposte decisions add: %s\n", store.status().toString().c_str());
      ctx.exit_code = 1;
      return;
    }
    EngineOptions eo;
    eo.allowlist_own_addresses = true;
    eo.run_actions = false;  // the running engine enforces what the store holds
    auto engine = Engine::create(*cfg, ctx.registries, store->get(), eo);
    if (!engine) {
      std::fprintf(stderr, "riposte decisions add: %s\n", engine.status().toString().c_str());
      ctx.exit_code = 1;
      return;
    }
    const Timestamp now = Timestamp::now();
    Decision d;
    d.id = newId(now);
    d.action = ao->action;
    const bool host = cidr->prefix == (cidr->base.v6 ? 128 : 32);
    d.target = {host ? TargetType::kIp : TargetType::kCidr,
                host ? cidr->base.toString() : cidr->toString()};
    d.detector = "manual";
    d.reason = ao->reason;
    d.first_seen = d.last_seen = d.created = now;
    d.expires = now + *dur;
    const char* user = std::getenv("USER");
    d.origin = std::string("cli:") + (user ? user : "unknown");
    if (Status st = (*engine)->addManualDecision(d, d.origin); !st.isOk()) {
      std::fprintf(stderr, "riposte decisions add: %s\n", st.toString().c_str());
      ctx.exit_code = 1;
      return;
    }
    fanOut(*cfg, d, /*revoke=*/false);
    std::printf("%s\n", d.toJson().c_str());
  });

  auto target = std::make_shared<std::string>();
  auto* del = dec->add_subcommand("delete", "Revoke the active decisions on a target (audited)");
  del->add_option("target", *target, "IP address or CIDR range")->required();
  del->callback([&ctx, config, target] {
    auto cfg = loadConfigOrDefault(ctx, *config);
    if (!cfg) {
      ctx.exit_code = 2;
      return;
    }
    auto store = openStore(*cfg, ctx.registries);
    if (!store) {
      std::fprintf(stderr, "riposte decisions delete: %s\n", store.status().toString().c_str());
      ctx.exit_code = 1;
      return;
    }
    DecisionFilter f;
    f.state = DecisionState::kActive;
    f.target = canonicalIp(*target).value_or(*target);
    auto ds = (*store)->listDecisions(f);
    if (!ds || ds->empty()) {
      std::fprintf(stderr, "riposte decisions delete: no active decision on %s\n", target->c_str());
      ctx.exit_code = 1;
      return;
    }
    const char* user = std::getenv("USER");
    for (auto& d : *ds) {
      if (Status st = (*store)->updateDecisionState(d.id, DecisionState::kRevoked); !st.isOk()) {
        std::fprintf(stderr, "riposte decisions delete: %s\n", st.toString().c_str());
        ctx.exit_code = 1;
        return;
      }
      d.state = DecisionState::kRevoked;
      AuditEntry a;
      a.actor = std::string("cli:") + (user ? user : "unknown");
      a.kind = "decision.revoked";
      a.target = d.target.value;
      a.reason = "revoked by hand";
      a.details_json = d.toJson();
      (void)(*store)->appendAudit(a);
      fanOut(*cfg, d, /*revoke=*/true);
      std::printf("%s\n", d.toJson().c_str());
    }
  });

  // Approve / reject a proposed (pending-approval) decision: an explicit, audited step by a
  // person. A running `serve` enforces approved decisions at its next reconcile.
  for (const bool approve : {true, false}) {
    auto id = std::make_shared<std::string>();
    auto* sub = dec->add_subcommand(approve ? "approve" : "reject",
                                    approve ? "Approve a pending-approval decision (audited)"
                                            : "Reject a pending-approval decision (audited)");
    sub->add_option("id", *id, "decision id")->required();
    sub->callback([&ctx, config, id, approve] {
      const char* verb = approve ? "approve" : "reject";
      auto store = storeFor(ctx, *config);
      if (!store) {
        std::fprintf(stderr, "riposte decisions %s: %s\n", verb, store.status().toString().c_str());
        ctx.exit_code = 1;
        return;
      }
      DecisionFilter f;
      f.state = DecisionState::kPendingApproval;
      f.limit = 10'000'000;
      auto ds = (*store)->listDecisions(f);
      const Decision* found = nullptr;
      if (ds) {
        for (const auto& d : *ds) {
          if (d.id == *id) found = &d;
        }
      }
      if (found == nullptr) {
        std::fprintf(stderr, "riposte decisions %s: no pending-approval decision %s\n", verb,
                     id->c_str());
        ctx.exit_code = 1;
        return;
      }
      Decision d = *found;
      d.state = approve ? DecisionState::kActive : DecisionState::kRevoked;
      if (approve && d.expires <= Timestamp::now()) {
        std::fprintf(stderr, "riposte decisions approve: %s has already expired\n", id->c_str());
        ctx.exit_code = 1;
        return;
      }
      if (Status st = (*store)->updateDecisionState(d.id, d.state); !st.isOk()) {
        std::fprintf(stderr, "riposte decisions %s: %s\n", verb, st.toString().c_str());
        ctx.exit_code = 1;
        return;
      }
      const char* user = std::getenv("USER");
      AuditEntry a;
      a.actor = std::string("cli:") + (user ? user : "unknown");
      a.kind = approve ? "decision.approved" : "decision.rejected";
      a.target = d.target.value;
      a.reason = approve ? "approved by hand" : "rejected by hand";
      a.details_json = d.toJson();
      (void)(*store)->appendAudit(a);
      std::printf("%s\n", d.toJson().c_str());
    });
  }
}

}  // namespace riposte::cli
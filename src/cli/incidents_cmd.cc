#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "riposte/core/ip.h"
#include "riposte/engine/serve.h"

namespace riposte::cli {

namespace {

using ojson = nlohmann::ordered_json;

std::string dump(const ojson& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ojson findingJson(const FindingRecord& r) {
  const Finding& f = r.finding;
  ojson j;
  j["id"] = f.id;
  j["detector"] = f.detector;
  j["entity"] = f.entity.value;
  j["severity"] = f.severity;
  j["reason"] = f.reason;
  j["events"] = f.event_count;
  j["first_seen"] = formatRfc3339Utc(f.first_seen);
  j["last_seen"] = formatRfc3339Utc(f.last_seen);
  j["labels"] = f.labels;
  j["false_positive"] = r.false_positive;
  return j;
}

std::string cliActor() {
  const char* user = std::getenv("USER");
  return std::string("cli:") + (user ? user : "unknown");
}

}  // namespace

void addIncidentCommands(CLI::App& app, Context& ctx) {
  auto* inc = app.add_subcommand("incidents", "List, show, acknowledge and close incidents");
  inc->require_subcommand(1);
  inc->fallthrough();  // --config may follow the sub-command
  auto config = std::make_shared<std::string>();
  inc->add_option("--config,-c", *config, "configuration file (names the store)");

  auto open = [&ctx, config](const char* what) -> Result<StorePtr> {
    auto cfg = loadConfigOrDefault(ctx, *config);
    if (!cfg) return cfg.status();
    auto store = openStore(*cfg, ctx.registries);
    if (!store)
      std::fprintf(stderr, "riposte incidents %s: %s\n", what, store.status().toString().c_str());
    return store;
  };

  struct ListOpts {
    std::string status = "all";
    std::string target;
    std::string since;
    size_t limit = 100;
  };
  auto lo = std::make_shared<ListOpts>();
  auto* list = inc->add_subcommand("list", "Print incidents as JSON lines, newest first");
  list->add_option("--status", lo->status, "open, acknowledged, closed or all")
      ->capture_default_str();
  list->add_option("--target", lo->target, "only this target (address, range, user, host)");
  list->add_option("--since", lo->since, "last seen at or after (RFC 3339)");
  list->add_option("--limit,-n", lo->limit, "at most this many")->capture_default_str();
  list->callback([&ctx, open, lo] {
    IncidentQuery q;
    if (lo->status != "all") {
      q.status = incidentStatusFromName(lo->status);
      if (!q.status) {
        std::fprintf(stderr, "riposte incidents list: unknown status '%s'\n", lo->status.c_str());
        ctx.exit_code = 2;
        return;
      }
    }
    if (!lo->target.empty()) q.target = canonicalIp(lo->target).value_or(lo->target);
    if (!lo->since.empty()) {
      q.since = parseRfc3339(lo->since);
      if (!q.since) {
        std::fprintf(stderr, "riposte incidents list: --since must be an RFC 3339 time\n");
        ctx.exit_code = 2;
        return;
      }
    }
    q.limit = lo->limit;
    auto store = open("list");
    if (!store) {
      ctx.exit_code = 1;
      return;
    }
    auto is = (*store)->listIncidents(q);
    if (!is) {
      std::fprintf(stderr, "riposte incidents list: %s\n", is.status().toString().c_str());
      ctx.exit_code = 1;
      return;
    }
    for (const auto& i : *is) std::printf("%s\n", i.toJson().c_str());
  });

  auto show_id = std::make_shared<std::string>();
  auto* show = inc->add_subcommand("show", "Print one incident with its findings and decisions");
  show->add_option("id", *show_id, "incident id")->required();
  show->callback([&ctx, open, show_id] {
    auto store = open("show");
    if (!store) {
      ctx.exit_code = 1;
      return;
    }
    auto got = (*store)->getIncident(*show_id);
    if (!got || !got->has_value()) {
      std::fprintf(stderr, "riposte incidents show: %s\n",
                   got ? ("no incident " + *show_id).c_str() : got.status().toString().c_str());
      ctx.exit_code = 1;
      return;
    }
    const Incident& i = **got;
    ojson j = ojson::parse(i.toJson());
    ojson findings = ojson::array();
    if (auto ids = (*store)->incidentFindings(i.id)) {
      for (const auto& id : *ids) {
        auto f = (*store)->getFinding(id);
        if (f && f->has_value()) findings.push_back(findingJson(**f));
      }
    }
    ojson decisions = ojson::array();
    for (const auto& id : i.decision_ids) {
      auto d = (*store)->getDecision(id);
      if (d && d->has_value()) decisions.push_back(ojson::parse((*d)->toJson()));
    }
    j["finding_items"] = std::move(findings);
    j["decision_items"] = std::move(decisions);
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  });

  // ack / close: written to the store and audited; a running serve picks the change up within
  // seconds (its correlator syncs status changes on its tick).
  for (const IncidentStatus to : {IncidentStatus::kAcknowledged, IncidentStatus::kClosed}) {
    const bool ack = to == IncidentStatus::kAcknowledged;
    auto id = std::make_shared<std::string>();
    auto note = std::make_shared<std::string>();
    auto* sub = inc->add_subcommand(
        ack ? "ack" : "close", ack ? "Acknowledge an incident (audited)"
                                   : "Close an incident (audited; it is never extended again)");
    sub->add_option("id", *id, "incident id")->required();
    sub->add_option("--note,-m", *note, "why (kept with the incident and in the audit log)");
    sub->callback([&ctx, open, id, note, to, ack] {
      const char* verb = ack ? "ack" : "close";
      auto store = open(verb);
      if (!store) {
        ctx.exit_code = 1;
        return;
      }
      auto got = (*store)->getIncident(*id);
      if (!got || !got->has_value()) {
        std::fprintf(stderr, "riposte incidents %s: %s\n", verb,
                     got ? ("no incident " + *id).c_str() : got.status().toString().c_str());
        ctx.exit_code = 1;
        return;
      }
      Incident i = **got;
      if (i.status == IncidentStatus::kClosed) {
        std::fprintf(stderr, "riposte incidents %s: incident %s is closed\n", verb, id->c_str());
        ctx.exit_code = 1;
        return;
      }
      const std::string from(incidentStatusName(i.status));
      const Timestamp now = Timestamp::now();
      i.status = to;
      i.status_by = cliActor();
      i.status_at = now;
      i.status_note = *note;
      i.updated = now;
      if (Status st = (*store)->saveIncident(i); !st.isOk()) {
        std::fprintf(stderr, "riposte incidents %s: %s\n", verb, st.toString().c_str());
        ctx.exit_code = 1;
        return;
      }
      AuditEntry a;
      a.actor = i.status_by;
      a.kind = "incident.status";
      a.target = i.target.value;
      a.reason =
          from + " -> " + std::string(incidentStatusName(to)) + (note->empty() ? "" : ": " + *note);
      a.details_json = dump(ojson{{"incident", i.id},
                                  {"from", from},
                                  {"to", std::string(incidentStatusName(to))},
                                  {"note", *note}});
      if (Status st = (*store)->appendAudit(a); !st.isOk()) {
        std::fprintf(stderr, "riposte incidents %s: audit: %s\n", verb, st.toString().c_str());
        ctx.exit_code = 1;
      }
      std::printf("%s\n", i.toJson().c_str());
    });
  }
}

}  // namespace riposte::cli

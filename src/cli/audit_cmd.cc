#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "riposte/engine/serve.h"

namespace riposte::cli {

namespace {

Result<std::vector<AuditEntry>> readAll(Context& ctx, const std::string& config) {
  auto cfg = loadConfigOrDefault(ctx, config);
  if (!cfg) return cfg.status();
  auto store = openStore(*cfg, ctx.registries);
  if (!store) return store.status();
  std::vector<AuditEntry> all;
  int64_t after = 0;
  for (;;) {
    auto page = (*store)->listAudit(after, 10000);
    if (!page) return page.status();
    if (page->empty()) break;
    after = page->back().seq;
    for (auto& e : *page) all.push_back(std::move(e));
  }
  return all;
}

}  // namespace

void addAuditCommands(CLI::App& app, Context& ctx) {
  auto* audit = app.add_subcommand("audit", "The hash-chained audit log");
  audit->require_subcommand(1);
  audit->fallthrough();  // --config may follow the sub-command
  auto config = std::make_shared<std::string>();
  audit->add_option("--config,-c", *config, "configuration file (names the store)");

  auto* verify = audit->add_subcommand(
      "verify", "Check the hash chain; name the first edited, removed or reordered entry");
  verify->callback([&ctx, config] {
    auto all = readAll(ctx, *config);
    if (!all) {
      std::fprintf(stderr, "riposte audit verify: %s\n", all.status().toString().c_str());
      ctx.exit_code = 1;
      return;
    }
    Status st = verifyAuditChain(*all);
    if (!st.isOk()) {
      std::fprintf(stderr, "audit chain BROKEN: %s\n", st.message().c_str());
      ctx.exit_code = 3;
      return;
    }
    std::printf("audit chain OK: %zu entries\n", all->size());
  });

  struct ShowOpts {
    std::string kind;
    std::string target;
  };
  auto so = std::make_shared<ShowOpts>();
  auto* show = audit->add_subcommand("show", "Print audit entries as JSON lines");
  show->add_option("--kind", so->kind, "only entries of this kind (prefix match)");
  show->add_option("--target", so->target, "only entries about this target");
  show->callback([&ctx, config, so] {
    auto all = readAll(ctx, *config);
    if (!all) {
      std::fprintf(stderr, "riposte audit show: %s\n", all.status().toString().c_str());
      ctx.exit_code = 1;
      return;
    }
    for (const auto& e : *all) {
      if (!so->kind.empty() && e.kind.rfind(so->kind, 0) != 0) continue;
      if (!so->target.empty() && e.target != so->target) continue;
      nlohmann::ordered_json j;
      j["seq"] = e.seq;
      j["time"] = formatRfc3339Utc(e.time);
      j["actor"] = e.actor;
      j["kind"] = e.kind;
      j["target"] = e.target;
      j["reason"] = e.reason;
      j["hash"] = e.hash;
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    }
  });
}

}  // namespace riposte::cli

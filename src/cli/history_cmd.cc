// `riposte rules history` and `riposte config history`: the loads kept in the store
// (engine/config_history.h), newest first.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "riposte/engine/config_history.h"
#include "riposte/engine/serve.h"
#include "riposte/store/config_history_store.h"

namespace riposte::cli {

namespace {

void addHistory(CLI::App& parent, const std::string& kind, Context& ctx) {
  struct Opts {
    std::string config;
    size_t limit = 20;
    int64_t id = 0;
    bool diff = false;
  };
  auto o = std::make_shared<Opts>();
  auto* h = parent.add_subcommand(
      "history", "Past " + std::string(kind == "rules" ? "rule-set" : "configuration") +
                     " loads (who, when, files, content hash) as JSON lines, newest first");
  h->add_option("--config,-c", o->config, "configuration file (names the store)");
  h->add_option("--limit,-n", o->limit, "how many loads (default 20)");
  h->add_option("--id", o->id, "one load, with its text and diff");
  h->add_flag("--diff", o->diff, "with --id: only the diff against the previous load");
  h->callback([&ctx, o, kind] {
    auto fail = [&](const Status& st) {
      std::fprintf(stderr, "riposte %s history: %s\n", kind.c_str(), st.toString().c_str());
      ctx.exit_code = 1;
    };
    auto cfg = loadConfigOrDefault(ctx, o->config);
    if (!cfg) return fail(cfg.status());
    auto opened = openStore(*cfg, ctx.registries);
    if (!opened) return fail(opened.status());
    auto* store = dynamic_cast<ConfigHistoryStore*>(opened->get());
    if (store == nullptr) {
      return fail(Status::failedPrecondition("this store keeps no " + kind + " history"));
    }
    const auto dump = [](const nlohmann::ordered_json& j) {
      return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    if (o->id > 0) {
      auto r = store->getConfigHistory(o->id);
      if (!r) return fail(r.status());
      if (!r->has_value() || (*r)->kind != kind) {
        return fail(Status::notFound(kind + " load " + std::to_string(o->id)));
      }
      if (o->diff) {
        std::fputs((*r)->diff.c_str(), stdout);
      } else {
        std::printf("%s\n", dump(configHistoryJson(**r, true)).c_str());
      }
      return;
    }
    ConfigHistoryQuery q;
    q.kind = kind;
    q.limit = o->limit;
    auto list = store->listConfigHistory(q);
    if (!list) return fail(list.status());
    for (const auto& r : *list) std::printf("%s\n", dump(configHistoryJson(r, false)).c_str());
  });
}

}  // namespace

void addHistoryCommands(CLI::App& app, Context& ctx) {
  for (const char* kind : {"rules", "config"}) {
    CLI::App* parent = nullptr;
    try {
      parent = app.get_subcommand(kind);
    } catch (const CLI::OptionNotFound&) {
      parent = app.add_subcommand(kind, "");
    }
    addHistory(*parent, kind, ctx);
  }
}

}  // namespace riposte::cli

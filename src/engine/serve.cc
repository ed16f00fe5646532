#include "riposte/engine/serve.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "riposte/cluster/decision_bus.h"
#include "riposte/ingest/source.h"
#include "riposte/store/store.h"

namespace riposte {

Result<StorePtr> openStore(const Config& config, const Registries& registries) {
  ComponentConfig cc;
  cc.name = "store";
  cc.type = config.store_type;
  cc.path = "store";
  cc.node["path"] = config.store_path;
  FactoryContext ctx{&config, nullptr};
  return registries.stores.create(cc, ctx);
}

Status serve(const Config& config, const Registries& registries, const std::atomic<bool>& stop,
             const ServeOptions& options) {
  auto store = openStore(config, registries);
  if (!store) return store.status();
  EngineOptions eo;
  eo.allowlist_own_addresses = true;
  auto engine = Engine::create(config, registries, store->get(), eo);
  if (!engine) return engine.status();
  // Cluster: this node's decisions go to every other node; theirs reach this engine's thread
  // through the bus's queue (deliver() below), never from the bus's own threads.
  auto bus_options = cluster::DecisionBusOptions::fromConfig(config);
  if (!bus_options) return bus_options.status();
  std::unique_ptr<cluster::DecisionBus> bus;
  if (*bus_options) {
    bus = std::make_unique<cluster::DecisionBus>(std::move(**bus_options));
  }
  (*engine)->setDecisionListener([&](const Decision& d) {
    spdlog::info("decision {}", d.toJson());
    if (bus) bus->publishDecision(d);
    if (options.on_decision) options.on_decision(d);
  });
  RIPOSTE_RETURN_IF_ERROR((*engine)->restore());
  if (bus) {
    bus->start();
    spdlog::info("cluster: node {} on {} (prefix {})", bus->options().node,
                 bus->options().redis.describe(), bus->options().prefix);
  }

  struct Running {
    SourcePtr source;
    Parser* parser;
    ParseContext ctx;
  };
  std::vector<Running> sources;
  FactoryContext fctx{&config, store->get()};
  for (const auto& sc : config.sources) {
    auto src = registries.sources.create(sc, fctx);
    if (!src) return src.status();
    auto parser = (*engine)->parser(sc.parser);
    if (!parser) return parser.status().withContext(sc.path);
    ParseContext ctx;
    ctx.year = sc.year;
    sources.push_back({std::move(*src), *parser, ctx});
  }
  spdlog::info("riposte {} serving: {} source(s), {} detector(s), store {} ({})", RIPOSTE_VERSION,
               sources.size(), config.detectors.size(), config.store_path, config.store_type);

  auto last_tick = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  while (!stop.load()) {
    size_t lines = 0;
    if (bus) bus->deliver(**engine, store->get());
    for (auto& s : sources) {
      s.ctx.reference = Timestamp::now();
      Engine& e = **engine;
      Parser& p = *s.parser;
      const ParseContext& ctx = s.ctx;
      auto n = s.source->poll([&](const SourceLine& l) { e.process(p, ctx, l); }, 10000);
      if (!n) {
        spdlog::warn("source {}: {}", s.source->name(), n.status().toString());
        continue;
      }
      lines += *n;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_tick >= std::chrono::seconds(1)) {
      (*engine)->tick(Timestamp::now());
      last_tick = now;
    }
    if (lines == 0) {
      if (bus) {
        bus->waitForInbound(options.idle_sleep);  // wakes at once for another node's decision
      } else {
        std::this_thread::sleep_for(options.idle_sleep);
      }
    }
  }
  if (bus) bus->stop();
  const auto& st = (*engine)->stats();
  spdlog::info("stopping: {} lines, {} parsed, {} unparsed, {} findings, {} decisions", st.lines,
               st.parsed, st.unparsed, st.findings, st.decisions);
  if (bus) {
    const auto h = bus->health();
    spdlog::info(
        "cluster: {} published, {} received, {} applied, {} duplicates, {} revoked, {} "
        "reconciles, {} repaired, {} pending",
        h.published, h.received, st.remote_applied, st.remote_duplicates, st.remote_revoked,
        h.reconciles, h.repaired, h.pending);
  }
  return Status::ok();
}

}  // namespace riposte

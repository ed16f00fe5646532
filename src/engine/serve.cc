#include "riposte/engine/serve.h"

#include <poll.h>
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
  cc.node = config.store_node ? YAML::Clone(config.store_node) : YAML::Node(YAML::NodeType::Map);
  cc.node["type"] = config.store_type;
  if (!cc.node["path"]) cc.node["path"] = config.store_path;
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
    const SourceConfig* config;
    uint64_t parsed = 0, unparsed = 0, skipped = 0;
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
    sources.push_back({std::move(*src), *parser, ctx, &sc});
  }
  auto metrics = [&sources] {
    std::vector<SourceMetrics::Entry> out;
    for (const auto& s : sources) {
      SourceMetrics::Entry e{std::string(s.source->name()), s.config->type, s.config->parser,
                             s.source->stats()};
      e.stats.parsed = s.parsed;
      e.stats.unparsed = s.unparsed;
      e.stats.skipped = s.skipped;
      out.push_back(std::move(e));
    }
    return out;
  };
  std::vector<pollfd> wait_fds;
  for (const auto& s : sources) {
    if (s.source->waitFd() >= 0) wait_fds.push_back({s.source->waitFd(), POLLIN, 0});
  }
  auto pollAll = [&](size_t max_lines) {
    size_t lines = 0;
    if (bus) bus->deliver(**engine, store->get());
    for (auto& s : sources) {
      s.ctx.reference = Timestamp::now();
      Engine& e = **engine;
      Parser& p = *s.parser;
      const ParseContext& ctx = s.ctx;
      auto n = s.source->poll(
          [&](const SourceLine& l) {
            switch (e.process(p, ctx, l)) {
              case ParseResult::kParsed: ++s.parsed; break;
              case ParseResult::kSkip: ++s.skipped; break;
              case ParseResult::kUnrecognised: ++s.unparsed; break;
            }
          },
          max_lines);
      if (!n) {
        spdlog::warn("source {}: {}", s.source->name(), n.status().toString());
        continue;
      }
      lines += *n;
    }
    return lines;
  };
  spdlog::info("riposte {} serving: {} source(s), {} detector(s), store {} ({})", RIPOSTE_VERSION,
               sources.size(), config.detectors.size(),
               config.store_type == "sqlite" ? config.store_path : "database", config.store_type);

  auto last_tick = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  while (!stop.load()) {
    const size_t lines = pollAll(10000);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_tick >= std::chrono::seconds(1)) {
      (*engine)->tick(Timestamp::now());
      if (options.metrics != nullptr) options.metrics->publish(metrics());
      last_tick = now;
    }
    if (lines == 0) {
      if (bus) {
        bus->waitForInbound(options.idle_sleep);  // wakes at once for another node's decision
      } else if (wait_fds.empty()) {
        std::this_thread::sleep_for(options.idle_sleep);
      } else {
        // Wakes as soon as a network source has messages; files are polled on the timer.
        (void)::poll(wait_fds.data(), wait_fds.size(),
                     static_cast<int>(options.idle_sleep.count()));
      }
    }
  }
  // What the sources accepted is handed over before stopping (bounded: they keep receiving).
  for (int i = 0; i < 100 && pollAll(100000) > 0; ++i) {
  }
  if (bus) bus->stop();
  const auto summary = metrics();
  if (options.metrics != nullptr) options.metrics->publish(summary);
  const auto st = (*engine)->stats();
  spdlog::info("stopping: {} lines, {} parsed, {} unparsed, {} findings, {} decisions", st.lines,
               st.parsed, st.unparsed, st.findings, st.decisions);
  for (const auto& e : summary) spdlog::info("source {}", formatSourceStats(e));
  if (bus) {
    const auto h = bus->health();
    spdlog::info(
        "cluster: {} published, {} received, {} applied, {} duplicates, {} revoked, {} "
        "reconciles, {} repaired, {} pending",
        h.published, h.received, st.remote_applied, st.remote_duplicates, st.remote_revoked,
        h.reconciles, h.repaired, h.pending);
  }
  if (!config.dead_letter_path.empty()) {
    spdlog::info("dead letter {}: {} written, {} left out by its rate limit",
                 config.dead_letter_path, st.dead_lettered, st.dead_letter_suppressed);
  }
  return Status::ok();
}

}  // namespace riposte

#include "riposte/engine/serve.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <thread>
#include <unordered_map>

#include "riposte/api/event_hub.h"
#include "riposte/api/server.h"
#include "riposte/api/service.h"
#include "riposte/cluster/decision_bus.h"
#include "riposte/cluster/event_stream.h"
#include "riposte/engine/approval.h"
#include "riposte/engine/command_queue.h"
#include "riposte/engine/config_history.h"
#include "riposte/engine/serve_state.h"
#include "riposte/ingest/source.h"
#include "riposte/store/store.h"

namespace riposte {

namespace {
constexpr size_t kCommandQueueCapacity = 256;
}  // namespace

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

Status serve(const Config& given, const Registries& registries, const std::atomic<bool>& stop,
             const ServeOptions& options) {
  Config config = given;
  if (!options.listen.empty()) {
    RIPOSTE_RETURN_IF_ERROR(parseListenAddress(options.listen, config.api.host, config.api.port)
                                .withContext("--listen"));
    config.api.enabled = true;
  }
  config.api.console_dir = api::consoleDirectory(config.api.console_dir);
  // Roles: ingest nodes read the sources and append the lines to the event streams; analysis
  // workers read their partitions of the streams; enforce nodes only apply the cluster's
  // decisions; "all" is the single node.
  const std::string role = options.role.empty() ? config.cluster_role : options.role;
  if (!validClusterRole(role)) {
    return Status::invalidArgument("--role: '" + role + "' is not all, ingest, analyze or enforce");
  }
  auto stream_options = cluster::StreamOptions::fromConfig(config);
  if (!stream_options) return stream_options.status();
  if ((role == "ingest" || role == "analyze") && !*stream_options) {
    return Status::invalidArgument("role " + role +
                                   " needs cluster.redis and cluster.streams (docs/cluster.md)");
  }
  if (role == "enforce" && config.cluster_redis.empty()) {
    return Status::invalidArgument("role enforce needs cluster.redis (docs/cluster.md)");
  }
  std::unique_ptr<cluster::StreamProducer> producer;
  std::unique_ptr<cluster::StreamConsumer> consumer;
  if (role == "ingest") producer = std::make_unique<cluster::StreamProducer>(**stream_options);
  if (role == "analyze") consumer = std::make_unique<cluster::StreamConsumer>(**stream_options);
  const bool read_sources = role == "all" || role == "ingest";
  // Declared before the engine: the engine's hooks and the API use them until the end.
  WakeSignal wake;
  CommandQueue commands(kCommandQueueCapacity, &wake);
  IngestQueue ingest(config.api.ingest_queue, &wake);
  api::EventHub hub;
  ServeState state;

  // Serving: PostgreSQL may still be unreachable; the store then starts degraded and catches
  // up when it answers, while detection and enforcement go on (the store's factory reads this
  // key, which no configuration file may set: docs/storage.md).
  Config store_config = config;
  store_config.store_node =
      config.store_node ? YAML::Clone(config.store_node) : YAML::Node(YAML::NodeType::Map);
  store_config.store_node["__serve_start_unreachable"] = true;
  auto store = openStore(store_config, registries);
  if (!store) return store.status();
  EngineOptions eo;
  eo.allowlist_own_addresses = true;
  eo.refresh_allowlist = true;
  eo.threads = options.threads;
  // store.event_log: every parsed event is kept in the store's event log (SQLite: one
  // transaction per batch; PostgreSQL: COPY into the day partitions, spilled while it is down).
  const YAML::Node& store_node = config.store_node;
  eo.record_events = store_node && store_node.IsMap() && store_node["event_log"] &&
                     store_node["event_log"].as<bool>(false) && role != "ingest";
  auto engine = Engine::create(config, registries, store->get(), eo);
  if (!engine) return engine.status();
  Engine& eng = **engine;
  // The history of what was loaded (docs/storage.md#rule-and-configuration-history).
  if (!config.file.empty()) {
    if (Status st = recordLoad(**store, "config", "engine", {config.file},
                               "configuration loaded (role " + role + ")");
        !st.isOk()) {
      spdlog::warn("config history: {}", st.toString());
    }
  }
  recordRuleLoad(**store, config, "engine", Status::ok(), eng.rules().size());
  // Cluster: this node's decisions go to every other node; theirs reach this engine's thread
  // through the bus's queue (deliver() below), never from the bus's own threads.
  auto bus_options = cluster::DecisionBusOptions::fromConfig(config);
  if (!bus_options) return bus_options.status();
  std::unique_ptr<cluster::DecisionBus> bus;
  if (*bus_options) {
    (*bus_options)->on_inbound = [&wake] { wake.notify(); };
    bus = std::make_unique<cluster::DecisionBus>(std::move(**bus_options));
  }
  eng.setDecisionListener([&](const Decision& d) {
    if (spdlog::should_log(spdlog::level::info)) spdlog::info("decision {}", d.toJson());
    if (bus) bus->publishDecision(d);
    if (options.on_decision) options.on_decision(d);
  });
  eng.setRevocationListener([&](const Decision& d) {
    if (bus) bus->publishRevocation(d);
  });
  eng.setEventHook(
      [&hub](std::string_view type, const std::string& json) { hub.publish(type, json); });
  state.setLatency(&eng.actionLatency());
  // An unreachable store (PostgreSQL started degraded) cannot list the active decisions yet:
  // they are re-applied at the first tick that finds it healthy.
  bool restore_pending = false;
  if (Status st = eng.restore(); !st.isOk()) {
    if (st.code() != StatusCode::kUnavailable) return st;
    spdlog::warn("restore: {}; active decisions are re-applied once the store is back",
                 st.message());
    restore_pending = true;
  }
  if (bus) {
    bus->start();
    spdlog::info("cluster: node {} on {} (prefix {})", bus->options().node,
                 bus->options().redis.describe(), bus->options().prefix);
  }

  struct Running {
    SourcePtr source;
    Parser* parser;
    ParseContext ctx;
    SourceHealth health;
  };
  std::vector<Running> sources;
  FactoryContext fctx{&config, store->get()};
  for (const auto& sc : config.sources) {
    if (!read_sources) break;  // analysis and enforce nodes read no logs of their own
    auto src = registries.sources.create(sc, fctx);
    if (!src) return src.status();
    auto parser = eng.parser(sc.parser);
    if (!parser) return parser.status().withContext(sc.path);
    ParseContext ctx;
    ctx.year = sc.year;
    SourceHealth h;
    h.name = sc.name;
    h.type = sc.type;
    h.parser = sc.parser;
    sources.push_back({std::move(*src), *parser, ctx, std::move(h)});
  }
  // The source's own counters plus what the pipeline counted for it.
  auto sourceStats = [](const Running& r) {
    SourceStats st = r.source->stats();
    st.parsed = r.health.stats.parsed;
    st.unparsed = r.health.stats.unparsed;
    st.skipped = r.health.stats.skipped;
    return st;
  };
  auto metrics = [&] {
    std::vector<SourceMetrics::Entry> out;
    for (const auto& r : sources) {
      out.push_back(
          {std::string(r.source->name()), r.health.type, r.health.parser, sourceStats(r)});
    }
    return out;
  };
  std::vector<int> wait_fds;
  for (const auto& s : sources) {
    if (s.source->waitFd() >= 0) wait_fds.push_back(s.source->waitFd());
  }

  const Timestamp started = Timestamp::now();
  auto publish = [&] {
    ServeSnapshot s;
    s.engine = eng.stats();
    s.findings_by_detector = eng.findingsByDetector();
    for (const auto& r : sources) {
      s.sources.push_back(r.health);
      s.sources.back().stats = sourceStats(r);
    }
    s.action_queue = eng.actionQueueDepth();
    s.command_queue = commands.depth();
    s.ingest_queue = ingest.depth();
    s.started = started;
    s.updated = Timestamp::now();
    state.publish(std::move(s));
  };
  publish();

  // The API: its own threads; the engine is reached only through the queues above.
  std::unique_ptr<api::ApiService> service;
  std::unique_ptr<api::HttpServer> server;
  if (config.api.enabled) {
    api::ApiDeps deps;
    deps.config = &config;
    deps.registries = &registries;
    deps.store = store->get();
    deps.commands = &commands;
    deps.ingest = &ingest;
    deps.hub = &hub;
    deps.state = &state;
    deps.server_counters = [&server] {
      return server ? server->counters() : api::ServerCounters{};
    };
    service = std::make_unique<api::ApiService>(std::move(deps));
    api::ApiService* svc = service.get();
    auto srv = api::HttpServer::start(
        config.api, [svc](api::HttpRequest& r) { return svc->handle(r); }, &hub);
    if (!srv) return srv.status();
    server = std::move(*srv);
    spdlog::info("api listening on {}://{}{}{}:{}", config.api.tls_cert.empty() ? "http" : "https",
                 config.api.host.find(':') != std::string::npos ? "[" : "", config.api.host,
                 config.api.host.find(':') != std::string::npos ? "]" : "", server->port());
    if (options.on_listening) options.on_listening(server->port());
  }

  // Analysis workers: each stream entry goes through the parser it was read with.
  std::unordered_map<std::string, Parser*> parsers;
  uint64_t unknown_parser = 0;
  auto consume = [&](const cluster::StreamRecord& r) {
    auto it = parsers.find(r.parser);
    if (it == parsers.end()) {
      auto p = eng.parser(r.parser);
      it = parsers.emplace(r.parser, p ? *p : nullptr).first;
      if (!p) spdlog::error("event streams: unknown parser '{}' (entry {})", r.parser, r.id);
    }
    if (it->second == nullptr) {
      ++unknown_parser;
      return;
    }
    ParseContext ctx;
    ctx.year = r.year;
    ctx.reference = Timestamp::now();
    SourceLine l;
    l.text = r.line;
    l.file = r.file;
    l.offset = r.offset;
    l.source = r.source;
    (void)eng.process(*it->second, ctx, l);
  };
  auto pollStreams = [&](std::chrono::milliseconds wait) -> size_t {
    if (!consumer) return 0;
    auto n = consumer->poll(consume, wait);
    return n ? *n : 0;
  };
  Event ingest_event;  // ingest role: parsed only for the partition key
  auto pollAll = [&](size_t max_lines) {
    size_t lines = 0;
    if (bus) lines += bus->deliver(eng, store->get());
    lines += pollStreams(std::chrono::milliseconds(1));
    if (producer) (void)producer->flush();
    if (!read_sources || (producer && producer->full())) return lines;
    for (auto& s : sources) {
      s.ctx.reference = Timestamp::now();
      Parser& p = *s.parser;
      const ParseContext& ctx = s.ctx;
      SourceStats& counted = s.health.stats;
      ++s.health.polls;
      auto n = s.source->poll(
          [&](const SourceLine& l) {
            if (producer) {
              ingest_event.clear();
              ingest_event.setRaw(l.text);
              const ParseResult r = l.text.find_first_not_of(" \t\r") == std::string_view::npos
                                        ? ParseResult::kSkip
                                        : p.parse(l.text, ctx, ingest_event);
              switch (r) {
                case ParseResult::kParsed: ++counted.parsed; break;
                case ParseResult::kSkip: ++counted.skipped; return;
                case ParseResult::kUnrecognised: ++counted.unparsed; break;
              }
              // Unrecognised lines travel too: the analysis worker counts and dead-letters them.
              const auto key =
                  r == ParseResult::kParsed ? cluster::entityKey(ingest_event) : l.text;
              producer->add(cluster::partitionOf(key, producer->options().partitions), l,
                            s.health.parser, ctx.year);
              return;
            }
            switch (eng.process(p, ctx, l)) {
              case ParseResult::kParsed: ++counted.parsed; break;
              case ParseResult::kSkip: ++counted.skipped; break;
              case ParseResult::kUnrecognised: ++counted.unparsed; break;
            }
          },
          max_lines);
      if (!n) {
        ++s.health.errors;
        s.health.last_error = n.status().toString();
        spdlog::warn("source {}: {}", s.source->name(), n.status().toString());
        continue;
      }
      s.health.last_error.clear();
      if (*n > 0) s.health.last_line = Timestamp::now();
      lines += *n;
    }
    return lines;
  };
  spdlog::info("riposte {} serving ({}): {} source(s), {} detector(s), store {} ({})",
               RIPOSTE_VERSION, role, read_sources ? sources.size() : 0, config.detectors.size(),
               config.store_type == "sqlite" ? config.store_path : "database", config.store_type);

  auto last_tick = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  uint64_t ticks = 0;
  while (!stop.load()) {
    size_t work = pollAll(10000);
    if (options.reload != nullptr && options.reload->exchange(false)) {
      const Status st = eng.reloadDetectors("signal:SIGHUP");
      if (st.isOk()) {
        spdlog::info("rules reloaded on SIGHUP: {} rule(s)", eng.rules().size());
      } else {
        spdlog::error("rules not reloaded on SIGHUP, the running rules stay: {}", st.toString());
      }
      recordRuleLoad(**store, config, "signal:SIGHUP", st, eng.rules().size());
    }
    work += commands.drain(eng);
    work += ingest.drain(eng);
    eng.pump();  // sharded analysis: batched events to the workers, their findings decided
    const auto now = std::chrono::steady_clock::now();
    if (now - last_tick >= std::chrono::seconds(1)) {
      if (restore_pending && !(*store)->degraded()) {
        const Status st = eng.restore();
        restore_pending = st.code() == StatusCode::kUnavailable;
        if (!st.isOk() && !restore_pending) spdlog::error("restore: {}", st.toString());
      }
      eng.tick(Timestamp::now());
      if (++ticks % 5 == 0 && role != "ingest") {
        (void)settleExpiredApprovals(eng, **store, config, Timestamp::now());
      }
      if (options.metrics != nullptr) options.metrics->publish(metrics());
      last_tick = now;
    }
    publish();
    // Wakes at once for the API's work, another node's decision or a network source's
    // messages; files are polled on the timer.
    if (work == 0) {
      // Blocks in Redis for new entries; while Redis is unreachable it fails at once, so the
      // loop sleeps instead of spinning.
      if (consumer && !consumer->owned().empty() && !consumer->stats().degraded) {
        (void)pollStreams(std::min(options.idle_sleep, std::chrono::milliseconds(50)));
      } else {
        wake.wait(options.idle_sleep, wait_fds);
      }
    }
  }
  // What the sources accepted is handed over before stopping (bounded: they keep receiving).
  for (int i = 0; i < 100 && pollAll(100000) > 0; ++i) {
  }
  eng.drain();  // the workers finish what they were handed; their findings are decided
  if (producer) {
    for (int i = 0; i < 50 && producer->buffered() > 0; ++i) {
      if (!producer->flush().isOk()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const auto ss = producer->stats();
    spdlog::info("event streams: {} appended, {} not written (Redis unreachable)", ss.appended,
                 ss.buffered);
  }
  if (consumer) {
    const auto ss = consumer->stats();
    consumer->release();
    spdlog::info(
        "event streams ({}): {} handled, {} re-read, {} pending acknowledged, {} partitions "
        "taken, {} given back, {} leases lost, {} bad entries, {} with an unknown parser",
        consumer->id(), ss.handled, ss.replayed, ss.claimed, ss.taken, ss.released, ss.lost, ss.bad,
        unknown_parser);
  }
  commands.close();
  if (server) server->stop();
  server.reset();
  service.reset();
  eng.setEventHook(nullptr);
  if (bus) bus->stop();
  eng.flushEventLog();
  const auto summary = metrics();
  if (options.metrics != nullptr) options.metrics->publish(summary);
  const auto st = eng.stats();
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
  if (eo.record_events) {
    spdlog::info("event log: {} event(s) written, {} batch(es) refused", st.events_logged,
                 st.event_log_errors);
  }
  if (!config.dead_letter_path.empty()) {
    spdlog::info("dead letter {}: {} written, {} left out by its rate limit",
                 config.dead_letter_path, st.dead_lettered, st.dead_letter_suppressed);
  }
  return Status::ok();
}

}  // namespace riposte

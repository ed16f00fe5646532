// /metrics in the Prometheus text exposition format (version 0.0.4).
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "riposte/api/service.h"

namespace riposte::api {

namespace {

class Writer {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(const std::string& name, const std::string& labels, double v) {
    out_ += name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    char buf[64];
    std::snprintf(buf, sizeof(buf), " %.17g\n", v);
    out_ += buf;
  }
  void sample(const std::string& name, double v) { sample(name, "", v); }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string label(const std::string& k, const std::string& v) {
  std::string s = k + "=\"";
  for (char c : v) {
    if (c == '\\' || c == '"') s += '\\';
    if (c == '\n') {
      s += "\\n";
      continue;
    }
    s += c;
  }
  return s + "\"";
}

uint64_t rssBytes() {
  std::ifstream in("/proc/self/statm");
  uint64_t size = 0;
  uint64_t resident = 0;
  if (!(in >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

std::string renderMetrics(const ApiDeps& deps) {
  Writer w;
  if (deps.state != nullptr) {
    const ServeSnapshot s = deps.state->snapshot();
    const EngineStats& e = s.engine;
    w.family("riposte_events_total", "counter", "Lines read by the engine, by outcome.");
    w.sample("riposte_events_total", label("outcome", "in"), static_cast<double>(e.lines));
    w.sample("riposte_events_total", label("outcome", "parsed"), static_cast<double>(e.parsed));
    w.sample("riposte_events_total", label("outcome", "unparsed"), static_cast<double>(e.unparsed));
    w.sample("riposte_events_total", label("outcome", "skipped"), static_cast<double>(e.skipped));
    w.family("riposte_source_lines_total", "counter", "Lines read per source.");
    for (const auto& h : s.sources) {
      w.sample("riposte_source_lines_total", label("source", h.name),
               static_cast<double>(h.stats.lines));
    }
    w.family("riposte_source_bytes_total", "counter", "Bytes read per source.");
    for (const auto& h : s.sources) {
      w.sample("riposte_source_bytes_total", label("source", h.name),
               static_cast<double>(h.stats.bytes));
    }
    w.family("riposte_source_errors_total", "counter", "Failed polls per source.");
    for (const auto& h : s.sources) {
      w.sample("riposte_source_errors_total", label("source", h.name),
               static_cast<double>(h.errors + h.stats.errors));
    }
    w.family("riposte_findings_total", "counter", "Findings per detector (rule or model).");
    for (const auto& [det, n] : s.findings_by_detector) {
      w.sample("riposte_findings_total", label("detector", det), static_cast<double>(n));
    }
    w.family("riposte_engine_decisions_total", "counter",
             "Decisions taken by this process, by outcome.");
    w.sample("riposte_engine_decisions_total", label("outcome", "decided"),
             static_cast<double>(e.decisions));
    w.sample("riposte_engine_decisions_total", label("outcome", "proposed"),
             static_cast<double>(e.proposed));
    w.sample("riposte_engine_decisions_total", label("outcome", "dry_run"),
             static_cast<double>(e.dry_run));
    w.sample("riposte_engine_decisions_total", label("outcome", "allowlisted"),
             static_cast<double>(e.allowlisted));
    w.sample("riposte_engine_decisions_total", label("outcome", "duplicate"),
             static_cast<double>(e.duplicates));
    w.sample("riposte_engine_decisions_total", label("outcome", "expired"),
             static_cast<double>(e.expired));
    w.family("riposte_action_errors_total", "counter", "Action calls that failed after retries.");
    w.sample("riposte_action_errors_total", static_cast<double>(e.action_errors));
    w.family("riposte_actions_applied_total", "counter", "Action applications that succeeded.");
    w.sample("riposte_actions_applied_total", static_cast<double>(e.actions_applied));
    w.family("riposte_breaker_trips_total", "counter", "Circuit-breaker trips.");
    w.sample("riposte_breaker_trips_total", static_cast<double>(e.breaker_trips));
    w.family("riposte_manual_mode", "gauge", "1 when the engine proposes instead of enforcing.");
    w.sample("riposte_manual_mode", e.manual_mode ? 1 : 0);
    w.family("riposte_dry_run_mode", "gauge",
             "1 when the engine records decisions without enforcing any (dry-run mode).");
    w.sample("riposte_dry_run_mode", e.dry_run_mode ? 1 : 0);
    w.family("riposte_queue_depth", "gauge", "Items waiting per queue.");
    w.sample("riposte_queue_depth", label("queue", "actions"), static_cast<double>(s.action_queue));
    w.sample("riposte_queue_depth", label("queue", "commands"),
             static_cast<double>(s.command_queue));
    w.sample("riposte_queue_depth", label("queue", "ingest"), static_cast<double>(s.ingest_queue));
    w.family("riposte_queue_full_total", "counter",
             "Action jobs refused because the queue was full.");
    w.sample("riposte_queue_full_total", static_cast<double>(e.queue_full));
    w.family("riposte_start_time_seconds", "gauge", "When this process started serving.");
    w.sample("riposte_start_time_seconds", static_cast<double>(s.started.seconds()));
  }
  if (deps.state != nullptr && deps.state->latency() != nullptr) {
    const LatencyHistogram& h = *deps.state->latency();
    w.family("riposte_action_latency_seconds", "histogram",
             "From a decision (or its approval) to its enforcing action succeeding.");
    const auto cum = h.cumulative();
    for (size_t i = 0; i < LatencyHistogram::kBounds.size(); ++i) {
      char le[32];
      std::snprintf(le, sizeof(le), "%g", LatencyHistogram::kBounds[i]);
      w.sample("riposte_action_latency_seconds_bucket", label("le", le),
               static_cast<double>(cum[i]));
    }
    w.sample("riposte_action_latency_seconds_bucket", label("le", "+Inf"),
             static_cast<double>(cum.back()));
    w.sample("riposte_action_latency_seconds_sum", h.sum());
    w.sample("riposte_action_latency_seconds_count", static_cast<double>(h.count()));
  }
  if (deps.store != nullptr) {
    if (auto counts = deps.store->countDecisions()) {
      w.family("riposte_decisions", "gauge", "Stored decisions per action and state.");
      for (const auto& c : *counts) {
        w.sample("riposte_decisions",
                 label("action", c.action) + "," +
                     label("state", std::string(decisionStateName(c.state))),
                 static_cast<double>(c.count));
      }
    }
  }
  if (deps.ingest != nullptr) {
    const auto st = deps.ingest->stats();
    w.family("riposte_ingest_events_total", "counter", "Events sent to POST /api/v1/events.");
    w.sample("riposte_ingest_events_total", label("outcome", "accepted"),
             static_cast<double>(st.accepted));
    w.sample("riposte_ingest_events_total", label("outcome", "refused"),
             static_cast<double>(st.refused));
  }
  if (deps.server_counters) {
    const auto c = deps.server_counters();
    w.family("riposte_api_connections", "gauge", "Open API connections.");
    w.sample("riposte_api_connections", static_cast<double>(c.connections));
    w.family("riposte_api_requests_total", "counter", "API requests handled.");
    w.sample("riposte_api_requests_total", static_cast<double>(c.requests));
    w.family("riposte_api_refused_connections_total", "counter",
             "Connections closed at once because max_connections was reached.");
    w.sample("riposte_api_refused_connections_total", static_cast<double>(c.refused));
    w.family("riposte_api_timeouts_total", "counter", "Connections closed by a read timeout.");
    w.sample("riposte_api_timeouts_total", static_cast<double>(c.timeouts));
    w.family("riposte_api_streams", "gauge", "Open event streams.");
    w.sample("riposte_api_streams", static_cast<double>(c.streams));
  }
  w.family("riposte_resident_memory_bytes", "gauge", "Resident set size of the process.");
  w.sample("riposte_resident_memory_bytes", static_cast<double>(rssBytes()));
  return w.take();
}

}  // namespace riposte::api

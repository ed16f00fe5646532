#include "riposte/intel/commands.h"

#include <fstream>
#include <set>
#include <sstream>

#include "riposte/intel/persistence.h"

namespace riposte::intel {
namespace {

nlohmann::json timeJson(Timestamp t) {
  if (!t.isSet()) return nullptr;
  return formatRfc3339Utc(t);
}

Result<std::string> readWhole(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Status::ioError("cannot read '" + p.string() + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::ioError("error reading '" + p.string() + "'");
  return ss.str();
}

}  // namespace

nlohmann::json toJson(const IndicatorMatch& m) {
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& s : m.sources) {
    sources.push_back(
        {{"source", s.source},
         {"confidence", s.confidence},
         {"first_seen", timeJson(s.first_seen)},
         {"last_seen", timeJson(s.last_seen)},
         {"valid_until", timeJson(s.valid_until)},
         {"tlp", s.tlp == Tlp::kUnknown ? nlohmann::json(nullptr) : nlohmann::json(tlpName(s.tlp))},
         {"reference", s.reference},
         {"tags", s.tags}});
  }
  return {{"type", indicatorTypeName(m.type)},
          {"value", m.value},
          {"score", m.score},
          {"valid_until", timeJson(m.valid_until)},
          {"sources", std::move(sources)}};
}

nlohmann::json toJson(const ParseReport& r) {
  nlohmann::json samples = nlohmann::json::array();
  for (const auto& s : r.samples) samples.push_back({{"where", s.where}, {"reason", s.reason}});
  nlohmann::json j = {{"items", r.items},
                      {"indicators", r.indicators},
                      {"skipped", r.skipped},
                      {"errors", r.errors},
                      {"unsupported_patterns", r.unsupported_patterns},
                      {"broadened_patterns", r.broadened_patterns},
                      {"reasons", r.reasons},
                      {"samples", std::move(samples)}};
  if (!r.status.isOk()) j["status"] = r.status.toString();
  return j;
}

nlohmann::json toJson(const BuildReport& r) {
  return {{"added", r.added},
          {"indicators", r.indicators},
          {"merged", r.merged},
          {"dropped_expired", r.dropped_expired},
          {"dropped_revoked", r.dropped_revoked},
          {"dropped_not_yet_valid", r.dropped_not_yet_valid},
          {"rejected_known_good", r.rejected_known_good},
          {"rejected_by_reason", r.rejected_by_reason},
          {"invalid", r.invalid}};
}

nlohmann::json toJson(const SnapshotStats& s) {
  return {{"indicators", s.indicators},
          {"source_reports", s.source_reports},
          {"per_type", s.per_type},
          {"per_source", s.per_source},
          {"memory_bytes", s.memory_bytes}};
}

Result<nlohmann::json> loadFeedFile(LoadRequest req) {
  if (req.options.source.empty()) req.options.source = req.file.stem().string();
  auto data = readWhole(req.file);
  if (!data) return data.status();
  ParseResult parsed = parseFeed(req.format, *data, req.options);
  if (!parsed.report.status.isOk()) {
    return parsed.report.status.withContext("intel load '" + req.file.string() +
                                            "' (nothing changed)");
  }
  auto db = IntelDb::open(req.db_path);
  if (!db) return db.status();
  auto existing = db->load();
  if (!existing) return existing.status();
  SnapshotBuilder builder(req.build);
  for (const auto& i : *existing) {
    if (i.source != req.options.source) builder.add(i);
  }
  builder.add(parsed.indicators);
  auto snapshot = builder.build();
  RIPOSTE_RETURN_IF_ERROR(db->save(*snapshot));
  nlohmann::json out = {{"file", req.file.string()},
                        {"format", feedFormatName(req.format)},
                        {"source", req.options.source},
                        {"db", req.db_path},
                        {"parse", toJson(parsed.report)},
                        {"build", toJson(builder.report())},
                        {"snapshot", toJson(snapshot->stats())}};
  if (req.cache) {
    RedisCache cache(*req.cache);
    if (Status st = cache.publish(req.options.source, parsed.indicators); st.isOk()) {
      out["cache"] = {{"key", cache.keyFor(req.options.source)},
                      {"indicators", parsed.indicators.size()},
                      {"ttl_seconds",
                       std::chrono::duration_cast<std::chrono::seconds>(req.cache->ttl).count()}};
    } else {
      out["cache"] = {{"error", st.toString()}};
    }
  }
  return out;
}

Result<nlohmann::json> lookupWithCache(const std::string& db_path, const RedisCacheOptions& cache,
                                       const std::string& value) {
  auto db = IntelDb::open(db_path);
  if (!db) return db.status();
  auto rows = db->load();
  if (!rows) return rows.status();
  RedisCache rc(cache);
  auto contents = rc.fetchAll();
  if (!contents) return contents.status();
  SnapshotBuilder builder;
  std::set<std::string> local;
  for (const auto& i : *rows) local.insert(i.source);
  builder.add(*rows);
  for (const auto& [source, cs] : contents->sources) {
    if (local.count(source) == 0) builder.add(cs.record.indicators);
  }
  auto snap = builder.build();
  nlohmann::json matches = nlohmann::json::array();
  for (const auto& m : snap->lookup(value)) matches.push_back(toJson(m));
  return nlohmann::json{{"query", value}, {"matches", std::move(matches)}};
}

Result<std::shared_ptr<const Snapshot>> snapshotFromDb(const std::string& db_path,
                                                       BuildOptions build) {
  auto db = IntelDb::open(db_path);
  if (!db) return db.status();
  auto rows = db->load();
  if (!rows) return rows.status();
  SnapshotBuilder builder(std::move(build));
  builder.add(*rows);
  return builder.build();
}

Result<nlohmann::json> lookupInDb(const std::string& db_path, const std::string& value) {
  auto snap = snapshotFromDb(db_path);
  if (!snap) return snap.status();
  nlohmann::json matches = nlohmann::json::array();
  for (const auto& m : (*snap)->lookup(value)) matches.push_back(toJson(m));
  nlohmann::json j = {{"query", value}, {"matches", std::move(matches)}};
  if (auto v = classify(value)) {
    j["normalised"] = {{"type", indicatorTypeName(v->type)}, {"value", v->value}};
  } else {
    j["error"] = v.status().message();
  }
  return j;
}

Result<nlohmann::json> statsOfDb(const std::string& db_path) {
  auto snap = snapshotFromDb(db_path);
  if (!snap) return snap.status();
  nlohmann::json j = toJson((*snap)->stats());
  j["db"] = db_path;
  j["next_expiry"] = timeJson((*snap)->nextExpiry());
  return j;
}

}  // namespace riposte::intel

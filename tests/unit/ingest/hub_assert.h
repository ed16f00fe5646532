// Reads CrowdSec hub `parser.assert` files into per-event expectations, so parser tests derive
// what they check from the hub's own expected results instead of hard-coding them.
//
// Only assertions of the form
//   results["<stage>"]["<parser>"][<n>].Evt.<Parsed|Meta|Enriched>["<key>"] == "<value>"
//   results["<stage>"]["<parser>"][<n>].Success == <true|false>
// are read; others (Unmarshaled, slices, len) are ignored. Each event is then matched to the
// line of the log it came from through its `message` value (the raw line for non-syslog
// sources, the part after the syslog header otherwise).
//
// Thread safety: plain values.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <iostream>
#include <set>

#include "riposte/core/event.h"
#include "riposte/core/time.h"
#include "riposte/ingest/parser.h"
#include "support/test_support.h"

namespace riposte::testing {

struct HubEvent {
  int index = -1;
  std::optional<bool> success;
  std::map<std::string, std::string> parsed;    // Evt.Parsed
  std::map<std::string, std::string> meta;      // Evt.Meta
  std::map<std::string, std::string> enriched;  // Evt.Enriched
  int line = -1;                                // index into the log's lines, -1 when unknown
};

// Go-style string literal body → value (\" \\ \n \t).
inline std::string unquoteGo(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char n = s[++i];
      out.push_back(n == 'n' ? '\n' : n == 't' ? '\t' : n);
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Events of one stage and parser, by index.
inline std::map<int, HubEvent> readHubAssert(const std::filesystem::path& file,
                                             const std::string& stage, const std::string& parser) {
  static const std::regex kField(
      R"re(^results\["([^"]*)"\]\["([^"]*)"\]\[(\d+)\]\.Evt\.(Parsed|Meta|Enriched)\["([^"]*)"\] == "((?:[^"\\]|\\.)*)"\s*$)re");
  static const std::regex kSuccess(
      R"re(^results\["([^"]*)"\]\["([^"]*)"\]\[(\d+)\]\.Success == (true|false)\s*$)re");
  std::map<int, HubEvent> out;
  for (const auto& line : readLines(file)) {
    std::smatch m;
    if (std::regex_match(line, m, kField)) {
      if (m[1] != stage || m[2] != parser) continue;
      HubEvent& e = out[std::stoi(m[3])];
      e.index = std::stoi(m[3]);
      const std::string kind = m[4];
      auto& dst = kind == "Parsed" ? e.parsed : kind == "Meta" ? e.meta : e.enriched;
      dst[m[5]] = unquoteGo(m[6]);
    } else if (std::regex_match(line, m, kSuccess)) {
      if (m[1] != stage || m[2] != parser) continue;
      HubEvent& e = out[std::stoi(m[3])];
      e.index = std::stoi(m[3]);
      e.success = m[4] == "true";
    }
  }
  return out;
}

// Finds the log line an event came from: the line equal to its message, else the line at the
// same index when it contains the message, else the only line containing it.
inline int matchLine(const std::vector<std::string>& lines, const std::string& message, int index) {
  if (message.empty()) return -1;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] == message) return static_cast<int>(i);
  }
  if (index >= 0 && static_cast<size_t>(index) < lines.size() &&
      lines[static_cast<size_t>(index)].find(message) != std::string::npos) {
    return index;
  }
  int found = -1;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find(message) != std::string::npos) {
      if (found >= 0) return -1;  // ambiguous
      found = static_cast<int>(i);
    }
  }
  return found;
}

// Reads a stage's events and attaches each to its line via Parsed["message"].
inline std::vector<HubEvent> hubEvents(const std::filesystem::path& assert_file,
                                       const std::vector<std::string>& lines,
                                       const std::string& stage, const std::string& parser) {
  std::vector<HubEvent> v;
  for (auto& [i, e] : readHubAssert(assert_file, stage, parser)) {
    auto it = e.parsed.find("message");
    if (it != e.parsed.end()) e.line = matchLine(lines, it->second, i);
    v.push_back(std::move(e));
  }
  return v;
}

inline ParseResult parseLine(Parser& p, std::string_view line, Event& ev,
                             const ParseContext& ctx = ParseContext{}) {
  ev.clear();
  ev.setRaw(line);
  return p.parse(line, ctx, ev);
}

// How a hub key maps onto a Riposte field. `dash_empty`: the hub keeps "-" where Riposte leaves
// the field unset. `convert` turns the hub's text into Riposte's (e.g. a time into RFC 3339 UTC).
struct KeyMap {
  char where;  // 'P' Parsed, 'M' Meta, 'E' Enriched
  std::string key;
  std::string field;  // ECS name, "@timestamp" (RFC 3339 UTC) or "@kind"
  bool dash_empty = false;
  std::string (*convert)(const std::string&) = nullptr;
};

struct CheckStats {
  int checked = 0;
  int passed = 0;
  std::set<std::string> unmapped;
};

inline std::string actualValue(const Event& ev, const KeyMap& k) {
  if (k.field == "@timestamp") return formatRfc3339Utc(ev.timestamp());
  return std::string(ev.getByName(k.field));
}

// Compares every mapped assertion of one hub event with the parsed event.
inline void checkEvent(const HubEvent& he, const Event& ev, const std::vector<KeyMap>& maps,
                       const std::string& line, CheckStats& st) {
  auto check = [&](char where, const std::map<std::string, std::string>& kv) {
    for (const auto& [key, value] : kv) {
      bool mapped = false;
      for (const auto& m : maps) {
        if (m.where != where || m.key != key) continue;
        mapped = true;
        std::string want = value;
        if (m.dash_empty && want == "-") want.clear();
        if (m.convert != nullptr) want = m.convert(want);
        ++st.checked;
        const std::string got = actualValue(ev, m);
        EXPECT_EQ(got, want) << "hub " << where << "[" << key << "] -> " << m.field
                             << " for line: " << line;
        if (got == want) ++st.passed;
      }
      if (!mapped) st.unmapped.insert(std::string(1, where) + ":" + key);
    }
  };
  check('P', he.parsed);
  check('M', he.meta);
  check('E', he.enriched);
}

// Runs a hub case: the s00-raw stage (`raw_parser`) gives the line of each event; every s01
// event the hub parsed must parse here as `kind` with the mapped fields equal; every event it
// rejected must not come out as `kind`. s02 dateparse events check @timestamp (MarshaledTime,
// compared whole or, for "[4:]" assertions on year-less syslog, ignored by the regex).
inline CheckStats runHubCase(Parser& parser, const std::filesystem::path& dir,
                             const std::string& log, const std::string& raw_parser,
                             const std::string& s01_parser, const std::vector<KeyMap>& maps,
                             EventKind kind, const ParseContext& ctx = ParseContext{}) {
  const auto assert_file = dir / "parser.assert";
  const auto lines = readLines(dir / log);
  Event ev;
  CheckStats st;
  std::map<int, int> line_of;  // s00/s01 index -> line
  for (const auto& e : hubEvents(assert_file, lines, "s00-raw", raw_parser)) {
    if (e.line >= 0) line_of[e.index] = e.line;
  }
  int parsed_events = 0;
  int rejected_events = 0;
  for (auto& he : hubEvents(assert_file, lines, "s01-parse", s01_parser)) {
    const int li = line_of.count(he.index) != 0 ? line_of[he.index] : he.line;
    EXPECT_GE(li, 0) << "no line for s01 event " << he.index;
    if (li < 0) continue;
    const std::string& line = lines[static_cast<size_t>(li)];
    const auto r = parseLine(parser, line, ev, ctx);
    if (he.success == std::optional<bool>(false)) {
      ++rejected_events;
      EXPECT_FALSE(r == ParseResult::kParsed && ev.kind() == kind) << line;
      continue;
    }
    ++parsed_events;
    EXPECT_EQ(r, ParseResult::kParsed) << line;
    EXPECT_EQ(ev.kind(), kind) << line;
    checkEvent(he, ev, maps, line, st);
  }
  EXPECT_GT(parsed_events, 0);
  int dated = 0;
  for (auto& he : hubEvents(assert_file, lines, "s02-enrich", "crowdsecurity/dateparse-enrich")) {
    if (he.line < 0 || he.enriched.count("MarshaledTime") == 0) continue;
    const std::string& line = lines[static_cast<size_t>(he.line)];
    EXPECT_EQ(parseLine(parser, line, ev, ctx), ParseResult::kParsed) << line;
    HubEvent only;
    only.enriched = he.enriched;
    checkEvent(only, ev, {{'E', "MarshaledTime", "@timestamp"}}, line, st);
    ++dated;
  }
  std::string un;
  for (const auto& u : st.unmapped) un += u + " ";
  std::cout << "[hub " << dir.filename().string() << "] " << parsed_events << " events parsed, "
            << rejected_events << " rejected as by the hub; " << st.passed << "/" << st.checked
            << " mapped assertions pass (" << dated
            << " timestamps); hub keys without a Riposte field: " << un << "\n";
  return st;
}

struct ScenarioStats {
  int events = 0;  // alert events reproduced
  int values = 0;  // metadata values compared
};

// Every event in the alerts of a hub scenario case (scenario.assert) carries the metadata
// CrowdSec's parsers produced for its line: some line of the case's log must parse here to the
// same values. `keys` maps GetMeta names to ECS names ("@timestamp" compares instants);
// `adjust` may rewrite one event's expectations (given all its metadata, mapped or not).
inline ScenarioStats checkScenarioEvents(
    Parser& parser, const std::filesystem::path& dir, const std::string& log,
    const std::map<std::string, std::string>& keys, const ParseContext& ctx = ParseContext{},
    const std::function<void(const std::map<std::string, std::string>& meta,
                             std::map<std::string, std::string>& want)>& adjust = {}) {
  static const std::regex kMeta(
      R"re(^results\[(\d+)\]\.Overflow\.Alert\.Events\[(\d+)\]\.GetMeta\("([^"]+)"\) == "((?:[^"\\]|\\.)*)"$)re");
  std::map<std::pair<int, int>, std::map<std::string, std::string>> meta;
  for (const auto& l : readLines(dir / "scenario.assert")) {
    std::smatch m;
    if (std::regex_match(l, m, kMeta)) {
      meta[{std::stoi(m[1]), std::stoi(m[2])}][m[3]] = unquoteGo(m[4]);
    }
  }
  // Snapshot of each parsed line: the values by ECS name. (Copying an Event would keep views
  // into the source event's owned buffers, so values are copied out as strings.)
  struct Parsed {
    int64_t micros = 0;
    std::map<std::string, std::string> values;
  };
  std::vector<Parsed> parsed;
  for (const auto& l : readLines(dir / log)) {
    if (l.empty()) continue;
    Event ev;
    if (parseLine(parser, l, ev, ctx) != ParseResult::kParsed) {
      ADD_FAILURE() << "unparsed: " << l;
      continue;
    }
    Parsed p{ev.timestamp().micros, {}};
    for (size_t i = 0; i < kFieldCount; ++i) {
      p.values[std::string(fieldName(static_cast<Field>(i)))] =
          std::string(ev.get(static_cast<Field>(i)));
    }
    for (const auto& [k, v] : ev.extra()) p.values[k] = v;
    parsed.push_back(std::move(p));
  }
  ScenarioStats st;
  for (const auto& [id, all_meta] : meta) {
    std::map<std::string, std::string> want;
    for (const auto& [k, v] : all_meta) {
      if (auto it = keys.find(k); it != keys.end()) want[it->second] = v;
    }
    if (adjust) adjust(all_meta, want);
    bool found = false;
    for (const auto& ev : parsed) {
      bool all = true;
      for (const auto& [field, value] : want) {
        if (field == "@timestamp") {
          const auto t = parseRfc3339(value);
          all = all && t && ev.micros == t->micros;
        } else {
          auto it = ev.values.find(field);
          all = all && (it == ev.values.end() ? "" : it->second) == (value == "-" ? "" : value);
        }
      }
      if (all) {
        found = true;
        break;
      }
    }
    EXPECT_TRUE(found) << dir.filename().string() << ": no line parses to alert " << id.first
                       << " event " << id.second;
    ++st.events;
    st.values += static_cast<int>(want.size());
  }
  return st;
}

}  // namespace riposte::testing

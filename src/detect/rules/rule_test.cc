#include "riposte/detect/rules/rule_test.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "riposte/detect/rules/intel_predicate.h"
#include "riposte/detect/rules/rule_engine.h"
#include "riposte/detect/rules/rule_loader.h"
#include "riposte/ingest/format_detect.h"
#include "riposte/intel/builder.h"

namespace riposte::rules {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> strings(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!n) return out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    for (const auto& x : n) out.push_back(x.as<std::string>(""));
  }
  return out;
}

std::vector<std::string> readLines(const fs::path& p, bool* ok) {
  std::vector<std::string> out;
  std::ifstream in(p, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

// test.yaml `intel`: [{value, confidence (default 80), source (default "test"), tags}], every
// indicator seen now; known-good addresses are kept (tests use documentation ranges).
Status indicatorsOf(const YAML::Node& n, intel::Store& store) {
  intel::BuildOptions o;
  o.apply_known_good = false;
  o.now = Timestamp::now();
  intel::SnapshotBuilder b(o);
  if (n && !n.IsSequence())
    return Status::invalidArgument("a list of {value, confidence, source, tags}");
  for (size_t i = 0; n && i < n.size(); ++i) {
    const YAML::Node x = n[i];
    const std::string raw = x.IsScalar() ? x.Scalar() : x["value"].as<std::string>("");
    auto v = intel::classify(raw);
    if (!v)
      return Status::invalidArgument("item " + std::to_string(i) + ": " + v.status().message());
    intel::Indicator ind;
    ind.type = v->type;
    ind.value = v->value;
    ind.source = "test";
    ind.confidence = 80;
    if (x.IsMap()) {
      if (x["source"]) ind.source = x["source"].as<std::string>("test");
      if (x["confidence"])
        ind.confidence = static_cast<uint8_t>(std::clamp(x["confidence"].as<int>(80), 0, 100));
      ind.tags = strings(x["tags"]);
    }
    ind.last_seen = o.now;
    b.add(ind);
  }
  store.publish(b.build());
  return Status::ok();
}

RuleTestResult runCase(const fs::path& dir, const Registries& registries,
                       const std::vector<std::string>& rules_override) {
  RuleTestResult res;
  res.name = dir.filename().string();
  YAML::Node spec;
  try {
    spec = YAML::LoadFile((dir / "test.yaml").string());
  } catch (const YAML::Exception& e) {
    res.problems.push_back("test.yaml: " + e.msg);
    return res;
  }
  static const char* const kKeys[] = {"description", "rules", "type",     "year",
                                      "input",       "only",  "findings", "intel"};
  for (auto it = spec.begin(); spec.IsMap() && it != spec.end(); ++it) {
    const std::string k = it->first.as<std::string>("");
    if (std::find(std::begin(kKeys), std::end(kKeys), k) == std::end(kKeys))
      res.problems.push_back("test.yaml: unknown key '" + k + "'");
  }

  // Rules.
  std::vector<std::string> rule_paths = rules_override;
  if (rule_paths.empty()) {
    for (const auto& r : strings(spec["rules"])) rule_paths.push_back((dir / r).string());
  }
  if (rule_paths.empty()) rule_paths.push_back((dir.parent_path().parent_path()).string());
  LoadResult loaded = loadRuleFiles(rule_paths);
  for (const auto& d : loaded.diagnostics) {
    if (d.severity == RuleDiagnostic::Severity::kError) res.problems.push_back(d.toString());
  }
  if (loaded.hasErrors()) return res;

  // Input.
  std::vector<fs::path> inputs;
  for (const auto& f : strings(spec["input"])) inputs.push_back(dir / f);
  if (inputs.empty()) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.is_regular_file() && e.path().extension() == ".log") inputs.push_back(e.path());
    }
    std::sort(inputs.begin(), inputs.end());
  }
  if (inputs.empty()) {
    res.problems.push_back("no input: name it in 'input' or add a *.log file");
    return res;
  }

  ParseContext ctx;
  ctx.reference = Timestamp::now();
  if (spec["year"]) ctx.year = spec["year"].as<int>(0);
  // Indicators for the rules' intel predicates.
  auto store = std::make_shared<intel::Store>();
  if (Status st = indicatorsOf(spec["intel"], *store); !st.isOk()) {
    res.problems.push_back("test.yaml: intel: " + st.message());
    return res;
  }
  auto view = std::make_shared<IntelView>(store);
  bindIntel(loaded.rules, view);
  RuleEngine engine("rules", std::move(loaded.rules));
  engine.setIntel(view);
  std::map<std::pair<std::string, std::string>, size_t> actual;
  for (const auto& in : inputs) {
    bool ok = false;
    const std::vector<std::string> lines = readLines(in, &ok);
    if (!ok) {
      res.problems.push_back("cannot read " + in.string());
      continue;
    }
    std::string type = spec["type"] ? spec["type"].as<std::string>("") : "";
    if (type.empty()) {
      std::vector<std::string_view> sample;
      for (size_t i = 0; i < lines.size() && sample.size() < 64; ++i) sample.push_back(lines[i]);
      auto det = detectFormat(registries, sample);
      if (!det) {
        res.problems.push_back(in.filename().string() + ": no parser recognises the lines");
        continue;
      }
      type = det->parser;
    }
    ComponentConfig pc;
    pc.name = pc.type = type;
    pc.path = "test";
    auto parser = registries.parsers.create(pc, FactoryContext{});
    if (!parser) {
      res.problems.push_back(parser.status().message());
      continue;
    }
    Event e;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].empty()) continue;
      e.clear();
      e.setRaw(lines[i]);
      e.setOrigin(in.filename().string(), i + 1);
      ++res.lines;
      if ((*parser)->parse(lines[i], ctx, e) != ParseResult::kParsed) continue;
      engine.onEvent(e, [&](Finding&& f) {
        ++res.findings;
        ++actual[{f.detector, f.entity.value}];
      });
    }
  }

  // Compare.
  const std::vector<std::string> only = strings(spec["only"]);
  auto considered = [&](const std::string& rule) {
    return only.empty() || std::find(only.begin(), only.end(), rule) != only.end();
  };
  std::map<std::pair<std::string, std::string>, int> expected;  // -1 = at least one
  if (const YAML::Node f = spec["findings"]; f && f.IsSequence()) {
    for (const auto& x : f) {
      const std::string rule = x["rule"].as<std::string>("");
      const std::string target = x["target"].as<std::string>("");
      if (rule.empty() || target.empty()) {
        res.problems.push_back("test.yaml: a finding needs 'rule' and 'target'");
        continue;
      }
      expected[{rule, target}] = x["count"] ? x["count"].as<int>(-1) : -1;
    }
  } else if (spec["findings"] && !spec["findings"].IsNull()) {
    res.problems.push_back("test.yaml: 'findings' must be a list");
  }
  for (const auto& [k, want] : expected) {
    const auto it = actual.find(k);
    const size_t got = it == actual.end() ? 0 : it->second;
    if (got == 0) {
      res.problems.push_back("missing: " + k.first + " -> " + k.second);
    } else if (want >= 0 && got != static_cast<size_t>(want)) {
      res.problems.push_back("count: " + k.first + " -> " + k.second + ": " + std::to_string(got) +
                             " finding(s), expected " + std::to_string(want));
    }
  }
  for (const auto& [k, n] : actual) {
    if (considered(k.first) && expected.count(k) == 0)
      res.problems.push_back("unexpected: " + k.first + " -> " + k.second + " (" +
                             std::to_string(n) + ")");
  }
  res.passed = res.problems.empty();
  return res;
}

}  // namespace

std::vector<RuleTestResult> runRuleTests(const std::string& dir, const Registries& registries,
                                         const std::vector<std::string>& rules_override) {
  std::vector<RuleTestResult> out;
  std::error_code ec;
  fs::path root = fs::absolute(fs::path(dir), ec).lexically_normal();
  if (!root.has_filename()) root = root.parent_path();
  if (fs::exists(root / "test.yaml", ec)) {
    out.push_back(runCase(root, registries, rules_override));
    return out;
  }
  std::vector<fs::path> cases;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    if (e.is_directory() && fs::exists(e.path() / "test.yaml")) cases.push_back(e.path());
  }
  std::sort(cases.begin(), cases.end());
  for (const auto& c : cases) out.push_back(runCase(c, registries, rules_override));
  return out;
}

}  // namespace riposte::rules

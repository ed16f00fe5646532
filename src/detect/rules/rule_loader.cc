#include "riposte/detect/rules/rule_loader.h"

#include <glob.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "riposte/detect/rules/intel_predicate.h"
#include "riposte/detect/rules/sigma.h"

namespace riposte::rules {

namespace fs = std::filesystem;

std::string RuleDiagnostic::toString() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
  s += severity == Severity::kError ? ": error " : ": warning ";
  s += code;
  if (!rule.empty()) s += " [" + rule + "]";
  return s + ": " + message;
}

size_t SigmaCoverage::skippedCount() const {
  size_t n = 0;
  for (const auto& [code, features] : skipped) {
    for (const auto& [f, c] : features) n += c;
  }
  return n;
}

bool LoadResult::hasErrors() const { return errorCount() > 0; }

size_t LoadResult::errorCount() const {
  return static_cast<size_t>(
      std::count_if(diagnostics.begin(), diagnostics.end(),
                    [](const auto& d) { return d.severity == RuleDiagnostic::Severity::kError; }));
}

std::string LoadResult::toJson() const {
  nlohmann::ordered_json j;
  j["rules"] = rules.size();
  j["files_loaded"] = files_loaded;
  j["files_rejected"] = files_rejected;
  if (sigma.rules > 0) {
    j["sigma"] = {{"rules", sigma.rules},
                  {"loaded", sigma.loaded},
                  {"referenced_only", sigma.referenced_only},
                  {"skipped", sigma.skippedCount()},
                  {"skipped_by_code", sigma.skipped}};
  }
  j["diagnostics"] = nlohmann::json::array();
  for (const auto& d : diagnostics) {
    j["diagnostics"].push_back(
        {{"severity", d.severity == RuleDiagnostic::Severity::kError ? "error" : "warning"},
         {"code", d.code},
         {"file", d.file},
         {"line", d.line},
         {"column", d.column},
         {"rule", d.rule},
         {"message", d.message}});
  }
  return j.dump();
}

namespace {

const std::set<std::string> kRuleKeys = {
    "id",       "name",   "description", "mode",   "kinds",  "match",      "aggregate",
    "severity", "action", "duration",    "labels", "reason", "references", "sequence"};
const std::set<std::string> kAggKeys = {"type",     "key",        "threshold", "capacity",
                                        "window",   "leak",       "blackhole", "distinct",
                                        "fallback", "ipv6_prefix"};
const std::set<std::string> kSequenceKeys = {"window", "ordered", "steps", "threshold"};
const std::set<std::string> kStepKeys = {"name", "match", "count", "within"};

// Compiles one file's worth of YAML.
class FileCompiler {
 public:
  FileCompiler(std::string file, std::vector<RuleDiagnostic>* diags)
      : file_(std::move(file)), diags_(diags) {}

  void error(const YAML::Node& at, const std::string& code, const std::string& msg) {
    add(RuleDiagnostic::Severity::kError, at, code, msg);
  }
  void warning(const YAML::Node& at, const std::string& code, const std::string& msg) {
    add(RuleDiagnostic::Severity::kWarning, at, code, msg);
  }
  bool failed() const { return errors_ > 0; }

  std::vector<Rule> compile(const YAML::Node& root) {
    std::vector<Rule> out;
    if (!root.IsMap()) {
      error(root, "R005", "a rule file is a map with 'rules' (and optional 'lists')");
      return out;
    }
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string k = it->first.as<std::string>("");
      if (k != "rules" && k != "lists")
        error(it->first, "R001", "unknown key '" + k + "' (rules, lists)");
    }
    if (const YAML::Node lists = root["lists"]) readLists(lists);
    const YAML::Node rules = root["rules"];
    if (!rules) {
      error(root, "R009", "missing 'rules'");
      return out;
    }
    if (!rules.IsSequence()) {
      error(rules, "R005", "'rules' must be a list");
      return out;
    }
    for (size_t i = 0; i < rules.size(); ++i) {
      Rule r;
      if (compileRule(rules[i], r)) out.push_back(std::move(r));
    }
    return out;
  }

 private:
  void add(RuleDiagnostic::Severity sev, const YAML::Node& at, const std::string& code,
           const std::string& msg) {
    RuleDiagnostic d;
    d.severity = sev;
    d.code = code;
    d.file = file_;
    d.rule = current_rule_;
    if (at.IsDefined() && at.Mark().line >= 0) {
      d.line = at.Mark().line + 1;
      d.column = at.Mark().column + 1;
    }
    d.message = msg;
    diags_->push_back(std::move(d));
    if (sev == RuleDiagnostic::Severity::kError) ++errors_;
  }

  // ---- lists ----
  void readLists(const YAML::Node& lists) {
    if (!lists.IsMap()) {
      error(lists, "R005", "'lists' must be a map of name → items");
      return;
    }
    for (auto it = lists.begin(); it != lists.end(); ++it) {
      raw_lists_[it->first.as<std::string>("")] = it->second;
    }
  }

  // Resolves a named list (items, file, include), detecting cycles.
  const std::vector<std::string>* list(const std::string& name, const YAML::Node& at) {
    if (auto it = resolved_.find(name); it != resolved_.end()) return &it->second;
    auto raw = raw_lists_.find(name);
    if (raw == raw_lists_.end()) {
      error(at, "R006", "unknown list '" + name + "'");
      return nullptr;
    }
    if (resolving_.count(name) != 0) {
      error(at, "R007", "list '" + name + "' includes itself (cycle)");
      return nullptr;
    }
    resolving_.insert(name);
    std::vector<std::string> items;
    const YAML::Node n = raw->second;
    if (n.IsSequence()) {
      for (const auto& x : n) items.push_back(x.as<std::string>(""));
    } else if (n.IsMap()) {
      for (auto it = n.begin(); it != n.end(); ++it) {
        const std::string k = it->first.as<std::string>("");
        if (k != "items" && k != "file" && k != "include") {
          error(it->first, "R001", "unknown key '" + k + "' in list (items, file, include)");
        }
      }
      if (n["items"]) {
        for (const auto& x : n["items"]) items.push_back(x.as<std::string>(""));
      }
      if (n["file"]) {
        fs::path p = n["file"].as<std::string>("");
        if (p.is_relative()) p = fs::path(file_).parent_path() / p;
        std::ifstream in(p);
        if (!in) {
          error(n["file"], "R010", "cannot read list file " + p.string());
        } else {
          std::string line;
          while (std::getline(in, line)) {
            // Only the line end is trimmed: a trailing space can be part of a pattern ("<p ").
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
            items.push_back(line);
          }
        }
      }
      if (n["include"]) {
        for (const auto& inc : n["include"]) {
          if (const auto* sub = list(inc.as<std::string>(""), inc)) {
            items.insert(items.end(), sub->begin(), sub->end());
          }
        }
      }
    } else {
      error(n, "R005", "list '" + name + "' must be a sequence or a map with items/file/include");
    }
    resolving_.erase(name);
    return &(resolved_[name] = std::move(items));
  }

  // ---- conditions ----
  // Operator argument: scalar, sequence, or {list: name}.
  bool values(const YAML::Node& arg, std::vector<std::string>& out) {
    if (arg.IsScalar()) {
      out.push_back(arg.Scalar());
      return true;
    }
    if (arg.IsSequence()) {
      for (const auto& x : arg) {
        if (!x.IsScalar()) {
          error(x, "R005", "expected a string");
          return false;
        }
        out.push_back(x.Scalar());
      }
      return true;
    }
    if (arg.IsMap() && arg["list"] && arg.size() == 1) {
      const auto* l = list(arg["list"].as<std::string>(""), arg["list"]);
      if (l == nullptr) return false;
      out.insert(out.end(), l->begin(), l->end());
      return true;
    }
    error(arg, "R005", "expected a value, a list of values, or {list: NAME}");
    return false;
  }

  FieldRef field(const YAML::Node& at, const std::string& spec) {
    std::string bad;
    FieldRef f = FieldRef::of(spec, &bad);
    const std::string& name = f.name;
    if (!bad.empty()) {
      error(at, "R011",
            "unknown transformation '" + bad +
                "' (lower, upper, urldecode, path, basename, extension, stem, length)");
    }
    if (f.original) {
      // the raw line
    } else if (!f.id && name.find('.') == std::string::npos) {
      error(at, "R002", "unknown field '" + name + "'");
    } else if (!f.id) {
      warning(at, "R002",
              "field '" + name + "' is not a known ECS field; matched as an extra field");
    }
    return f;
  }

  bool predicate(const FieldRef& f, Op op, const YAML::Node& arg, bool nocase, Predicate& p) {
    p.field = f;
    p.op = op;
    p.nocase = nocase;
    if (op == Op::kExists) {
      bool v = true;
      if (!arg.IsScalar() || !YAML::convert<bool>::decode(arg, v)) {
        error(arg, "R005", "exists takes true or false");
        return false;
      }
      p.exists = v;
      return true;
    }
    if (op == Op::kIntel) return intelTest(arg, p);
    if (op == Op::kGt || op == Op::kGte || op == Op::kLt || op == Op::kLte) {
      if (!arg.IsScalar() || !YAML::convert<double>::decode(arg, p.number)) {
        error(arg, "R005", std::string(opName(op)) + " takes a number");
        return false;
      }
      return true;
    }
    std::vector<std::string> vs;
    if (!values(arg, vs)) return false;
    if (op == Op::kRegex) {
      for (const auto& v : vs) {
        auto re = compileRegex(v, nocase);
        if (!re) {
          error(arg, "R004", re.status().message() + " in '" + v + "'");
          return false;
        }
        p.regexes.push_back(*re);
        p.sources.push_back(RegexSource{v, nocase, 0});
      }
      // Many patterns (a word list): one alternation is one scan of the subject instead of one
      // per pattern. Kept separate when a pattern uses group numbers or the union fails.
      p.memoize = vs.size() >= 8;
      if (p.regexes.size() > 1) {
        std::string alt;
        bool numbered = false;
        for (const auto& v : vs) {
          for (size_t i = 0; i + 1 < v.size(); ++i) {
            if (v[i] == '\\' &&
                (std::isdigit(static_cast<unsigned char>(v[i + 1])) || v[i + 1] == 'g')) {
              numbered = true;
            }
          }
          alt += (alt.empty() ? "(?:" : "|(?:") + v + ")";
        }
        if (!numbered) {
          if (auto re = compileRegex(alt, nocase)) p.regexes.assign(1, *re);
        }
      }
      return true;
    }
    if (op == Op::kCidr) {
      for (const auto& v : vs) {
        if (Status st = p.cidrs.add(v); !st.isOk()) {
          error(arg, "R005", st.message());
          return false;
        }
      }
      return true;
    }
    if (nocase) {
      for (auto& v : vs) {
        std::transform(v.begin(), v.end(), v.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      }
    }
    if (op == Op::kEquals || op == Op::kIn) {
      for (const auto& v : vs) p.set.insert(v);
    }
    p.values = std::move(vs);
    p.buildIndex();
    return true;
  }

  // `intel: true` or `intel: {min_score: N, tag: T|[..], source: S|[..]}`.
  bool intelTest(const YAML::Node& arg, Predicate& p) {
    auto t = std::make_shared<IntelTest>();
    if (arg.IsScalar()) {
      bool v = false;
      if (!YAML::convert<bool>::decode(arg, v)) {
        error(arg, "R005", "intel takes true or a map of min_score, tag, source");
        return false;
      }
      if (!v) {
        error(arg, "R005", "intel: false is not a test; write not_intel: true");
        return false;
      }
    } else if (arg.IsMap()) {
      bool ok = true;
      for (auto it = arg.begin(); it != arg.end(); ++it) {
        const std::string k = it->first.as<std::string>("");
        if (k != "min_score" && k != "tag" && k != "source") {
          error(it->first, "R001", "unknown key '" + k + "' in intel (min_score, tag, source)");
          ok = false;
        }
      }
      if (const YAML::Node ms = arg["min_score"]) {
        int64_t v = 0;
        if (!ms.IsScalar() || !YAML::convert<int64_t>::decode(ms, v) || v < 0 || v > 100) {
          error(ms, "R005", "intel min_score must be an integer from 0 to 100");
          ok = false;
        } else {
          t->min_score = static_cast<int>(v);
        }
      }
      for (const char* k : {"tag", "source"}) {
        const YAML::Node n = arg[k];
        if (!n) continue;
        std::vector<std::string> vs;
        if (!values(n, vs)) {
          ok = false;
          continue;
        }
        if (vs.empty() ||
            std::any_of(vs.begin(), vs.end(), [](const auto& x) { return x.empty(); })) {
          error(n, "R005", std::string("intel ") + k + " must name at least one non-empty value");
          ok = false;
          continue;
        }
        (std::string_view(k) == "tag" ? t->tags : t->sources) = std::move(vs);
      }
      if (!ok) return false;
    } else {
      error(arg, "R005", "intel takes true or a map of min_score, tag, source");
      return false;
    }
    p.intel = std::move(t);
    return true;
  }

  Condition fieldCondition(const YAML::Node& key, const std::string& name, const YAML::Node& spec) {
    const FieldRef f = field(key, name);
    std::vector<Condition> parts;
    if (spec.IsScalar() || spec.IsSequence() || spec.IsNull()) {
      Predicate p;
      if (spec.IsNull()) {
        error(spec, "R005", "field '" + name + "' has no value to match");
      } else if (predicate(f, spec.IsScalar() ? Op::kEquals : Op::kIn, spec, false, p)) {
        parts.push_back(Condition::predicate(std::move(p)));
      }
    } else if (spec.IsMap()) {
      bool nocase = false;
      if (spec["nocase"]) nocase = spec["nocase"].as<bool>(false);
      for (auto it = spec.begin(); it != spec.end(); ++it) {
        const std::string opname = it->first.as<std::string>("");
        if (opname == "nocase") continue;
        bool negate = false;
        std::string base = opname;
        if (base.rfind("not_", 0) == 0) {
          negate = true;
          base = base.substr(4);
        }
        auto op = opFromName(base);
        if (!op) {
          error(it->first, "R003",
                "unknown operator '" + opname +
                    "' (equals, in, contains, startswith, endswith, regex, cidr, gt, gte, lt, lte, "
                    "exists, intel, each with an optional not_ prefix; nocase)");
          continue;
        }
        Predicate p;
        if (!predicate(f, *op, it->second, nocase, p)) continue;
        Condition c = Condition::predicate(std::move(p));
        parts.push_back(negate ? Condition::negate(std::move(c)) : std::move(c));
      }
    }
    if (parts.size() == 1) return std::move(parts[0]);
    return Condition::all(std::move(parts));
  }

  Condition condition(const YAML::Node& n) {
    std::vector<Condition> parts;
    if (n.IsSequence()) {
      for (const auto& x : n) parts.push_back(condition(x));
      return Condition::all(std::move(parts));
    }
    if (!n.IsMap()) {
      error(n, "R005", "a condition is a map of field → match, or all/any/not");
      return Condition::alwaysTrue();
    }
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string k = it->first.as<std::string>("");
      if (k == "all" || k == "any") {
        if (!it->second.IsSequence()) {
          error(it->second, "R005", "'" + k + "' takes a list of conditions");
          continue;
        }
        std::vector<Condition> sub;
        for (const auto& x : it->second) sub.push_back(condition(x));
        parts.push_back(k == "all" ? Condition::all(std::move(sub))
                                   : Condition::any(std::move(sub)));
      } else if (k == "not") {
        parts.push_back(Condition::negate(condition(it->second)));
      } else {
        parts.push_back(fieldCondition(it->first, k, it->second));
      }
    }
    if (parts.size() == 1) return std::move(parts[0]);
    return Condition::all(std::move(parts));
  }

  // ---- rules ----
  Duration duration(const YAML::Node& n, const std::string& what) {
    if (!n) return Duration(0);
    auto d = n.IsScalar() ? parseDuration(n.Scalar())
                          : Result<Duration>(Status::invalidArgument("not a scalar"));
    if (!d) {
      error(n, "R005", what + ": " + d.status().message());
      return Duration(0);
    }
    return *d;
  }

  int64_t integer(const YAML::Node& n, const std::string& what, int64_t def, int64_t lo,
                  int64_t hi) {
    if (!n) return def;
    int64_t v = 0;
    if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v) || v < lo || v > hi) {
      error(n, "R005",
            what + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
      return def;
    }
    return v;
  }

  std::string str(const YAML::Node& n, const std::string& def = "") {
    if (!n) return def;
    if (!n.IsScalar()) {
      error(n, "R005", "expected a string");
      return def;
    }
    return n.Scalar();
  }

  bool compileRule(const YAML::Node& n, Rule& r) {
    const size_t errors_before = errors_;
    current_rule_.clear();
    if (!n.IsMap()) {
      error(n, "R005", "a rule is a map");
      return false;
    }
    r.id = str(n["id"]);
    current_rule_ = r.id;
    if (r.id.empty()) error(n, "R009", "rule without 'id'");
    if (!r.id.empty() && !ids_.insert(r.id).second)
      error(n["id"], "R008", "duplicate rule id '" + r.id + "'");
    r.file = file_;
    r.line = n.Mark().line + 1;
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string k = it->first.as<std::string>("");
      if (kRuleKeys.count(k) == 0) error(it->first, "R001", "unknown key '" + k + "' in rule");
    }
    r.name = str(n["name"], r.id);
    r.description = str(n["description"]);
    const std::string mode = str(n["mode"], "enabled");
    if (mode == "enabled")
      r.mode = RuleMode::kEnabled;
    else if (mode == "disabled")
      r.mode = RuleMode::kDisabled;
    else if (mode == "shadow")
      r.mode = RuleMode::kShadow;
    else
      error(n["mode"], "R005", "mode must be enabled, disabled or shadow");
    if (const YAML::Node k = n["kinds"]) {
      std::vector<std::string> names;
      if (k.IsScalar())
        names.push_back(k.Scalar());
      else if (k.IsSequence())
        for (const auto& x : k) names.push_back(x.as<std::string>(""));
      for (const auto& name : names) {
        if (auto kind = eventKindFromName(name))
          r.kinds.push_back(*kind);
        else
          error(k, "R005", "unknown event kind '" + name + "'");
      }
    } else {
      warning(n, "W001", "rule has no 'kinds': it is evaluated for every event");
    }
    Aggregation& a = r.aggregation;
    const YAML::Node seq = n["sequence"];
    if (const YAML::Node m = n["match"]) {
      r.condition = condition(m);
    } else if (!seq) {
      error(n, "R009", "rule without 'match'");
    }
    if (seq) sequence(seq, r);
    auto noteIntel = [&r](Predicate& p) { r.intel = r.intel || p.intel != nullptr; };
    r.condition.forEachPredicate(noteIntel);
    for (SequenceStep& s : r.aggregation.steps) s.condition.forEachPredicate(noteIntel);
    a.key.push_back(FieldRef::of("source.ip"));
    if (const YAML::Node ag = n["aggregate"]) {
      if (!ag.IsMap()) {
        error(ag, "R005", "'aggregate' must be a map");
      } else {
        for (auto it = ag.begin(); it != ag.end(); ++it) {
          const std::string k = it->first.as<std::string>("");
          if (kAggKeys.count(k) == 0)
            error(it->first, "R001", "unknown key '" + k + "' in aggregate");
        }
        const std::string type = str(ag["type"], seq ? "sequence" : "count");
        if (seq && type != "sequence")
          error(ag["type"], "R005", "a rule with 'sequence' has aggregate type sequence");
        if (type == "sequence") {
          if (!seq) error(ag["type"], "R009", "aggregate type sequence needs 'sequence'");
        } else if (type == "trigger")
          a.type = AggregationType::kTrigger;
        else if (type == "count")
          a.type = AggregationType::kCount;
        else if (type == "distinct")
          a.type = AggregationType::kDistinct;
        else if (type == "leaky")
          a.type = AggregationType::kLeaky;
        else
          error(ag["type"], "R005", "aggregate type must be trigger, count, distinct or leaky");
        if (const YAML::Node k = ag["key"]) {
          a.key.clear();
          std::vector<std::string> names;
          if (k.IsScalar())
            names.push_back(k.Scalar());
          else
            for (const auto& x : k) names.push_back(x.as<std::string>(""));
          for (const auto& name : names) a.key.push_back(field(k, name));
        }
        if (const YAML::Node fb = ag["fallback"]) {
          std::vector<std::string> names;
          if (fb.IsScalar())
            names.push_back(fb.Scalar());
          else
            for (const auto& x : fb) names.push_back(x.as<std::string>(""));
          for (const auto& name : names) a.fallback.push_back(field(fb, name));
        }
        if (type == "sequence") {
          a.blackhole = duration(ag["blackhole"], "blackhole");
          a.ipv6_prefix =
              static_cast<uint8_t>(integer(ag["ipv6_prefix"], "ipv6_prefix", 0, 0, 128));
          for (const char* k : {"threshold", "capacity", "window", "leak", "distinct"}) {
            if (ag[k]) error(ag[k], "R005", std::string("'") + k + "' belongs in 'sequence'");
          }
        } else {
          a.threshold =
              static_cast<uint32_t>(integer(ag["threshold"] ? ag["threshold"] : ag["capacity"],
                                            "threshold/capacity", 1, 1, 10'000'000));
          a.window = duration(ag["window"], "window");
          a.leak = duration(ag["leak"], "leak");
          a.blackhole = duration(ag["blackhole"], "blackhole");
          if (ag["distinct"]) a.distinct = field(ag["distinct"], str(ag["distinct"]));
          a.ipv6_prefix =
              static_cast<uint8_t>(integer(ag["ipv6_prefix"], "ipv6_prefix", 0, 0, 128));
          if ((a.type == AggregationType::kCount || a.type == AggregationType::kDistinct) &&
              a.window.count() <= 0) {
            error(ag, "R009", "count and distinct aggregation need a positive 'window'");
          }
          if (a.type == AggregationType::kLeaky && a.leak.count() <= 0) {
            error(ag, "R009", "leaky aggregation needs a positive 'leak'");
          }
          if (a.type == AggregationType::kDistinct && !a.distinct) {
            error(ag, "R009", "distinct aggregation needs 'distinct: FIELD'");
          }
        }
      }
    }
    r.severity = static_cast<int>(integer(n["severity"], "severity", 5, 0, 10));
    r.action = str(n["action"], "block");
    r.duration = duration(n["duration"], "duration");
    if (const YAML::Node l = n["labels"]) {
      if (l.IsSequence())
        for (const auto& x : l) r.labels.push_back(x.as<std::string>(""));
      else
        error(l, "R005", "labels must be a list");
    }
    r.reason = str(n["reason"], r.name.empty() ? r.id : r.name);
    return errors_ == errors_before;
  }

  // `sequence: {window, ordered, threshold, steps: [{name, match, count, within}]}`: the rule's
  // condition becomes `match` (if any) and any step.
  void sequence(const YAML::Node& seq, Rule& r) {
    Aggregation& a = r.aggregation;
    a.type = AggregationType::kSequence;
    if (!seq.IsMap()) {
      error(seq, "R005", "'sequence' must be a map with window and steps");
      return;
    }
    for (auto it = seq.begin(); it != seq.end(); ++it) {
      const std::string k = it->first.as<std::string>("");
      if (kSequenceKeys.count(k) == 0)
        error(it->first, "R001",
              "unknown key '" + k + "' in sequence (window, ordered, steps, threshold)");
    }
    a.window = duration(seq["window"], "window");
    if (a.window.count() <= 0) error(seq, "R009", "a sequence needs a positive 'window'");
    if (const YAML::Node o = seq["ordered"]) {
      if (!o.IsScalar() || !YAML::convert<bool>::decode(o, a.ordered))
        error(o, "R005", "ordered takes true or false");
    }
    const YAML::Node steps = seq["steps"];
    if (!steps || !steps.IsSequence() || steps.size() == 0) {
      error(steps ? steps : seq, "R009", "a sequence needs a non-empty list of 'steps'");
      return;
    }
    std::vector<Condition> any;
    for (const auto& st : steps) {
      SequenceStep step;
      if (!st.IsMap() || !st["match"]) {
        error(st, "R009", "a sequence step is a map with 'match'");
        continue;
      }
      for (auto it = st.begin(); it != st.end(); ++it) {
        const std::string k = it->first.as<std::string>("");
        if (kStepKeys.count(k) == 0)
          error(it->first, "R001",
                "unknown key '" + k + "' in sequence step (name, match, count, within)");
      }
      step.name = str(st["name"], "step" + std::to_string(a.steps.size() + 1));
      step.condition = condition(st["match"]);
      step.count = static_cast<uint32_t>(integer(st["count"], "count", 1, 1, 1'000'000));
      step.within = duration(st["within"], "within");
      any.push_back(step.condition);
      a.steps.push_back(std::move(step));
    }
    a.threshold = static_cast<uint32_t>(
        integer(seq["threshold"], "threshold", 0, 0, static_cast<int64_t>(a.steps.size())));
    if (a.ordered && seq["threshold"])
      error(seq["threshold"], "R005", "threshold applies to unordered sequences only");
    Condition steps_any = any.size() == 1 ? std::move(any[0]) : Condition::any(std::move(any));
    if (r.condition.kind() == Condition::Kind::kTrue) {
      r.condition = std::move(steps_any);
    } else {
      std::vector<Condition> both;
      both.push_back(std::move(r.condition));
      both.push_back(std::move(steps_any));
      r.condition = Condition::all(std::move(both));
    }
  }

  std::string file_;
  std::vector<RuleDiagnostic>* diags_;
  size_t errors_ = 0;
  std::string current_rule_;
  std::map<std::string, YAML::Node> raw_lists_;
  std::map<std::string, std::vector<std::string>> resolved_;
  std::set<std::string> resolving_;
  std::set<std::string> ids_;
};

void loadOne(const std::string& text, const std::string& file, LoadResult& out,
             SigmaContext& sigma_ctx, const SigmaOptions* sigma) {
  if (looksLikeSigma(text)) {
    loadSigmaText(text, file, sigma != nullptr ? *sigma : SigmaOptions{}, out, sigma_ctx);
    return;
  }
  std::set<std::string>& ids = sigma_ctx.ids;
  std::vector<RuleDiagnostic> diags;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    diags.push_back({RuleDiagnostic::Severity::kError, "R000", file, e.mark.line + 1,
                     e.mark.column + 1, "", "YAML syntax: " + e.msg});
  }
  std::vector<Rule> rules;
  bool failed = !diags.empty();
  if (!failed) {
    FileCompiler fc(file, &diags);
    try {
      rules = fc.compile(root);
    } catch (const YAML::Exception& e) {
      diags.push_back({RuleDiagnostic::Severity::kError, "R005", file, e.mark.line + 1,
                       e.mark.column + 1, "", e.msg});
    }
    failed = fc.failed() || std::any_of(diags.begin(), diags.end(), [](const auto& d) {
               return d.severity == RuleDiagnostic::Severity::kError;
             });
    for (const auto& r : rules) {
      if (!failed && !ids.insert(r.id).second) {
        diags.push_back({RuleDiagnostic::Severity::kError, "R008", file, r.line, 1, r.id,
                         "rule id '" + r.id + "' is also defined in another file"});
        failed = true;
      }
    }
  }
  out.diagnostics.insert(out.diagnostics.end(), diags.begin(), diags.end());
  if (failed) {
    out.files_rejected.push_back(file);
    return;
  }
  out.files_loaded.push_back(file);
  for (auto& r : rules) out.rules.push_back(std::move(r));
}

}  // namespace

LoadResult loadRuleText(const std::string& text, const std::string& file,
                        const SigmaOptions* sigma) {
  LoadResult out;
  SigmaContext ctx;
  loadOne(text, file, out, ctx, sigma);
  return out;
}

LoadResult loadRuleFiles(const std::vector<std::string>& paths, const SigmaOptions* sigma) {
  LoadResult out;
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> in_dir;
      for (auto it = fs::recursive_directory_iterator(p, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const auto& e = *it;
        const std::string leaf = e.path().filename().string();
        if (e.is_directory() && (leaf == "tests" || leaf == "data" || leaf[0] == '.')) {
          it.disable_recursion_pending();
          continue;
        }
        const auto ext = e.path().extension();
        if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml"))
          in_dir.push_back(e.path().string());
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (p.find_first_of("*?[") != std::string::npos) {
      glob_t g{};
      if (glob(p.c_str(), 0, nullptr, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
      }
      globfree(&g);
    } else {
      files.push_back(p);
    }
  }
  SigmaContext ctx;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      out.diagnostics.push_back(
          {RuleDiagnostic::Severity::kError, "R010", f, 0, 0, "", "cannot read rule file"});
      out.files_rejected.push_back(f);
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    loadOne(ss.str(), f, out, ctx, sigma);
  }
  return out;
}

}  // namespace riposte::rules

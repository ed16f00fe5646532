#include "riposte/engine/config_history.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "riposte/core/digest.h"
#include "riposte/detect/rules/rule_engine.h"

namespace riposte {

namespace {

constexpr const char* kFileMark = "=== ";
// Above this many cells the middle of a changed file is shown as removed and added whole
// instead of searching for its longest common subsequence.
constexpr size_t kMaxDiffCells = 4'000'000;
constexpr size_t kContext = 3;

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      out.push_back(text.substr(start));
      break;
    }
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

struct Edit {
  char op;   // ' ', '-', '+'
  size_t a;  // line in before (0-based), for ' ' and '-'
  size_t b;  // line in after, for ' ' and '+'
};

// Edit script from `a` to `b`: common prefix and suffix kept, the middle by LCS when small.
std::vector<Edit> editScript(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre &&
         a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) {
    ++suf;
  }
  std::vector<Edit> out;
  for (size_t i = 0; i < pre; ++i) out.push_back({' ', i, i});
  const size_t n = a.size() - pre - suf;
  const size_t m = b.size() - pre - suf;
  if (n > 0 && m > 0 && n * m <= kMaxDiffCells) {
    // lcs[i][j]: length of the LCS of a[pre+i..] and b[pre+j..].
    std::vector<uint32_t> lcs((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return lcs[i * (m + 1) + j]; };
    for (size_t i = n; i-- > 0;) {
      for (size_t j = m; j-- > 0;) {
        at(i, j) =
            a[pre + i] == b[pre + j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
      }
    }
    size_t i = 0;
    size_t j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i] == b[pre + j]) {
        out.push_back({' ', pre + i, pre + j});
        ++i;
        ++j;
      } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
        out.push_back({'-', pre + i, 0});  // removals before additions, as diff(1) shows them
        ++i;
      } else {
        out.push_back({'+', 0, pre + j});
        ++j;
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) out.push_back({'-', pre + i, 0});
    for (size_t j = 0; j < m; ++j) out.push_back({'+', 0, pre + j});
  }
  for (size_t k = 0; k < suf; ++k) {
    out.push_back({' ', a.size() - suf + k, b.size() - suf + k});
  }
  return out;
}

std::string range(size_t start, size_t count) {
  // Unified diff: 1-based start; an empty range names the line before it.
  return std::to_string(count == 0 ? start : start + 1) + "," + std::to_string(count);
}

std::string fileDiff(const std::string& name, const std::string* before, const std::string* after) {
  const auto a = before != nullptr ? splitLines(*before) : std::vector<std::string>{};
  const auto b = after != nullptr ? splitLines(*after) : std::vector<std::string>{};
  const auto edits = editScript(a, b);
  std::string out;
  size_t k = 0;
  while (k < edits.size()) {
    // Next change.
    while (k < edits.size() && edits[k].op == ' ') ++k;
    if (k == edits.size()) break;
    size_t first = k >= kContext ? k - kContext : 0;
    // Extend the hunk while changes are within 2 * context of each other.
    size_t last = k;
    size_t j = k;
    while (j < edits.size()) {
      if (edits[j].op != ' ') {
        last = j;
        ++j;
        continue;
      }
      size_t run = j;
      while (run < edits.size() && edits[run].op == ' ') ++run;
      if (run == edits.size() || run - j > 2 * kContext) break;
      j = run;
    }
    const size_t end = std::min(edits.size(), last + 1 + kContext);
    size_t a_start = 0;
    size_t b_start = 0;
    size_t a_count = 0;
    size_t b_count = 0;
    bool a_set = false;
    bool b_set = false;
    std::string body;
    for (size_t x = first; x < end; ++x) {
      const Edit& e = edits[x];
      if (e.op != '+') {
        if (!a_set) a_start = e.a, a_set = true;
        ++a_count;
      }
      if (e.op != '-') {
        if (!b_set) b_start = e.b, b_set = true;
        ++b_count;
      }
      body += e.op;
      body += e.op == '+' ? b[e.b] : a[e.a];
      body += '\n';
    }
    // An empty side starts where the other side's lines sit.
    if (!a_set) {
      a_start = 0;
      for (size_t x = 0; x < first; ++x) {
        if (edits[x].op != '+') a_start = edits[x].a + 1;
      }
    }
    if (!b_set) {
      b_start = 0;
      for (size_t x = 0; x < first; ++x) {
        if (edits[x].op != '-') b_start = edits[x].b + 1;
      }
    }
    if (out.empty()) out = "--- a/" + name + "\n+++ b/" + name + "\n";
    out += "@@ -" + range(a_start, a_count) + " +" + range(b_start, b_count) + " @@\n" + body;
    k = end;
  }
  return out;
}

bool secretKey(std::string key) {
  for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* w : {"password", "passwd", "secret", "token", "api_key", "apikey", "private_key",
                        "hmac", "credential"}) {
    if (key.find(w) != std::string::npos) return true;
  }
  return false;
}

// "scheme://user:password@host" -> "scheme://user:<redacted>@host"; "password=x" in a libpq
// key=value string -> "password=<redacted>".
std::string redactInline(std::string v) {
  for (size_t at = v.find("://"); at != std::string::npos; at = v.find("://", at + 3)) {
    const size_t start = at + 3;
    const size_t end = v.find_first_of("/ \"'", start);
    const size_t amp = v.find('@', start);
    if (amp == std::string::npos || (end != std::string::npos && amp > end)) continue;
    const size_t colon = v.find(':', start);
    if (colon != std::string::npos && colon < amp)
      v.replace(colon + 1, amp - colon - 1, "<redacted>");
  }
  for (size_t at = v.find("password="); at != std::string::npos; at = v.find("password=", at + 9)) {
    const size_t start = at + 9;
    size_t end = v.find_first_of(" \"'&", start);
    if (end == std::string::npos) end = v.size();
    if (v.compare(start, 2, "${") != 0) v.replace(start, end - start, "<redacted>");
  }
  return v;
}

}  // namespace

std::string redactSecrets(const std::string& yaml) {
  std::string out;
  out.reserve(yaml.size());
  for (const auto& line : splitLines(yaml)) {
    std::string l = line;
    // "  key: value" (or "- key: value"): a secret-looking key keeps only a ${VAR} reference.
    const size_t first = l.find_first_not_of(" -");
    const size_t colon = l.find(':', first == std::string::npos ? 0 : first);
    if (first != std::string::npos && colon != std::string::npos &&
        l.find_first_of(" \t\"'#", first) > colon && secretKey(l.substr(first, colon - first))) {
      const size_t value = l.find_first_not_of(" \t", colon + 1);
      if (value != std::string::npos && l[value] != '#' && l.find("${", value) != value &&
          l.find("\"${", value) != value) {
        l = l.substr(0, value) + "<redacted>";
      }
    }
    out += redactInline(l);
    out += '\n';
  }
  return out;
}

std::vector<HistoryFile> readHistoryFiles(const std::vector<std::string>& paths) {
  std::vector<HistoryFile> out;
  out.reserve(paths.size());
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    HistoryFile f;
    f.name = p;
    if (!in) {
      f.text = "(unreadable)\n";
    } else {
      std::stringstream ss;
      ss << in.rdbuf();
      f.text = ss.str();
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::string historyHash(const std::vector<HistoryFile>& files) {
  std::string buf;
  for (const auto& f : files) {
    buf += std::to_string(f.name.size()) + ":" + f.name;
    buf += std::to_string(f.text.size()) + ":" + f.text;
  }
  return sha256Hex(buf);
}

std::string historyContent(const std::vector<HistoryFile>& files) {
  std::string out;
  for (const auto& f : files) {
    out += kFileMark + f.name + "\n" + f.text;
    if (!f.text.empty() && f.text.back() != '\n') out += '\n';
  }
  return out;
}

std::vector<HistoryFile> parseHistoryContent(const std::string& content) {
  std::vector<HistoryFile> out;
  for (const auto& line : splitLines(content)) {
    if (line.rfind(kFileMark, 0) == 0) {
      out.push_back({line.substr(4), ""});
    } else if (!out.empty()) {
      out.back().text += line + "\n";
    }
  }
  return out;
}

std::string unifiedDiff(const std::vector<HistoryFile>& before,
                        const std::vector<HistoryFile>& after) {
  // Texts normalised as historyContent stores them (each ends with a newline), so a stored
  // version and a freshly read one compare equal.
  auto norm = [](const std::string& t) { return t.empty() || t.back() == '\n' ? t : t + "\n"; };
  std::map<std::string, std::pair<const std::string*, const std::string*>> files;
  std::vector<std::string> order;
  std::vector<std::string> a_texts;
  std::vector<std::string> b_texts;
  a_texts.reserve(before.size());
  b_texts.reserve(after.size());
  for (const auto& f : before) a_texts.push_back(norm(f.text));
  for (const auto& f : after) b_texts.push_back(norm(f.text));
  for (size_t i = 0; i < before.size(); ++i) {
    if (files.emplace(before[i].name, std::make_pair(&a_texts[i], nullptr)).second) {
      order.push_back(before[i].name);
    }
  }
  for (size_t i = 0; i < after.size(); ++i) {
    auto [it, inserted] = files.emplace(after[i].name, std::make_pair(nullptr, &b_texts[i]));
    if (inserted) {
      order.push_back(after[i].name);
    } else {
      it->second.second = &b_texts[i];
    }
  }
  std::string out;
  for (const auto& name : order) {
    const auto& [a, b] = files[name];
    if (a != nullptr && b != nullptr && *a == *b) continue;
    out += fileDiff(name, a, b);
  }
  return out;
}

Status recordLoad(Store& s, const std::string& kind, const std::string& actor,
                  const std::vector<std::string>& paths, const std::string& summary,
                  ConfigHistoryRecord* out) {
  auto* store_ptr = dynamic_cast<ConfigHistoryStore*>(&s);
  if (store_ptr == nullptr) {
    return Status::failedPrecondition("this store keeps no rule or configuration history");
  }
  ConfigHistoryStore& store = *store_ptr;
  auto files = readHistoryFiles(paths);
  // The configuration may hold passwords and keys: the store keeps it without them (and the
  // hash is over what is kept).
  if (kind == "config") {
    for (auto& f : files) f.text = redactSecrets(f.text);
  }
  ConfigHistoryRecord r;
  r.kind = kind;
  r.time = Timestamp::now();
  r.actor = actor;
  r.hash = historyHash(files);
  r.files = paths;
  r.summary = summary;
  ConfigHistoryQuery q;
  q.kind = kind;
  q.limit = 1;
  // Unknown (a store that cannot read now): stored in full, without a diff.
  auto previous = store.listConfigHistory(q);
  if (previous.isOk() && !previous->empty() && previous->front().hash != r.hash &&
      previous->front().content.empty()) {
    q.limit = 50;  // the newest is an unchanged load: the text is in an older record
    previous = store.listConfigHistory(q);
  }
  if (previous.isOk() && !previous->empty() && previous->front().hash == r.hash) {
    r.changed = false;
  } else {
    r.content = historyContent(files);
    if (previous.isOk()) {
      for (const auto& p : *previous) {
        if (p.content.empty()) continue;
        r.diff = unifiedDiff(parseHistoryContent(p.content), files);
        break;
      }
    }
  }
  RIPOSTE_RETURN_IF_ERROR(store.saveConfigHistory(r));
  if (out != nullptr) *out = std::move(r);
  return Status::ok();
}

std::vector<std::string> ruleFiles(const Config& config) {
  std::vector<std::string> out;
  for (const auto& d : config.detectors) {
    if (d.type != "rules") continue;
    auto loaded = rules::loadRulesFor(d);
    out.insert(out.end(), loaded.files_loaded.begin(), loaded.files_loaded.end());
    out.insert(out.end(), loaded.files_rejected.begin(), loaded.files_rejected.end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void recordRuleLoad(Store& store, const Config& config, const std::string& actor,
                    const Status& result, size_t rules) {
  std::string summary = std::to_string(rules) + " rule(s) loaded";
  if (!result.isOk()) {
    summary = "rejected: " + result.message().substr(0, result.message().find('\n'));
  }
  const Status st = recordLoad(store, "rules", actor, ruleFiles(config), summary);
  if (!st.isOk() && st.code() != StatusCode::kFailedPrecondition) {
    spdlog::warn("rule history: {}", st.toString());
  }
}

nlohmann::ordered_json configHistoryJson(const ConfigHistoryRecord& r, bool with_content) {
  nlohmann::ordered_json j;
  j["id"] = r.id;
  j["time"] = formatRfc3339Utc(r.time);
  j["kind"] = r.kind;
  j["actor"] = r.actor;
  j["hash"] = r.hash;
  j["files"] = r.files;
  j["changed"] = r.changed;
  j["summary"] = r.summary;
  j["diff"] = r.diff;
  if (with_content) j["content"] = r.content;
  return j;
}

}  // namespace riposte

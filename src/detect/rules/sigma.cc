#include "riposte/detect/rules/sigma.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

namespace riposte::rules {

namespace {

// ---------------------------------------------------------------------------------------------
// Field mapping tables: Sigma field name -> Riposte field (ECS name, optional transformations).
// ECS names Riposte knows (and event.original) are accepted as they are everywhere.

using FieldTable = std::vector<std::pair<std::string_view, std::string_view>>;

const FieldTable kNetworkFields = {
    {"src_ip", "source.ip"},         {"dst_ip", "destination.ip"},
    {"src_port", "source.port"},     {"dst_port", "destination.port"},
    {"SourceIp", "source.ip"},       {"DestinationIp", "destination.ip"},
    {"SourcePort", "source.port"},   {"DestinationPort", "destination.port"},
    {"SourceHostname", "host.name"}, {"protocol", "network.transport"},
};

// W3C / IIS extended log names (webserver) and proxy names.
const FieldTable kWebFields = {
    {"c-ip", "source.ip"},
    {"s-ip", "destination.ip"},
    {"s-port", "destination.port"},
    {"cs-method", "http.request.method"},
    {"cs-uri", "url.original"},
    {"cs-uri-stem", "url.path"},
    {"cs-uri-query", "url.original"},  // SigmaHQ web rules use it for the whole target
    {"c-uri", "url.original"},
    {"c-uri-stem", "url.path"},
    {"c-uri-query", "url.query"},
    {"c-uri-extension", "url.original|extension"},
    {"cs-host", "url.domain"},
    {"r-dns", "url.domain"},
    {"cs-referer", "http.request.referrer"},
    {"cs-referrer", "http.request.referrer"},
    {"cs-user-agent", "user_agent.original"},
    {"c-useragent", "user_agent.original"},
    {"cs-username", "user.name"},
    {"cs-version", "http.version"},
    {"sc-status", "http.response.status_code"},
    {"sc-bytes", "http.response.body.bytes"},
    {"s-computername", "host.name"},
};

// Zeek log columns (as Riposte's zeek parser reads them).
const FieldTable kZeekFields = {
    {"c-uri", "url.original"},  // web names some SigmaHQ zeek rules use
    {"c-useragent", "user_agent.original"},
    {"id.orig_h", "source.ip"},
    {"id.orig_p", "source.port"},
    {"id.resp_h", "destination.ip"},
    {"id.resp_p", "destination.port"},
    {"proto", "network.transport"},
    {"uid", "zeek.session_id"},
    {"host", "url.domain"},
    {"uri", "url.original"},
    {"method", "http.request.method"},
    {"user_agent", "user_agent.original"},
    {"status_code", "http.response.status_code"},
    {"referrer", "http.request.referrer"},
    {"version", "http.version"},
    {"username", "user.name"},
    {"response_body_len", "http.response.body.bytes"},
    {"query", "dns.question.name"},
    {"service", "network.protocol"},
    {"conn_state", "zeek.conn.state"},
    {"auth_attempts", "zeek.ssh.auth_attempts"},
    {"client", "ssh.client.software"},
    {"note", "rule.name"},
    {"msg", "message"},
};

const FieldTable kDnsFields = {
    {"query", "dns.question.name"},
};

const FieldTable kSyslogFields = {
    {"host", "host.name"},  {"hostname", "host.name"}, {"program", "process.name"},
    {"pid", "process.pid"}, {"user", "user.name"},
};

// Tables by index (SigmaContext::Ref::table); each logsource uses its own plus the network one.
const std::vector<const FieldTable*> kTables = {&kWebFields, &kZeekFields, &kDnsFields,
                                                &kSyslogFields, &kNetworkFields};
constexpr int kWeb = 0, kZeek = 1, kDns = 2, kSyslog = 3, kNetwork = 4, kPassthrough = -2;

struct Logsource {
  std::vector<EventKind> kinds;
  int table = kNetwork;
  // event.dataset filter: values, equality or (prefix) startswith
  std::vector<std::string> datasets;
  bool dataset_prefix = false;
};

std::string describeLogsource(const std::string& product, const std::string& service,
                              const std::string& category) {
  std::string s;
  auto add = [&](const char* k, const std::string& v) {
    if (v.empty()) return;
    s += (s.empty() ? "" : " ") + std::string(k) + "=" + v;
  };
  add("product", product);
  add("service", service);
  add("category", category);
  return s.empty() ? "(none)" : s;
}

// The logsource table (docs/rules.md reproduces it; sigmaLogsourceTable() lists it).
std::optional<Logsource> mapLogsource(const std::string& product, const std::string& service,
                                      const std::string& category) {
  using K = EventKind;
  if (category == "webserver") return Logsource{{K::kHttp}, kWeb, {}, false};
  if (category == "proxy") return Logsource{{K::kHttp}, kWeb, {}, false};
  if (category == "dns") return Logsource{{K::kDns}, kDns, {}, false};
  if (category == "firewall") return Logsource{{K::kFirewall, K::kFlow}, kNetwork, {}, false};
  if (product == "zeek" && category.empty()) {
    if (service == "http") return Logsource{{K::kHttp}, kZeek, {"zeek.http"}, false};
    if (service == "dns") return Logsource{{K::kDns}, kZeek, {"zeek.dns"}, false};
    if (service == "conn") return Logsource{{K::kFlow}, kZeek, {"zeek.conn"}, false};
    if (service == "ssh") return Logsource{{K::kSsh, K::kAuth}, kZeek, {"zeek.ssh"}, false};
    if (service == "notice") return Logsource{{K::kIdsAlert}, kZeek, {"zeek.notice"}, false};
    return std::nullopt;
  }
  if (category.empty() && (service == "apache" || (product == "apache" && service.empty())))
    return Logsource{{K::kHttp, K::kGeneric}, kWeb, {"apache."}, true};
  if (category.empty() && (service == "nginx" || (product == "nginx" && service.empty())))
    return Logsource{{K::kHttp, K::kGeneric}, kWeb, {"nginx."}, true};
  if (product == "linux" && category.empty()) {
    if (service == "sshd") return Logsource{{K::kAuth, K::kSsh}, kSyslog, {"sshd"}, false};
    if (service == "auth") return Logsource{{K::kAuth, K::kSsh}, kSyslog, {"sshd"}, false};
    if (service.empty() || service == "syslog")
      return Logsource{{K::kAuth, K::kSsh, K::kFirewall}, kSyslog, {"sshd", "iptables"}, false};
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// A rule is skipped (warning) when it uses something Riposte does not support.

struct Skip {
  std::string code;
  std::string feature;  // what exactly, for the coverage report
  std::string message;
  YAML::Mark mark;
};

struct Fail {  // an error: the file is rejected
  std::string code;
  std::string message;
  YAML::Mark mark;
};

std::string asciiLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Values: wildcards, escapes, encodings.

struct Token {
  enum Kind { kLit, kStar, kOne } kind;
  std::string text;
};

// Splits a Sigma string into literals and wildcards: `*` any run, `?` one character; `\*`,
// `\?` and `\\` are the plain characters; any other backslash is itself.
std::vector<Token> tokenize(std::string_view v) {
  std::vector<Token> out;
  auto lit = [&](char c) {
    if (out.empty() || out.back().kind != Token::kLit) out.push_back({Token::kLit, ""});
    out.back().text += c;
  };
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c == '\\' && i + 1 < v.size() && (v[i + 1] == '*' || v[i + 1] == '?' || v[i + 1] == '\\')) {
      lit(v[++i]);
    } else if (c == '*') {
      if (out.empty() || out.back().kind != Token::kStar) out.push_back({Token::kStar, ""});
    } else if (c == '?') {
      out.push_back({Token::kOne, ""});
    } else {
      lit(c);
    }
  }
  return out;
}

std::string regexEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && !std::isalnum(u) && c != '_' && c != ' ') out += '\\';
    out += c;
  }
  return out;
}

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = static_cast<unsigned char>(in[i]) << 16 |
                       static_cast<unsigned char>(in[i + 1]) << 8 |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kB64[(n >> s) & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t n =
        static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8;
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// The three encodings of `v` at byte offsets 0, 1, 2 of a base64 stream, without the characters
// that depend on the neighbouring bytes (as pySigma's base64offset).
std::vector<std::string> base64Offsets(std::string_view v) {
  static constexpr size_t kStart[3] = {0, 2, 3};
  static constexpr int kEnd[3] = {0, -3, -2};  // 0 = to the end
  std::vector<std::string> out;
  for (size_t i = 0; i < 3; ++i) {
    const std::string enc = base64(std::string(i, ' ') + std::string(v));
    const int end = kEnd[(v.size() + i) % 3];
    const size_t stop = end == 0 ? enc.size() : enc.size() - static_cast<size_t>(-end);
    if (stop > kStart[i]) out.push_back(enc.substr(kStart[i], stop - kStart[i]));
  }
  return out;
}

// windash: each `-` or `/` (or en dash, em dash, horizontal bar) that starts a word is expanded
// to all five forms.
std::vector<std::string> windash(const std::string& v) {
  static const std::vector<std::string> kDashes = {"-", "/", "\xE2\x80\x93", "\xE2\x80\x94",
                                                   "\xE2\x80\x95"};
  auto isWord = [](unsigned char c) { return std::isalnum(c) || c == '_' || c >= 0x80; };
  std::vector<std::string> out = {""};
  for (size_t i = 0; i < v.size();) {
    size_t len = 0;
    for (const auto& d : kDashes) {
      if (v.compare(i, d.size(), d) == 0) len = d.size();
    }
    const bool starts_word = len > 0 && (i == 0 || !isWord(static_cast<unsigned char>(v[i - 1]))) &&
                             i + len < v.size() && isWord(static_cast<unsigned char>(v[i + len]));
    if (starts_word && out.size() * kDashes.size() <= 1024) {
      std::vector<std::string> next;
      for (const auto& prefix : out) {
        for (const auto& d : kDashes) next.push_back(prefix + d);
      }
      out = std::move(next);
      i += len;
      continue;
    }
    const size_t n = len > 0 ? len : 1;
    for (auto& prefix : out) prefix.append(v, i, n);
    i += n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Condition expression parser.
//   expr := and ('or' and)* ; and := not ('and' not)* ; not := 'not' not | primary
//   primary := '(' expr ')' | ('1' | 'any' | 'all') 'of' (pattern | 'them') | identifier

class ConditionParser {
 public:
  ConditionParser(std::string_view text, const std::vector<std::pair<std::string, Condition>>& ids)
      : text_(text), ids_(ids) {}

  Result<Condition> parse(size_t* error_column) {
    next();
    Condition c = expr();
    if (error_.empty() && tok_.kind == Tok::kPipe) {
      fail(tok_.pos,
           "aggregation expressions ('| count() ...') are not part of Sigma 2; use a "
           "correlation rule");
      pipe_ = true;
    }
    if (error_.empty() && tok_.kind != Tok::kEnd) fail(tok_.pos, "unexpected '" + tok_.text + "'");
    if (!error_.empty()) {
      if (error_column != nullptr) *error_column = error_pos_ + 1;
      return Status::invalidArgument("column " + std::to_string(error_pos_ + 1) + ": " + error_);
    }
    return c;
  }

 private:
  struct Tok {
    enum Kind { kEnd, kWord, kOpen, kClose, kPipe } kind = kEnd;
    std::string text;
    size_t pos = 0;
  };

  void fail(size_t pos, std::string msg) {
    if (!error_.empty()) return;
    error_ = std::move(msg);
    error_pos_ = pos;
  }

  void next() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
    tok_ = Tok{};
    tok_.pos = at_;
    if (at_ >= text_.size()) return;
    const char c = text_[at_];
    if (c == '(' || c == ')' || c == '|') {
      tok_.kind = c == '(' ? Tok::kOpen : c == ')' ? Tok::kClose : Tok::kPipe;
      tok_.text = std::string(1, c);
      ++at_;
      return;
    }
    const size_t start = at_;
    while (at_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[at_])) &&
           text_[at_] != '(' && text_[at_] != ')' && text_[at_] != '|') {
      ++at_;
    }
    tok_.kind = Tok::kWord;
    tok_.text = std::string(text_.substr(start, at_ - start));
  }

  bool isWord(const char* w) const { return tok_.kind == Tok::kWord && asciiLower(tok_.text) == w; }

  Condition expr() {
    std::vector<Condition> parts;
    parts.push_back(conj());
    while (error_.empty() && isWord("or")) {
      next();
      parts.push_back(conj());
    }
    return parts.size() == 1 ? std::move(parts[0]) : Condition::any(std::move(parts));
  }

  Condition conj() {
    std::vector<Condition> parts;
    parts.push_back(negation());
    while (error_.empty() && isWord("and")) {
      next();
      parts.push_back(negation());
    }
    return parts.size() == 1 ? std::move(parts[0]) : Condition::all(std::move(parts));
  }

  Condition negation() {
    if (isWord("not")) {
      next();
      return Condition::negate(negation());
    }
    return primary();
  }

  static bool globMatch(std::string_view pat, std::string_view s) {
    if (pat.empty()) return s.empty();
    if (pat[0] == '*') {
      for (size_t i = 0; i <= s.size(); ++i) {
        if (globMatch(pat.substr(1), s.substr(i))) return true;
      }
      return false;
    }
    return !s.empty() && pat[0] == s[0] && globMatch(pat.substr(1), s.substr(1));
  }

  Condition primary() {
    if (!error_.empty()) return Condition::alwaysTrue();
    if (tok_.kind == Tok::kOpen) {
      const size_t open = tok_.pos;
      next();
      Condition c = expr();
      if (error_.empty() && tok_.kind != Tok::kClose) {
        fail(tok_.pos, tok_.kind == Tok::kEnd
                           ? "missing ')' for the '(' at column " + std::to_string(open + 1)
                           : "expected ')', found '" + tok_.text + "'");
      }
      next();
      return c;
    }
    if (tok_.kind == Tok::kPipe) {
      fail(tok_.pos,
           "aggregation expressions ('| count() ...') are not part of Sigma 2; use a "
           "correlation rule");
      pipe_ = true;
      return Condition::alwaysTrue();
    }
    if (tok_.kind != Tok::kWord) {
      fail(tok_.pos, tok_.kind == Tok::kEnd ? "expression ends where a search identifier was "
                                              "expected"
                                            : "unexpected '" + tok_.text + "'");
      return Condition::alwaysTrue();
    }
    const std::string w = asciiLower(tok_.text);
    if (w == "and" || w == "or" || w == "of" || w == "them") {
      fail(tok_.pos, "unexpected '" + tok_.text + "' where a search identifier was expected");
      return Condition::alwaysTrue();
    }
    if (w == "1" || w == "all" || w == "any") {
      const bool all = w == "all";
      const size_t qpos = tok_.pos;
      next();
      if (isWord("of")) {
        next();
        if (tok_.kind != Tok::kWord) {
          fail(tok_.pos, "'of' must be followed by a pattern or 'them'");
          return Condition::alwaysTrue();
        }
        const bool them = isWord("them");
        const std::string pat = tok_.text;
        const size_t ppos = tok_.pos;
        next();
        std::vector<Condition> parts;
        for (const auto& [name, c] : ids_) {
          if (them ? name.empty() || name[0] != '_' : globMatch(pat, name)) parts.push_back(c);
        }
        if (parts.empty()) {
          fail(ppos, "no search identifier matches '" + pat + "'");
          unknown_ = true;
          return Condition::alwaysTrue();
        }
        if (parts.size() == 1) return std::move(parts[0]);
        return all ? Condition::all(std::move(parts)) : Condition::any(std::move(parts));
      }
      if (w != "1" || ids_.empty()) {
        fail(qpos, "'" + w + "' must be followed by 'of'");
        return Condition::alwaysTrue();
      }
      // "1" used as an identifier name falls through below.
      return lookup(w, qpos);
    }
    if (w == "near") {
      fail(tok_.pos, "'near' is not supported");
      pipe_ = true;
      return Condition::alwaysTrue();
    }
    const std::string name = tok_.text;
    const size_t pos = tok_.pos;
    next();
    return lookup(name, pos);
  }

  Condition lookup(const std::string& name, size_t pos) {
    for (const auto& [n, c] : ids_) {
      if (n == name) return c;
    }
    fail(pos, "unknown search identifier '" + name + "'");
    unknown_ = true;
    return Condition::alwaysTrue();
  }

 public:
  bool pipe_ = false;     // an unsupported construct (aggregation, near)
  bool unknown_ = false;  // an unknown identifier

 private:
  std::string_view text_;
  const std::vector<std::pair<std::string, Condition>>& ids_;
  size_t at_ = 0;
  Tok tok_;
  std::string error_;
  size_t error_pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Compiler of one file.

int levelSeverity(const std::string& level) {
  if (level == "informational") return 1;
  if (level == "low") return 3;
  if (level == "medium") return 5;
  if (level == "high") return 7;
  if (level == "critical") return 9;
  return 5;
}

// attack.t1190 -> T1190, attack.t1053.002 -> T1053.002, cve.2021-44228 -> CVE-2021-44228;
// other tags (attack.initial-access, detection.emerging-threats) are kept as written.
std::string tagLabel(const std::string& tag) {
  if (tag.size() > 8 && tag.rfind("attack.t", 0) == 0 &&
      std::isdigit(static_cast<unsigned char>(tag[8]))) {
    std::string s = tag.substr(7);
    s[0] = 'T';
    return s;
  }
  if (tag.rfind("cve.", 0) == 0) return "CVE-" + tag.substr(4);
  return tag;
}

class SigmaCompiler {
 public:
  SigmaCompiler(std::string file, const SigmaOptions& options, LoadResult& out, SigmaContext& ctx)
      : file_(std::move(file)), options_(options), out_(out), ctx_(ctx) {}

  void run(const std::string& text) {
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(text);
    } catch (const YAML::Exception& e) {
      diag(RuleDiagnostic::Severity::kError, "R000", e.mark, "", "YAML syntax: " + e.msg);
      out_.files_rejected.push_back(file_);
      return;
    }
    // Base rules first, then correlations (which may refer to base rules of the same file).
    std::vector<std::pair<YAML::Node, bool>> order;
    for (const auto& d : docs) {
      if (!d.IsMap()) continue;
      if (!d["correlation"]) order.emplace_back(d, false);
    }
    // Correlations after the rules they refer to (a temporal over an event_count of the same
    // file may come first in the file).
    std::vector<YAML::Node> pending;
    for (const auto& d : docs) {
      if (d.IsMap() && d["correlation"]) pending.push_back(d);
    }
    std::set<std::string> known;
    for (const auto& d : docs) {
      if (!d.IsMap() || d["correlation"]) continue;
      for (const char* k : {"id", "name"}) known.insert(scalar(d[k]));
    }
    for (const auto& [k, ref] : ctx_.refs) known.insert(k);
    // (Indices, not erase: assigning a YAML::Node rebinds the document's node it refers to.)
    std::vector<bool> placed(pending.size(), false);
    for (size_t left = pending.size(); left > 0;) {
      bool progress = false;
      for (size_t i = 0; i < pending.size(); ++i) {
        if (placed[i]) continue;
        const YAML::Node refs = pending[i]["correlation"]["rules"];
        bool ready = true;
        if (refs && refs.IsSequence()) {
          for (const auto& x : refs) ready = ready && known.count(scalar(x)) != 0;
        } else if (refs && refs.IsScalar()) {
          ready = known.count(scalar(refs)) != 0;
        }
        if (!ready) continue;
        for (const char* k : {"id", "name"}) known.insert(scalar(pending[i][k]));
        order.emplace_back(pending[i], true);
        placed[i] = true;
        --left;
        progress = true;
      }
      if (!progress) {  // unknown references: reported when compiled
        for (size_t i = 0; i < pending.size(); ++i) {
          if (!placed[i]) order.emplace_back(pending[i], true);
        }
        break;
      }
    }
    for (const auto& [d, corr] : order) {
      ++out_.sigma.rules;
      try {
        if (corr)
          correlation(d);
        else
          detectionRule(d);
      } catch (const Skip& s) {
        for (const char* k : {"id", "name"}) skipped_names_.insert(scalar(d[k]));
        diag(RuleDiagnostic::Severity::kWarning, s.code, s.mark, current_,
             s.message + "; rule skipped");
        ++out_.sigma.skipped[s.code][s.feature];
      } catch (const Fail& f) {
        diag(RuleDiagnostic::Severity::kError, f.code, f.mark, current_, f.message);
      } catch (const YAML::Exception& e) {
        diag(RuleDiagnostic::Severity::kError, "R005", e.mark, current_, e.msg);
      }
    }
    if (errors_ > 0) {
      out_.files_rejected.push_back(file_);
      // Forget the references this file added: its rules are not loaded.
      for (const auto& k : added_refs_) ctx_.refs.erase(k);
      for (const auto& r : rules_) ctx_.ids.erase(r.id);
      return;
    }
    // Rules referenced by a correlation (generate: false) are part of it, not rules of their own.
    std::vector<Rule> kept;
    for (auto& r : rules_) {
      if (hidden_.count(r.id) != 0) {
        ++out_.sigma.referenced_only;
        continue;
      }
      ++out_.sigma.loaded;
      kept.push_back(std::move(r));
    }
    // A correlation may hide rules of earlier files too.
    if (!hidden_.empty()) {
      auto& rs = out_.rules;
      const size_t before = rs.size();
      rs.erase(std::remove_if(
                   rs.begin(), rs.end(),
                   [&](const Rule& r) { return r.format == "sigma" && hidden_.count(r.id) != 0; }),
               rs.end());
      out_.sigma.loaded -= before - rs.size();
      out_.sigma.referenced_only += before - rs.size();
    }
    out_.files_loaded.push_back(file_);
    for (auto& r : kept) out_.rules.push_back(std::move(r));
  }

 private:
  void diag(RuleDiagnostic::Severity sev, const std::string& code, const YAML::Mark& m,
            const std::string& rule, const std::string& msg) {
    RuleDiagnostic d;
    d.severity = sev;
    d.code = code;
    d.file = file_;
    if (m.line >= 0) {
      d.line = m.line + 1;
      d.column = m.column + 1;
    }
    d.rule = rule;
    d.message = msg;
    out_.diagnostics.push_back(std::move(d));
    if (sev == RuleDiagnostic::Severity::kError) ++errors_;
  }

  static std::string scalar(const YAML::Node& n, const std::string& def = "") {
    return n && n.IsScalar() ? n.Scalar() : def;
  }

  // Common metadata of rules and correlations.
  void meta(const YAML::Node& d, Rule& r) {
    const std::string title = scalar(d["title"]);
    std::string id = scalar(d["id"]);
    if (id.empty()) id = scalar(d["name"]);
    if (id.empty()) {
      for (char c : asciiLower(title)) id += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
    }
    if (id.empty()) throw Fail{"R009", "Sigma rule without 'title' or 'id'", d.Mark()};
    r.id = id;
    current_ = id;
    if (title.empty()) throw Fail{"R009", "Sigma rule without 'title'", d.Mark()};
    if (ctx_.ids.count(id) != 0)
      throw Fail{"R008", "duplicate rule id '" + id + "'", d["id"] ? d["id"].Mark() : d.Mark()};
    r.name = title;
    r.description = scalar(d["description"]);
    r.file = file_;
    r.line = d.Mark().line + 1;
    r.format = "sigma";
    r.severity = levelSeverity(scalar(d["level"], "medium"));
    r.action = options_.action;
    if (const YAML::Node tags = d["tags"]; tags && tags.IsSequence()) {
      for (const auto& t : tags) r.labels.push_back(tagLabel(scalar(t)));
    }
    r.aggregation.key = {FieldRef::of("source.ip")};
    r.aggregation.fallback = {FieldRef::of("host.name"), FieldRef::of("event.dataset")};
    r.reason = title;
    if (scalar(d["status"]) == "unsupported")
      throw Skip{"S009", "status unsupported", "the rule's status is 'unsupported'",
                 d["status"].Mark()};
  }

  // ---- fields ----
  FieldRef mapField(const std::string& name, const YAML::Mark& at) {
    if (name.empty()) return FieldRef::of("event.original");
    if (auto it = options_.fields.find(name); it != options_.fields.end())
      return FieldRef::of(it->second);
    if (table_ == kPassthrough) return FieldRef::of(name);
    if (table_ >= 0) {
      for (const auto* t : {kTables[static_cast<size_t>(table_)], &kNetworkFields}) {
        for (const auto& [k, v] : *t) {
          if (k == name) return FieldRef::of(v);
        }
      }
    }
    FieldRef f = FieldRef::of(name);
    if (f.id || f.original) return f;
    throw Skip{"S002", "field " + name,
               "field '" + name + "' has no Riposte equivalent for logsource " + logsource_, at};
  }

  // ---- values ----
  struct Mods {
    enum Pos { kExact, kContains, kStarts, kEnds } pos = kExact;
    bool all = false, cased = false, re = false, re_i = false, re_m = false, re_s = false;
    bool cidr = false, exists = false, fieldref = false, neq = false;
    std::optional<Op> cmp;
    std::vector<std::string> transforms;  // windash, base64, base64offset, expand (in order)
  };

  Mods parseMods(const std::vector<std::string>& names, const YAML::Mark& at) {
    Mods m;
    for (const auto& n : names) {
      if (n == "contains")
        m.pos = Mods::kContains;
      else if (n == "startswith")
        m.pos = Mods::kStarts;
      else if (n == "endswith")
        m.pos = Mods::kEnds;
      else if (n == "all")
        m.all = true;
      else if (n == "cased")
        m.cased = true;
      else if (n == "re")
        m.re = true;
      else if (n == "i" || n == "ignorecase")
        m.re_i = true;
      else if (n == "m" || n == "multiline")
        m.re_m = true;
      else if (n == "s" || n == "dotall")
        m.re_s = true;
      else if (n == "cidr")
        m.cidr = true;
      else if (n == "exists")
        m.exists = true;
      else if (n == "fieldref")
        m.fieldref = true;
      else if (n == "neq")
        m.neq = true;
      else if (n == "gt" || n == "gte" || n == "lt" || n == "lte")
        m.cmp = opFromName(n);
      else if (n == "windash" || n == "base64" || n == "base64offset" || n == "expand")
        m.transforms.push_back(n);
      else
        throw Skip{"S001", "modifier " + n, "modifier '" + n + "' is not supported", at};
    }
    if ((m.re_i || m.re_m || m.re_s) && !m.re)
      throw Skip{"S001", "modifier i/m/s without re",
                 "the i, m and s modifiers need the re modifier", at};
    return m;
  }

  // Expands %name% placeholders (expand modifier).
  std::vector<std::string> expand(const std::string& v, const YAML::Mark& at) {
    std::vector<std::string> out = {""};
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '\\' && i + 1 < v.size() && v[i + 1] == '%') {
        for (auto& o : out) o += '%';
        ++i;
        continue;
      }
      if (v[i] == '%') {
        const size_t close = v.find('%', i + 1);
        if (close != std::string::npos) {
          const std::string name = v.substr(i + 1, close - i - 1);
          const auto it = options_.placeholders.find(name);
          if (it == options_.placeholders.end() || it->second.empty())
            throw Skip{
                "S006", "placeholder %" + name + "%",
                "placeholder '%" + name + "%' has no values (define it in sigma.placeholders)", at};
          std::vector<std::string> next;
          for (const auto& o : out) {
            for (const auto& x : it->second) next.push_back(o + x);
          }
          out = std::move(next);
          i = close;
          continue;
        }
      }
      for (auto& o : out) o += v[i];
    }
    return out;
  }

  static Predicate makePredicate(const FieldRef& f, Op op, std::vector<std::string> values,
                                 bool nocase) {
    Predicate p;
    p.field = f;
    p.op = op;
    p.nocase = nocase;
    if (nocase) {
      for (auto& v : values) v = asciiLower(v);
    }
    if (op == Op::kEquals || op == Op::kIn) {
      for (const auto& v : values) p.set.insert(v);
    }
    p.values = std::move(values);
    p.buildIndex();
    return p;
  }

  Condition regexPredicate(const FieldRef& f, const std::vector<std::string>& patterns, bool nocase,
                           uint32_t flags, const YAML::Mark& at) {
    Predicate p;
    p.field = f;
    p.op = Op::kRegex;
    for (const auto& pat : patterns) {
      auto re = compileRegex(pat, nocase, flags);
      if (!re) throw Fail{"R004", re.status().message() + " in '" + pat + "'", at};
      p.regexes.push_back(*re);
      p.sources.push_back(RegexSource{pat, nocase, flags});
    }
    p.memoize = patterns.size() >= 8;
    return Condition::predicate(std::move(p));
  }

  static Condition anyOf(std::vector<Condition> parts) {
    if (parts.size() == 1) return std::move(parts[0]);
    return Condition::any(std::move(parts));
  }

  // One `field|modifiers: value(s)` entry.
  Condition fieldItem(const std::string& key, const YAML::Node& value, const YAML::Mark& at) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t bar = key.find('|');; bar = key.find('|', start)) {
      parts.push_back(key.substr(start, bar == std::string::npos ? bar : bar - start));
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    const std::string name = parts[0];
    Mods m = parseMods(std::vector<std::string>(parts.begin() + 1, parts.end()), at);
    const FieldRef f = mapField(name, at);
    if (name.empty() && m.pos == Mods::kExact) m.pos = Mods::kContains;  // keyword search

    // Values (a null is "the field is absent").
    std::vector<std::string> values;
    bool null_value = false;
    auto take = [&](const YAML::Node& n) {
      if (n.IsNull()) {
        null_value = true;
      } else if (n.IsScalar()) {
        values.push_back(n.Scalar());
      } else {
        throw Fail{"R005", "a Sigma value is a string, a number, a boolean or null", n.Mark()};
      }
    };
    if (value.IsSequence()) {
      for (const auto& x : value) take(x);
    } else {
      take(value);
    }
    if (null_value) {
      if (!values.empty())
        throw Skip{"S009", "null in a value list", "null cannot be part of a list of values", at};
      Predicate p;
      p.field = f;
      p.op = Op::kExists;
      p.exists = false;
      return Condition::predicate(std::move(p));
    }
    if (values.empty()) throw Fail{"R005", "field '" + name + "' has no value to match", at};

    if (m.exists) {
      Predicate p;
      p.field = f;
      p.op = Op::kExists;
      p.exists = asciiLower(values[0]) != "false";
      return Condition::predicate(std::move(p));
    }
    if (m.cmp) {
      std::vector<Condition> cs;
      for (const auto& v : values) {
        Predicate p;
        p.field = f;
        p.op = *m.cmp;
        if (!YAML::convert<double>::decode(YAML::Node(v), p.number))
          throw Fail{"R005", std::string(opName(*m.cmp)) + " takes a number, not '" + v + "'", at};
        cs.push_back(Condition::predicate(std::move(p)));
      }
      return m.all ? Condition::all(std::move(cs)) : anyOf(std::move(cs));
    }
    if (m.cidr) {
      Predicate p;
      p.field = f;
      p.op = Op::kCidr;
      for (const auto& v : values) {
        if (Status st = p.cidrs.add(v); !st.isOk()) throw Fail{"R005", st.message(), at};
      }
      return Condition::predicate(std::move(p));
    }
    if (m.fieldref) {
      std::vector<Condition> cs;
      for (const auto& v : values) {
        Predicate p;
        p.field = f;
        p.ref = mapField(v, at);
        p.op = m.pos == Mods::kContains ? Op::kContains
               : m.pos == Mods::kStarts ? Op::kStartsWith
               : m.pos == Mods::kEnds   ? Op::kEndsWith
                                        : Op::kEquals;
        p.nocase = !m.cased;
        Condition c = Condition::predicate(std::move(p));
        cs.push_back(m.neq ? Condition::negate(std::move(c)) : std::move(c));
      }
      return m.all ? Condition::all(std::move(cs)) : anyOf(std::move(cs));
    }
    if (m.re) {
      const uint32_t flags = (m.re_m ? kRegexMultiline : 0) | (m.re_s ? kRegexDotAll : 0);
      if (m.all) {
        std::vector<Condition> cs;
        for (const auto& v : values) cs.push_back(regexPredicate(f, {v}, m.re_i, flags, at));
        return Condition::all(std::move(cs));
      }
      Condition c = regexPredicate(f, values, m.re_i, flags, at);
      return m.neq ? Condition::negate(std::move(c)) : c;
    }

    // Value transformations, in the order written; each value may become several (OR).
    std::vector<std::vector<std::string>> groups;  // per original value: its variants
    for (const auto& v : values) {
      std::vector<std::string> vs = {v};
      for (const auto& t : m.transforms) {
        std::vector<std::string> next;
        for (const auto& x : vs) {
          if (t == "windash") {
            for (auto& y : windash(x)) next.push_back(std::move(y));
          } else if (t == "base64") {
            next.push_back(base64(x));
          } else if (t == "base64offset") {
            for (auto& y : base64Offsets(x)) next.push_back(std::move(y));
          } else {
            for (auto& y : expand(x, at)) next.push_back(std::move(y));
          }
        }
        vs = std::move(next);
      }
      groups.push_back(std::move(vs));
    }
    const bool encoded = std::any_of(m.transforms.begin(), m.transforms.end(), [](const auto& t) {
      return t == "base64" || t == "base64offset";
    });
    const bool nocase = !m.cased;
    std::vector<Condition> per_value;
    if (m.all) {
      for (const auto& g : groups) per_value.push_back(matchValues(f, g, m, nocase, encoded, at));
      return Condition::all(std::move(per_value));
    }
    std::vector<std::string> flat;
    for (auto& g : groups) flat.insert(flat.end(), g.begin(), g.end());
    Condition c = matchValues(f, flat, m, nocase, encoded, at);
    return m.neq ? Condition::negate(std::move(c)) : c;
  }

  // OR of values on one field, grouped into one predicate per operator.
  Condition matchValues(const FieldRef& f, const std::vector<std::string>& values, const Mods& m,
                        bool nocase, bool literal, const YAML::Mark& at) {
    std::vector<std::string> eq, starts, ends, contains, regexes;
    bool any_value = false;
    for (const auto& v : values) {
      std::vector<Token> t = literal ? std::vector<Token>{{Token::kLit, v}} : tokenize(v);
      if (m.pos == Mods::kContains || m.pos == Mods::kEnds) {
        if (t.empty() || t.front().kind != Token::kStar) t.insert(t.begin(), {Token::kStar, ""});
      }
      if (m.pos == Mods::kContains || m.pos == Mods::kStarts) {
        if (t.empty() || t.back().kind != Token::kStar) t.push_back({Token::kStar, ""});
      }
      const size_t n = t.size();
      auto is = [&](size_t i, Token::Kind k) { return i < n && t[i].kind == k; };
      if (n == 0) {
        eq.emplace_back();
      } else if (n == 1 && is(0, Token::kLit)) {
        eq.push_back(t[0].text);
      } else if (n == 1 && is(0, Token::kStar)) {
        any_value = true;
      } else if (n == 2 && is(0, Token::kLit) && is(1, Token::kStar)) {
        starts.push_back(t[0].text);
      } else if (n == 2 && is(0, Token::kStar) && is(1, Token::kLit)) {
        ends.push_back(t[1].text);
      } else if (n == 3 && is(0, Token::kStar) && is(1, Token::kLit) && is(2, Token::kStar)) {
        contains.push_back(t[1].text);
      } else {
        std::string re;
        for (size_t i = 0; i < n; ++i) {
          if (t[i].kind == Token::kLit)
            re += regexEscape(t[i].text);
          else if (t[i].kind == Token::kOne)
            re += '.';
          else if (i > 0 && i + 1 < n)
            re += ".*";
        }
        if (t.front().kind != Token::kStar) re = "^" + re;
        if (t.back().kind != Token::kStar) re += "$";
        regexes.push_back(re);
      }
    }
    std::vector<Condition> parts;
    if (any_value) {
      Predicate p;
      p.field = f;
      p.op = Op::kExists;
      parts.push_back(Condition::predicate(std::move(p)));
    }
    if (!eq.empty())
      parts.push_back(Condition::predicate(
          makePredicate(f, eq.size() == 1 ? Op::kEquals : Op::kIn, eq, nocase)));
    if (!starts.empty())
      parts.push_back(Condition::predicate(makePredicate(f, Op::kStartsWith, starts, nocase)));
    if (!ends.empty())
      parts.push_back(Condition::predicate(makePredicate(f, Op::kEndsWith, ends, nocase)));
    if (!contains.empty())
      parts.push_back(Condition::predicate(makePredicate(f, Op::kContains, contains, nocase)));
    if (!regexes.empty()) parts.push_back(regexPredicate(f, regexes, nocase, kRegexDotAll, at));
    return anyOf(std::move(parts));
  }

  // A search identifier: a map (AND of fields), a list of maps (OR), a list of values (keywords).
  Condition searchIdentifier(const YAML::Node& n) {
    if (n.IsMap()) {
      std::vector<Condition> parts;
      for (auto it = n.begin(); it != n.end(); ++it) {
        parts.push_back(fieldItem(it->first.as<std::string>(""), it->second, it->first.Mark()));
      }
      if (parts.empty()) throw Fail{"R005", "empty search identifier", n.Mark()};
      return parts.size() == 1 ? std::move(parts[0]) : Condition::all(std::move(parts));
    }
    if (n.IsSequence()) {
      std::vector<Condition> parts;
      YAML::Node keywords(YAML::NodeType::Sequence);
      for (const auto& x : n) {
        if (x.IsMap()) {
          parts.push_back(searchIdentifier(x));
        } else if (x.IsScalar()) {
          keywords.push_back(x);
        } else {
          throw Fail{"R005", "a list in a detection holds values or maps", x.Mark()};
        }
      }
      if (keywords.size() > 0) parts.push_back(fieldItem("|contains", keywords, n.Mark()));
      if (parts.empty()) throw Fail{"R005", "empty search identifier", n.Mark()};
      return anyOf(std::move(parts));
    }
    if (n.IsScalar()) return fieldItem("|contains", n, n.Mark());
    throw Fail{"R005", "a search identifier is a map or a list", n.Mark()};
  }

  void detectionRule(const YAML::Node& d) {
    Rule r;
    current_.clear();
    meta(d, r);
    const YAML::Node ls = d["logsource"];
    if (!ls || !ls.IsMap()) throw Fail{"R009", "Sigma rule without 'logsource'", d.Mark()};
    const std::string product = asciiLower(scalar(ls["product"]));
    const std::string service = asciiLower(scalar(ls["service"]));
    const std::string category = asciiLower(scalar(ls["category"]));
    logsource_ = describeLogsource(product, service, category);
    const YAML::Node det = d["detection"];
    if (!det || !det.IsMap()) throw Fail{"R009", "Sigma rule without 'detection'", d.Mark()};
    const YAML::Node cond = det["condition"];
    if (!cond) throw Fail{"R009", "detection without 'condition'", det.Mark()};
    if (det["timeframe"])
      throw Skip{"S009", "timeframe", "'timeframe' (Sigma 1 aggregation) is not supported",
                 det["timeframe"].Mark()};

    std::optional<Logsource> src = mapLogsource(product, service, category);
    if (!src && !options_.passthrough)
      throw Skip{"S003", "logsource " + logsource_,
                 "logsource " + logsource_ + " has no Riposte parser", ls.Mark()};
    table_ = src ? src->table : kPassthrough;

    std::vector<std::pair<std::string, Condition>> ids;
    for (auto it = det.begin(); it != det.end(); ++it) {
      const std::string name = it->first.as<std::string>("");
      if (name == "condition") continue;
      ids.emplace_back(name, searchIdentifier(it->second));
    }

    std::vector<Condition> alternatives;
    std::vector<YAML::Node> exprs;
    if (cond.IsSequence()) {
      for (const auto& c : cond) exprs.push_back(c);
    } else {
      exprs.push_back(cond);
    }
    for (const auto& c : exprs) {
      const std::string text = scalar(c);
      ConditionParser parser(text, ids);
      size_t col = 0;
      auto parsed = parser.parse(&col);
      if (!parsed) {
        YAML::Mark mk = c.Mark();
        mk.column += static_cast<int>(col) - 1;
        if (parser.pipe_)
          throw Skip{"S009",
                     text.find('|') != std::string::npos ? "aggregation in condition" : "near",
                     "condition " + parsed.status().message(), mk};
        throw Fail{parser.unknown_ ? "S005" : "S004",
                   "condition '" + text + "': " + parsed.status().message(), mk};
      }
      alternatives.push_back(std::move(*parsed));
    }
    Condition c = anyOf(std::move(alternatives));

    if (src && !src->datasets.empty()) {
      const FieldRef ds = FieldRef::of("event.dataset");
      Condition filter = Condition::predicate(
          makePredicate(ds, src->dataset_prefix ? Op::kStartsWith : Op::kIn, src->datasets, false));
      std::vector<Condition> both;
      both.push_back(std::move(filter));
      both.push_back(std::move(c));
      c = Condition::all(std::move(both));
    }
    r.condition = c;
    if (src) r.kinds = src->kinds;

    // Interesting fields go into the reason: "title (url.original=/x, ...)".
    if (const YAML::Node fields = d["fields"]; fields && fields.IsSequence()) {
      std::string extra;
      for (const auto& x : fields) {
        try {
          const FieldRef f = mapField(scalar(x), x.Mark());
          extra += (extra.empty() ? "" : ", ") + f.name + "={" + f.name + "}";
        } catch (const Skip&) {
          // a field Riposte does not have is left out of the reason
        }
      }
      if (!extra.empty()) r.reason += " (" + extra + ")";
    }

    SigmaContext::Ref ref;
    ref.rule_id = r.id;
    ref.condition = r.condition;
    ref.kinds = r.kinds;
    ref.table = table_;
    ref.chainable = true;
    addRef(d, r.id, ref);
    ctx_.ids.insert(r.id);
    rules_.push_back(std::move(r));
  }

  void addRef(const YAML::Node& d, const std::string& id, const SigmaContext::Ref& ref) {
    for (const std::string& k : {scalar(d["id"]), scalar(d["name"]), id}) {
      if (k.empty()) continue;
      ctx_.refs[k] = ref;
      added_refs_.push_back(k);
    }
  }

  // ---- correlations ----
  void correlation(const YAML::Node& d) {
    Rule r;
    current_.clear();
    meta(d, r);
    const YAML::Node c = d["correlation"];
    if (!c.IsMap()) throw Fail{"R005", "'correlation' must be a map", c.Mark()};
    const std::string type = scalar(c["type"]);
    if (type.empty()) throw Fail{"R009", "correlation without 'type'", c.Mark()};
    if (type != "event_count" && type != "value_count" && type != "temporal" &&
        type != "temporal_ordered")
      throw Skip{"S007", "correlation type " + type,
                 "correlation type '" + type + "' is not supported", c["type"].Mark()};
    if (c["aliases"])
      throw Skip{"S007", "correlation aliases", "correlation 'aliases' are not supported",
                 c["aliases"].Mark()};
    const YAML::Node rules = c["rules"];
    if (!rules || !(rules.IsSequence() || rules.IsScalar()))
      throw Fail{"R009", "correlation without 'rules'", c.Mark()};
    std::vector<std::pair<std::string, const SigmaContext::Ref*>> refs;
    auto addRule = [&](const YAML::Node& x) {
      const std::string name = scalar(x);
      const auto it = ctx_.refs.find(name);
      if (it == ctx_.refs.end() && skipped_names_.count(name) != 0) {
        throw Skip{"S007", "correlation over a skipped rule",
                   "correlation refers to rule '" + name + "', which was skipped", x.Mark()};
      }
      if (it == ctx_.refs.end()) {
        throw Fail{"S008",
                   "correlation refers to unknown rule '" + name +
                       "' (rules of the same file or of files loaded before it)",
                   x.Mark()};
      }
      refs.emplace_back(name, &it->second);
    };
    if (rules.IsScalar()) {
      addRule(rules);
    } else {
      for (const auto& x : rules) addRule(x);
    }
    if (refs.empty()) throw Fail{"R009", "correlation without 'rules'", rules.Mark()};
    const Duration window = [&] {
      const YAML::Node ts = c["timespan"] ? c["timespan"] : c["timeframe"];
      if (!ts) throw Fail{"R009", "correlation without 'timespan'", c.Mark()};
      auto dur = parseDuration(scalar(ts));
      if (!dur || dur->count() <= 0)
        throw Fail{"R005", "timespan '" + scalar(ts) + "' (expected e.g. 90s, 10m, 1h, 1d)",
                   ts.Mark()};
      return *dur;
    }();

    // Fields of group-by are mapped with the first referenced rule's logsource table.
    table_ = refs.front().second->table;
    logsource_ = "of rule " + refs.front().first;
    const YAML::Node gb = c["group-by"];
    if (!gb)
      throw Skip{"S007", "correlation without group-by",
                 "a correlation without 'group-by' is not supported", c.Mark()};
    std::vector<FieldRef> key;
    if (gb.IsScalar()) {
      key.push_back(mapField(scalar(gb), gb.Mark()));
    } else {
      for (const auto& x : gb) key.push_back(mapField(scalar(x), x.Mark()));
    }
    if (key.empty()) throw Fail{"R005", "empty 'group-by'", gb.Mark()};
    r.aggregation.key = key;
    r.aggregation.fallback.clear();
    r.aggregation.window = window;

    // Kinds: the union of the referenced rules' (empty = every kind).
    bool every = false;
    for (const auto& [n, ref] : refs) {
      if (ref->kinds.empty()) every = true;
      for (EventKind k : ref->kinds) {
        if (std::find(r.kinds.begin(), r.kinds.end(), k) == r.kinds.end()) r.kinds.push_back(k);
      }
    }
    if (every) r.kinds.clear();

    const YAML::Node cond = c["condition"];
    auto threshold = [&](bool required) -> uint32_t {
      if (!cond) {
        if (required) throw Fail{"R009", "correlation without 'condition'", c.Mark()};
        return 0;
      }
      if (!cond.IsMap()) throw Fail{"R005", "a correlation condition is a map", cond.Mark()};
      uint32_t out = 0;
      for (auto it = cond.begin(); it != cond.end(); ++it) {
        const std::string op = it->first.as<std::string>("");
        if (op == "field") continue;
        int64_t v = 0;
        if (!YAML::convert<int64_t>::decode(it->second, v) || v < 0)
          throw Fail{"R005", "condition '" + op + "' takes a non-negative integer",
                     it->second.Mark()};
        if (op == "gte" && out == 0) {
          out = static_cast<uint32_t>(std::max<int64_t>(1, v));
        } else if (op == "gt" && out == 0) {
          out = static_cast<uint32_t>(v + 1);
        } else {
          throw Skip{"S007", "correlation condition " + op,
                     "correlation condition '" + op +
                         "' is not supported (gte and gt are: a count reaching a value)",
                     it->first.Mark()};
        }
      }
      if (out == 0 && required)
        throw Fail{"R009", "correlation condition without gte/gt", cond.Mark()};
      return out;
    };

    for (const auto& [n, ref] : refs) {
      if (ref->correlation && (type == "event_count" || type == "value_count"))
        throw Skip{"S007", "chained " + type,
                   type + " over another correlation ('" + n + "') is not supported", rules.Mark()};
    }
    std::vector<Condition> any;
    for (const auto& [n, ref] : refs) any.push_back(ref->condition);
    r.condition = anyOf(any);

    SigmaContext::Ref self;
    self.rule_id = r.id;
    self.correlation = true;
    self.correlation_type = type;
    self.condition = r.condition;
    self.kinds = r.kinds;
    self.table = table_;

    if (type == "event_count" || type == "value_count") {
      r.aggregation.threshold = threshold(true);
      r.aggregation.type =
          type == "event_count" ? AggregationType::kCount : AggregationType::kDistinct;
      if (type == "value_count") {
        const YAML::Node field = cond["field"];
        if (!field) throw Fail{"R009", "value_count needs 'field' in its condition", cond.Mark()};
        if (!field.IsScalar())
          throw Skip{"S007", "value_count over several fields",
                     "value_count over several fields is not supported", field.Mark()};
        r.aggregation.distinct = mapField(scalar(field), field.Mark());
      }
      self.count = r.aggregation.threshold;
      self.window = window;
      self.chainable = type == "event_count";
    } else {
      r.aggregation.type = AggregationType::kSequence;
      r.aggregation.ordered = type == "temporal_ordered";
      const uint32_t t = threshold(false);
      if (t > 0 && r.aggregation.ordered)
        throw Skip{"S007", "temporal_ordered with condition",
                   "a condition on temporal_ordered is not supported", cond.Mark()};
      if (t > refs.size())
        throw Fail{"R005", "temporal condition asks for more rules than it names", cond.Mark()};
      r.aggregation.threshold = t;
      for (const auto& [n, ref] : refs) {
        if (ref->correlation && !ref->chainable)
          throw Skip{"S007", "temporal over " + ref->correlation_type,
                     "a temporal step over a " + ref->correlation_type +
                         " correlation is not supported (event_count is)",
                     rules.Mark()};
        SequenceStep s;
        s.name = n;
        s.condition = ref->condition;
        if (ref->correlation) {
          s.count = ref->count;
          s.within = ref->window;
        }
        r.aggregation.steps.push_back(std::move(s));
      }
    }

    // Referenced rules become part of this correlation unless `generate: true`.
    bool generate = false;
    if (const YAML::Node g = c["generate"] ? c["generate"] : d["generate"])
      YAML::convert<bool>::decode(g, generate);
    if (!generate) {
      for (const auto& [n, ref] : refs) hidden_.insert(ref->rule_id);
    }
    addRef(d, r.id, self);
    ctx_.ids.insert(r.id);
    rules_.push_back(std::move(r));
  }

  std::string file_;
  const SigmaOptions& options_;
  LoadResult& out_;
  SigmaContext& ctx_;
  std::vector<Rule> rules_;
  std::set<std::string> hidden_;
  std::set<std::string> skipped_names_;
  std::vector<std::string> added_refs_;
  std::string current_;
  std::string logsource_;
  int table_ = kNetwork;
  size_t errors_ = 0;
};

}  // namespace

Result<SigmaOptions> sigmaOptionsFromYaml(const YAML::Node& node) {
  SigmaOptions o;
  if (!node || node.IsNull()) return o;
  if (!node.IsMap()) return Status::invalidArgument("sigma: expected a map");
  try {
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string k = it->first.as<std::string>("");
      const YAML::Node v = it->second;
      if (k == "action") {
        o.action = v.as<std::string>();
      } else if (k == "passthrough") {
        o.passthrough = v.as<bool>();
      } else if (k == "fields") {
        if (!v.IsMap()) return Status::invalidArgument("sigma.fields: expected a map");
        for (auto f = v.begin(); f != v.end(); ++f)
          o.fields[f->first.as<std::string>()] = f->second.as<std::string>();
      } else if (k == "placeholders") {
        if (!v.IsMap()) return Status::invalidArgument("sigma.placeholders: expected a map");
        for (auto f = v.begin(); f != v.end(); ++f) {
          auto& vals = o.placeholders[f->first.as<std::string>()];
          if (f->second.IsSequence()) {
            for (const auto& x : f->second) vals.push_back(x.as<std::string>());
          } else {
            vals.push_back(f->second.as<std::string>());
          }
        }
      } else {
        return Status::invalidArgument("sigma: unknown key '" + k +
                                       "' (action, fields, placeholders, passthrough)");
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::invalidArgument("sigma: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return o;
}

bool looksLikeSigma(std::string_view text) {
  // A top-level `detection:` or `correlation:` key at the start of a line.
  for (std::string_view key : {"detection:", "correlation:"}) {
    for (size_t p = text.find(key); p != std::string_view::npos; p = text.find(key, p + 1)) {
      if (p == 0 || text[p - 1] == '\n') return true;
    }
  }
  return false;
}

void loadSigmaText(const std::string& text, const std::string& file, const SigmaOptions& options,
                   LoadResult& out, SigmaContext& context) {
  SigmaCompiler(file, options, out, context).run(text);
}

Result<Condition> parseSigmaCondition(std::string_view expression,
                                      const std::vector<std::pair<std::string, Condition>>& ids,
                                      size_t* error_column) {
  return ConditionParser(expression, ids).parse(error_column);
}

std::vector<SigmaLogsourceInfo> sigmaLogsourceTable() {
  return {
      {"category: webserver", "http", ""},
      {"category: proxy", "http", ""},
      {"category: dns", "dns", ""},
      {"category: firewall", "firewall, flow", ""},
      {"product: zeek, service: http", "http", "event.dataset = zeek.http"},
      {"product: zeek, service: dns", "dns", "event.dataset = zeek.dns"},
      {"product: zeek, service: conn", "flow", "event.dataset = zeek.conn"},
      {"product: zeek, service: ssh", "ssh, auth", "event.dataset = zeek.ssh"},
      {"product: zeek, service: notice", "ids_alert", "event.dataset = zeek.notice"},
      {"service: apache (or product: apache)", "http, generic",
       "event.dataset starts with apache."},
      {"service: nginx (or product: nginx)", "http, generic", "event.dataset starts with nginx."},
      {"product: linux, service: sshd or auth", "auth, ssh", "event.dataset = sshd"},
      {"product: linux (no service), service: syslog", "auth, ssh, firewall",
       "event.dataset = sshd or iptables"},
  };
}

}  // namespace riposte::rules

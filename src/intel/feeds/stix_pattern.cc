#include "riposte/intel/stix_pattern.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace riposte::intel {
namespace {

enum class Tok {
  kEnd,
  kLBracket,
  kRBracket,
  kLParen,
  kRParen,
  kComma,
  kString,
  kTyped,
  kNumber,
  kOp,
  kWord
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;
  size_t pos = 0;
};

Status syntax(size_t pos, const std::string& what) {
  return Status::parseError("STIX pattern, offset " + std::to_string(pos) + ": " + what);
}

bool wordStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool wordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == ':' ||
         c == '.';
}

// Reads a '…' literal starting at s[i] == '\''; returns the unescaped text.
Result<std::string> readString(std::string_view s, size_t& i) {
  const size_t start = i;
  ++i;
  std::string out;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\\') {
      if (i + 1 >= s.size()) break;
      out += s[i + 1];
      i += 2;
      continue;
    }
    if (c == '\'') {
      ++i;
      return out;
    }
    out += c;
    ++i;
  }
  return syntax(start, "unterminated string literal");
}

Result<std::vector<Token>> tokenize(std::string_view s) {
  std::vector<Token> toks;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '/') {
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      const size_t end = s.find("*/", i + 2);
      if (end == std::string_view::npos) return syntax(i, "unterminated comment");
      i = end + 2;
      continue;
    }
    Token t;
    t.pos = i;
    switch (c) {
      case '[':
        t.kind = Tok::kLBracket;
        ++i;
        break;
      case ']':
        t.kind = Tok::kRBracket;
        ++i;
        break;
      case '(':
        t.kind = Tok::kLParen;
        ++i;
        break;
      case ')':
        t.kind = Tok::kRParen;
        ++i;
        break;
      case ',':
        t.kind = Tok::kComma;
        ++i;
        break;
      case '\'': {
        auto str = readString(s, i);
        if (!str) return str.status();
        t.kind = Tok::kString;
        t.text = std::move(*str);
        break;
      }
      case '=':
      case '!':
      case '<':
      case '>': {
        size_t j = i + 1;
        if (j < s.size() && (s[j] == '=' || (c == '<' && s[j] == '>'))) ++j;
        t.kind = Tok::kOp;
        t.text = std::string(s.substr(i, j - i));
        if (t.text == "!") return syntax(i, "'!' must be '!='");
        i = j;
        break;
      }
      default: {
        if ((c == 't' || c == 'h' || c == 'b') && i + 1 < s.size() && s[i + 1] == '\'') {
          ++i;
          auto str = readString(s, i);
          if (!str) return str.status();
          t.kind = Tok::kTyped;
          t.text = std::move(*str);
          break;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) ||
            (c == '-' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
          size_t j = i + 1;
          while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.'))
            ++j;
          t.kind = Tok::kNumber;
          t.text = std::string(s.substr(i, j - i));
          i = j;
          break;
        }
        if (!wordStart(c)) return syntax(i, std::string("unexpected character '") + c + "'");
        t.kind = Tok::kWord;
        for (;;) {
          while (i < s.size() && wordChar(s[i])) t.text += s[i++];
          if (i < s.size() && s[i] == '\'' && !t.text.empty() && t.text.back() == '.') {
            auto str = readString(s, i);  // quoted path component: file:hashes.'SHA-256'
            if (!str) return str.status();
            t.text += *str;
            continue;
          }
          if (i < s.size() && s[i] == '[' && t.text.find(':') != std::string::npos) {
            const size_t close = s.find(']', i);
            if (close == std::string_view::npos) return syntax(i, "unterminated list index");
            t.text += std::string(s.substr(i, close - i + 1));  // sections[*]
            i = close + 1;
            continue;
          }
          break;
        }
      }
    }
    toks.push_back(std::move(t));
  }
  toks.push_back(Token{Tok::kEnd, "", s.size()});
  return toks;
}

struct Ex {
  std::vector<NormalisedValue> values;
  bool broadened = false;
  bool partial = false;
  std::string unsupported;
  bool ok() const { return !values.empty(); }
};

Ex unsupported(std::string why) {
  Ex e;
  e.unsupported = std::move(why);
  return e;
}

Ex mergeOr(Ex a, Ex b) {
  if (a.ok() && b.ok()) {
    a.values.insert(a.values.end(), b.values.begin(), b.values.end());
    a.broadened |= b.broadened;
    a.partial |= b.partial;
    return a;
  }
  if (a.ok()) {
    a.partial = true;
    return a;
  }
  if (b.ok()) {
    b.partial = true;
    return b;
  }
  return a;
}

Ex mergeAnd(Ex a, Ex b) {
  const bool a_ok = a.ok();
  const bool b_ok = b.ok();
  if (!a_ok && !b_ok) return a;
  if (a_ok && b_ok) {
    a.values.insert(a.values.end(), b.values.begin(), b.values.end());
    a.partial |= b.partial;
  }
  Ex r = a_ok ? std::move(a) : std::move(b);
  r.broadened = true;
  return r;
}

std::string upperNoDash(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '-' || c == '\'' || c == '"') continue;
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

// The indicator type a path tests, or nullopt when unsupported.
std::optional<IndicatorType> pathType(std::string_view path) {
  const size_t colon = path.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view obj = path.substr(0, colon);
  const std::string_view prop = path.substr(colon + 1);
  if (prop == "value") {
    if (obj == "ipv4-addr") return IndicatorType::kIpv4;
    if (obj == "ipv6-addr") return IndicatorType::kIpv6;
    if (obj == "domain-name") return IndicatorType::kDomain;
    if (obj == "url") return IndicatorType::kUrl;
    if (obj == "email-addr") return IndicatorType::kEmail;
    return std::nullopt;
  }
  if (obj == "file" && prop.starts_with("hashes.")) {
    const std::string h = upperNoDash(prop.substr(7));
    if (h == "MD5") return IndicatorType::kMd5;
    if (h == "SHA1") return IndicatorType::kSha1;
    if (h == "SHA256") return IndicatorType::kSha256;
  }
  return std::nullopt;
}

// '^literal$' with only escaped metacharacters → the literal.
std::optional<std::string> literalRegex(std::string_view re) {
  if (re.size() < 2 || re.front() != '^' || re.back() != '$') return std::nullopt;
  if (re.size() >= 3 && re[re.size() - 2] == '\\') return std::nullopt;
  re = re.substr(1, re.size() - 2);
  static constexpr std::string_view kMeta = ".*+?()[]{}|^$";
  std::string out;
  for (size_t i = 0; i < re.size(); ++i) {
    const char c = re[i];
    if (c == '\\') {
      if (i + 1 >= re.size()) return std::nullopt;
      const char n = re[++i];
      if (std::isalnum(static_cast<unsigned char>(n))) return std::nullopt;  // \d, \w, \1 …
      out += n;
      continue;
    }
    if (kMeta.find(c) != std::string_view::npos) return std::nullopt;
    out += c;
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  Result<Ex> pattern() {
    auto e = followedBy();
    if (!e) return e;
    if (peek().kind != Tok::kEnd) return syntax(peek().pos, "unexpected '" + peek().text + "'");
    return e;
  }

 private:
  const Token& peek() const { return t_[i_]; }
  bool isWord(std::string_view w) const { return peek().kind == Tok::kWord && peek().text == w; }
  Token next() { return t_[i_ < t_.size() - 1 ? i_++ : i_]; }
  // Parentheses nest at most kMaxDepth deep: a pattern is a short expression, and a deeper one
  // would only exhaust the stack.
  static constexpr int kMaxDepth = 64;
  Status enter() {
    if (++depth_ > kMaxDepth) {
      --depth_;
      return syntax(peek().pos, "parentheses nested more than " + std::to_string(kMaxDepth) +
                                    " deep");
    }
    return Status::ok();
  }
  Status expect(Tok kind, std::string_view what) {
    if (peek().kind != kind) return syntax(peek().pos, "expected " + std::string(what));
    next();
    return Status::ok();
  }

  Result<Ex> followedBy() {
    auto e = obsOr();
    if (!e) return e;
    while (isWord("FOLLOWEDBY")) {
      next();
      auto r = obsOr();
      if (!r) return r;
      *e = unsupported("FOLLOWEDBY needs correlation across events");
    }
    return e;
  }

  Result<Ex> obsOr() {
    auto e = obsAnd();
    if (!e) return e;
    while (isWord("OR")) {
      next();
      auto r = obsAnd();
      if (!r) return r;
      *e = mergeOr(std::move(*e), std::move(*r));
    }
    return e;
  }

  Result<Ex> obsAnd() {
    auto e = obsUnit();
    if (!e) return e;
    while (isWord("AND")) {
      next();
      auto r = obsUnit();
      if (!r) return r;
      *e = unsupported("observation expressions joined by AND need correlation across events");
    }
    return e;
  }

  Result<Ex> obsUnit() {
    Result<Ex> e = Ex{};
    if (peek().kind == Tok::kLBracket) {
      next();
      e = cmpOr();
      if (!e) return e;
      RIPOSTE_RETURN_IF_ERROR(expect(Tok::kRBracket, "']'"));
    } else if (peek().kind == Tok::kLParen) {
      RIPOSTE_RETURN_IF_ERROR(enter());
      next();
      e = followedBy();
      --depth_;
      if (!e) return e;
      RIPOSTE_RETURN_IF_ERROR(expect(Tok::kRParen, "')'"));
    } else {
      return syntax(peek().pos, "expected '[' or '('");
    }
    // Qualifiers.
    for (;;) {
      if (isWord("WITHIN")) {
        next();
        RIPOSTE_RETURN_IF_ERROR(expect(Tok::kNumber, "a number after WITHIN"));
        if (!isWord("SECONDS")) return syntax(peek().pos, "expected SECONDS");
        next();
        *e = unsupported("WITHIN qualifier needs a time window");
      } else if (isWord("REPEATS")) {
        next();
        RIPOSTE_RETURN_IF_ERROR(expect(Tok::kNumber, "a number after REPEATS"));
        if (!isWord("TIMES")) return syntax(peek().pos, "expected TIMES");
        next();
        *e = unsupported("REPEATS qualifier needs counting across events");
      } else if (isWord("START")) {
        next();
        RIPOSTE_RETURN_IF_ERROR(expect(Tok::kTyped, "a timestamp after START"));
        if (!isWord("STOP")) return syntax(peek().pos, "expected STOP");
        next();
        RIPOSTE_RETURN_IF_ERROR(expect(Tok::kTyped, "a timestamp after STOP"));
        *e = unsupported("START/STOP qualifier");
      } else {
        break;
      }
    }
    return e;
  }

  Result<Ex> cmpOr() {
    auto e = cmpAnd();
    if (!e) return e;
    while (isWord("OR")) {
      next();
      auto r = cmpAnd();
      if (!r) return r;
      *e = mergeOr(std::move(*e), std::move(*r));
    }
    return e;
  }

  Result<Ex> cmpAnd() {
    auto e = cmpUnit();
    if (!e) return e;
    while (isWord("AND")) {
      next();
      auto r = cmpUnit();
      if (!r) return r;
      *e = mergeAnd(std::move(*e), std::move(*r));
    }
    return e;
  }

  Result<Ex> cmpUnit() {
    if (peek().kind == Tok::kLParen) {
      RIPOSTE_RETURN_IF_ERROR(enter());
      next();
      auto e = cmpOr();
      --depth_;
      if (!e) return e;
      RIPOSTE_RETURN_IF_ERROR(expect(Tok::kRParen, "')'"));
      return e;
    }
    bool negated = false;
    if (isWord("NOT")) {
      negated = true;
      next();
    }
    if (isWord("EXISTS")) {
      next();
      if (peek().kind != Tok::kWord)
        return syntax(peek().pos, "expected an object path after EXISTS");
      next();
      return unsupported("EXISTS");
    }
    if (peek().kind != Tok::kWord || peek().text.find(':') == std::string::npos) {
      return syntax(peek().pos, "expected an object path such as ipv4-addr:value");
    }
    const std::string path = next().text;
    if (isWord("NOT")) {
      negated = true;
      next();
    }
    std::string op;
    if (peek().kind == Tok::kOp) {
      op = next().text;
    } else if (isWord("IN") || isWord("LIKE") || isWord("MATCHES") || isWord("ISSUBSET") ||
               isWord("ISSUPERSET")) {
      op = next().text;
    } else {
      return syntax(peek().pos, "expected a comparison operator after " + path);
    }
    // Operand(s).
    std::vector<Token> lits;
    if (op == "IN") {
      RIPOSTE_RETURN_IF_ERROR(expect(Tok::kLParen, "'(' after IN"));
      for (;;) {
        const Token& lt = peek();
        if (lt.kind != Tok::kString && lt.kind != Tok::kNumber && lt.kind != Tok::kTyped &&
            lt.kind != Tok::kWord) {
          return syntax(lt.pos, "expected a literal in the IN list");
        }
        lits.push_back(next());
        if (peek().kind == Tok::kComma) {
          next();
          continue;
        }
        RIPOSTE_RETURN_IF_ERROR(expect(Tok::kRParen, "')' closing the IN list"));
        break;
      }
    } else {
      const Token& lt = peek();
      if (lt.kind != Tok::kString && lt.kind != Tok::kNumber && lt.kind != Tok::kTyped &&
          lt.kind != Tok::kWord) {
        return syntax(lt.pos, "expected a literal after " + op);
      }
      lits.push_back(next());
    }
    return evaluate(path, negated, op, lits);
  }

  static Ex evaluate(const std::string& path, bool negated, const std::string& op,
                     const std::vector<Token>& lits) {
    const auto type = pathType(path);
    if (!type) return unsupported("path " + path);
    if (negated) return unsupported("NOT");
    for (const auto& l : lits) {
      if (l.kind != Tok::kString) return unsupported("non-string literal for " + path);
    }
    Ex e;
    auto add = [&](IndicatorType t, std::string_view v) -> bool {
      auto n = normalise(t, v);
      if (!n) return false;
      e.values.push_back(std::move(*n));
      return true;
    };
    if (op == "=" || op == "==" || op == "IN") {
      for (const auto& l : lits) {
        if (!add(*type, l.text)) return unsupported("invalid " + path + " value '" + l.text + "'");
      }
      return e;
    }
    if (op == "ISSUBSET") {
      if (!isIpType(*type)) return unsupported("ISSUBSET on " + path);
      if (!add(*type, lits[0].text)) return unsupported("invalid CIDR '" + lits[0].text + "'");
      return e;
    }
    if (op == "LIKE") {
      const std::string& v = lits[0].text;
      const bool wild = v.find_first_of("%_") != std::string::npos;
      if (!wild) {
        if (!add(*type, v)) return unsupported("invalid " + path + " value '" + v + "'");
        return e;
      }
      if (*type == IndicatorType::kDomain && v.starts_with("%.") &&
          v.find_first_of("%_", 2) == std::string::npos) {
        if (!add(*type, v.substr(2))) return unsupported("invalid domain in LIKE '" + v + "'");
        e.broadened = true;  // also matches the parent domain itself
        return e;
      }
      return unsupported("LIKE '" + v + "'");
    }
    if (op == "MATCHES") {
      auto lit = literalRegex(lits[0].text);
      if (!lit) return unsupported("MATCHES '" + lits[0].text + "'");
      if (!add(*type, *lit)) return unsupported("invalid " + path + " value '" + *lit + "'");
      return e;
    }
    return unsupported("operator " + op);
  }

  std::vector<Token> t_;
  size_t i_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<PatternValues> extractStixPattern(std::string_view pattern) {
  auto toks = tokenize(pattern);
  if (!toks) return toks.status();
  Parser p(std::move(*toks));
  auto e = p.pattern();
  if (!e) return e.status();
  PatternValues out;
  // Deduplicate while keeping order.
  for (auto& v : e->values) {
    if (std::find(out.values.begin(), out.values.end(), v) == out.values.end()) {
      out.values.push_back(std::move(v));
    }
  }
  out.broadened = e->broadened;
  out.partial = e->partial;
  if (out.values.empty())
    out.unsupported = e->unsupported.empty() ? "no indicator values" : e->unsupported;
  return out;
}

}  // namespace riposte::intel

#define PCRE2_CODE_UNIT_WIDTH 8
#include "riposte/detect/rules/condition.h"

#include <pcre2.h>

#include <array>
#include <charconv>
#include <cmath>

namespace riposte::rules {

class Regex {
 public:
  Regex(pcre2_code* code) : code_(code), md_(pcre2_match_data_create_from_pattern(code, nullptr)) {}
  ~Regex() {
    pcre2_match_data_free(md_);
    pcre2_code_free(code_);
  }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  bool matches(std::string_view s) const {
    const int rc =
        pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, 0, md_, nullptr);
    return rc >= 0;
  }

 private:
  pcre2_code* code_;
  pcre2_match_data* md_;
};

Result<std::shared_ptr<Regex>> compileRegex(const std::string& pattern, bool nocase) {
  int err = 0;
  PCRE2_SIZE off = 0;
  pcre2_code* code = pcre2_compile(
      reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (nocase ? PCRE2_CASELESS : 0), &err, &off, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    return Status::invalidArgument("bad regular expression at offset " + std::to_string(off) +
                                   ": " + reinterpret_cast<const char*>(msg));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when JIT is off
  return std::make_shared<Regex>(code);
}

bool regexMatches(const Regex& r, std::string_view subject) { return r.matches(subject); }

FieldRef FieldRef::of(std::string_view name) {
  FieldRef f;
  f.name = std::string(name);
  f.id = fieldFromName(name);
  return f;
}

namespace {

constexpr std::array<std::pair<std::string_view, Op>, 12> kOps = {{
    {"equals", Op::kEquals},
    {"in", Op::kIn},
    {"contains", Op::kContains},
    {"startswith", Op::kStartsWith},
    {"endswith", Op::kEndsWith},
    {"regex", Op::kRegex},
    {"cidr", Op::kCidr},
    {"gt", Op::kGt},
    {"gte", Op::kGte},
    {"lt", Op::kLt},
    {"lte", Op::kLte},
    {"exists", Op::kExists},
}};

std::string_view lower(std::string_view v, std::string& scratch) {
  scratch.assign(v);
  for (char& c : scratch) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return scratch;
}

bool parseNumber(std::string_view v, double& out) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  if (v.empty()) return false;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc() && p == v.data() + v.size();
}

}  // namespace

std::optional<Op> opFromName(std::string_view name) {
  for (const auto& [n, op] : kOps) {
    if (n == name) return op;
  }
  return std::nullopt;
}

std::string_view opName(Op op) {
  for (const auto& [n, o] : kOps) {
    if (o == op) return n;
  }
  return "?";
}

bool Predicate::eval(const Event& e, std::string& scratch) const {
  std::string_view v = field.get(e);
  if (op == Op::kExists) return v.empty() != exists;
  if (v.empty() && op != Op::kEquals && op != Op::kIn) return false;
  switch (op) {
    case Op::kEquals:
    case Op::kIn: return set.count(nocase ? lower(v, scratch) : v) != 0;
    case Op::kContains: {
      if (nocase) v = lower(v, scratch);
      for (const auto& s : values) {
        if (v.find(s) != std::string_view::npos) return true;
      }
      return false;
    }
    case Op::kStartsWith: {
      if (nocase) v = lower(v, scratch);
      for (const auto& s : values) {
        if (v.substr(0, s.size()) == s) return true;
      }
      return false;
    }
    case Op::kEndsWith: {
      if (nocase) v = lower(v, scratch);
      for (const auto& s : values) {
        if (v.size() >= s.size() && v.substr(v.size() - s.size()) == s) return true;
      }
      return false;
    }
    case Op::kRegex:
      for (const auto& r : regexes) {
        if (r->matches(v)) return true;
      }
      return false;
    case Op::kCidr: return cidrs.contains(v);
    case Op::kGt:
    case Op::kGte:
    case Op::kLt:
    case Op::kLte: {
      double x = 0;
      if (!parseNumber(v, x)) return false;
      switch (op) {
        case Op::kGt: return x > number;
        case Op::kGte: return x >= number;
        case Op::kLt: return x < number;
        default: return x <= number;
      }
    }
    case Op::kExists: break;
  }
  return false;
}

Condition Condition::negate(Condition c) {
  std::vector<Condition> v;
  v.push_back(std::move(c));
  return Condition(Kind::kNot, std::move(v));
}

Condition Condition::predicate(Predicate p) {
  Condition c(Kind::kPredicate, {});
  c.pred_ = std::make_shared<Predicate>(std::move(p));
  return c;
}

bool Condition::eval(const Event& e) const {
  switch (kind_) {
    case Kind::kTrue: return true;
    case Kind::kPredicate: return pred_->eval(e, scratch_);
    case Kind::kNot: return !children_[0].eval(e);
    case Kind::kAll:
      for (const auto& c : children_) {
        if (!c.eval(e)) return false;
      }
      return true;
    case Kind::kAny:
      for (const auto& c : children_) {
        if (c.eval(e)) return true;
      }
      return false;
  }
  return false;
}

size_t Condition::size() const {
  size_t n = kind_ == Kind::kPredicate ? 1 : 0;
  for (const auto& c : children_) n += c.size();
  return n;
}

}  // namespace riposte::rules

#define PCRE2_CODE_UNIT_WIDTH 8
#include "riposte/detect/rules/condition.h"

#include <pcre2.h>

#include "riposte/detect/rules/intel_predicate.h"
#include "riposte/detect/rules/pattern_index.h"

#include <algorithm>
#include <cstdio>
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

Result<std::shared_ptr<Regex>> compileRegex(const std::string& pattern, bool nocase,
                                            uint32_t flags) {
  int err = 0;
  PCRE2_SIZE off = 0;
  const uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (nocase ? PCRE2_CASELESS : 0) |
                           ((flags & kRegexMultiline) != 0 ? PCRE2_MULTILINE : 0) |
                           ((flags & kRegexDotAll) != 0 ? PCRE2_DOTALL : 0);
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   options, &err, &off, nullptr);
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

namespace {

constexpr std::array<std::pair<std::string_view, Transform>, 8> kTransforms = {{
    {"lower", Transform::kLower},
    {"upper", Transform::kUpper},
    {"urldecode", Transform::kUrlDecode},
    {"path", Transform::kPath},
    {"basename", Transform::kBasename},
    {"extension", Transform::kExtension},
    {"stem", Transform::kStem},
    {"length", Transform::kLength},
}};

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view stripQuery(std::string_view v) {
  const size_t q = v.find('?');
  return q == std::string_view::npos ? v : v.substr(0, q);
}

std::string_view basenameOf(std::string_view v) {
  v = stripQuery(v);
  const size_t slash = v.rfind('/');
  return slash == std::string_view::npos ? v : v.substr(slash + 1);
}

}  // namespace

std::optional<Transform> transformFromName(std::string_view name) {
  for (const auto& [n, t] : kTransforms) {
    if (n == name) return t;
  }
  return std::nullopt;
}

std::string_view transformName(Transform t) {
  for (const auto& [n, x] : kTransforms) {
    if (x == t) return n;
  }
  return "?";
}

FieldRef FieldRef::of(std::string_view spec, std::string* bad) {
  FieldRef f;
  f.spec = std::string(spec);
  const size_t bar = spec.find('|');
  f.name = std::string(spec.substr(0, bar));
  f.id = fieldFromName(f.name);
  f.original = f.name == "event.original";
  for (size_t pos = bar; pos != std::string_view::npos;) {
    const size_t next = spec.find('|', pos + 1);
    const std::string_view t =
        spec.substr(pos + 1, next == std::string_view::npos ? next : next - pos - 1);
    if (auto x = transformFromName(t)) {
      f.transforms.push_back(*x);
    } else if (bad != nullptr && bad->empty()) {
      *bad = std::string(t);
    }
    pos = next;
  }
  return f;
}

std::string_view FieldRef::apply(std::string_view v, std::string (&buf)[2]) const {
  // A step that writes reads `v` (the event's value or one buffer) and writes the other one;
  // a step that only cuts `v` leaves it where it is.
  int cur = 0;
  auto write = [&]() -> std::string& { return buf[cur]; };
  auto wrote = [&]() {
    v = buf[cur];
    cur ^= 1;
  };
  auto hasCase = [](std::string_view s, char lo, char hi) {
    for (const char c : s) {
      if (c >= lo && c <= hi) return true;
    }
    return false;
  };
  // An if-chain rather than a switch, for the reason given at Condition::eval.
  for (const Transform t : transforms) {
    if (t == Transform::kPath) {
      v = stripQuery(v);
    } else if (t == Transform::kBasename) {
      v = basenameOf(v);
    } else if (t == Transform::kExtension) {
      const std::string_view b = basenameOf(v);
      const size_t dot = b.rfind('.');
      v = dot == std::string_view::npos ? std::string_view() : b.substr(dot + 1);
      if (!hasCase(v, 'A', 'Z')) continue;
      std::string& out = write();
      out.assign(v);
      for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      }
      wrote();
    } else if (t == Transform::kStem) {
      const std::string_view b = basenameOf(v);
      v = b.substr(0, b.rfind('.'));
    } else if (t == Transform::kLower || t == Transform::kUpper) {
      const bool lower = t == Transform::kLower;
      if (!hasCase(v, lower ? 'A' : 'a', lower ? 'Z' : 'z')) continue;
      std::string& out = write();
      out.assign(v);
      for (char& c : out) {
        if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        if (!lower && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      }
      wrote();
    } else if (t == Transform::kUrlDecode) {
      if (std::none_of(v.begin(), v.end(), [](char c) { return c == '%' || c == '+'; })) continue;
      std::string& out = write();
      out.resize(v.size());
      size_t n = 0;
      for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '%' && i + 2 < v.size()) {
          const int hi = hexValue(v[i + 1]);
          const int lo = hexValue(v[i + 2]);
          if (hi >= 0 && lo >= 0) {
            out[n++] = static_cast<char>(hi * 16 + lo);
            i += 2;
            continue;
          }
        }
        out[n++] = v[i] == '+' ? ' ' : v[i];
      }
      out.resize(n);
      wrote();
    } else if (t == Transform::kLength) {
      write() = std::to_string(v.size());
      wrote();
    }
  }
  return v;
}

namespace {

constexpr std::array<std::pair<std::string_view, Op>, 13> kOps = {{
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
    {"intel", Op::kIntel},
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

namespace {

// Compares a field with another field of the same event (Sigma fieldref).
bool evalFieldRef(std::string_view v, std::string_view w, Op op, bool nocase,
                  std::string& scratch) {
  if (v.empty() || w.empty()) return false;
  if (nocase) {
    scratch.clear();
    for (std::string_view s : {v, w}) {
      for (char c : s) scratch += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    }
    v = std::string_view(scratch).substr(0, v.size());
    w = std::string_view(scratch).substr(v.size());
  }
  switch (op) {
    case Op::kEquals:
    case Op::kIn: return v == w;
    case Op::kContains: return v.find(w) != std::string_view::npos;
    case Op::kStartsWith: return v.substr(0, w.size()) == w;
    case Op::kEndsWith: return v.size() >= w.size() && v.substr(v.size() - w.size()) == w;
    default: return false;
  }
}

}  // namespace

std::string Predicate::signature() const {
  if (op == Op::kIntel) return {};
  // Every part with its length: no two different predicates write the same text.
  std::string s;
  auto part = [&s](std::string_view v) {
    s += std::to_string(v.size());
    s += ':';
    s += v;
  };
  part(field.spec);
  part(opName(op));
  part(ref ? ref->spec : std::string());
  s += nocase ? 'i' : '-';
  s += exists ? 'e' : '-';
  s += memoize ? 'm' : '-';
  char num[32];
  std::snprintf(num, sizeof num, "%a", number);
  part(num);
  std::vector<std::string_view> members(set.begin(), set.end());
  std::sort(members.begin(), members.end());
  s += 'S' + std::to_string(members.size());
  for (const auto v : members) part(v);
  s += 'V' + std::to_string(values.size());
  for (const auto& v : values) part(v);
  s += 'R' + std::to_string(sources.size());
  for (const auto& r : sources) {
    part(r.pattern);
    s += r.nocase ? 'i' : '-';
    s += std::to_string(r.flags);
  }
  s += 'C' + std::to_string(cidrs.size());
  for (const auto& c : cidrs.ranges()) part(c.toString());
  return s;
}

bool Predicate::evalOnce(const Event& e, std::string& scratch) const {
  if (patterns != nullptr) {
    const int hit = patterns->test(pattern_group, pattern_bit, e);
    if (hit >= 0) return hit != 0;
  }
  return evalDirect(e, scratch);
}

bool Predicate::evalDirect(const Event& e, std::string& scratch) const {
  std::string_view v = field.get(e);
  if (ref) return evalFieldRef(v, ref->get(e), op, nocase, scratch);
  if (op == Op::kExists) return v.empty() != exists;
  if (v.empty() && op != Op::kEquals && op != Op::kIn) return false;
  switch (op) {
    case Op::kEquals:
    case Op::kIn: return set.count(nocase ? lower(v, scratch) : v) != 0;
    case Op::kContains: {
      if (nocase) v = lower(v, scratch);
      if (substrings) return substrings->matches(v);
      for (const auto& s : values) {
        if (v.find(s) != std::string_view::npos) return true;
      }
      return false;
    }
    case Op::kStartsWith: {
      if (nocase) v = lower(v, scratch);
      if (!lengths.empty()) {
        for (const size_t n : lengths) {
          if (n <= v.size() && set.count(v.substr(0, n)) != 0) return true;
        }
        return false;
      }
      for (const auto& s : values) {
        if (v.substr(0, s.size()) == s) return true;
      }
      return false;
    }
    case Op::kEndsWith: {
      if (nocase) v = lower(v, scratch);
      if (!lengths.empty()) {
        for (const size_t n : lengths) {
          if (n <= v.size() && set.count(v.substr(v.size() - n)) != 0) return true;
        }
        return false;
      }
      for (const auto& s : values) {
        if (v.size() >= s.size() && v.substr(v.size() - s.size()) == s) return true;
      }
      return false;
    }
    case Op::kRegex: {
      if (memoize) {
        if (const auto it = memo.find(v); it != memo.end()) return it->second;
      }
      bool hit = false;
      for (const auto& r : regexes) {
        if (r->matches(v)) {
          hit = true;
          break;
        }
      }
      if (memoize) {
        if (memo.size() >= kMemoSize) memo.clear();
        memo.emplace(std::string(v), hit);
      }
      return hit;
    }
    case Op::kCidr: return cidrs.contains(v);
    case Op::kIntel: return intel != nullptr && intel->eval(field.spec, v);
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

bool Predicate::Substrings::matches(std::string_view v) const {
  for (size_t i = 0; i < v.size(); ++i) {
    const auto c0 = static_cast<unsigned char>(v[i]);
    if (single[c0]) return true;
    if (i + 1 >= v.size()) break;
    const unsigned pair = c0 << 8 | static_cast<unsigned char>(v[i + 1]);
    if ((pair_bits[pair >> 6] >> (pair & 63) & 1) == 0) continue;
    const auto it = by_pair.find(pair);
    if (it == by_pair.end()) continue;
    const std::string_view rest = v.substr(i);
    for (const auto& p : it->second) {
      if (rest.size() >= p.size() && rest.compare(0, p.size(), p) == 0) return true;
    }
  }
  return false;
}

void Predicate::buildIndex() {
  constexpr size_t kMinPatterns = 4;
  if (values.size() < kMinPatterns) return;
  if (op == Op::kContains) {
    auto s = std::make_shared<Substrings>();
    s->pair_bits.assign(65536 / 64, 0);
    for (const auto& p : values) {
      if (p.empty()) return;  // matches everything: keep the plain loop
      if (p.size() == 1) {
        s->single[static_cast<unsigned char>(p[0])] = true;
        continue;
      }
      const unsigned pair =
          static_cast<unsigned char>(p[0]) << 8 | static_cast<unsigned char>(p[1]);
      s->pair_bits[pair >> 6] |= uint64_t{1} << (pair & 63);
      s->by_pair[pair].push_back(p);
    }
    substrings = std::move(s);
  } else if (op == Op::kStartsWith || op == Op::kEndsWith) {
    set.clear();
    for (const auto& p : values) {
      set.insert(p);
      if (std::find(lengths.begin(), lengths.end(), p.size()) == lengths.end())
        lengths.push_back(p.size());
    }
    std::sort(lengths.begin(), lengths.end());
  }
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
  // Tests in the order of frequency rather than a switch: a jump table's one indirect branch,
  // shared by every node of every rule, is mispredicted at almost every node.
  if (kind_ == Kind::kPredicate) return pred_->eval(e, scratch_);
  if (kind_ == Kind::kAll) {
    for (const auto& c : children_) {
      if (!c.eval(e)) return false;
    }
    return true;
  }
  if (kind_ == Kind::kAny) {
    for (const auto& c : children_) {
      if (c.eval(e)) return true;
    }
    return false;
  }
  if (kind_ == Kind::kNot) return !children_[0].eval(e);
  return kind_ == Kind::kTrue;
}

const Predicate* Condition::equalityAnchor() const {
  auto isAnchor = [](const Condition& c) {
    return c.kind_ == Kind::kPredicate && (c.pred_->op == Op::kEquals || c.pred_->op == Op::kIn) &&
           !c.pred_->set.empty() && c.pred_->set.count(std::string_view()) == 0;
  };
  if (isAnchor(*this)) return pred_.get();
  if (kind_ == Kind::kAll) {
    for (const auto& c : children_) {
      if (isAnchor(c)) return c.pred_.get();
    }
  }
  return nullptr;
}

void Condition::detach() {
  if (pred_) pred_ = std::make_shared<Predicate>(*pred_);
  for (auto& c : children_) c.detach();
}

void Condition::forEachPredicate(const std::function<void(Predicate&)>& fn) {
  if (pred_) fn(*pred_);
  for (auto& c : children_) c.forEachPredicate(fn);
}

void Condition::forEachPredicateRef(const std::function<void(std::shared_ptr<Predicate>&)>& fn) {
  if (pred_) fn(pred_);
  for (auto& c : children_) c.forEachPredicateRef(fn);
}

const Predicate* Condition::patternAnchor() const {
  auto isAnchor = [](const Condition& c) {
    return c.kind_ == Kind::kPredicate && c.pred_->patterns != nullptr;
  };
  if (isAnchor(*this)) return pred_.get();
  if (kind_ == Kind::kAll) {
    for (const auto& c : children_) {
      if (isAnchor(c)) return c.pred_.get();
    }
  }
  return nullptr;
}

namespace {

int predicateCost(const Predicate& p) {
  const int derived = p.field.transforms.empty() ? 0 : 1;
  if (p.ref) return 6 + derived;
  switch (p.op) {
    case Op::kExists: return 1 + derived;
    case Op::kEquals:
    case Op::kIn: return 2 + derived;
    case Op::kGt:
    case Op::kGte:
    case Op::kLt:
    case Op::kLte:
    case Op::kCidr: return 3 + derived;
    case Op::kContains:
    case Op::kStartsWith:
    case Op::kEndsWith:
      if (p.patterns != nullptr) return 4 + derived;
      return 6 + derived;
    case Op::kRegex:
      if (p.patterns != nullptr) return 4 + derived;
      return 8 + derived;
    case Op::kIntel: return 10;
  }
  return 10;
}

}  // namespace

int Condition::cost() const {
  if (kind_ == Kind::kPredicate) return predicateCost(*pred_);
  int n = 0;
  for (const auto& c : children_) n += c.cost();
  return n;
}

void Condition::orderByCost() {
  for (auto& c : children_) c.orderByCost();
  if (kind_ != Kind::kAll) return;
  std::vector<std::pair<int, size_t>> order;
  order.reserve(children_.size());
  for (size_t i = 0; i < children_.size(); ++i) order.emplace_back(children_[i].cost(), i);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Condition> sorted;
  sorted.reserve(children_.size());
  for (const auto& [cost, i] : order) sorted.push_back(std::move(children_[i]));
  children_ = std::move(sorted);
}

size_t Condition::size() const {
  size_t n = kind_ == Kind::kPredicate ? 1 : 0;
  for (const auto& c : children_) n += c.size();
  return n;
}

}  // namespace riposte::rules

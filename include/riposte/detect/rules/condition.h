// Condition: a compiled boolean expression over an event's fields — the selection part of a rule.
//
// Built once by the rule loader: field names are resolved to ids, lists become hash sets,
// regular expressions are compiled (PCRE2 with JIT), numbers are parsed. Evaluation does not
// allocate.
//
// Thread safety: evaluate() uses per-condition scratch buffers (regex match data, lower-case
// copies), so a compiled condition is used by one thread; each shard has its own rule set.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "riposte/core/event.h"
#include "riposte/core/flat_string_set.h"
#include "riposte/core/ip.h"
#include "riposte/core/string_hash.h"

namespace riposte::rules {

// A transformation applied to a field's value before it is matched, written after the field
// name with a pipe: `url.original|urldecode|lower`. Applied left to right.
enum class Transform {
  kLower,      // ASCII lower case
  kUpper,      // ASCII upper case
  kUrlDecode,  // %XX and '+' decoded (invalid escapes kept as written)
  kPath,       // the part of a request target before '?'
  kBasename,   // the last path segment (query removed)
  kExtension,  // the basename's extension after the last '.', lower case ("" if none)
  kStem,       // the basename without its extension
  kLength,     // the length in bytes, as a decimal number
};

std::optional<Transform> transformFromName(std::string_view name);
std::string_view transformName(Transform t);

// The value of a field with transformations for the current event, shared by every FieldRef of
// a rule set with the same spec (RuleSet): computed by the first to ask, read by the others. It
// is current while `stamp` equals the rule set's event counter `*epoch`.
struct DerivedValue {
  const uint64_t* epoch = nullptr;
  uint64_t stamp = 0;
  std::string_view value;  // into the event or `buf`
  std::string buf[2];
};

// A field as rules name it: an ECS field Riposte knows by id, or an extra field by name, with
// optional transformations. `spec` is the name as written (with transformations). The name
// `event.original` stands for the whole raw line (Sigma keyword searches use it).
struct FieldRef {  // NOLINT(bugprone-reserved-identifier): compiler-generated members
  // (What get() reads comes first: one cache line.)
  // Set by a RuleSet for a field with transformations (see DerivedValue).
  std::shared_ptr<DerivedValue> derived;
  std::optional<Field> id;
  bool original = false;  // event.original: the raw line
  std::vector<Transform> transforms;
  std::string name;
  std::string spec;

  // Parses "name|t1|t2"; an unknown transformation's name is returned in `bad`.
  static FieldRef of(std::string_view spec, std::string* bad = nullptr);
  std::string_view get(const Event& e) const {
    if (derived && derived->stamp == *derived->epoch) return derived->value;
    const std::string_view v = original ? e.raw() : id ? e.get(*id) : e.getByName(name);
    if (transforms.empty()) return v;
    if (!derived) return apply(v, buf_);
    derived->value = apply(v, derived->buf);
    derived->stamp = *derived->epoch;
    return derived->value;
  }

 private:
  // The transformations of `v`: a view of `v` where they only cut it (path, basename) or leave
  // it as it is (lower case of a lower-case value), else a view of one of `buf`.
  std::string_view apply(std::string_view v, std::string (&buf)[2]) const;
  mutable std::string buf_[2];  // scratch (one shard uses a rule set)
};

enum class Op {
  kEquals,
  kIn,          // any of a set
  kContains,    // any of the substrings
  kStartsWith,  // any of the prefixes
  kEndsWith,    // any of the suffixes
  kRegex,       // any of the patterns
  kCidr,        // address within any range
  kGt,
  kGte,
  kLt,
  kLte,
  kExists,
  kIntel,  // the value hits the threat-intel store (intel_predicate.h)
};

std::optional<Op> opFromName(std::string_view name);
std::string_view opName(Op op);

class Regex;  // PCRE2 pattern, defined in condition.cc
class PatternIndex;
struct IntelTest;  // intel_predicate.h

// A regular expression as written, with the options it was compiled with.
struct RegexSource {
  std::string pattern;
  bool nocase = false;
  uint32_t flags = 0;  // kRegexMultiline, kRegexDotAll
};

struct Predicate {
  // (What every evaluation reads comes first.)
  // Set by a RuleSet for a predicate several of its rules share (equal signature): the result
  // for the current event is computed by the first rule to ask and read by the others; it is
  // current while `result_stamp` equals the rule set's event counter `*epoch`.
  const uint64_t* epoch = nullptr;
  mutable uint64_t result_stamp = 0;
  mutable bool result = false;
  // Set by a RuleSet's PatternIndex (pattern_index.h): the predicate is answered by its
  // field's Hyperscan database, id `pattern_bit` of field `pattern_group`.
  PatternIndex* patterns = nullptr;
  uint32_t pattern_group = 0;
  uint32_t pattern_bit = 0;
  Op op = Op::kEquals;
  bool nocase = false;
  bool exists = true;  // for kExists
  // Regex over many patterns (a word list): results are remembered per distinct value (user
  // agents, for instance, repeat a lot), up to kMemoSize values, then the memo starts over.
  bool memoize = false;
  FlatStringSet set;  // kEquals/kIn
  FieldRef field;
  std::vector<std::string> values;  // lower-cased when nocase
  std::vector<std::shared_ptr<Regex>> regexes;
  // kRegex: the patterns one by one as written (`regexes` may hold their union).
  std::vector<RegexSource> sources;
  CidrList cidrs;
  double number = 0;
  // kIntel: the options and the view of the intel store (shared by the predicate's copies).
  std::shared_ptr<IntelTest> intel;
  // Field reference (Sigma `fieldref`): the value compared is another field's value of the same
  // event, with op kEquals, kContains, kStartsWith or kEndsWith. Never holds when either is empty.
  std::optional<FieldRef> ref;
  // Many substrings (contains): a table of the patterns' first two bytes, so the subject is
  // scanned once and only positions whose two bytes start some pattern are verified.
  // Many prefixes/suffixes: the distinct lengths, each tested with one lookup in `set`.
  struct Substrings {
    std::vector<uint64_t> pair_bits;  // 65536 bits: first two bytes of some pattern
    std::array<bool, 256> single{};   // one-byte patterns
    std::unordered_map<uint32_t, std::vector<std::string>> by_pair;  // first two bytes -> patterns
    bool matches(std::string_view v) const;
  };
  std::shared_ptr<Substrings> substrings;
  std::vector<size_t> lengths;  // startswith/endswith with an index: distinct lengths
  void buildIndex();

  mutable StringMap<bool> memo;  // see `memoize`
  static constexpr size_t kMemoSize = 4096;

  // Equal for predicates that test the same field in the same way (same operator, options and
  // values); empty for those that cannot be shared (intel: each rule records its own hits).
  std::string signature() const;

  bool eval(const Event& e, std::string& scratch) const {
    if (epoch == nullptr) return evalOnce(e, scratch);
    if (result_stamp != *epoch) {
      result = evalOnce(e, scratch);
      result_stamp = *epoch;
    }
    return result;
  }
  // The predicate's own evaluation, without the pattern index.
  bool evalDirect(const Event& e, std::string& scratch) const;

 private:
  bool evalOnce(const Event& e, std::string& scratch) const;
};

class Condition {
 public:
  enum class Kind { kAll, kAny, kNot, kPredicate, kTrue };

  static Condition all(std::vector<Condition> c) { return Condition(Kind::kAll, std::move(c)); }
  static Condition any(std::vector<Condition> c) { return Condition(Kind::kAny, std::move(c)); }
  static Condition negate(Condition c);
  static Condition predicate(Predicate p);
  static Condition alwaysTrue() { return Condition(Kind::kTrue, {}); }

  bool eval(const Event& e) const;
  Kind kind() const { return kind_; }
  // Number of predicates in the tree (for statistics).
  size_t size() const;
  // A predicate every match must satisfy that is an equality test (equals/in, not negated): the
  // condition itself or a direct child of a top-level `all`. Lets a rule set index the rule by
  // the field's value. nullptr when there is none.
  const Predicate* equalityAnchor() const;
  // Likewise a predicate answered by a pattern index (Predicate::patterns set): the rule set
  // indexes the rule by the predicate's id, so the rule is a candidate only when it matched.
  const Predicate* patternAnchor() const;
  // Gives the tree its own copy of each predicate (copies of a condition share them), so a
  // rule set can point its predicates at its own pattern index.
  void detach();
  void forEachPredicate(const std::function<void(Predicate&)>& fn);
  // The same over the tree's references to its predicates (a rule set points equal predicates
  // of several rules at one).
  void forEachPredicateRef(const std::function<void(std::shared_ptr<Predicate>&)>& fn);
  // Puts the parts of every `all` in the order of their cost (tests of a value's presence, then
  // set look-ups and comparisons, then pattern-index bits, then substring and regex searches,
  // intel look-ups last): the cheap tests reject most events before the costly ones run. The
  // result of an `all` does not depend on the order; equal costs keep the written order. Call
  // it once the predicates are hooked to a pattern index.
  void orderByCost();
  // The relative cost of evaluating the tree (the sum of its predicates').
  int cost() const;

 private:
  Condition(Kind k, std::vector<Condition> c) : kind_(k), children_(std::move(c)) {}

  Kind kind_;
  std::vector<Condition> children_;
  std::shared_ptr<Predicate> pred_;
  mutable std::string scratch_;
};

// Compiles a PCRE2 pattern; the error names the offset of the problem. `flags` adds
// kRegexMultiline (^/$ at line ends) and kRegexDotAll (. matches a newline).
inline constexpr uint32_t kRegexMultiline = 1;
inline constexpr uint32_t kRegexDotAll = 2;
Result<std::shared_ptr<Regex>> compileRegex(const std::string& pattern, bool nocase,
                                            uint32_t flags = 0);
bool regexMatches(const Regex& r, std::string_view subject);

}  // namespace riposte::rules

// PatternIndex: the string and regex predicates of a whole rule set in one Hyperscan database
// per field, so an event's field is scanned once for all rules instead of once per predicate.
//
// A RuleSet gathers, per field as rules name it (with its transformations), the predicates
// `contains`, `startswith`, `endswith` and `regex` of all its rules: literals become escaped
// patterns (anchored with \A / \z for prefixes and suffixes, HS_FLAG_CASELESS for `nocase`),
// regular expressions keep their flags. Each predicate is one id (a word list is many patterns
// with the same id). At evaluation the first predicate of a field to be asked scans the field's
// value once (HS_MODE_BLOCK, HS_FLAG_SINGLEMATCH) and records which ids matched; every other
// predicate of that field reads its bit. A field whose database holds regular expressions
// remembers its answers for recent values (memoHits).
//
// Results are those of the predicates' own evaluation (condition.cc):
//  - a predicate stays on its own path (PCRE2-JIT, substring tables) when Hyperscan rejects one
//    of its patterns, a literal is empty, or it compares two fields (fieldref);
//  - regular expressions are taken only when written in ASCII, and a field whose database holds
//    regular expressions is answered by Hyperscan only for ASCII values (PCRE2 matches code
//    points in UTF mode, Hyperscan bytes here; on ASCII both agree). Other values make the
//    field's predicates use their own path for that event.
//
// Thread safety: one thread (the scratch space and the match bits are the index's own); each
// shard's RuleSet has its own index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "riposte/core/event.h"

struct hs_database;
struct hs_scratch;

namespace riposte::rules {

struct Predicate;

class PatternIndex {
 public:
  PatternIndex();
  ~PatternIndex();
  PatternIndex(const PatternIndex&) = delete;
  PatternIndex& operator=(const PatternIndex&) = delete;

  // Offers a predicate; those Hyperscan may take are remembered until compile().
  void add(Predicate& p);
  // Builds the databases and the scratch space, and points each predicate whose patterns all
  // compiled at its field and id. Patterns Hyperscan rejects leave their predicate unchanged.
  void compile();

  // A new event: every field is scanned again when one of its predicates is next evaluated.
  void beginEvent() { ++generation_; }
  // Whether predicate `bit` of field `group` holds for `e`: 1 or 0, or -1 when the field's
  // value cannot be answered here (the predicate evaluates itself).
  int test(uint32_t group, uint32_t bit, const Event& e) {
    const std::vector<uint64_t>* m = matches(group, e);
    if (m == nullptr) return -1;
    return static_cast<int>((*m)[bit >> 6] >> (bit & 63) & 1);
  }
  // The ids of field `group` that matched `e` (the field is scanned on the first call for an
  // event), or nullptr when the value cannot be answered here.
  const std::vector<uint64_t>* matches(uint32_t group, const Event& e);
  // The number of ids (predicates) of field `group`.
  size_t ids(uint32_t group) const;

  // Statistics: predicates answered by Hyperscan, predicates offered but left on their own
  // path (rejected patterns), databases (fields).
  size_t predicates() const { return hooked_; }
  size_t rejected() const { return rejected_; }
  size_t databases() const;
  // Databases read from the compiled-database cache instead of compiled.
  size_t cached() const { return cached_; }
  // Fields with transformations that may leave a value as it was (urldecode, lower, upper)
  // whose patterns are also in the database of the plain field (`url.original|urldecode` in
  // `url.original`'s): for a value the transformations leave unchanged, the plain field's scan
  // answers them. aliasAnswers() counts the scans so saved.
  size_t merged() const { return merged_; }
  uint64_t aliasAnswers() const { return alias_answers_; }
  // Scans answered from the memo of a database with regular expressions: its answers for the
  // last values seen (kMemoSlots of them, direct-mapped by hash, values of at most
  // kMemoMaxValue bytes), compared in full. A memo that answers fewer than one look-up in four
  // over kMemoWindow look-ups (values that do not repeat) rests for kMemoRest scans.
  uint64_t memoHits() const { return memo_hits_; }
  static constexpr size_t kMemoSlots = 1024;
  static constexpr size_t kMemoMaxValue = 512;
  static constexpr uint32_t kMemoWindow = 1024;
  static constexpr uint32_t kMemoRest = 16384;

  // Compiling a large set of patterns takes Hyperscan seconds, so compiled databases are kept
  // in a cache directory, one file per database named by the SHA-256 of everything that went
  // into it (patterns, flags, ids, Hyperscan's version and the CPU features it compiled for).
  // A file that does not verify is ignored and replaced. The directory is $RIPOSTE_CACHE_DIR
  // when set (empty: no cache on disk), else $XDG_CACHE_HOME/riposte/hyperscan, else
  // $HOME/.cache/riposte/hyperscan. Within a process, databases are also kept in memory.
  static std::string cacheDir();
  // Drops the in-memory copies (the next build reads the directory or compiles).
  static void clearMemoryCache();

 private:
  struct Group;
  void scan(Group& g, const Event& e);
  void mergeIdentityFields();

  std::vector<std::unique_ptr<Group>> groups_;
  hs_scratch* scratch_ = nullptr;
  uint64_t generation_ = 1;
  size_t hooked_ = 0;
  size_t rejected_ = 0;
  size_t cached_ = 0;
  size_t merged_ = 0;
  uint64_t memo_hits_ = 0;
  uint64_t alias_answers_ = 0;
};

}  // namespace riposte::rules

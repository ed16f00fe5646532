// Intel predicates of rules: `field: {intel: true}` or `field: {intel: {min_score: 60, tag: tor,
// source: feodo}}` holds when the field's value (an address, a domain, a URL, an e-mail address
// or a file hash) hits the threat-intel store (see docs/rules.md).
//
// IntelTest is the compiled predicate (options read once at load). The rules detector binds
// every IntelTest of its rules to one IntelView: its window on the engine's shared intel store
// (detect/shared_intel.h). The view keeps the current snapshot and swaps it for the store's new
// one when the store's generation changes (a relaxed atomic load per look-up, no lock), so a
// reload of the indicators reaches the rules without a rule reload. An unbound predicate (rules
// loaded without an engine: `riposte rules lint`) never holds.
//
// The view remembers which indicator made a predicate hold for the event being evaluated, so a
// finding can name it (reason `{intel}`, `threat.indicator` in the evidence, labels).
//
// Thread safety: a view belongs to one rule engine (one shard); the store is shared.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/intel/snapshot.h"
#include "riposte/intel/store.h"

namespace riposte {
class SharedIntel;
}  // namespace riposte

namespace riposte::rules {

struct Rule;

class IntelView {
 public:
  explicit IntelView(std::shared_ptr<SharedIntel> shared);
  // A view on a store of its own (tests).
  explicit IntelView(std::shared_ptr<intel::Store> store);

  // The store's current snapshot (refreshed when the store published a new one).
  const intel::Snapshot* current() {
    const uint64_t g = store_->generation();
    if (g != generation_ || !snapshot_) {
      generation_ = g;
      snapshot_ = store_->snapshot();
    }
    return snapshot_.get();
  }
  const std::shared_ptr<const intel::Snapshot>& snapshot() const { return snapshot_; }
  // The engine's shared intel the view reads (null for a view on a bare store).
  const std::shared_ptr<SharedIntel>& shared() const { return shared_; }

  // What made an intel predicate hold since the last clearMatches().
  struct Match {
    std::string field;
    std::string value;
    intel::Hit hit;
  };
  void clearMatches() { n_matches_ = 0; }
  void addMatch(std::string_view field, std::string_view value, const intel::Hit& hit);
  size_t matchCount() const { return n_matches_; }
  const Match& match(size_t i) const { return matches_[i]; }

  // Scratch for look-ups.
  std::vector<intel::Hit> hits;
  std::string buf;

 private:
  std::shared_ptr<SharedIntel> shared_;  // keeps the store's updaters running
  std::shared_ptr<intel::Store> store_;
  std::shared_ptr<const intel::Snapshot> snapshot_;
  uint64_t generation_ = 0;
  std::vector<Match> matches_;  // the first n_matches_ are current (capacity reused)
  size_t n_matches_ = 0;
};

struct IntelTest {
  int min_score = 1;                 // hits scoring below do not count
  std::vector<std::string> tags;     // any of (case-insensitive); empty: any indicator
  std::vector<std::string> sources;  // any of; empty: any source
  std::shared_ptr<IntelView> view;   // null: never holds

  // Looks `value` up (read from field `field`, as written in the rule); on a hit that passes
  // the options, records it in the view and returns true.
  bool eval(std::string_view field, std::string_view value) const;
};

// Appends to `out` the hits of `value` in `s`: an IP address (and enclosing CIDRs), an MD5,
// SHA-1 or SHA-256 hex digest, a URL (and its host), an e-mail address (and its domain), or
// else a domain name (and its listed parents). `buf` is scratch.
void lookupIntelValue(const intel::Snapshot& s, std::string_view value,
                      std::vector<intel::Hit>& out, std::string& buf);

// Binds the intel predicates of `rules` (their conditions and sequence steps) to `view`;
// returns how many there are.
size_t bindIntel(std::vector<Rule>& rules, const std::shared_ptr<IntelView>& view);

}  // namespace riposte::rules

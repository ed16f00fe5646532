#include "riposte/detect/rules/pattern_index.h"

#include <hs/hs.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <unistd.h>

#include "riposte/core/digest.h"
#include "riposte/detect/rules/condition.h"

namespace riposte::rules {

namespace {

// A literal as a Hyperscan pattern: every byte but letters and digits written \xHH.
std::string escapeLiteral(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

constexpr size_t kNoSlot = ~size_t{0};
constexpr uint32_t kNoGroup = ~uint32_t{0};

// Whether the transformations only rewrite bytes they find (and so may leave a value as it was).
bool mayBeIdentity(const FieldRef& f) {
  if (f.transforms.empty()) return false;
  for (const Transform t : f.transforms) {
    if (t != Transform::kUrlDecode && t != Transform::kLower && t != Transform::kUpper) {
      return false;
    }
  }
  return true;
}

bool isAscii(std::string_view s) {
  unsigned char any = 0;
  for (const char c : s) any |= static_cast<unsigned char>(c);
  return any < 0x80;
}

int onMatch(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/,
            unsigned int /*flags*/, void* ctx) {
  auto* bits = static_cast<uint64_t*>(ctx);
  bits[id >> 6] |= uint64_t{1} << (id & 63);
  return 0;
}

// The compiled-database cache. An entry is the outcome of one hs_compile_multi call: the
// serialized database, or the index of the expression Hyperscan rejected.
struct Compiled {
  hs_database_t* db = nullptr;
  int bad = -1;  // rejected expression, when db is null
  bool from_cache = false;
};

constexpr std::string_view kCacheMagic = "riposte-hs-1\n";

std::string cacheKey(const std::vector<const char*>& exprs, const std::vector<unsigned>& flags,
                     const std::vector<unsigned>& ids) {
  std::string in(kCacheMagic);
  in += hs_version();
  hs_platform_info_t plat{};
  if (hs_populate_platform(&plat) == HS_SUCCESS) {
    in += '|' + std::to_string(plat.tune) + '|' + std::to_string(plat.cpu_features);
  }
  for (size_t i = 0; i < exprs.size(); ++i) {
    in += '\0';
    in += std::to_string(flags[i]) + ',' + std::to_string(ids[i]) + ',';
    in += std::to_string(std::strlen(exprs[i])) + ':';
    in += exprs[i];
  }
  return sha256Hex(in);
}

// File layout: magic, then "db\n" or "bad N\n", then for a database its serialized bytes
// followed by their SHA-256 (hex). Anything else is not a cache entry.
std::mutex& memoryMutex() {
  static std::mutex m;
  return m;
}
std::unordered_map<std::string, std::string>& memoryCache() {
  static std::unordered_map<std::string, std::string> m;
  return m;
}
size_t& memoryBytes() {
  static size_t total = 0;
  return total;
}
// Keeps the in-memory copies bounded however often rules are reloaded (caller holds the lock).
void rememberInMemory(const std::string& key, std::string entry) {
  constexpr size_t kMaxBytes = size_t{64} << 20;
  auto& m = memoryCache();
  if (memoryBytes() + entry.size() > kMaxBytes) {
    m.clear();
    memoryBytes() = 0;
  }
  memoryBytes() += entry.size();
  m[key] = std::move(entry);
}

bool decodeEntry(const std::string& data, Compiled& out) {
  if (data.compare(0, kCacheMagic.size(), kCacheMagic) != 0) return false;
  std::string_view rest(data);
  rest.remove_prefix(kCacheMagic.size());
  if (rest.substr(0, 4) == "bad ") {
    const int bad = std::atoi(std::string(rest.substr(4, 12)).c_str());
    if (bad < 0) return false;
    out.bad = bad;
    out.db = nullptr;
    return true;
  }
  if (rest.substr(0, 3) != "db\n" || rest.size() < 3 + 64) return false;
  rest.remove_prefix(3);
  const std::string_view bytes = rest.substr(0, rest.size() - 64);
  if (sha256Hex(bytes) != rest.substr(rest.size() - 64)) return false;
  hs_database_t* db = nullptr;
  if (hs_deserialize_database(bytes.data(), bytes.size(), &db) != HS_SUCCESS) return false;
  out.db = db;
  out.bad = -1;
  return true;
}

std::string encodeEntry(const Compiled& c) {
  std::string out(kCacheMagic);
  if (c.db == nullptr) return out + "bad " + std::to_string(c.bad) + "\n";
  char* bytes = nullptr;
  size_t len = 0;
  if (hs_serialize_database(c.db, &bytes, &len) != HS_SUCCESS) return {};
  std::string_view b(bytes, len);
  out += "db\n";
  out += b;
  out += sha256Hex(b);
  std::free(bytes);
  return out;
}

void storeOnDisk(const std::string& dir, const std::string& key, const std::string& entry) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return;  // no cache: compiling every time is slower, not wrong
  const std::string path = dir + "/" + key;
  // Unique per process and thread: shards may compile the same patterns at the same time.
  const std::string tmp = path + ".tmp" + std::to_string(::getpid()) + "." +
                          std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f.write(entry.data(), static_cast<std::streamsize>(entry.size()))) {
      fs::remove(tmp, ec);
      return;
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) fs::remove(tmp, ec);
}

Compiled compileCached(const std::vector<const char*>& exprs, const std::vector<unsigned>& flags,
                       const std::vector<unsigned>& ids) {
  const std::string key = cacheKey(exprs, flags, ids);
  Compiled c;
  {
    std::lock_guard lock(memoryMutex());
    auto it = memoryCache().find(key);
    if (it != memoryCache().end() && decodeEntry(it->second, c)) {
      c.from_cache = true;
      return c;
    }
  }
  const std::string dir = PatternIndex::cacheDir();
  if (!dir.empty()) {
    std::ifstream f(dir + "/" + key, std::ios::binary);
    if (f) {
      std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      if (decodeEntry(data, c)) {
        c.from_cache = true;
        std::lock_guard lock(memoryMutex());
        rememberInMemory(key, std::move(data));
        return c;
      }
    }
  }
  hs_compile_error_t* err = nullptr;
  const hs_error_t rc =
      hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()),
                       HS_MODE_BLOCK, nullptr, &c.db, &err);
  if (rc != HS_SUCCESS) {
    c.db = nullptr;
    c.bad = err != nullptr ? err->expression : -1;
    if (err != nullptr) hs_free_compile_error(err);
    if (c.bad < 0) return c;  // not the patterns' fault (memory): nothing to remember
  }
  std::string entry = encodeEntry(c);
  if (entry.empty()) return c;
  if (!dir.empty()) storeOnDisk(dir, key, entry);
  std::lock_guard lock(memoryMutex());
  rememberInMemory(key, std::move(entry));
  return c;
}

}  // namespace

std::string PatternIndex::cacheDir() {
  if (const char* d = std::getenv("RIPOSTE_CACHE_DIR")) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != '\0') {
    return std::string(x) + "/riposte/hyperscan";
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {
    return std::string(h) + "/.cache/riposte/hyperscan";
  }
  return {};
}

void PatternIndex::clearMemoryCache() {
  std::lock_guard lock(memoryMutex());
  memoryCache().clear();
  memoryBytes() = 0;
}

struct PatternIndex::Group {
  FieldRef field;  // its own copy: transformations use the field's scratch buffers
  bool has_regex = false;
  hs_database_t* db = nullptr;
  // Until compile(): the predicates and their patterns (one id per predicate).
  struct Pattern {
    std::string expr;
    unsigned flags;
    uint32_t id;
  };
  std::vector<Predicate*> preds;
  std::vector<Pattern> patterns;
  std::vector<bool> pred_regex;
  uint32_t ids = 0;  // predicates (ids) of its own
  // A field whose transformations may leave a value as it was (urldecode, lower, upper) is
  // also compiled into the database of its plain field, at ids alias_offset and up: for a value
  // they leave unchanged, the plain field's scan answers it (no scan of its own).
  uint32_t alias = kNoGroup;
  uint32_t alias_offset = 0;
  // Per event.
  std::vector<uint64_t> bits;
  uint64_t generation = 0;
  bool answered = false;
  // Databases with regular expressions: the answers for recent values, which repeat (a
  // thousand requests share a handful of user agents) and cost an automaton run each. A
  // direct-mapped table by the value's hash; a slot holds the value itself, compared in full,
  // beside its hash (one cache line read for a look-up of a short value). The table is small
  // (kMemoSlots) so the slots of the values that repeat stay in the core's cache.
  struct MemoSlot {
    uint64_t hash = 0;  // 0: empty; a stored hash has its low bit set
    std::string value;
    bool answered = false;
  };
  std::vector<MemoSlot> memo;       // empty: no memo
  std::vector<uint64_t> memo_bits;  // the match bits of slot i at i * bits.size()
  // The memo pays only where values repeat: after each kMemoWindow look-ups it checks how many
  // it answered, and below one in four it rests for kMemoRest scans before trying again.
  uint32_t memo_tries = 0;
  uint32_t memo_window_hits = 0;
  uint32_t memo_rest = 0;

  ~Group() {
    if (db != nullptr) hs_free_database(db);
  }
};

PatternIndex::PatternIndex() = default;

PatternIndex::~PatternIndex() {
  if (scratch_ != nullptr) hs_free_scratch(scratch_);
}

size_t PatternIndex::databases() const {
  return static_cast<size_t>(
      std::count_if(groups_.begin(), groups_.end(), [](const auto& g) { return g->db; }));
}

void PatternIndex::add(Predicate& p) {
  p.patterns = nullptr;
  if (p.ref) return;
  std::vector<Group::Pattern> pats;
  bool regex = false;
  switch (p.op) {
    case Op::kContains:
    case Op::kStartsWith:
    case Op::kEndsWith: {
      if (p.values.empty()) return;
      const unsigned flags = HS_FLAG_SINGLEMATCH | (p.nocase ? HS_FLAG_CASELESS : 0);
      for (const auto& v : p.values) {
        if (v.empty()) return;  // matches every value: the predicate's own path says so
        std::string expr = escapeLiteral(v);
        if (p.op == Op::kStartsWith) expr = "\\A" + expr;
        if (p.op == Op::kEndsWith) expr += "\\z";
        pats.push_back({std::move(expr), flags, 0});
      }
      break;
    }
    case Op::kRegex: {
      if (p.sources.empty()) return;
      for (const auto& s : p.sources) {
        if (!isAscii(s.pattern)) return;
        const unsigned flags = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY |
                               (s.nocase ? HS_FLAG_CASELESS : 0) |
                               ((s.flags & kRegexMultiline) != 0 ? HS_FLAG_MULTILINE : 0) |
                               ((s.flags & kRegexDotAll) != 0 ? HS_FLAG_DOTALL : 0);
        pats.push_back({s.pattern, flags, 0});
      }
      regex = true;
      break;
    }
    default: return;
  }
  auto g = std::find_if(groups_.begin(), groups_.end(),
                        [&](const auto& x) { return x->field.spec == p.field.spec; });
  if (g == groups_.end()) {
    groups_.push_back(std::make_unique<Group>());
    groups_.back()->field = p.field;
    g = groups_.end() - 1;
  }
  Group& grp = **g;
  const auto id = static_cast<uint32_t>(grp.preds.size());
  grp.preds.push_back(&p);
  grp.pred_regex.push_back(regex);
  for (auto& x : pats) {
    x.id = id;
    grp.patterns.push_back(std::move(x));
  }
}

void PatternIndex::compile() {
  for (uint32_t gi = 0; gi < groups_.size(); ++gi) {
    Group& g = *groups_[gi];
    std::vector<bool> dropped(g.preds.size(), false);
    // A pattern Hyperscan rejects takes its predicate out; compile again without it.
    for (;;) {
      std::vector<const char*> exprs;
      std::vector<unsigned> flags;
      std::vector<unsigned> ids;
      std::vector<size_t> owner;  // expression index -> pattern index
      for (size_t i = 0; i < g.patterns.size(); ++i) {
        if (dropped[g.patterns[i].id]) continue;
        exprs.push_back(g.patterns[i].expr.c_str());
        flags.push_back(g.patterns[i].flags);
        ids.push_back(g.patterns[i].id);
        owner.push_back(i);
      }
      if (exprs.empty()) break;
      const Compiled c = compileCached(exprs, flags, ids);
      g.db = c.db;
      if (c.from_cache && c.db != nullptr) ++cached_;
      if (g.db != nullptr) break;
      const int bad = c.bad;
      if (bad < 0 || static_cast<size_t>(bad) >= owner.size()) {
        std::fill(dropped.begin(), dropped.end(), true);  // the whole field stays as it was
        break;
      }
      dropped[g.patterns[owner[static_cast<size_t>(bad)]].id] = true;
    }
    if (g.db != nullptr && hs_alloc_scratch(g.db, &scratch_) != HS_SUCCESS) {
      hs_free_database(g.db);
      g.db = nullptr;
    }
    if (g.db == nullptr) std::fill(dropped.begin(), dropped.end(), true);
    g.bits.assign((g.preds.size() + 63) / 64, 0);
    for (size_t i = 0; i < g.preds.size(); ++i) {
      if (dropped[i]) {
        ++rejected_;
        continue;
      }
      Predicate& p = *g.preds[i];
      p.patterns = this;
      p.pattern_group = gi;
      p.pattern_bit = static_cast<uint32_t>(i);
      if (g.pred_regex[i]) g.has_regex = true;
      ++hooked_;
    }
    g.ids = static_cast<uint32_t>(g.preds.size());
    std::erase_if(g.patterns, [&](const Group::Pattern& x) { return dropped[x.id]; });
    g.preds.clear();
    g.pred_regex.clear();
  }
  mergeIdentityFields();
  for (auto& gp : groups_) {
    Group& g = *gp;
    if (g.has_regex && g.db != nullptr) {
      g.memo.assign(kMemoSlots, {});
      g.memo_bits.assign(kMemoSlots * g.bits.size(), 0);
    }
    g.patterns.clear();
  }
}

void PatternIndex::mergeIdentityFields() {
  for (uint32_t gi = 0; gi < groups_.size(); ++gi) {
    Group& g = *groups_[gi];
    if (g.db == nullptr || g.patterns.empty() || !mayBeIdentity(g.field)) continue;
    const std::string_view base = std::string_view(g.field.spec).substr(0, g.field.spec.find('|'));
    auto h_it = std::find_if(groups_.begin(), groups_.end(), [&](const auto& x) {
      return x->field.spec == base && x->db != nullptr && x->alias == kNoGroup;
    });
    if (h_it == groups_.end()) continue;
    Group& h = **h_it;
    // The plain field's patterns, then those of the fields already merged into it, then g's.
    std::vector<const char*> exprs;
    std::vector<unsigned> flags;
    std::vector<unsigned> ids;
    auto take = [&](const Group& x, uint32_t offset) {
      for (const auto& p : x.patterns) {
        exprs.push_back(p.expr.c_str());
        flags.push_back(p.flags);
        ids.push_back(p.id + offset);
      }
    };
    take(h, 0);
    uint32_t offset = h.ids;
    for (const auto& x : groups_) {
      if (x->alias == static_cast<uint32_t>(h_it - groups_.begin())) {
        take(*x, x->alias_offset);
        offset = std::max(offset, x->alias_offset + x->ids);
      }
    }
    take(g, offset);
    const Compiled c = compileCached(exprs, flags, ids);
    if (c.db == nullptr) continue;  // g keeps its own scan
    if (hs_alloc_scratch(c.db, &scratch_) != HS_SUCCESS) {
      hs_free_database(c.db);
      continue;
    }
    if (c.from_cache) ++cached_;
    hs_free_database(h.db);
    h.db = c.db;
    h.bits.assign((offset + g.ids + 63) / 64, 0);
    if (g.has_regex) h.has_regex = true;  // the merged database answers ASCII values only
    g.alias = static_cast<uint32_t>(h_it - groups_.begin());
    g.alias_offset = offset;
    ++merged_;
  }
}

void PatternIndex::scan(Group& g, const Event& e) {
  g.generation = generation_;
  const std::string_view v = g.field.get(e);
  if (g.alias != kNoGroup) {
    Group& h = *groups_[g.alias];
    const std::string_view plain = h.field.get(e);
    if (v.data() == plain.data() && v.size() == plain.size()) {  // left as it was
      if (h.generation != generation_) scan(h, e);
      if (h.answered) {
        std::fill(g.bits.begin(), g.bits.end(), 0);
        for (uint32_t i = 0; i < g.ids; ++i) {
          const uint32_t b = g.alias_offset + i;
          if ((h.bits[b >> 6] >> (b & 63) & 1) != 0) g.bits[i >> 6] |= uint64_t{1} << (i & 63);
        }
        g.answered = true;
        ++alias_answers_;
        return;
      }
    }
  }
  const size_t words = g.bits.size();
  size_t slot = kNoSlot;
  uint64_t h = 0;
  if (!g.memo.empty() && !v.empty() && v.size() <= kMemoMaxValue) {
    if (g.memo_rest > 0) {
      --g.memo_rest;
    } else {
      if (++g.memo_tries == kMemoWindow) {
        if (g.memo_window_hits * 4 < kMemoWindow) g.memo_rest = kMemoRest;
        g.memo_tries = 0;
        g.memo_window_hits = 0;
      }
      h = FlatStringSet::hash(v) | 1;
      slot = (h >> 1) & (g.memo.size() - 1);
      const Group::MemoSlot& m = g.memo[slot];
      if (m.hash == h && m.value == v) {
        const uint64_t* saved = g.memo_bits.data() + slot * words;
        std::copy(saved, saved + words, g.bits.begin());
        g.answered = m.answered;
        ++g.memo_window_hits;
        ++memo_hits_;
        return;
      }
    }
  }
  std::fill(g.bits.begin(), g.bits.end(), 0);
  if (v.empty()) {
    g.answered = true;  // no string predicate holds for an empty value
    return;
  }
  if (g.has_regex && !isAscii(v)) {
    g.answered = false;
  } else {
    g.answered = hs_scan(g.db, v.data(), static_cast<unsigned>(v.size()), 0, scratch_, onMatch,
                         g.bits.data()) == HS_SUCCESS;
  }
  if (slot != kNoSlot) {
    Group::MemoSlot& m = g.memo[slot];
    m.hash = h;
    m.value.assign(v);
    m.answered = g.answered;
    std::copy(g.bits.begin(), g.bits.end(), g.memo_bits.data() + slot * words);
  }
}

const std::vector<uint64_t>* PatternIndex::matches(uint32_t group, const Event& e) {
  Group& g = *groups_[group];
  if (g.generation != generation_) scan(g, e);
  return g.answered ? &g.bits : nullptr;
}

size_t PatternIndex::ids(uint32_t group) const { return groups_[group]->bits.size() * 64; }

}  // namespace riposte::rules

#include "riposte/core/flat_string_set.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <unordered_set>

namespace riposte {
namespace {

std::string randomString(std::mt19937_64& rng) {
  // Short strings over a small alphabet (many near-collisions), sometimes long, empty, or with
  // a NUL byte inside.
  const size_t len = rng() % 10 == 0 ? rng() % 64 : rng() % 9;
  std::string s;
  for (size_t i = 0; i < len; ++i) s += static_cast<char>(rng() % 7 == 0 ? '\0' : 'a' + rng() % 3);
  return s;
}

// Same answers as std::unordered_set for every size, from the linear sets to large tables.
TEST(FlatStringSet, AgreesWithUnorderedSet) {
  std::mt19937_64 rng(11);
  for (const size_t n : {0, 1, 3, 4, 5, 8, 17, 100, 3000}) {
    FlatStringSet flat;
    std::unordered_set<std::string> ref;
    for (size_t i = 0; i < n; ++i) {
      const std::string v = randomString(rng);
      EXPECT_EQ(flat.insert(v), ref.insert(v).second) << n;
    }
    EXPECT_EQ(flat.size(), ref.size());
    for (const auto& v : ref) EXPECT_TRUE(flat.contains(v)) << n;
    size_t members = 0;
    for (int i = 0; i < 20000; ++i) {
      const std::string q = randomString(rng);
      const bool want = ref.count(q) != 0;
      ASSERT_EQ(flat.contains(q), want) << n << " '" << q << "'";
      members += want;
    }
    if (n >= 100) {
      EXPECT_GT(members, 0u);  // the queries reach members too
    }
    std::unordered_set<std::string> listed(flat.begin(), flat.end());
    EXPECT_EQ(listed, ref);
  }
}

TEST(FlatStringSet, LongValuesDifferingInTheirLastByte) {
  FlatStringSet s;
  const std::string base(40, 'x');
  for (char c = 'a'; c <= 'z'; ++c) s.insert(base + c);
  for (char c = 'a'; c <= 'z'; ++c) EXPECT_TRUE(s.contains(base + c));
  EXPECT_FALSE(s.contains(base + 'A'));
  EXPECT_FALSE(s.contains(base));
  EXPECT_FALSE(s.contains(std::string_view(base.data(), 39)));
  s.clear();
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.contains(base + 'a'));
}

// The hash reads every byte of a value of any length (whole words, an overlapping last word,
// overlapping halves or single bytes for short values): changing any one byte, or the length,
// changes it.
TEST(FlatStringSet, HashSeesEveryByteAndTheLength) {
  std::set<uint64_t> by_length;
  for (size_t n = 0; n <= 40; ++n) {
    std::string v(n, 'x');
    const uint64_t base = FlatStringSet::hash(v);
    by_length.insert(base);
    for (size_t i = 0; i < n; ++i) {
      for (const char c : {'y', '\0', '\xff'}) {
        std::string w = v;
        w[i] = c;
        EXPECT_NE(FlatStringSet::hash(w), base) << "length " << n << ", byte " << i;
      }
    }
    // Only the view's bytes count, not what lies beyond them.
    const std::string longer = v + "tail";
    EXPECT_EQ(FlatStringSet::hash(std::string_view(longer).substr(0, n)), base);
  }
  EXPECT_EQ(by_length.size(), 41u);
}

}  // namespace
}  // namespace riposte

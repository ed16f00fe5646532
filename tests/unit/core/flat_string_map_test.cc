#include "riposte/core/flat_string_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace riposte {
namespace {

std::string randomKey(std::mt19937_64& rng) {
  // Few distinct short keys (many near-collisions, long probe runs once erased), sometimes
  // long, empty, or with a NUL byte inside.
  const size_t len = rng() % 10 == 0 ? rng() % 40 : rng() % 5;
  std::string s;
  for (size_t i = 0; i < len; ++i) s += static_cast<char>(rng() % 9 == 0 ? '\0' : 'a' + rng() % 3);
  return s;
}

// Random insertions, updates, erasures (by key and by index) and look-ups, checked step by
// step against std::map: every key stays reachable after the probe runs shift back.
TEST(FlatStringMap, AgreesWithStdMapThroughInsertsAndErases) {
  std::mt19937_64 rng(5);
  FlatStringMap<int> flat;
  std::map<std::string, int> ref;
  for (int step = 0; step < 200000; ++step) {
    const std::string k = randomKey(rng);
    const unsigned op = rng() % 10;
    if (op < 4) {
      const auto [v, inserted] = flat.tryEmplace(k);
      const auto [it, ref_inserted] = ref.try_emplace(k, 0);
      ASSERT_EQ(inserted, ref_inserted) << step;
      ASSERT_EQ(*v, it->second) << step;
      *v += step;
      it->second += step;
    } else if (op < 7) {
      ASSERT_EQ(flat.erase(k), ref.erase(k) == 1) << step;
    } else if (op == 7 && !flat.empty()) {
      const size_t i = rng() % flat.size();
      const std::string key = flat.entry(i).key;
      ASSERT_EQ(ref.at(key), flat.entry(i).value) << step;
      flat.eraseAt(i);
      ref.erase(key);
    } else {
      const int* v = flat.find(k);
      const auto it = ref.find(k);
      ASSERT_EQ(v != nullptr, it != ref.end()) << step << " '" << k << "'";
      if (v != nullptr) ASSERT_EQ(*v, it->second) << step;
    }
    ASSERT_EQ(flat.size(), ref.size()) << step;
    if (step % 5000 == 0) {
      for (const auto& [key, value] : ref) {
        const int* v = flat.find(key);
        ASSERT_NE(v, nullptr) << step << " '" << key << "'";
        ASSERT_EQ(*v, value);
      }
    }
  }
}

// Walking the entries from the last to the first while erasing some visits each entry once
// (how the rule engine expires keys).
TEST(FlatStringMap, EraseWhileWalkingBackwardsVisitsEveryEntryOnce) {
  FlatStringMap<int> m;
  for (int i = 0; i < 1000; ++i) m["key" + std::to_string(i)] = i;
  std::map<int, int> visits;
  for (size_t k = m.size(); k-- > 0;) {
    const int v = m.entry(k).value;
    ++visits[v];
    if (v % 3 != 0) m.eraseAt(k);
  }
  ASSERT_EQ(visits.size(), 1000u);
  for (const auto& [v, n] : visits) EXPECT_EQ(n, 1) << v;
  EXPECT_EQ(m.size(), 334u);
  for (int i = 0; i < 1000; ++i) {
    const int* v = m.find("key" + std::to_string(i));
    EXPECT_EQ(v != nullptr, i % 3 == 0) << i;
    if (v != nullptr) EXPECT_EQ(*v, i);
  }
  m.clear();
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.find("key0"), nullptr);
  m["again"] = 7;
  EXPECT_EQ(*m.find("again"), 7);
}

}  // namespace
}  // namespace riposte

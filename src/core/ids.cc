#include "riposte/core/ids.h"

#include <random>

namespace riposte {

std::string newId(Timestamp at) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t ms = static_cast<uint64_t>(at.micros / 1000);
  std::string out(26, '0');
  for (int i = 9; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kAlphabet[ms & 31];
    ms >>= 5;
  }
  uint64_t r1 = rng();
  uint64_t r2 = rng();
  for (size_t i = 10; i < 26; ++i) {
    uint64_t& r = i < 22 ? r1 : r2;
    out[i] = kAlphabet[r & 31];
    r >>= 5;
  }
  return out;
}

}  // namespace riposte

// libFuzzer target for the STIX 2.1 pattern extractor (see tests/fuzz/CMakeLists.txt and
// scripts/fuzz): any input either fails with a parse error or yields values that are normalised.
#include <cstdio>
#include <cstdlib>

#include "riposte/intel/indicator.h"
#include "riposte/intel/stix_pattern.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = riposte::intel::extractStixPattern(in);
  if (!r) return 0;
  for (const auto& v : r->values) {
    auto again = riposte::intel::normalise(v.type, v.value);
    if (!again || !(*again == v)) {
      std::fprintf(stderr, "property violated: pattern value '%s' is not normalised\n",
                   v.value.c_str());
      std::abort();
    }
  }
  if (r->values.empty() && r->unsupported.empty()) {
    std::fprintf(stderr, "property violated: no values and no reason\n");
    std::abort();
  }
  return 0;
}

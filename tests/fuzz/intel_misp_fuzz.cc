// libFuzzer target for the misp feed parser (see tests/fuzz/CMakeLists.txt and scripts/fuzz).
#include "fuzz/intel_fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  riposte::fuzz::runFeed(riposte::intel::FeedFormat::kMisp, data, size);
  return 0;
}

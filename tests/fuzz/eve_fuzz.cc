// libFuzzer target for the eve parser (see tests/fuzz/CMakeLists.txt and scripts/fuzz).
#include "fuzz/fuzz_common.h"
#include "riposte/ingest/eve_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A fresh parser per input keeps runs reproducible (the Zeek parser keeps header state).
  riposte::EveParser p;
  riposte::fuzz::run(p, data, size);
  return 0;
}

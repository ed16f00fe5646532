// libFuzzer target for the access_log parser (see tests/fuzz/CMakeLists.txt and scripts/fuzz).
#include "fuzz/fuzz_common.h"
#include "riposte/ingest/access_log_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A fresh parser per input keeps runs reproducible (the Zeek parser keeps header state).
  riposte::AccessLogParser p("nginx");
  riposte::fuzz::run(p, data, size);
  return 0;
}

// libFuzzer target for the syslog header parser (RFC 3164, RFC 3339 and RFC 5424 headers):
// every view it returns must lie inside the input line.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "riposte/ingest/syslog_header.h"

namespace {

void inside(std::string_view whole, std::string_view part) {
  if (part.empty()) return;
  if (part.data() < whole.data() || part.data() + part.size() > whole.data() + whole.size()) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  riposte::ParseContext ctx;
  ctx.reference = riposte::Timestamp::fromSeconds(1'760'000'000);
  size_t start = 0;
  while (start <= in.size()) {
    size_t end = in.find('\n', start);
    if (end == std::string_view::npos) end = in.size();
    const std::string_view line = in.substr(start, end - start);
    for (int year : {0, 2024}) {
      if (year != 0) ctx.year = year;
      riposte::SyslogHeader h;
      if (riposte::parseSyslogHeader(line, ctx, h)) {
        for (auto v : {h.timestamp_text, h.host, h.program, h.pid, h.message}) inside(line, v);
        if (h.pri > 191) std::abort();
      }
    }
    start = end + 1;
  }
  return 0;
}

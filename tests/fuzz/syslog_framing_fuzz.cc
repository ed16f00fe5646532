// libFuzzer target for the TCP syslog framer (see tests/fuzz/CMakeLists.txt and scripts/fuzz):
// the input is cut into reads of varying sizes; every frame must respect the line limit and
// the buffer must stay bounded, whatever the bytes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "riposte/ingest/syslog_framing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t max_line = 16 + data[0] * 4;  // 16..1036: small limits reach the cut paths
  const size_t step = 1 + data[1] % 64;
  const std::string_view in(reinterpret_cast<const char*>(data) + 2, size - 2);
  riposte::SyslogFramer f(max_line);
  riposte::SyslogFramer::Frame m;
  volatile size_t sink = 0;
  auto check = [&] {
    if (m.text.size() > max_line) std::abort();
    for (char c : m.text) sink = sink + static_cast<unsigned char>(c);
  };
  for (size_t i = 0; i < in.size(); i += step) {
    f.feed(in.substr(i, step));
    for (;;) {
      const auto r = f.peek(m);
      if (r == riposte::SyslogFramer::Next::kError) return 0;
      if (r != riposte::SyslogFramer::Next::kFrame) break;
      check();
      f.pop();
    }
    if (f.buffered() > max_line + riposte::SyslogFramer::kMaxLengthDigits + 2 + step) std::abort();
  }
  while (f.finish(m)) {
    check();
    f.pop();
  }
  return 0;
}

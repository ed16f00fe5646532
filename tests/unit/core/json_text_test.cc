// JSON written without building a document (appendJsonString, Event::toJson) must be the very
// text nlohmann::json writes for the same value: compared byte for byte over hand-picked and
// generated strings (invalid UTF-8 included) and over events with every kind of member.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <random>
#include <string>

#include "riposte/core/event.h"
#include "riposte/core/json_text.h"
#include "riposte/core/time.h"

namespace riposte {
namespace {

std::string reference(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace);
}

std::string ours(std::string_view s) {
  std::string out;
  appendJsonString(out, s);
  return out;
}

TEST(JsonText, StringsAreWrittenAsNlohmannWritesThem) {
  const std::vector<std::string> cases = {
      "",
      "plain ascii /index.html?a=1&b=2",
      "quote \" backslash \\ slash /",
      std::string("controls \b\f\n\r\t \x01\x1f\x7f end"),
      std::string("nul \0 inside", 12),
      "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",  // é, €, an emoji
      "\xe2\x82\x41",                                      // a 3-byte sequence cut by 'A'
      "\xe2\x82",                                          // cut by the end
      "\x82 lone continuation",
      "\xc0\xaf overlong slash",
      "\xe0\x80\x80 overlong nul",
      "\xed\xa0\x80 surrogate",
      "\xf4\x90\x80\x80 above U+10FFFF",
      "\xf5\x80 bad lead",
      "\xff\xfe",
  };
  for (const std::string& s : cases) {
    EXPECT_EQ(ours(s), reference(s)) << "for the bytes of: " << s;
  }
  // Generated: random bytes leaning towards UTF-8 lead and continuation bytes.
  std::mt19937 rng(7);
  const unsigned char pool[] = {'a', '"', '\\', 0x01, 0x0a, 0x7f, 0x80, 0xbf, 0xc2, 0xc0,
                                0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xa0, 0x9f};
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    const size_t len = rng() % 12;
    for (size_t i = 0; i < len; ++i) s += static_cast<char>(pool[rng() % sizeof pool]);
    ASSERT_EQ(ours(s), reference(s)) << "case " << n;
  }
}

// The object the former implementation built with nlohmann::json.
std::string referenceEvent(const Event& e) {
  nlohmann::json j = nlohmann::json::object();
  if (e.timestamp().isSet()) j["@timestamp"] = formatRfc3339(e.timestamp());
  j["event.kind"] = std::string(eventKindName(e.kind()));
  for (size_t i = 0; i < kFieldCount; ++i) {
    const auto f = static_cast<Field>(i);
    const std::string v(e.get(f));
    if (v.empty()) continue;
    if (f == Field::kSourcePort || f == Field::kDestinationPort || f == Field::kProcessPid ||
        f == Field::kHttpStatus || f == Field::kHttpBytes || f == Field::kEventSeverity) {
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (end != nullptr && *end == '\0') {
        j[std::string(fieldName(f))] = n;
        continue;
      }
    }
    j[std::string(fieldName(f))] = v;
  }
  if (e.repeat() > 1) j["event.count"] = e.repeat();
  for (const auto& [k, v] : e.extra()) j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(JsonText, EventToJsonIsTheDocumentNlohmannWrites) {
  Event e;
  e.setKind(EventKind::kHttp);
  EXPECT_EQ(e.toJson(), referenceEvent(e));
  e.setTimestamp(Timestamp::fromSeconds(1709460942));
  e.set(Field::kSourceIp, "203.0.113.7");
  e.set(Field::kSourcePort, "51234");
  e.set(Field::kHttpStatus, "404");
  e.set(Field::kHttpBytes, "12x");  // not a number: written as a string
  e.set(Field::kUrlOriginal, "/a\"b\\c?\xff");
  e.set(Field::kUserAgent, "Mozilla/5.0 \xc3\xa9");
  EXPECT_EQ(e.toJson(), referenceEvent(e));
  e.setRepeat(3);
  e.setExtra("zeek.uid", "C1a2b3");
  e.setExtra("aaa", "first in order");
  e.setExtra("source.ip", "198.51.100.1");  // an extra of a field's name replaces it
  e.setExtra("event.count", "many");
  EXPECT_EQ(e.toJson(), referenceEvent(e));
  EXPECT_NE(e.toJson().find("\"source.ip\":\"198.51.100.1\""), std::string::npos);
  EXPECT_EQ(e.toJson().find("203.0.113.7"), std::string::npos);
}

}  // namespace
}  // namespace riposte

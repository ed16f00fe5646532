// The searchable columns of a finding's evidence (source.ip, event.kind), read from the events'
// field JSON without a parsed document when it is flat, and through the JSON parser when not.
#include "store/evidence_keys.h"

#include <gtest/gtest.h>

namespace riposte {
namespace {

Finding withFields(std::initializer_list<std::string> fields,
                   Target entity = {TargetType::kUser, "root"}) {
  Finding f;
  f.entity = std::move(entity);
  for (const auto& j : fields) f.evidence.push_back({Timestamp::fromSeconds(1), "s", 0, "raw", j});
  return f;
}

TEST(EvidenceKeys, TheFindingsAddressWinsOverTheFields) {
  auto k = evidenceKeys(withFields({R"({"source.ip":"192.0.2.1","event.kind":"auth"})"},
                                   {TargetType::kIp, "198.51.100.1"}));
  EXPECT_EQ(k.source_ip, "198.51.100.1");
  EXPECT_EQ(k.kind, "auth");
}

TEST(EvidenceKeys, FirstAddressAndLastKindAcrossEvents) {
  auto k = evidenceKeys(withFields({"", R"({"event.kind":"web","source.ip":"192.0.2.1"})",
                                    R"({"source.ip":"192.0.2.2","event.kind":"auth"})"}));
  EXPECT_EQ(k.source_ip, "192.0.2.1");
  EXPECT_EQ(k.kind, "auth");
}

TEST(EvidenceKeys, FlatTextWithEscapesNumbersAndSpaces) {
  auto k = evidenceKeys(
      withFields({R"( { "msg" : "a \"source.ip\":\"6.6.6.6\" b\\" , "port" : 22 , "ok":true,)"
                  R"( "source.ip" : "192.0.2.3" , "event.kind" : "auth" } )"}));
  EXPECT_EQ(k.source_ip, "192.0.2.3");
  EXPECT_EQ(k.kind, "auth");
}

TEST(EvidenceKeys, ValuesThatAreNotStringsAreNotKept) {
  auto k =
      evidenceKeys(withFields({R"({"source.ip":"192.0.2.4","source.ip":7,"event.kind":null})"}));
  EXPECT_EQ(k.source_ip, "");  // the last duplicate wins, as in the JSON parser
  EXPECT_EQ(k.kind, "");
}

TEST(EvidenceKeys, NestedOrEscapedValuesGoThroughTheParser) {
  auto k = evidenceKeys(withFields({R"({"extra":{"source.ip":"6.6.6.6"},"source.ip":"192.0.2.5",)"
                                    R"("event.kind":"a\u0075th"})"}));
  EXPECT_EQ(k.source_ip, "192.0.2.5");
  EXPECT_EQ(k.kind, "auth");
}

TEST(EvidenceKeys, MalformedFieldsAreSkipped) {
  auto k = evidenceKeys(withFields({R"({"source.ip":"192.0.2.6")", R"({"source.ip":"192.0.2.7"} x)",
                                    "[1,2]", R"({"event.kind":"auth"})"}));
  EXPECT_EQ(k.source_ip, "");
  EXPECT_EQ(k.kind, "auth");
}

}  // namespace
}  // namespace riposte

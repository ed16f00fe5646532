// The text side of the rule and config history: content round trip, hash and unified diffs.
#include "riposte/engine/config_history.h"

#include <gtest/gtest.h>

namespace riposte {
namespace {

std::string lines(int from, int to, const std::string& changed_at = "", int at = -1) {
  std::string out;
  for (int i = from; i <= to; ++i) out += (i == at ? changed_at : "l" + std::to_string(i)) + "\n";
  return out;
}

TEST(ConfigHistory, ContentRoundTripsAndTheHashFollowsNamesAndTexts) {
  const std::vector<HistoryFile> files = {{"a.yaml", "x: 1\n"}, {"b.yaml", "no newline"}};
  const std::string content = historyContent(files);
  EXPECT_EQ(content, "=== a.yaml\nx: 1\n=== b.yaml\nno newline\n");
  const auto back = parseHistoryContent(content);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].name, "a.yaml");
  EXPECT_EQ(back[0].text, "x: 1\n");
  EXPECT_EQ(back[1].text, "no newline\n");
  EXPECT_EQ(historyHash(files), historyHash(files));
  EXPECT_NE(historyHash(files), historyHash({{"a.yaml", "x: 2\n"}, {"b.yaml", "no newline"}}));
  // A name and a text cannot trade bytes and keep the hash.
  EXPECT_NE(historyHash({{"ab", "c"}}), historyHash({{"a", "bc"}}));
  // The file as freshly read and as stored compare equal: no diff.
  EXPECT_EQ(unifiedDiff(back, files), "");
}

TEST(ConfigHistory, DiffShowsHunksWithContextAndFilesAddedOrRemoved) {
  // Two changes far apart: two hunks; lines 1..20, line 3 and line 17 changed.
  std::string before = lines(1, 20);
  std::string after = lines(1, 20, "CHANGED", 3);
  after.replace(after.find("l17\n"), 4, "l17b\n");
  const std::string d = unifiedDiff({{"r.yaml", before}, {"gone.yaml", "a\nb\n"}},
                                    {{"r.yaml", after}, {"new.yaml", "n\n"}});
  EXPECT_EQ(d,
            "--- a/r.yaml\n+++ b/r.yaml\n"
            "@@ -1,6 +1,6 @@\n l1\n l2\n-l3\n+CHANGED\n l4\n l5\n l6\n"
            "@@ -14,7 +14,7 @@\n l14\n l15\n l16\n-l17\n+l17b\n l18\n l19\n l20\n"
            "--- a/gone.yaml\n+++ b/gone.yaml\n@@ -1,2 +0,0 @@\n-a\n-b\n"
            "--- a/new.yaml\n+++ b/new.yaml\n@@ -0,0 +1,1 @@\n+n\n")
      << d;
  // Changes close together share one hunk; an insertion names the line before it.
  const std::string near =
      unifiedDiff({{"f", lines(1, 10)}}, {{"f", lines(1, 4) + "ins\n" + lines(5, 10, "X", 7)}});
  EXPECT_EQ(near,
            "--- a/f\n+++ b/f\n@@ -2,9 +2,10 @@\n l2\n l3\n l4\n+ins\n l5\n l6\n-l7\n+X\n l8\n "
            "l9\n l10\n")
      << near;
}

TEST(ConfigHistory, SecretsAreRedactedFromTheConfiguration) {
  const std::string yaml =
      "store:\n"
      "  type: postgres\n"
      "  url: \"postgresql://riposte:s3cret@db.example.net/riposte\"\n"
      "  # url: \"host=db password=hunter2 dbname=r\"\n"
      "actions:\n"
      "  - name: hook\n"
      "    hmac_secret: abcdef\n"
      "    token: \"${SLACK_TOKEN}\"\n"
      "    smtp_password: pw1\n"
      "    password_file: /etc/pw\n"
      "    threshold: 5\n";
  const std::string r = redactSecrets(yaml);
  EXPECT_EQ(r,
            "store:\n"
            "  type: postgres\n"
            "  url: \"postgresql://riposte:<redacted>@db.example.net/riposte\"\n"
            "  # url: \"host=db password=<redacted> dbname=r\"\n"
            "actions:\n"
            "  - name: hook\n"
            "    hmac_secret: <redacted>\n"
            "    token: \"${SLACK_TOKEN}\"\n"
            "    smtp_password: <redacted>\n"
            "    password_file: <redacted>\n"
            "    threshold: 5\n")
      << r;
  for (const char* secret : {"s3cret", "hunter2", "abcdef", "pw1"}) {
    EXPECT_EQ(r.find(secret), std::string::npos) << secret;
  }
}

}  // namespace
}  // namespace riposte

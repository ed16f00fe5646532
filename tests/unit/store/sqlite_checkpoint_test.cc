// SqliteStore checkpoints its WAL on a thread of its own; the WAL stays bounded while writers
// commit without pause, and nothing committed is lost across a reopen.
#include <gtest/gtest.h>

#include <filesystem>

#include "riposte/core/ids.h"
#include "riposte/store/sqlite_store.h"
#include "support/test_support.h"

namespace riposte {
namespace {

Decision decision(int i) {
  Decision d;
  d.id = newId();
  d.target = {TargetType::kIp, "198.18." + std::to_string(i / 256) + "." + std::to_string(i % 256)};
  d.detector = "ssh-bruteforce";
  d.reason = "5 failed logins within 60s";
  d.created = Timestamp::now();
  d.expires = d.created + std::chrono::hours(1);
  return d;
}

TEST(SqliteCheckpoint, WalStaysBoundedUnderBackToBackCommitsAndNothingIsLost) {
  testing::TempDir dir;
  const auto db = dir.path() / "r.db";
  constexpr int kDecisions = 8000;
  std::uintmax_t largest_wal = 0;
  {
    auto s = SqliteStore::open(db.string());
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    for (int i = 0; i < kDecisions; ++i) {
      const Decision d = decision(i);
      // One commit each, as the engine does: about 60,000 WAL pages (240 MiB) in all.
      ASSERT_TRUE((*s)->saveDecision(d).isOk());
      AuditEntry a;
      a.actor = "engine";
      a.kind = "decision.created";
      a.target = d.target.value;
      a.reason = d.reason;
      a.details_json = d.toJson();
      ASSERT_TRUE((*s)->appendAudit(a).isOk());
      if (i % 200 == 0) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(db.string() + "-wal", ec);
        if (!ec) largest_wal = std::max(largest_wal, size);
      }
    }
  }
  // 10,000 pages of 4 KiB (where a commit checkpoints itself) plus one transaction's pages,
  // with frame headers.
  EXPECT_GT(largest_wal, 0u);
  EXPECT_LT(largest_wal, 48u * 1024 * 1024) << "the WAL grew past the checkpoint cap";
  auto s = SqliteStore::open(db.string());
  ASSERT_TRUE(s.isOk());
  DecisionFilter f;
  f.limit = 100'000;
  EXPECT_EQ((*s)->listDecisions(f)->size(), static_cast<size_t>(kDecisions));
  EXPECT_EQ((*s)->listAudit(0, 100'000)->size(), static_cast<size_t>(kDecisions));
}

}  // namespace
}  // namespace riposte

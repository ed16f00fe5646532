// Executor: off-thread, bounded queue, watchdog timeout, retries with backoff, idempotency,
// allowlist re-check, results through the callback.
#include "riposte/respond/executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "riposte/core/ids.h"

namespace riposte {
namespace {

class FakeAction : public Action {
 public:
  std::string_view name() const override { return "fake"; }
  Status apply(const Decision&) override {
    thread_id = std::this_thread::get_id();
    ++applies;
    if (hang_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(hang_ms.load()));
    if (fail_remaining > 0) {
      --fail_remaining;
      return Status::unavailable("fake failure");
    }
    in_force = true;
    return Status::ok();
  }
  Status undo(const Decision&) override {
    ++undos;
    in_force = false;
    return Status::ok();
  }
  Status verify(const Decision&) override {
    return in_force || !verify_strict ? Status::ok() : Status::notFound("not in force");
  }
  bool enforcing() const override { return true; }

  std::atomic<int> applies{0}, undos{0}, fail_remaining{0}, hang_ms{0};
  std::atomic<bool> in_force{false}, verify_strict{true};
  std::thread::id thread_id;
};

Decision decisionFor(const std::string& ip) {
  Decision d;
  d.id = newId();
  d.target = {TargetType::kIp, ip};
  d.created = Timestamp::now();
  d.expires = d.created + std::chrono::minutes(5);
  return d;
}

struct Collected {
  std::mutex mu;
  std::vector<ActionResult> results;
  Executor::ResultCallback cb() {
    return [this](const ActionResult& r) {
      std::lock_guard<std::mutex> l(mu);
      results.push_back(r);
    };
  }
  std::vector<ActionResult> get() {
    std::lock_guard<std::mutex> l(mu);
    return results;
  }
};

bool waitForResults(Collected& c, size_t n, int timeout_ms = 5000) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < until) {
    if (c.get().size() >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

ExecutorOptions fastOptions() {
  ExecutorOptions o;
  o.action_timeout = std::chrono::milliseconds(300);
  o.max_attempts = 3;
  o.backoff_initial = std::chrono::milliseconds(20);
  o.backoff_max = std::chrono::milliseconds(80);
  return o;
}

TEST(Executor, AppliesOffTheCallingThreadAndReports) {
  FakeAction a;
  Collected c;
  Executor x({&a}, fastOptions(), c.cb(), {});
  ASSERT_TRUE(x.submitApply(decisionFor("192.0.2.1")));
  x.drain();
  auto rs = c.get();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_TRUE(rs[0].status.isOk());
  EXPECT_EQ(rs[0].attempts, 1);
  EXPECT_EQ(rs[0].action, "fake");
  EXPECT_NE(a.thread_id, std::this_thread::get_id());
}

TEST(Executor, SameDecisionTwiceChangesNothing) {
  FakeAction a;
  Collected c;
  Executor x({&a}, fastOptions(), c.cb(), {});
  const Decision d = decisionFor("192.0.2.1");
  ASSERT_TRUE(x.submitApply(d));
  ASSERT_TRUE(x.submitApply(d));
  ASSERT_TRUE(x.submitBatch({d}));
  x.drain();
  EXPECT_EQ(a.applies.load(), 1);
  auto rs = c.get();
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_FALSE(rs[0].duplicate);
  EXPECT_TRUE(rs[1].duplicate);
  EXPECT_TRUE(rs[2].duplicate);
  // After undo, the same decision may be applied again.
  ASSERT_TRUE(x.submitUndo(d));
  ASSERT_TRUE(x.submitApply(d));
  x.drain();
  EXPECT_EQ(a.undos.load(), 1);
  EXPECT_EQ(a.applies.load(), 2);
}

TEST(Executor, RetriesWithBackoffThenSucceeds) {
  FakeAction a;
  a.fail_remaining = 2;
  Collected c;
  Executor x({&a}, fastOptions(), c.cb(), {});
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(x.submitApply(decisionFor("192.0.2.1")));
  x.drain();
  const auto took = std::chrono::steady_clock::now() - t0;
  auto rs = c.get();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_TRUE(rs[0].status.isOk());
  EXPECT_EQ(rs[0].attempts, 3);
  EXPECT_GE(took, std::chrono::milliseconds(20 + 40));  // two backoffs, doubling
}

TEST(Executor, GivesUpAfterMaxAttempts) {
  FakeAction a;
  a.fail_remaining = 100;
  Collected c;
  Executor x({&a}, fastOptions(), c.cb(), {});
  ASSERT_TRUE(x.submitApply(decisionFor("192.0.2.1")));
  x.drain();
  auto rs = c.get();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_FALSE(rs[0].status.isOk());
  EXPECT_EQ(rs[0].attempts, 3);
  EXPECT_EQ(a.applies.load(), 3);
}

TEST(Executor, WatchdogTimesOutAHangingAction) {
  FakeAction a;
  a.hang_ms = 1500;
  Collected c;
  auto o = fastOptions();
  o.max_attempts = 2;
  Executor x({&a}, o, c.cb(), {});
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(x.submitApply(decisionFor("192.0.2.1")));
  ASSERT_TRUE(waitForResults(c, 1));
  const auto took = std::chrono::steady_clock::now() - t0;
  auto rs = c.get();
  EXPECT_FALSE(rs[0].status.isOk());
  EXPECT_TRUE(rs[0].timed_out);
  // The watchdog answered well before the hang ended.
  EXPECT_LT(took, std::chrono::milliseconds(1400));
  a.hang_ms = 0;
}

TEST(Executor, VerifyFailureIsReported) {
  // apply says OK but the effect is not there.
  class Liar : public FakeAction {
   public:
    Status apply(const Decision&) override { return Status::ok(); }
  } liar;
  Collected c2;
  Executor y({&liar}, fastOptions(), c2.cb(), {});
  ASSERT_TRUE(y.submitApply(decisionFor("192.0.2.9")));
  y.drain();
  auto rs = c2.get();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_TRUE(rs[0].verify_failed);
  EXPECT_FALSE(rs[0].status.isOk());
}

TEST(Executor, FullQueueRefusesAndCounts) {
  FakeAction a;
  a.hang_ms = 200;
  Collected c;
  auto o = fastOptions();
  o.queue_capacity = 2;
  o.action_timeout = std::chrono::seconds(2);
  Executor x({&a}, o, c.cb(), {});
  int accepted = 0;
  for (int i = 0; i < 10; ++i) accepted += x.submitApply(decisionFor("192.0.2.1")) ? 1 : 0;
  EXPECT_LE(accepted, 3);  // two queued + at most one already taken by the dispatcher
  EXPECT_EQ(x.queueFull(), static_cast<uint64_t>(10 - accepted));
  a.hang_ms = 0;
  x.drain();
}

TEST(Executor, AllowlistIsCheckedAgainBeforeActing) {
  FakeAction a;
  Collected c;
  Executor x({&a}, fastOptions(), c.cb(), [](const Target& t) { return t.value == "192.0.2.77"; });
  ASSERT_TRUE(x.submitApply(decisionFor("192.0.2.77")));
  ASSERT_TRUE(x.submitBatch({decisionFor("192.0.2.77"), decisionFor("192.0.2.78")}));
  x.drain();
  EXPECT_EQ(a.applies.load(), 1);  // only .78, through the batch
  auto rs = c.get();
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_TRUE(rs[0].allowlisted);
  // The batch's refusal is reported (to be audited), then the batch of the rest.
  EXPECT_TRUE(rs[1].allowlisted);
  EXPECT_EQ(rs[1].op, ActionOp::kApplyBatch);
  ASSERT_EQ(rs[1].decisions.size(), 1u);
  EXPECT_EQ(rs[1].decisions[0].target.value, "192.0.2.77");
  EXPECT_FALSE(rs[2].allowlisted);
  ASSERT_EQ(rs[2].decisions.size(), 1u);
  EXPECT_EQ(rs[2].decisions[0].target.value, "192.0.2.78");
}

}  // namespace
}  // namespace riposte

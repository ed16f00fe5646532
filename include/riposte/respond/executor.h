// Executor: runs actions off the detection thread.
//
// Jobs (apply, undo, a batch apply for restore, an admin notification) go into ONE bounded
// queue; submit*() never blocks: a full queue is counted, logged once per burst, and the
// caller learns it (false) so it can mark the decision failed and audit it. A dispatcher thread
// takes jobs in order and calls each action with a timeout: every action has its own worker
// thread, and the dispatcher waits for it at most `action_timeout` (the watchdog). A call that
// overruns is reported as failed; the stuck worker refuses further calls until it returns.
// Failures are retried with exponential backoff (initial, doubling, capped). After a successful
// apply of an enforcing action, verify() confirms the effect, in the same worker call as the
// apply (one timeout covers both; a retry repeats only a failed apply); a failed verify is
// reported as such (the engine then falls back to manual mode).
//
// Idempotency key = decision id + action name: applying a decision that is already applied
// through an action changes nothing (reported as a duplicate), until it is undone.
// The allowlist is checked again here, right before an action touches anything: an allowlisted
// decision in an apply, a batch or a reconcile never reaches the action, and each refusal is
// reported (allowlisted = true; a batch's or a reconcile's refusals in one result listing them).
//
// Every outcome is reported through the ResultCallback, on the dispatcher thread.
//
// Thread safety: submit*(), drain(), stats() may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "riposte/core/decision.h"
#include "riposte/core/time.h"
#include "riposte/respond/action.h"

namespace riposte {

struct ExecutorOptions {
  size_t queue_capacity = 10'000;
  Duration action_timeout = std::chrono::seconds(10);
  int max_attempts = 3;  // 1 = no retry
  Duration backoff_initial = std::chrono::milliseconds(200);
  Duration backoff_max = std::chrono::seconds(5);
  bool verify_after_apply = true;
};

enum class ActionOp { kApply, kUndo, kApplyBatch, kNotify, kReconcile };
std::string_view actionOpName(ActionOp op);

struct ActionResult {
  ActionOp op = ActionOp::kApply;
  std::string action;               // action name
  std::vector<Decision> decisions;  // one, or the batch
  Status status;                    // OK, or the last failure
  int attempts = 0;
  bool duplicate = false;      // already applied through this action: nothing done
  bool allowlisted = false;    // refused: the target(s) in `decisions` are allowlisted
  bool verify_failed = false;  // apply said OK but verify() did not find the effect
  bool timed_out = false;
  bool enforcing = false;     // the action's enforcing()
  ReconcileReport reconcile;  // kReconcile
};

class Executor {
 public:
  using ResultCallback = std::function<void(const ActionResult&)>;
  using AllowlistCheck = std::function<bool(const Target&)>;

  // The executor does not own the actions; they must outlive it.
  Executor(const std::vector<Action*>& actions, ExecutorOptions options, ResultCallback on_result,
           AllowlistCheck allowlisted);
  ~Executor();  // finishes queued jobs, then stops
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queue an apply/undo of `d` through every action (or only `only` when non-empty).
  // False when the queue is full (counted; nothing will run).
  bool submitApply(const Decision& d, const std::string& only = {});
  bool submitUndo(const Decision& d, const std::string& only = {});
  // Restore / reconcile: one batch per action (one transaction for actions that support it).
  // With `enforcing_only` (restore after a restart), non-enforcing actions (alerts) are not
  // called again: their keys are only recorded, so a restart does not re-send every alert.
  bool submitBatch(std::vector<Decision> ds, bool enforcing_only = false);
  // An admin notification through the named actions (must implement Action::notify).
  bool submitNotify(const std::string& subject, const std::string& text,
                    const std::vector<std::string>& actions);

  // Reconcile: every enforcing action compares what is in force with these active decisions.
  bool submitReconcile(std::vector<Decision> active);

  // Waits until every queued job has finished (tests, end of replay, shutdown).
  void drain();

  uint64_t queueFull() const { return queue_full_.load(); }
  size_t queued() const;

 private:
  struct Job {
    ActionOp op;
    std::vector<Decision> decisions;
    std::string only;
    std::vector<std::string> notify_to;
    std::string subject, text;
    bool enforcing_only = false;
  };
  class Worker;

  bool push(Job j);
  void dispatchLoop();
  void runJob(const Job& j);
  // One call with the watchdog; sets timed_out.
  Status callWithTimeout(Worker& w, const std::function<Status()>& fn, bool& timed_out);
  Status callWithRetries(Worker& w, const std::function<Status()>& fn, ActionResult& r);
  // Reports the decisions of a batch or reconcile that the allowlist refused (one result).
  void reportRefused(ActionOp op, const std::string& action, std::vector<Decision> refused);

  std::vector<std::unique_ptr<Worker>> workers_;
  ExecutorOptions opt_;
  ResultCallback on_result_;
  AllowlistCheck allowlisted_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // jobs available / stopping
  std::condition_variable idle_cv_;  // queue empty and dispatcher idle
  std::deque<Job> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  bool full_logged_ = false;
  std::atomic<uint64_t> queue_full_{0};
  std::unordered_set<std::string> applied_;  // idempotency keys: decision id + '\0' + action
  std::thread dispatcher_;
};

}  // namespace riposte

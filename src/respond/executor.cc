#include "riposte/respond/executor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

namespace riposte {

std::string_view actionOpName(ActionOp op) {
  switch (op) {
    case ActionOp::kApply: return "apply";
    case ActionOp::kUndo: return "undo";
    case ActionOp::kApplyBatch: return "apply_batch";
    case ActionOp::kNotify: return "notify";
    case ActionOp::kReconcile: return "reconcile";
  }
  return "?";
}

// One thread per action: the dispatcher hands it a call and waits at most the timeout.
class Executor::Worker {
 public:
  explicit Worker(Action* a) : action_(a), thread_([this] { loop(); }) {}
  ~Worker() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();  // a call stuck forever would hang shutdown; actions have own timeouts too
  }
  Action& action() { return *action_; }

  // Runs fn on the worker; returns nullopt when it did not finish within `timeout`.
  std::optional<Status> call(const std::function<Status()>& fn, Duration timeout) {
    std::unique_lock<std::mutex> l(mu_);
    if (busy_) {
      return Status::unavailable("action '" + std::string(action_->name()) +
                                 "' is still stuck in an earlier call");
    }
    fn_ = fn;
    busy_ = true;
    done_ = false;
    ++gen_;
    const uint64_t my = gen_;
    cv_.notify_all();
    const bool finished = done_cv_.wait_for(l, std::chrono::microseconds(timeout.count()),
                                            [&] { return done_ && gen_ == my; });
    if (!finished) return std::nullopt;  // still busy_: later calls fail fast until it returns
    return result_;
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return stop_ || (busy_ && !done_); });
      if (busy_ && !done_) {
        auto fn = fn_;
        l.unlock();
        Status st;
        try {
          st = fn();
        } catch (const std::exception& e) {
          st = Status::internal(std::string("action threw: ") + e.what());
        }
        l.lock();
        result_ = st;
        done_ = true;
        busy_ = false;
        done_cv_.notify_all();
        continue;
      }
      if (stop_) return;
    }
  }

  Action* action_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::function<Status()> fn_;
  Status result_;
  bool busy_ = false, done_ = false, stop_ = false;
  uint64_t gen_ = 0;
  std::thread thread_;
};

Executor::Executor(const std::vector<Action*>& actions, ExecutorOptions options,
                   ResultCallback on_result, AllowlistCheck allowlisted)
    : opt_(options), on_result_(std::move(on_result)), allowlisted_(std::move(allowlisted)) {
  for (Action* a : actions) workers_.push_back(std::make_unique<Worker>(a));
  dispatcher_ = std::thread([this] { dispatchLoop(); });
}

Executor::~Executor() {
  drain();
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  dispatcher_.join();
}

size_t Executor::queued() const {
  std::lock_guard<std::mutex> l(mu_);
  return queue_.size();
}

bool Executor::push(Job j) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (queue_.size() >= opt_.queue_capacity) {
      ++queue_full_;
      if (!full_logged_) {
        full_logged_ = true;
        spdlog::error("action queue full ({} jobs): new jobs are refused until it drains",
                      opt_.queue_capacity);
      }
      return false;
    }
    full_logged_ = false;
    queue_.push_back(std::move(j));
  }
  cv_.notify_all();
  return true;
}

bool Executor::submitApply(const Decision& d, const std::string& only) {
  return push(Job{ActionOp::kApply, {d}, only, {}, {}, {}, false});
}
bool Executor::submitUndo(const Decision& d, const std::string& only) {
  return push(Job{ActionOp::kUndo, {d}, only, {}, {}, {}, false});
}
bool Executor::submitBatch(std::vector<Decision> ds, bool enforcing_only) {
  return push(Job{ActionOp::kApplyBatch, std::move(ds), {}, {}, {}, {}, enforcing_only});
}
bool Executor::submitReconcile(std::vector<Decision> active) {
  return push(Job{ActionOp::kReconcile, std::move(active), {}, {}, {}, {}, false});
}
bool Executor::submitNotify(const std::string& subject, const std::string& text,
                            const std::vector<std::string>& actions) {
  return push(Job{ActionOp::kNotify, {}, {}, actions, subject, text, false});
}

void Executor::drain() {
  std::unique_lock<std::mutex> l(mu_);
  idle_cv_.wait(l, [&] { return queue_.empty() && !busy_; });
}

void Executor::dispatchLoop() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    Job j = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    l.unlock();
    runJob(j);
    l.lock();
    busy_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
}

Status Executor::callWithTimeout(Worker& w, const std::function<Status()>& fn, bool& timed_out) {
  auto r = w.call(fn, opt_.action_timeout);
  if (!r) {
    timed_out = true;
    return Status::unavailable("action '" + std::string(w.action().name()) + "' timed out after " +
                               std::to_string(opt_.action_timeout.count() / 1000) + " ms");
  }
  return *r;
}

Status Executor::callWithRetries(Worker& w, const std::function<Status()>& fn, ActionResult& r) {
  Duration backoff = opt_.backoff_initial;
  Status st;
  for (int attempt = 1; attempt <= std::max(1, opt_.max_attempts); ++attempt) {
    r.attempts = attempt;
    bool timed_out = false;
    st = callWithTimeout(w, fn, timed_out);
    r.timed_out = r.timed_out || timed_out;
    if (st.isOk()) return st;
    // Refusals that no retry can change.
    if (st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kFailedPrecondition) {
      return st;
    }
    if (attempt < opt_.max_attempts) {
      spdlog::warn("action {} attempt {}/{} failed: {}; retrying in {} ms", w.action().name(),
                   attempt, opt_.max_attempts, st.toString(), backoff.count() / 1000);
      std::this_thread::sleep_for(std::chrono::microseconds(backoff.count()));
      backoff = std::min(opt_.backoff_max, backoff * 2);
    }
  }
  return st;
}

void Executor::reportRefused(ActionOp op, const std::string& action,
                             std::vector<Decision> refused) {
  if (refused.empty() || !on_result_) return;
  ActionResult r;
  r.op = op;
  r.action = action;
  r.allowlisted = true;
  r.status =
      Status::permissionDenied(std::to_string(refused.size()) + " allowlisted target(s) refused");
  r.decisions = std::move(refused);
  on_result_(r);
}

void Executor::runJob(const Job& j) {
  for (auto& wp : workers_) {
    Worker& w = *wp;
    Action& a = w.action();
    const std::string name(a.name());
    if (!j.only.empty() && j.only != name) continue;
    ActionResult r;
    r.op = j.op;
    r.action = name;
    r.enforcing = a.enforcing();
    if (j.op != ActionOp::kApplyBatch) r.decisions = j.decisions;  // a batch: what was done
    switch (j.op) {
      case ActionOp::kReconcile: {
        if (!a.enforcing()) continue;
        r.decisions.clear();
        // An allowlisted decision is not in force: reconcile neither re-adds its element nor
        // keeps it (it is removed as unexplained).
        std::vector<Decision> active;
        std::vector<Decision> refused;
        for (const auto& d : j.decisions) {
          (allowlisted_ && allowlisted_(d.target) ? refused : active).push_back(d);
        }
        reportRefused(j.op, name, std::move(refused));
        auto rep = std::make_shared<ReconcileReport>();
        r.status = callWithRetries(
            w,
            [&a, active = std::move(active), rep] {
              auto x = a.reconcile(active);
              if (!x) return x.status();
              *rep = *x;
              return Status::ok();
            },
            r);
        r.reconcile = *rep;
        break;
      }
      case ActionOp::kNotify: {
        if (std::find(j.notify_to.begin(), j.notify_to.end(), name) == j.notify_to.end()) continue;
        r.status = callWithRetries(
            w, [&a, sub = j.subject, text = j.text] { return a.notify(sub, text); }, r);
        break;
      }
      case ActionOp::kApply: {
        const Decision& d = j.decisions.front();
        if (allowlisted_ && allowlisted_(d.target)) {
          r.allowlisted = true;
          r.status = Status::permissionDenied(d.target.value + " is allowlisted");
          break;
        }
        const std::string key = d.id + '\0' + name;
        {
          std::lock_guard<std::mutex> l(mu_);
          if (applied_.count(key) != 0) {
            r.duplicate = true;
            break;
          }
        }
        // Apply and, once it succeeded, verify in the same call on the worker (one hand-over
        // each way, not two); a retry repeats the apply only when the apply failed.
        const bool verify = opt_.verify_after_apply && a.enforcing();
        auto verified = std::make_shared<Status>();
        r.status = callWithRetries(
            w,
            [&a, d, verify, verified] {
              Status st = a.apply(d);
              if (st.isOk() && verify) *verified = a.verify(d);
              return st;
            },
            r);
        if (r.status.isOk() && !verified->isOk()) {
          r.verify_failed = true;
          r.status = verified->withContext("verify after apply");
        }
        if (r.status.isOk()) {
          std::lock_guard<std::mutex> l(mu_);
          applied_.insert(key);
        }
        break;
      }
      case ActionOp::kApplyBatch: {
        // Shared with the call: a call that overruns its timeout still reads it. A restore
        // batch holds every active decision, so it is copied once, not per hand-over.
        auto todo = std::make_shared<std::vector<Decision>>();
        todo->reserve(j.decisions.size());
        std::vector<Decision> refused;
        {
          std::lock_guard<std::mutex> l(mu_);
          for (const auto& d : j.decisions) {
            if (allowlisted_ && allowlisted_(d.target)) {
              refused.push_back(d);
              continue;
            }
            if (applied_.count(d.id + '\0' + name) == 0) todo->push_back(d);
          }
        }
        reportRefused(j.op, name, std::move(refused));
        if (todo->empty()) {
          r.duplicate = true;
          break;
        }
        if (j.enforcing_only && !a.enforcing()) {
          std::lock_guard<std::mutex> l(mu_);
          for (const auto& d : *todo) applied_.insert(d.id + '\0' + name);
          r.decisions = std::move(*todo);
          r.duplicate = true;  // nothing done
          break;
        }
        r.status = callWithRetries(
            w, [&a, todo] { return a.applyBatch(*todo); }, r);
        if (r.status.isOk()) {
          std::lock_guard<std::mutex> l(mu_);
          for (const auto& d : *todo) applied_.insert(d.id + '\0' + name);
        }
        r.decisions = r.timed_out ? *todo : std::move(*todo);
        break;
      }
      case ActionOp::kUndo: {
        const Decision& d = j.decisions.front();
        r.status = callWithRetries(
            w, [&a, d] { return a.undo(d); }, r);
        if (r.status.isOk()) {
          std::lock_guard<std::mutex> l(mu_);
          applied_.erase(d.id + '\0' + name);
        }
        break;
      }
    }
    if (on_result_) on_result_(r);
  }
}

}  // namespace riposte

// Action: a plugin that enforces or notifies a decision and can undo what it did.
//
// apply() and undo() are idempotent: applying the same decision twice changes nothing.
// Actions run off the detection thread.
//
// Thread safety: an action is called from one executor thread at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/core/decision.h"
#include "riposte/core/status.h"

namespace riposte {

struct ReconcileReport {
  size_t readded = 0;  // active decisions whose element had vanished
  size_t removed = 0;  // elements no active decision explains
};

class Action {
 public:
  virtual ~Action() = default;
  virtual std::string_view name() const = 0;
  virtual Status apply(const Decision& d) = 0;
  virtual Status undo(const Decision& d) = 0;
  // Whether the decision is in force where the action can tell (e.g. the element is in the
  // firewall set). Notification actions return OK.
  virtual Status verify(const Decision& d) {
    (void)d;
    return Status::ok();
  }
  // Applies many decisions at once (restore after a restart). Enforcing actions override this
  // to use one transaction; the default applies one by one and stops at the first failure.
  virtual Status applyBatch(const std::vector<Decision>& ds) {
    for (const auto& d : ds) {
      Status st = apply(d);
      if (!st.isOk()) return st;
    }
    return Status::ok();
  }
  // Whether apply() changes something outside Riposte that can drift (firewall state) and so
  // is worth verify() and reconcile(); notification actions return false.
  virtual bool enforcing() const { return false; }
  // An admin notification (manual mode, circuit breaker). Notification channels implement it.
  virtual Status notify(const std::string& subject, const std::string& text) {
    (void)subject;
    (void)text;
    return Status::failedPrecondition("action '" + std::string(name()) +
                                      "' cannot send notifications");
  }
  // Compares what is in force with the active decisions and repairs drift.
  virtual Result<ReconcileReport> reconcile(const std::vector<Decision>& active) {
    (void)active;
    return ReconcileReport{};
  }
};

using ActionPtr = std::unique_ptr<Action>;

}  // namespace riposte

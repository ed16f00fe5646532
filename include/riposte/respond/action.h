// Action: a plugin that enforces or notifies a decision and can undo what it did.
//
// apply() and undo() are idempotent: applying the same decision twice changes nothing.
// Actions run off the detection thread.
//
// Thread safety: an action is called from one executor thread at a time.
#pragma once

#include <memory>
#include <string_view>

#include "riposte/core/decision.h"
#include "riposte/core/status.h"

namespace riposte {

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
};

using ActionPtr = std::unique_ptr<Action>;

}  // namespace riposte

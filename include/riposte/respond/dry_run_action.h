// DryRunAction: an action configured with `dry_run: true`.
//
// The configured action is built (so its options are checked as usual) and kept, but never
// called: apply, undo, a restore batch, reconcile and admin notifications only log what it
// would have done ("fw: would block 192.0.2.1 for 4h") and touch nothing outside Riposte —
// no firewall table is created, no request is sent. It reports the wrapped action's name and
// enforcing(), so the engine treats its decisions as it would otherwise (approval tiers,
// restore, manual mode), and audits each outcome as `action.dry_run` with the same sentence.
// Other actions of the engine run normally. The whole-engine switch is `engine.dry_run`.
//
// Thread safety: called from one executor thread.
#pragma once

#include <string>
#include <string_view>

#include "riposte/respond/action.h"

namespace riposte {

// What `action` would do: "fw: would block 192.0.2.1 for 4h" (undo: "fw: would undo block on
// 192.0.2.1").
std::string wouldDo(std::string_view action, const Decision& d, bool undo = false);

class DryRunAction : public Action {
 public:
  explicit DryRunAction(ActionPtr wrapped) : wrapped_(std::move(wrapped)) {}

  std::string_view name() const override { return wrapped_->name(); }
  bool enforcing() const override { return wrapped_->enforcing(); }
  Status apply(const Decision& d) override;
  Status undo(const Decision& d) override;
  Status applyBatch(const std::vector<Decision>& ds) override;
  Status notify(const std::string& subject, const std::string& text) override;
  Result<ReconcileReport> reconcile(const std::vector<Decision>& active) override;

 private:
  ActionPtr wrapped_;
};

}  // namespace riposte

#include "riposte/respond/dry_run_action.h"

#include <spdlog/spdlog.h>

namespace riposte {

std::string wouldDo(std::string_view action, const Decision& d, bool undo) {
  std::string s(action);
  s += ": would ";
  if (undo) {
    s += "undo " + d.action + " on " + d.target.value;
    return s;
  }
  s += d.action + " " + d.target.value;
  if (d.expires.isSet() && d.created.isSet() && d.expires > d.created) {
    s += " for " + formatDuration(d.expires - d.created);
  }
  return s;
}

Status DryRunAction::apply(const Decision& d) {
  spdlog::info("dry run: {}", wouldDo(name(), d));
  return Status::ok();
}

Status DryRunAction::undo(const Decision& d) {
  spdlog::info("dry run: {}", wouldDo(name(), d, true));
  return Status::ok();
}

Status DryRunAction::applyBatch(const std::vector<Decision>& ds) {
  spdlog::info("dry run: {}: would re-apply {} decisions", name(), ds.size());
  return Status::ok();
}

Status DryRunAction::notify(const std::string& subject, const std::string& text) {
  (void)text;
  spdlog::info("dry run: {}: would notify the admins: {}", name(), subject);
  return Status::ok();
}

Result<ReconcileReport> DryRunAction::reconcile(const std::vector<Decision>& active) {
  (void)active;
  return ReconcileReport{};  // nothing is in force, so nothing drifts
}

}  // namespace riposte

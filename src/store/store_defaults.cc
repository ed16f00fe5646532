// Default answers of the optional Store views: a store that does not implement them says so.
#include "riposte/store/store.h"

namespace riposte {

namespace {
Status unsupported(const char* what) {
  return Status::failedPrecondition(std::string(what) + " is not supported by this store");
}
}  // namespace

bool EngineMode::setName(std::string_view n) {
  if (n != "auto" && n != "manual" && n != "dry-run") return false;
  manual = n == "manual";
  dry_run = n == "dry-run";
  return true;
}

Status Store::saveDecisionWithAudit(const Finding* finding, const Decision& d, AuditEntry& entry) {
  if (finding != nullptr) RIPOSTE_RETURN_IF_ERROR(saveFinding(*finding));
  RIPOSTE_RETURN_IF_ERROR(saveDecision(d));
  return appendAudit(entry);
}

Result<std::vector<RuleModeRecord>> Store::loadRuleModes() { return unsupported("loadRuleModes"); }
Status Store::saveRuleMode(const RuleModeRecord&) { return unsupported("saveRuleMode"); }
Status Store::deleteRuleMode(const std::string&) { return unsupported("deleteRuleMode"); }

Result<std::optional<Decision>> Store::getDecision(const std::string&) {
  return unsupported("getDecision");
}
Result<std::vector<Decision>> Store::queryDecisions(const DecisionQuery&) {
  return unsupported("queryDecisions");
}
Result<std::vector<DecisionCount>> Store::countDecisions() { return unsupported("countDecisions"); }
Result<int64_t> Store::countDecisionsInState(DecisionState) {
  return unsupported("countDecisionsInState");
}
Result<std::vector<FindingRecord>> Store::listFindings(const FindingQuery&) {
  return unsupported("listFindings");
}
Result<std::optional<FindingRecord>> Store::getFinding(const std::string&) {
  return unsupported("getFinding");
}
Status Store::setFindingFalsePositive(const std::string&, bool) {
  return unsupported("setFindingFalsePositive");
}
Result<std::vector<StoredEvent>> Store::searchEvents(const EventQuery&) {
  return unsupported("searchEvents");
}
Result<std::vector<AuditEntry>> Store::queryAudit(const AuditQuery&) {
  return unsupported("queryAudit");
}
Status Store::saveIncident(const Incident&) { return unsupported("incidents"); }
Status Store::linkIncidentFinding(const std::string&, const std::string&) {
  return unsupported("incidents");
}
Result<std::optional<Incident>> Store::getIncident(const std::string&) {
  return unsupported("incidents");
}
Result<std::vector<Incident>> Store::listIncidents(const IncidentQuery&) {
  return unsupported("incidents");
}
Result<std::vector<Incident>> Store::openIncidents(size_t) { return unsupported("incidents"); }
Result<std::vector<std::string>> Store::incidentFindings(const std::string&) {
  return unsupported("incidents");
}
Status Store::createUser(const UserRecord&) { return unsupported("users"); }
Status Store::updateUser(const UserRecord&) { return unsupported("users"); }
Status Store::deleteUser(const std::string&) { return unsupported("users"); }
Result<std::optional<UserRecord>> Store::getUser(const std::string&) {
  return unsupported("users");
}
Result<std::vector<UserRecord>> Store::listUsers() { return unsupported("users"); }
Status Store::saveSession(const SessionRecord&) { return unsupported("sessions"); }
Result<std::optional<SessionRecord>> Store::getSession(const std::string&) {
  return unsupported("sessions");
}
Status Store::deleteSession(const std::string&) { return unsupported("sessions"); }
Status Store::deleteUserSessions(const std::string&) { return unsupported("sessions"); }
Status Store::saveToken(const TokenRecord&) { return unsupported("tokens"); }
Result<std::optional<TokenRecord>> Store::getTokenByHash(const std::string&) {
  return unsupported("tokens");
}
Result<std::vector<TokenRecord>> Store::listTokens() { return unsupported("tokens"); }
Status Store::revokeToken(const std::string&) { return unsupported("tokens"); }
Status Store::touchToken(const std::string&, Timestamp) { return unsupported("tokens"); }

}  // namespace riposte

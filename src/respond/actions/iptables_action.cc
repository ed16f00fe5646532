#include "riposte/respond/iptables_action.h"

#include <sstream>

#include "riposte/respond/firewall_target.h"
#include "riposte/respond/program.h"

namespace riposte {

namespace {

bool validChain(const std::string& s) {
  return !s.empty() && s.size() <= 28 &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
             std::string::npos;
}

}  // namespace

Result<std::unique_ptr<IptablesAction>> IptablesAction::create(std::string name,
                                                               IptablesConfig cfg) {
  const std::string who = "iptables action '" + name + "'";
  if (!validChain(cfg.chain)) {
    return Status::invalidArgument(who + ": chain must be 1-28 letters, digits, '_' or '-'");
  }
  for (const auto& h : cfg.hooks) {
    if (!validChain(h) || h == cfg.chain) {
      return Status::invalidArgument(who + ": bad hook chain name '" + h + "'");
    }
  }
  if (cfg.jump != "DROP" && cfg.jump != "REJECT") {
    return Status::invalidArgument(who + ": jump must be DROP or REJECT");
  }
  for (const std::string* p :
       {&cfg.iptables, &cfg.ip6tables, &cfg.iptables_restore, &cfg.ip6tables_restore}) {
    if (p->empty() || (*p)[0] != '/') {
      return Status::invalidArgument(who + ": program paths must be absolute ('" + *p + "')");
    }
  }
  return std::unique_ptr<IptablesAction>(new IptablesAction(std::move(name), std::move(cfg)));
}

Status IptablesAction::run(const std::vector<std::string>& argv, int* code, std::string* out) {
  ProgramRun r;
  r.timeout = cfg_.timeout;
  r.exit_code = code;
  r.output = out;
  return runProgram(argv, r).withContext("iptables action '" + name_ + "'");
}

Status IptablesAction::restore(bool v6, const std::string& lines) {
  ProgramRun r;
  r.timeout = cfg_.timeout;
  const std::string script = "*filter\n" + lines + "COMMIT\n";
  r.input = script;
  return runProgram({v6 ? cfg_.ip6tables_restore : cfg_.iptables_restore, "-w", "--noflush"}, r)
      .withContext("iptables action '" + name_ + "'");
}

Status IptablesAction::ensureSetup() {
  if (ready_) return Status::ok();
  for (bool v6 : {false, true}) {
    int code = -1;
    if (!run({bin(v6), "-w", "-S", cfg_.chain}, &code).isOk()) {
      RIPOSTE_RETURN_IF_ERROR(run({bin(v6), "-w", "-N", cfg_.chain}).withContext("creating chain"));
    }
    for (const auto& hook : cfg_.hooks) {
      Status st = run({bin(v6), "-w", "-C", hook, "-j", cfg_.chain}, &code);
      if (st.isOk()) continue;
      if (code != 1) return st;
      RIPOSTE_RETURN_IF_ERROR(run({bin(v6), "-w", "-I", hook, "1", "-j", cfg_.chain}));
    }
  }
  ready_ = true;
  return Status::ok();
}

Result<std::set<std::string>> IptablesAction::listFamily(bool v6) {
  std::string text;
  RIPOSTE_RETURN_IF_ERROR(run({bin(v6), "-w", "-S", cfg_.chain}, nullptr, &text));
  // "-A <chain> -s 10.0.0.1/32 -j DROP": only rules of exactly this shape are ours.
  std::set<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<std::string> tok;
    for (std::string t; ls >> t;) tok.push_back(t);
    if (tok.size() != 6 || tok[0] != "-A" || tok[1] != cfg_.chain || tok[2] != "-s" ||
        tok[4] != "-j" || tok[5] != cfg_.jump) {
      continue;
    }
    auto t = firewallTargetFromText(tok[3], "iptables");
    if (t) out.insert(t->key);
  }
  return out;
}

Result<std::set<std::string>> IptablesAction::listTargets() {
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  std::set<std::string> all;
  for (bool v6 : {false, true}) {
    auto s = listFamily(v6);
    if (!s) return s.status();
    all.insert(s->begin(), s->end());
  }
  return all;
}

Status IptablesAction::apply(const Decision& d) { return applyBatch({d}); }

Status IptablesAction::applyBatch(const std::vector<Decision>& ds) {
  const Timestamp now = Timestamp::now();
  const std::string who = "iptables action '" + name_ + "'";
  std::vector<FirewallTarget> targets;
  targets.reserve(ds.size());
  for (const auto& d : ds) {
    auto t = firewallTarget(d.target, who);
    if (!t) return t.status();
    if (d.expires <= now) continue;  // already over: nothing to enforce
    targets.push_back(std::move(*t));
  }
  if (targets.empty()) return Status::ok();
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  for (bool v6 : {false, true}) {
    auto present = listFamily(v6);
    if (!present) return present.status();
    std::string lines;
    for (const auto& t : targets) {
      if (t.v6 != v6 || !present->insert(t.key).second) continue;  // there already
      // Canonical address text only (parsed above).
      lines += "-A " + cfg_.chain + " -s " + t.key + " -j " + cfg_.jump + "\n";
    }
    if (!lines.empty()) RIPOSTE_RETURN_IF_ERROR(restore(v6, lines));
  }
  return Status::ok();
}

Status IptablesAction::undo(const Decision& d) {
  auto t = firewallTarget(d.target, "iptables action '" + name_ + "'");
  if (!t) return t.status();
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  const std::vector<std::string> del = {bin(t->v6), "-w",   "-D", cfg_.chain,
                                        "-s",       t->key, "-j", cfg_.jump};
  // Deletes every copy (a rule added by hand as well); a rule already gone is fine.
  for (int i = 0; i < 64; ++i) {
    int code = -1;
    Status st = run(del, &code);
    if (st.isOk()) continue;
    if (code == 1 && verify(d).code() == StatusCode::kNotFound) return Status::ok();
    return st;
  }
  return Status::ok();
}

Status IptablesAction::verify(const Decision& d) {
  auto t = firewallTarget(d.target, "iptables action '" + name_ + "'");
  if (!t) return t.status();
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  int code = -1;
  Status st = run({bin(t->v6), "-w", "-C", cfg_.chain, "-s", t->key, "-j", cfg_.jump}, &code);
  if (st.isOk()) return st;
  if (code == 1) {
    return Status::notFound("iptables action '" + name_ + "': no rule for " + t->key + " in " +
                            cfg_.chain);
  }
  return st;
}

Result<ReconcileReport> IptablesAction::reconcile(const std::vector<Decision>& active) {
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  ReconcileReport rep;
  const Timestamp now = Timestamp::now();
  std::set<std::string> wanted;
  for (const auto& d : active) {
    if (d.expires <= now) continue;
    auto t = firewallTarget(d.target, name_);
    if (t) wanted.insert(t->key);
  }
  std::vector<Decision> missing;
  for (bool v6 : {false, true}) {
    auto present = listFamily(v6);
    if (!present) return present.status();
    std::string lines;
    for (const auto& key : *present) {
      if (wanted.count(key) != 0) continue;
      lines += "-D " + cfg_.chain + " -s " + key + " -j " + cfg_.jump + "\n";
      ++rep.removed;
    }
    if (!lines.empty()) {
      RIPOSTE_RETURN_IF_ERROR(restore(v6, lines).withContext("reconcile: removing stale rules"));
    }
    for (const auto& d : active) {
      if (d.expires <= now) continue;
      auto t = firewallTarget(d.target, name_);
      if (t && t->v6 == v6 && present->count(t->key) == 0) missing.push_back(d);
    }
  }
  if (!missing.empty()) {
    RIPOSTE_RETURN_IF_ERROR(applyBatch(missing));
    rep.readded = missing.size();
  }
  return rep;
}

Status IptablesAction::dropAll() {
  Status first;
  for (bool v6 : {false, true}) {
    for (const auto& hook : cfg_.hooks) {
      for (int i = 0; i < 16 && run({bin(v6), "-w", "-D", hook, "-j", cfg_.chain}).isOk(); ++i) {
      }
    }
    int code = -1;
    if (!run({bin(v6), "-w", "-S", cfg_.chain}, &code).isOk()) continue;  // no chain
    Status st = run({bin(v6), "-w", "-F", cfg_.chain});
    if (st.isOk()) st = run({bin(v6), "-w", "-X", cfg_.chain});
    if (!st.isOk() && first.isOk()) first = st;
  }
  ready_ = false;
  return first;
}

}  // namespace riposte

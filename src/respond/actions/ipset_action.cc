#include "riposte/respond/ipset_action.h"

#include <sstream>

#include "riposte/respond/firewall_target.h"
#include "riposte/respond/program.h"

namespace riposte {

namespace {

bool validName(const std::string& s, size_t max) {
  return !s.empty() && s.size() <= max &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
             std::string::npos;
}

}  // namespace

Result<std::unique_ptr<IpsetAction>> IpsetAction::create(std::string name, IpsetConfig cfg) {
  const std::string who = "ipset action '" + name + "'";
  if (!validName(cfg.set4, 31) || !validName(cfg.set6, 31) || cfg.set4 == cfg.set6) {
    return Status::invalidArgument(who +
                                   ": set4 and set6 must be two different names of at most 31 "
                                   "letters, digits, '_' or '-'");
  }
  for (const auto& h : cfg.hooks) {
    if (!validName(h, 28)) {
      return Status::invalidArgument(who + ": bad hook chain name '" + h + "'");
    }
  }
  for (const std::string* p : {&cfg.ipset, &cfg.iptables, &cfg.ip6tables}) {
    if (p->empty() || (*p)[0] != '/') {
      return Status::invalidArgument(who + ": program paths must be absolute ('" + *p + "')");
    }
  }
  if (cfg.maxelem == 0) return Status::invalidArgument(who + ": maxelem must be positive");
  return std::unique_ptr<IpsetAction>(new IpsetAction(std::move(name), std::move(cfg)));
}

Status IpsetAction::restore(const std::string& script) {
  ProgramRun r;
  r.timeout = cfg_.timeout;
  r.input = script;
  return runProgram({cfg_.ipset, "-exist", "restore"}, r)
      .withContext("ipset action '" + name_ + "'");
}

Status IpsetAction::ensureSetup() {
  if (ready_) return Status::ok();
  std::string script;
  for (bool v6 : {false, true}) {
    script += "create " + setFor(v6) + " hash:net family " + (v6 ? "inet6" : "inet") +
              " hashsize 1024 maxelem " + std::to_string(cfg_.maxelem) + " timeout 0\n";
  }
  RIPOSTE_RETURN_IF_ERROR(restore(script).withContext("creating sets"));
  for (const auto& hook : cfg_.hooks) {
    for (bool v6 : {false, true}) {
      const std::string& bin = v6 ? cfg_.ip6tables : cfg_.iptables;
      const std::vector<std::string> rule = {"-m",  "set", "--match-set", setFor(v6),
                                             "src", "-j",  "DROP"};
      std::vector<std::string> check = {bin, "-w", "-C", hook};
      check.insert(check.end(), rule.begin(), rule.end());
      ProgramRun r;
      r.timeout = cfg_.timeout;
      int code = -1;
      r.exit_code = &code;
      Status st = runProgram(check, r);
      if (st.isOk()) continue;  // already there
      if (code != 1) return st.withContext("ipset action '" + name_ + "': checking " + hook);
      std::vector<std::string> insert = {bin, "-w", "-I", hook, "1"};
      insert.insert(insert.end(), rule.begin(), rule.end());
      ProgramRun ri;
      ri.timeout = cfg_.timeout;
      RIPOSTE_RETURN_IF_ERROR(
          runProgram(insert, ri).withContext("ipset action '" + name_ + "': rule in " + hook));
    }
  }
  ready_ = true;
  return Status::ok();
}

Status IpsetAction::apply(const Decision& d) { return applyBatch({d}); }

Status IpsetAction::applyBatch(const std::vector<Decision>& ds) {
  const Timestamp now = Timestamp::now();
  std::string script;
  script.reserve(ds.size() * 48);
  const std::string who = "ipset action '" + name_ + "'";
  for (const auto& d : ds) {
    auto t = firewallTarget(d.target, who);
    if (!t) return t.status();
    if (t->prefix == 0) return Status::invalidArgument(who + ": refusing to block " + t->key);
    if (d.expires <= now) continue;  // already over: nothing to enforce
    // Canonical address text only (parsed above): nothing a decision carries reaches the
    // restore script otherwise.
    script += "add ";
    script += setFor(t->v6);
    script += ' ';
    script += t->key;
    script += " timeout ";
    script += std::to_string(remainingSeconds(d, now, kMaxTimeout));
    script += '\n';
  }
  if (script.empty()) return Status::ok();
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  return restore(script);
}

Status IpsetAction::undo(const Decision& d) {
  auto t = firewallTarget(d.target, "ipset action '" + name_ + "'");
  if (!t) return t.status();
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  // -exist: an element already gone (expired in the kernel, deleted by hand) is fine.
  return restore("del " + setFor(t->v6) + " " + t->key + "\n");
}

Status IpsetAction::verify(const Decision& d) {
  auto t = firewallTarget(d.target, "ipset action '" + name_ + "'");
  if (!t) return t.status();
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  ProgramRun r;
  r.timeout = cfg_.timeout;
  std::string err;
  int code = -1;
  r.error = &err;
  r.exit_code = &code;
  Status st = runProgram({cfg_.ipset, "test", setFor(t->v6), t->key}, r);
  if (st.isOk()) return st;
  if (code == 1 && err.find("NOT in set") != std::string::npos) {
    return Status::notFound("ipset action '" + name_ + "': " + t->key + " is not in " +
                            setFor(t->v6));
  }
  return st.withContext("ipset action '" + name_ + "'");
}

Result<std::set<std::string>> IpsetAction::listElements() {
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  std::set<std::string> out;
  for (bool v6 : {false, true}) {
    std::string text;
    ProgramRun r;
    r.timeout = cfg_.timeout;
    r.output = &text;
    RIPOSTE_RETURN_IF_ERROR(runProgram({cfg_.ipset, "save", setFor(v6)}, r)
                                .withContext("ipset action '" + name_ + "': listing"));
    // "add <set> <element> timeout <s>" per element.
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string verb, set, elem;
      ls >> verb >> set >> elem;
      if (verb != "add" || set != setFor(v6)) continue;
      auto t = firewallTargetFromText(elem, "ipset");
      if (t) out.insert(t->key);
    }
  }
  return out;
}

Result<ReconcileReport> IpsetAction::reconcile(const std::vector<Decision>& active) {
  auto present = listElements();
  if (!present) return present.status();
  ReconcileReport rep;
  const Timestamp now = Timestamp::now();
  std::set<std::string> wanted;
  std::vector<Decision> missing;
  for (const auto& d : active) {
    if (d.expires <= now) continue;
    auto t = firewallTarget(d.target, name_);
    if (!t || t->prefix == 0) continue;  // not ours to enforce
    wanted.insert(t->key);
    if (present->count(t->key) == 0) missing.push_back(d);
  }
  std::string script;
  for (const auto& key : *present) {
    if (wanted.count(key) != 0) continue;
    auto t = firewallTargetFromText(key, name_);
    if (!t) continue;
    script += "del " + setFor(t->v6) + " " + key + "\n";
    ++rep.removed;
  }
  if (!script.empty()) {
    RIPOSTE_RETURN_IF_ERROR(restore(script).withContext("reconcile: removing stale elements"));
  }
  if (!missing.empty()) {
    RIPOSTE_RETURN_IF_ERROR(applyBatch(missing));
    rep.readded = missing.size();
  }
  return rep;
}

Status IpsetAction::dropAll() {
  Status first;
  for (const auto& hook : cfg_.hooks) {
    for (bool v6 : {false, true}) {
      const std::string& bin = v6 ? cfg_.ip6tables : cfg_.iptables;
      const std::vector<std::string> del = {bin,           "-w",       "-D",  hook, "-m",  "set",
                                            "--match-set", setFor(v6), "src", "-j", "DROP"};
      ProgramRun r;
      r.timeout = cfg_.timeout;
      for (int i = 0; i < 16 && runProgram(del, r).isOk(); ++i) {
      }
    }
  }
  for (bool v6 : {false, true}) {
    ProgramRun r;
    r.timeout = cfg_.timeout;
    std::string err;
    r.error = &err;
    Status st = runProgram({cfg_.ipset, "destroy", setFor(v6)}, r);
    if (!st.isOk() && err.find("does not exist") == std::string::npos && first.isOk()) first = st;
  }
  ready_ = false;
  return first;
}

}  // namespace riposte

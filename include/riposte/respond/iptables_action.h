// IptablesAction: blocks addresses and ranges with one iptables rule per target (ip6tables for
// IPv6), executed without a shell (posix_spawn with an argv; batches piped to
// `iptables-restore --noflush` on stdin).
//
// On first use it creates (idempotently) a chain `chain` in the filter table of both families
// and a jump to it at the top of each configured hook chain (INPUT, FORWARD). Each decision
// is one rule `-A <chain> -s <address or range> -j DROP` (or REJECT), added once however often
// it is applied. Rules have no kernel timeout: the engine undoes a decision at expiry, and after
// a restart restore re-applies active decisions while reconcile() deletes rules that no active
// decision explains (and re-adds those that vanished). verify() is `iptables -C`.
// For blocks that expire in the kernel even while Riposte is down, use the ipset or nftables
// action.
//
// Configuration: { name, type: iptables, chain: RIPOSTE, hooks: [INPUT, FORWARD], jump: DROP,
//                  iptables: /usr/sbin/iptables, ip6tables: /usr/sbin/ip6tables,
//                  iptables_restore: /usr/sbin/iptables-restore,
//                  ip6tables_restore: /usr/sbin/ip6tables-restore, timeout: 30s }
// Targets: IPv4/IPv6 addresses and CIDR ranges; other targets are refused.
//
// The programs run in the network namespace of the calling thread.
//
// Thread safety: one thread at a time (the executor's worker for this action).
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "riposte/core/time.h"
#include "riposte/respond/action.h"

namespace riposte {

struct IptablesConfig {
  std::string chain = "RIPOSTE";
  std::vector<std::string> hooks = {"INPUT", "FORWARD"};
  std::string jump = "DROP";  // DROP | REJECT
  std::string iptables = "/usr/sbin/iptables";
  std::string ip6tables = "/usr/sbin/ip6tables";
  std::string iptables_restore = "/usr/sbin/iptables-restore";
  std::string ip6tables_restore = "/usr/sbin/ip6tables-restore";
  Duration timeout = std::chrono::seconds(30);  // per program run
};

class IptablesAction : public Action {
 public:
  static Result<std::unique_ptr<IptablesAction>> create(std::string name, IptablesConfig cfg);

  std::string_view name() const override { return name_; }
  Status apply(const Decision& d) override;
  Status undo(const Decision& d) override;
  Status verify(const Decision& d) override;
  Status applyBatch(const std::vector<Decision>& ds) override;
  Result<ReconcileReport> reconcile(const std::vector<Decision>& active) override;
  bool enforcing() const override { return true; }

  // Creates the chains and jumps if needed (called by the first apply/undo/verify).
  Status ensureSetup();
  // Every target with a rule in the chain (both families), as canonical text.
  Result<std::set<std::string>> listTargets();
  // Removes the jumps and the chains (tests, uninstall).
  Status dropAll();

  const IptablesConfig& config() const { return cfg_; }

 private:
  IptablesAction(std::string name, IptablesConfig cfg)
      : name_(std::move(name)), cfg_(std::move(cfg)) {}
  // One program run; `code` gets the exit status.
  Status run(const std::vector<std::string>& argv, int* code = nullptr, std::string* out = nullptr);
  // Lines ("-A ..." / "-D ...") for one family, in one iptables-restore --noflush run.
  Status restore(bool v6, const std::string& lines);
  Result<std::set<std::string>> listFamily(bool v6);
  const std::string& bin(bool v6) const { return v6 ? cfg_.ip6tables : cfg_.iptables; }

  std::string name_;
  IptablesConfig cfg_;
  bool ready_ = false;
};

}  // namespace riposte

// IpsetAction: blocks addresses and ranges in kernel IP sets maintained with the `ipset`
// program, executed without a shell (posix_spawn with an argv; batches piped to
// `ipset restore` on stdin).
//
// On first use it creates (with -exist, so idempotently) two `hash:net` sets with per-element
// timeouts: `set4` (family inet) and `set6` (family inet6), and, for each configured hook chain
// of the filter table, one rule per family that drops packets whose source is in the set
// (`iptables -I <chain> 1 -m set --match-set <set4> src -j DROP`, ip6tables for IPv6; checked
// with -C first so it is inserted once). With `hooks: []` only the sets are kept (another rule
// set references them).
//
// An element carries a timeout equal to the decision's remaining lifetime (capped at the
// kernel's maximum), so the kernel expires it even if Riposte is down; re-adding refreshes it.
// applyBatch writes every element in ONE `ipset restore` run. verify() is `ipset test`;
// reconcile() reads `ipset save`, re-adds what vanished and deletes what no active decision
// explains.
//
// Configuration: { name, type: ipset, set4: riposte4, set6: riposte6, maxelem: 1048576,
//                  hooks: [INPUT, FORWARD], ipset: /usr/sbin/ipset,
//                  iptables: /usr/sbin/iptables, ip6tables: /usr/sbin/ip6tables,
//                  timeout: 30s }
// Targets: IPv4/IPv6 addresses and CIDR ranges (prefix ≥ 1); other targets are refused.
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

struct IpsetConfig {
  std::string set4 = "riposte4";
  std::string set6 = "riposte6";
  uint32_t maxelem = 1u << 20;
  std::vector<std::string> hooks = {"INPUT", "FORWARD"};
  std::string ipset = "/usr/sbin/ipset";
  std::string iptables = "/usr/sbin/iptables";
  std::string ip6tables = "/usr/sbin/ip6tables";
  Duration timeout = std::chrono::seconds(30);  // per program run
};

class IpsetAction : public Action {
 public:
  // The kernel's largest per-element timeout, in seconds.
  static constexpr int64_t kMaxTimeout = 2'147'483;

  static Result<std::unique_ptr<IpsetAction>> create(std::string name, IpsetConfig cfg);

  std::string_view name() const override { return name_; }
  Status apply(const Decision& d) override;
  Status undo(const Decision& d) override;
  Status verify(const Decision& d) override;
  Status applyBatch(const std::vector<Decision>& ds) override;
  Result<ReconcileReport> reconcile(const std::vector<Decision>& active) override;
  bool enforcing() const override { return true; }

  // Creates the sets and the rules if needed (called by the first apply/undo/verify).
  Status ensureSetup();
  // Every element currently in the two sets, as canonical text.
  Result<std::set<std::string>> listElements();
  // Removes the rules and destroys the sets (tests, uninstall).
  Status dropAll();

  const IpsetConfig& config() const { return cfg_; }

 private:
  IpsetAction(std::string name, IpsetConfig cfg) : name_(std::move(name)), cfg_(std::move(cfg)) {}
  Status restore(const std::string& script);
  const std::string& setFor(bool v6) const { return v6 ? cfg_.set6 : cfg_.set4; }

  std::string name_;
  IpsetConfig cfg_;
  bool ready_ = false;
};

}  // namespace riposte

// NftablesAction: blocks addresses and ranges in an nftables set through libnftables.
//
// On first use it creates (idempotently, in one transaction) `table <family> <table>` with hash
// sets `blocked4` (ipv4_addr) and `blocked6` (ipv6_addr), `flags timeout`, for single addresses,
// interval sets `ranges4` and `ranges6`, `flags timeout,interval`, for CIDR ranges, and one base
// chain per configured hook (input, forward) at the configured priority that drops packets whose
// source address is in any of them. A table of the earlier layout (addresses and ranges both in
// interval sets `blocked4`/`blocked6`) has those two sets replaced; their elements go with them
// and the engine's restore re-adds the active decisions. Writes are JSON commands (no shell, no
// text to inject into); an element carries a per-element timeout equal to the decision's remaining
// lifetime, so the kernel expires it even if Riposte is down. Many decisions go in ONE transaction
// (applyBatch, used by Engine::restore). reconcile() compares the kernel sets with the active
// decisions and repairs drift (re-adds missing elements, deletes elements that no active decision
// explains).
//
// Configuration: { name, type: nftables, table: riposte, family: inet, chain_priority: -10,
//                  hooks: [input, forward] }
// Targets: IPv4/IPv6 addresses and CIDR ranges; other targets are refused (invalid argument).
// Overlapping ranges are refused by the kernel (interval sets) and reported.
//
// The netlink socket is in the network namespace of the thread that first uses the action.
//
// Thread safety: one thread at a time (the executor's worker for this action).
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "riposte/respond/action.h"

struct nft_ctx;

namespace riposte {

struct NftablesConfig {
  std::string table = "riposte";
  std::string family = "inet";  // inet | ip | ip6
  int chain_priority = -10;
  std::vector<std::string> hooks = {"input", "forward"};
};

class NftablesAction : public Action {
 public:
  static Result<std::unique_ptr<NftablesAction>> create(std::string name, NftablesConfig cfg);
  ~NftablesAction() override;

  std::string_view name() const override { return name_; }
  Status apply(const Decision& d) override;
  Status undo(const Decision& d) override;
  Status verify(const Decision& d) override;
  Status applyBatch(const std::vector<Decision>& ds) override;
  Result<ReconcileReport> reconcile(const std::vector<Decision>& active) override;
  bool enforcing() const override { return true; }

  // Creates the table, sets and chains if needed (called by the first apply/undo/verify).
  Status ensureSetup();
  // Every element currently in the two sets, as canonical text ("192.0.2.1", "10.0.0.0/24").
  Result<std::set<std::string>> listElements();
  // Removes the whole table (tests, `riposte` uninstall).
  Status dropTable();

  const NftablesConfig& config() const { return cfg_; }

 private:
  NftablesAction(std::string name, NftablesConfig cfg, nft_ctx* ctx)
      : name_(std::move(name)), cfg_(std::move(cfg)), ctx_(ctx) {}
  // Runs one command buffer (JSON, or nft text for batches and read-only queries); returns the
  // output buffer.
  Result<std::string> run(const std::string& cmd);
  bool familyHas(int set) const;
  std::string setupCommand(bool replace_old_sets) const;
  bool hasOldSets();

  std::string name_;
  NftablesConfig cfg_;
  nft_ctx* ctx_;
  bool ready_ = false;
  bool native_ = false;  // the table's name reads in nft's own syntax (batches are sent in it)
};

}  // namespace riposte

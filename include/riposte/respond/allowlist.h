// Allowlist: the targets Riposte never acts on, and why each is there.
//
// Sources of entries (each kept with the reason shown in refusals, `riposte allowlist show` and
// the audit log):
//   - `response.allowlist`: addresses, ranges, user:NAME, host:NAME and host names
//     (core/allowlist_entry.h); a host name matches host targets of that name and the addresses
//     it resolves to when the allowlist is built;
//   - important customers: `response.customers` (a name and entries each) and
//     `response.customers_file` (lines `ENTRY  CUSTOMER NAME`, `#` comments);
//   - this host's interface addresses and its gateways (IPv4 and IPv6 next hops of the routing
//     table, /proc/net/route and /proc/net/ipv6_route), when asked (serve does).
//
// Matching: an address is looked up in one hash table per prefix length present (longest
// first), so a list of thousands of customer ranges costs a handful of probes; a range target
// is allowlisted when it overlaps any entry (it contains one or lies inside one). Users match
// exactly; host names case-insensitively.
//
// An allowlist is built once and then read-only; a Policy publishes a new one atomically when it
// is refreshed (names re-resolved, interfaces and routes re-read).
//
// Thread safety: const methods may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "riposte/core/allowlist_entry.h"
#include "riposte/core/config.h"
#include "riposte/core/ip.h"
#include "riposte/core/status.h"
#include "riposte/core/target.h"

namespace riposte {

class Allowlist {
 public:
  // One listed thing: its canonical text ("203.0.113.0/24", "user:alice", "host:web1") and why.
  struct Item {
    std::string entry;
    std::string why;
  };

  // Adds an entry in the configuration syntax. A host name is added as a host target only;
  // its addresses are added by whoever resolved it (addRange). `why` says where it came from.
  Status add(std::string_view entry, std::string_view why = "response.allowlist");
  void addRange(const Cidr& c, std::string why);
  void addUser(std::string_view name, std::string why);
  void addHost(std::string_view name, std::string why);  // case-insensitive

  // Why the target is allowlisted (the first matching item), or null when it is not.
  const Item* match(const Target& t) const;
  const Item* match(const IpAddress& ip) const;
  bool contains(const Target& t) const { return match(t) != nullptr; }

  const std::vector<Item>& items() const { return items_; }
  size_t size() const { return items_.size(); }

 private:
  struct Key {
    uint64_t hi = 0, lo = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept;
  };
  struct Table {
    uint8_t len = 0;
    std::unordered_map<Key, uint32_t, KeyHash> at;  // masked base -> item index
  };
  static Key keyOf(const IpAddress& ip, uint8_t len);
  const Item* matchRange(const Cidr& c) const;

  std::vector<Item> items_;
  std::vector<Table> v4_, v6_;  // longest prefix first
  std::vector<Cidr> ranges_;    // every range, for range targets (item index alongside)
  std::vector<uint32_t> range_items_;
  std::unordered_map<std::string, uint32_t> users_, hosts_;
};

// Where the builder looks things up; tests replace each.
struct AllowlistEnvironment {
  // Host name -> addresses (null: getaddrinfo). An error or no address is a warning.
  std::function<Result<std::vector<IpAddress>>(const std::string& name)> resolve;
  std::string proc_net = "/proc/net";  // route and ipv6_route
  bool own_addresses = false;          // this host's interface addresses
  bool gateways = false;               // this host's gateways
};

// An interface address or a gateway, with its interface.
struct HostAddress {
  IpAddress ip;
  std::string iface;
};
// The next hops of /proc/net/route and /proc/net/ipv6_route texts (routes flagged RTF_GATEWAY).
// Malformed lines are skipped.
std::vector<HostAddress> parseRouteGateways(std::string_view route, std::string_view ipv6_route);
Result<std::vector<HostAddress>> interfaceAddresses();
Result<std::vector<IpAddress>> resolveHostName(const std::string& name);

// Builds the allowlist of a configuration: `response.allowlist` (names resolved now),
// `response.customers`, `response.customers_file`, and this host's addresses and gateways when
// the environment asks. Errors name the key or file:line; unresolvable names and unreadable
// routing tables are warnings (appended to `warnings`), never failures.
Result<Allowlist> buildAllowlist(const Config& c, const AllowlistEnvironment& env,
                                 std::vector<std::string>* warnings);

}  // namespace riposte

#include "riposte/respond/nftables_action.h"

#include <nftables/libnftables.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "riposte/core/ip.h"

namespace riposte {

namespace {

using json = nlohmann::json;

struct Element {  // NOLINT(bugprone-exception-escape): json moves are not noexcept
  bool v6 = false;
  bool range = false;  // a CIDR range (the interval set) rather than one address (the hash set)
  std::string key;     // canonical text: address or CIDR
  std::string addr;    // a range's base address
  unsigned prefix = 0;

  int set() const { return (v6 ? 1 : 0) + (range ? 2 : 0); }
  // "192.0.2.1" or {"prefix": {"addr": ..., "len": ...}}
  json val() const {
    if (!range) return key;
    return json{{"prefix", {{"addr", addr}, {"len", prefix}}}};
  }
};

Result<Element> elementFor(const Target& t) {
  if (t.type != TargetType::kIp && t.type != TargetType::kCidr) {
    return Status::invalidArgument("nftables cannot block a " +
                                   std::string(targetTypeName(t.type)) + " target (" + t.value +
                                   ")");
  }
  auto c = Cidr::parse(t.value);
  if (!c) return c.status().withContext("nftables target");
  Element e;
  e.v6 = c->base.v6;
  const unsigned full = e.v6 ? 128 : 32;
  if (c->prefix == full) {
    e.key = c->base.toString();
  } else {
    e.range = true;
    e.key = c->toString();
    e.addr = c->base.toString();
    e.prefix = c->prefix;
  }
  return e;
}

// Seconds left until expiry, at least 1 (an element with timeout 0 would never expire).
int64_t remainingSeconds(const Decision& d, Timestamp now) {
  const int64_t us = d.expires.micros - now.micros;
  return std::max<int64_t>(1, (us + 999'999) / 1'000'000);
}

// Single addresses go to hash sets (constant-time insertion and lookup); CIDR ranges to
// interval sets, which the kernel keeps in a red-black tree.
constexpr int kSets = 4;
const char* setName(int set) {
  static const char* const kNames[kSets] = {"blocked4", "blocked6", "ranges4", "ranges6"};
  return kNames[set];
}
bool isV6Set(int set) { return (set & 1) != 0; }
bool isRangeSet(int set) { return (set & 2) != 0; }

}  // namespace

Result<std::unique_ptr<NftablesAction>> NftablesAction::create(std::string name,
                                                               NftablesConfig cfg) {
  if (cfg.family != "inet" && cfg.family != "ip" && cfg.family != "ip6") {
    return Status::invalidArgument("nftables action '" + name +
                                   "': family must be inet, ip or ip6");
  }
  for (const auto& h : cfg.hooks) {
    if (h != "input" && h != "forward" && h != "prerouting") {
      return Status::invalidArgument("nftables action '" + name + "': unknown hook '" + h + "'");
    }
  }
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) return Status::internal("nftables action '" + name + "': nft_ctx_new failed");
  nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  return std::unique_ptr<NftablesAction>(new NftablesAction(std::move(name), std::move(cfg), ctx));
}

NftablesAction::~NftablesAction() { nft_ctx_free(ctx_); }

Result<std::string> NftablesAction::run(const std::string& cmd) {
  const int rc = nft_run_cmd_from_buffer(ctx_, cmd.c_str());
  const char* out = nft_ctx_get_output_buffer(ctx_);
  std::string output = out != nullptr ? out : "";
  if (rc != 0) {
    const char* err = nft_ctx_get_error_buffer(ctx_);
    std::string msg = err != nullptr ? err : "";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    if (msg.empty()) msg = "nft command failed";
    return Status::unavailable("nftables action '" + name_ + "': " + msg);
  }
  return output;
}

bool NftablesAction::familyHas(int set) const {
  return !((cfg_.family == "ip" && isV6Set(set)) || (cfg_.family == "ip6" && !isV6Set(set)));
}

// The whole set-up in one transaction; `replace_old_sets` first deletes address sets of the
// earlier layout (one interval set per family for addresses and ranges alike), which the kernel
// will not turn into hash sets in place.
std::string NftablesAction::setupCommand(bool replace_old_sets) const {
  const std::string& fam = cfg_.family;
  const std::string& tbl = cfg_.table;
  json cmds = json::array();
  cmds.push_back({{"add", {{"table", {{"family", fam}, {"name", tbl}}}}}});
  for (const auto& hook : cfg_.hooks) {
    const json chain = {{"family", fam}, {"table", tbl}, {"name", hook}};
    json base = chain;
    base["type"] = "filter";
    base["hook"] = hook;
    base["prio"] = cfg_.chain_priority;
    base["policy"] = "accept";
    cmds.push_back({{"add", {{"chain", base}}}});
    // Flush and re-add in the same transaction: exactly our rules, however often we start.
    cmds.push_back({{"flush", {{"chain", chain}}}});
  }
  for (int set = 0; set < kSets; ++set) {
    if (!familyHas(set)) continue;
    if (replace_old_sets && !isRangeSet(set)) {
      cmds.push_back(
          {{"delete", {{"set", {{"family", fam}, {"table", tbl}, {"name", setName(set)}}}}}});
    }
    json flags = isRangeSet(set) ? json::array({"timeout", "interval"}) : json::array({"timeout"});
    cmds.push_back({{"add",
                     {{"set",
                       {{"family", fam},
                        {"table", tbl},
                        {"name", setName(set)},
                        {"type", isV6Set(set) ? "ipv6_addr" : "ipv4_addr"},
                        {"flags", std::move(flags)}}}}}});
  }
  for (const auto& hook : cfg_.hooks) {
    for (int set = 0; set < kSets; ++set) {
      if (!familyHas(set)) continue;
      const json match = {
          {"match",
           {{"op", "=="},
            {"left",
             {{"payload", {{"protocol", isV6Set(set) ? "ip6" : "ip"}, {"field", "saddr"}}}}},
            {"right", std::string("@") + setName(set)}}}};
      cmds.push_back({{"add",
                       {{"rule",
                         {{"family", fam},
                          {"table", tbl},
                          {"chain", hook},
                          {"expr", json::array({match, {{"drop", nullptr}}})}}}}}});
    }
  }
  return json{{"nftables", cmds}}.dump();
}

// Whether an address set exists with the `interval` flag (the earlier layout).
bool NftablesAction::hasOldSets() {
  for (int set = 0; set < 2; ++set) {
    if (!familyHas(set)) continue;
    auto r = run("list set " + cfg_.family + " " + cfg_.table + " " + setName(set));
    if (!r) continue;
    const json doc = json::parse(*r, nullptr, false);
    if (doc.is_discarded() || !doc.contains("nftables")) continue;
    for (const auto& item : doc["nftables"]) {
      if (!item.contains("set") || !item["set"].contains("flags")) continue;
      for (const auto& f : item["set"]["flags"]) {
        if (f == "interval") return true;
      }
    }
  }
  return false;
}

Status NftablesAction::ensureSetup() {
  if (ready_) return Status::ok();
  auto r = run(setupCommand(false));
  if (!r && hasOldSets()) {
    // A table of the earlier layout: its address sets are replaced (their elements with them;
    // the engine's restore and reconcile re-add every active decision).
    spdlog::warn(
        "nftables action '{}': replacing the address sets of table {} {} (interval "
        "sets of an earlier version) with hash sets; active decisions are re-added",
        name_, cfg_.family, cfg_.table);
    r = run(setupCommand(true));
  }
  if (!r) return r.status().withContext("setting up table " + cfg_.family + " " + cfg_.table);
  // Whether the table's name reads in nft's own syntax (a name that is one of its keywords
  // does not): adding an existing table changes nothing.
  native_ = run("add table " + cfg_.family + " " + cfg_.table).isOk();
  ready_ = true;
  return Status::ok();
}

Status NftablesAction::apply(const Decision& d) { return applyBatch({d}); }

Status NftablesAction::applyBatch(const std::vector<Decision>& ds) {
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  const Timestamp now = Timestamp::now();
  // The element lists are written as command text directly: a 100,000-element batch is one
  // transaction and building a tree for it would cost more than the kernel work. nft's own
  // syntax (what `nft -f` reads) parses faster than the JSON form, which is the fallback for a
  // table name it does not take. The values are our canonical address text (digits, hex, '.',
  // ':', '/'), so nothing needs escaping.
  std::string elems[kSets];
  for (auto& e : elems) e.reserve(ds.size() * 40);
  for (const auto& d : ds) {
    auto e = elementFor(d.target);
    if (!e) return e.status();
    if (d.expires <= now) continue;  // already over: nothing to enforce
    std::string& out = elems[e->set()];
    const std::string timeout = std::to_string(remainingSeconds(d, now));
    if (native_) {
      out += out.empty() ? "" : ", ";
      out += e->key;
      out += " timeout ";
      out += timeout;
      out += 's';
      continue;
    }
    out += out.empty() ? "{\"elem\":{\"val\":" : ",{\"elem\":{\"val\":";
    if (e->range) {
      out += e->val().dump();
    } else {
      out += '"';
      out += e->key;
      out += '"';
    }
    out += ",\"timeout\":";
    out += timeout;
    out += "}}";
  }
  std::string cmd = native_ ? "" : "{\"nftables\":[";
  bool first = true;
  for (int set = 0; set < kSets; ++set) {
    if (elems[set].empty()) continue;
    if (native_) {
      cmd += "add element " + cfg_.family + " " + cfg_.table + " " + setName(set) + " { ";
      cmd += elems[set];
      cmd += " }\n";
    } else {
      cmd += first ? "" : ",";
      cmd += "{\"add\":{\"element\":{\"family\":" + json(cfg_.family).dump() +
             ",\"table\":" + json(cfg_.table).dump() + ",\"name\":\"" + setName(set) +
             "\",\"elem\":[";
      cmd += elems[set];
      cmd += "]}}}";
    }
    first = false;
  }
  if (first) return Status::ok();
  if (!native_) cmd += "]}";
  return run(cmd).status();
}

Status NftablesAction::undo(const Decision& d) {
  auto e = elementFor(d.target);
  if (!e) return e.status();
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  const json cmd = {{"nftables", json::array({{{"delete",
                                                {{"element",
                                                  {{"family", cfg_.family},
                                                   {"table", cfg_.table},
                                                   {"name", setName(e->set())},
                                                   {"elem", json::array({e->val()})}}}}}}})}};
  auto r = run(cmd.dump());
  if (r) return Status::ok();
  // Idempotent: an element that is already gone (expired in the kernel, deleted by hand) is fine.
  if (verify(d).code() == StatusCode::kNotFound) return Status::ok();
  return r.status();
}

Status NftablesAction::verify(const Decision& d) {
  auto e = elementFor(d.target);
  if (!e) return e.status();
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  // Read-only query; the key is our canonical address text (parsed above), never user text.
  const std::string cmd = "get element " + cfg_.family + " " + cfg_.table + " " +
                          setName(e->set()) + " { " + e->key + " }";
  auto r = run(cmd);
  if (!r) {
    return Status::notFound("nftables action '" + name_ + "': " + e->key + " is not in " +
                            cfg_.table + "/" + setName(e->set()));
  }
  return Status::ok();
}

Result<std::set<std::string>> NftablesAction::listElements() {
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  std::set<std::string> out;
  for (int set = 0; set < kSets; ++set) {
    if (!familyHas(set)) continue;
    const json cmd = {
        {"nftables",
         json::array(
             {{{"list",
                {{"set",
                  {{"family", cfg_.family}, {"table", cfg_.table}, {"name", setName(set)}}}}}}})}};
    auto r = run(cmd.dump());
    if (!r) return r.status();
    json doc = json::parse(*r, nullptr, false);
    if (doc.is_discarded()) return Status::parseError("nftables: unreadable set listing");
    for (const auto& item : doc["nftables"]) {
      if (!item.contains("set")) continue;
      const auto& set = item["set"];
      if (!set.contains("elem")) continue;
      for (const auto& el : set["elem"]) {
        const json& v = el.contains("elem") ? el["elem"]["val"] : el;
        if (v.is_string()) {
          out.insert(v.get<std::string>());
        } else if (v.contains("prefix")) {
          const auto& p = v["prefix"];
          out.insert(p["addr"].get<std::string>() + "/" + std::to_string(p["len"].get<int>()));
        } else if (v.contains("range")) {
          out.insert(v["range"][0].get<std::string>() + "-" + v["range"][1].get<std::string>());
        }
      }
    }
  }
  return out;
}

Result<ReconcileReport> NftablesAction::reconcile(const std::vector<Decision>& active) {
  auto present = listElements();
  if (!present) return present.status();
  ReconcileReport rep;
  const Timestamp now = Timestamp::now();
  std::set<std::string> wanted;
  std::vector<Decision> missing;
  for (const auto& d : active) {
    if (d.expires <= now) continue;
    auto e = elementFor(d.target);
    if (!e) continue;  // not ours to enforce
    wanted.insert(e->key);
    if (present->count(e->key) == 0) missing.push_back(d);
  }
  if (!missing.empty()) {
    // A listing of a hash set that the kernel is resizing (after a large batch) can leave
    // elements out; a second listing settles whether they are really gone (re-adding one that
    // is there would do no harm, but would be reported as drift).
    auto again = listElements();
    if (again) {
      present->merge(*again);
      std::erase_if(missing, [&](const Decision& d) {
        auto e = elementFor(d.target);
        return e && present->count(e->key) != 0;
      });
    }
  }
  json stale[kSets] = {json::array(), json::array(), json::array(), json::array()};
  for (const auto& key : *present) {
    if (wanted.count(key) != 0) continue;
    Target t;
    t.type = key.find('/') != std::string::npos ? TargetType::kCidr : TargetType::kIp;
    t.value = key;
    auto e = elementFor(t);
    if (!e) continue;  // e.g. a range written by someone else: leave it
    stale[e->set()].push_back(e->val());
    ++rep.removed;
  }
  json cmds = json::array();
  for (int set = 0; set < kSets; ++set) {
    if (stale[set].empty()) continue;
    cmds.push_back({{"delete",
                     {{"element",
                       {{"family", cfg_.family},
                        {"table", cfg_.table},
                        {"name", setName(set)},
                        {"elem", std::move(stale[set])}}}}}});
  }
  if (!cmds.empty()) {
    auto r = run(json{{"nftables", cmds}}.dump());
    if (!r) return r.status().withContext("reconcile: removing stale elements");
  }
  if (!missing.empty()) {
    RIPOSTE_RETURN_IF_ERROR(applyBatch(missing));
    rep.readded = missing.size();
  }
  return rep;
}

Status NftablesAction::dropTable() {
  const json cmd = {
      {"nftables",
       json::array({{{"delete", {{"table", {{"family", cfg_.family}, {"name", cfg_.table}}}}}}})}};
  auto r = run(cmd.dump());
  ready_ = false;
  return r.status();
}

}  // namespace riposte

#include "riposte/respond/nftables_action.h"

#include <nftables/libnftables.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "riposte/core/ip.h"

namespace riposte {

namespace {

using json = nlohmann::json;

struct Element {  // NOLINT(bugprone-exception-escape): json moves are not noexcept
  bool v6 = false;
  std::string key;  // canonical text: address or CIDR
  json val;         // "192.0.2.1" or {"prefix": {"addr": ..., "len": ...}}
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
    e.val = e.key;
  } else {
    e.key = c->toString();
    e.val = json{{"prefix", {{"addr", c->base.toString()}, {"len", c->prefix}}}};
  }
  return e;
}

// Seconds left until expiry, at least 1 (an element with timeout 0 would never expire).
int64_t remainingSeconds(const Decision& d, Timestamp now) {
  const int64_t us = d.expires.micros - now.micros;
  return std::max<int64_t>(1, (us + 999'999) / 1'000'000);
}

const char* setName(bool v6) { return v6 ? "blocked6" : "blocked4"; }

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

Status NftablesAction::ensureSetup() {
  if (ready_) return Status::ok();
  const std::string& fam = cfg_.family;
  const std::string& tbl = cfg_.table;
  json cmds = json::array();
  cmds.push_back({{"add", {{"table", {{"family", fam}, {"name", tbl}}}}}});
  for (bool v6 : {false, true}) {
    if ((fam == "ip" && v6) || (fam == "ip6" && !v6)) continue;
    cmds.push_back({{"add",
                     {{"set",
                       {{"family", fam},
                        {"table", tbl},
                        {"name", setName(v6)},
                        {"type", v6 ? "ipv6_addr" : "ipv4_addr"},
                        {"flags", json::array({"timeout", "interval"})}}}}}});
  }
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
    for (bool v6 : {false, true}) {
      if ((fam == "ip" && v6) || (fam == "ip6" && !v6)) continue;
      const json match = {
          {"match",
           {{"op", "=="},
            {"left", {{"payload", {{"protocol", v6 ? "ip6" : "ip"}, {"field", "saddr"}}}}},
            {"right", std::string("@") + setName(v6)}}}};
      cmds.push_back({{"add",
                       {{"rule",
                         {{"family", fam},
                          {"table", tbl},
                          {"chain", hook},
                          {"expr", json::array({match, {{"drop", nullptr}}})}}}}}});
    }
  }
  auto r = run(json{{"nftables", cmds}}.dump());
  if (!r) return r.status().withContext("setting up table " + fam + " " + tbl);
  ready_ = true;
  return Status::ok();
}

Status NftablesAction::apply(const Decision& d) { return applyBatch({d}); }

Status NftablesAction::applyBatch(const std::vector<Decision>& ds) {
  const Timestamp now = Timestamp::now();
  // The element lists are written as JSON text directly: a 100,000-element batch is one
  // transaction and building a JSON tree for it would cost more than the kernel work. The
  // values are our canonical address text (digits, hex, '.', ':'), so nothing needs escaping.
  std::string elems[2];
  for (auto& e : elems) e.reserve(ds.size() * 48);
  for (const auto& d : ds) {
    auto e = elementFor(d.target);
    if (!e) return e.status();
    if (d.expires <= now) continue;  // already over: nothing to enforce
    std::string& out = elems[e->v6 ? 1 : 0];
    out += out.empty() ? "{\"elem\":{\"val\":" : ",{\"elem\":{\"val\":";
    out += e->val.dump();
    out += ",\"timeout\":";
    out += std::to_string(remainingSeconds(d, now));
    out += "}}";
  }
  std::string cmd = "{\"nftables\":[";
  bool first = true;
  for (int v6 = 0; v6 < 2; ++v6) {
    if (elems[v6].empty()) continue;
    cmd += first ? "" : ",";
    first = false;
    cmd += "{\"add\":{\"element\":{\"family\":" + json(cfg_.family).dump() +
           ",\"table\":" + json(cfg_.table).dump() + ",\"name\":\"" + setName(v6 == 1) +
           "\",\"elem\":[";
    cmd += elems[v6];
    cmd += "]}}}";
  }
  if (first) return Status::ok();
  cmd += "]}";
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  auto r = run(cmd);
  return r.status();
}

Status NftablesAction::undo(const Decision& d) {
  auto e = elementFor(d.target);
  if (!e) return e.status();
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  const json cmd = {{"nftables", json::array({{{"delete",
                                                {{"element",
                                                  {{"family", cfg_.family},
                                                   {"table", cfg_.table},
                                                   {"name", setName(e->v6)},
                                                   {"elem", json::array({e->val})}}}}}}})}};
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
  const std::string cmd = "get element " + cfg_.family + " " + cfg_.table + " " + setName(e->v6) +
                          " { " + e->key + " }";
  auto r = run(cmd);
  if (!r) {
    return Status::notFound("nftables action '" + name_ + "': " + e->key + " is not in " +
                            cfg_.table + "/" + setName(e->v6));
  }
  return Status::ok();
}

Result<std::set<std::string>> NftablesAction::listElements() {
  RIPOSTE_RETURN_IF_ERROR(ensureSetup());
  std::set<std::string> out;
  for (bool v6 : {false, true}) {
    if ((cfg_.family == "ip" && v6) || (cfg_.family == "ip6" && !v6)) continue;
    const json cmd = {
        {"nftables",
         json::array(
             {{{"list",
                {{"set",
                  {{"family", cfg_.family}, {"table", cfg_.table}, {"name", setName(v6)}}}}}}})}};
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
  json stale[2] = {json::array(), json::array()};
  for (const auto& key : *present) {
    if (wanted.count(key) != 0) continue;
    Target t;
    t.type = key.find('/') != std::string::npos ? TargetType::kCidr : TargetType::kIp;
    t.value = key;
    auto e = elementFor(t);
    if (!e) continue;  // e.g. a range written by someone else: leave it
    stale[e->v6 ? 1 : 0].push_back(e->val);
    ++rep.removed;
  }
  json cmds = json::array();
  for (int v6 = 0; v6 < 2; ++v6) {
    if (stale[v6].empty()) continue;
    cmds.push_back({{"delete",
                     {{"element",
                       {{"family", cfg_.family},
                        {"table", cfg_.table},
                        {"name", setName(v6 == 1)},
                        {"elem", std::move(stale[v6])}}}}}});
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

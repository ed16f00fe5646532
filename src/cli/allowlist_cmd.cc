// `riposte allowlist show|check`: the allowlist a `riposte serve` with this configuration
// enforces (configured entries with host names resolved now, important customers, this host's
// interface addresses and gateways), each entry with why it is there.
#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "riposte/respond/allowlist.h"

namespace riposte::cli {

namespace {

struct AllowlistOptions {
  std::string config;
  bool json = false;
  bool no_host = false;
  std::string target;
};

// The allowlist serve would enforce; on an error says so and sets exit status 2.
std::optional<Allowlist> build(Context& ctx, const AllowlistOptions& o,
                               std::vector<std::string>& warnings) {
  auto cfg = loadConfigOrDefault(ctx, o.config);  // prints its own diagnostics
  if (!cfg) {
    ctx.exit_code = 2;
    return std::nullopt;
  }
  AllowlistEnvironment env;
  env.own_addresses = !o.no_host && cfg->allowlist_own_addresses;
  env.gateways = !o.no_host && cfg->allowlist_gateways;
  auto list = buildAllowlist(*cfg, env, &warnings);
  if (!list) {
    std::fprintf(stderr, "riposte allowlist: %s\n", list.status().toString().c_str());
    ctx.exit_code = 2;
    return std::nullopt;
  }
  return std::move(*list);
}

// "user:NAME", "host:NAME", or an address or range.
Result<Target> parseTarget(const std::string& text) {
  if (text.starts_with("user:")) return Target{TargetType::kUser, text.substr(5)};
  if (text.starts_with("host:")) return Target{TargetType::kHost, text.substr(5)};
  auto c = Cidr::parse(text);
  if (!c) return Status::invalidArgument("'" + text + "' is not an address, range, user: or host:");
  if (c->prefix == (c->base.v6 ? 128 : 32)) return Target{TargetType::kIp, c->base.toString()};
  return Target{TargetType::kCidr, c->toString()};
}

}  // namespace

void addAllowlistCommands(CLI::App& app, Context& ctx) {
  auto* al = app.add_subcommand(
      "allowlist", "Show the allowlist serve enforces, or check whether a target is on it");
  al->require_subcommand(1);
  auto o = std::make_shared<AllowlistOptions>();
  al->add_option("--config,-c", o->config, "configuration file");
  al->add_flag("--no-host", o->no_host, "leave out this host's interface addresses and gateways");
  al->fallthrough();

  auto* show = al->add_subcommand("show", "Print every entry and why it is there");
  show->add_flag("--json", o->json, "one JSON object: entries and warnings");
  show->callback([&ctx, o] {
    std::vector<std::string> warnings;
    auto list = build(ctx, *o, warnings);
    if (!list) return;
    if (o->json) {
      nlohmann::json j{{"entries", nlohmann::json::array()}, {"warnings", warnings}};
      for (const auto& i : list->items())
        j["entries"].push_back({{"entry", i.entry}, {"why", i.why}});
      std::printf("%s\n", j.dump().c_str());
      return;
    }
    for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    for (const auto& i : list->items()) std::printf("%-40s %s\n", i.entry.c_str(), i.why.c_str());
  });

  auto* check = al->add_subcommand(
      "check",
      "Whether a target (address, range, user:NAME, host:NAME) is allowlisted and why; "
      "exit status 0 when it is, 1 when it is not");
  check->add_option("target", o->target, "the target")->required();
  check->callback([&ctx, o] {
    auto t = parseTarget(o->target);
    if (!t) {
      std::fprintf(stderr, "riposte allowlist check: %s\n", t.status().message().c_str());
      ctx.exit_code = 2;
      return;
    }
    std::vector<std::string> warnings;
    auto list = build(ctx, *o, warnings);
    if (!list) return;
    for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (const Allowlist::Item* i = list->match(*t)) {
      std::printf("%s is allowlisted: %s (%s)\n", o->target.c_str(), i->entry.c_str(),
                  i->why.c_str());
      return;
    }
    std::printf("%s is not allowlisted\n", o->target.c_str());
    ctx.exit_code = 1;
  });
}

}  // namespace riposte::cli

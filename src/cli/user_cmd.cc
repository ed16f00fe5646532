// `riposte user add|list|passwd` and `riposte token create|list|revoke`: console and API
// accounts in the store (the logic is in riposte/api/auth.h; every change is audited).
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "riposte/api/auth.h"
#include "riposte/engine/serve.h"

namespace riposte::cli {

namespace {

std::string cliActor() {
  const char* user = std::getenv("USER");
  return std::string("cli:") + (user != nullptr ? user : "unknown");
}

// One line from standard input; with a terminal, asked for twice without echo.
Result<std::string> readPassword() {
  if (isatty(STDIN_FILENO) == 0) {
    std::string line;
    if (!std::getline(std::cin, line)) return Status::invalidArgument("no password on stdin");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  termios old{};
  tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  auto ask = [&](const char* prompt) {
    std::fprintf(stderr, "%s", prompt);
    std::fflush(stderr);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::string s;
    std::getline(std::cin, s);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fprintf(stderr, "\n");
    return s;
  };
  std::string a = ask("Password: ");
  std::string b = ask("Again: ");
  if (a != b) return Status::invalidArgument("the passwords differ");
  return a;
}

Result<StorePtr> storeFor(Context& ctx, const std::string& config) {
  auto cfg = loadConfigOrDefault(ctx, config);
  if (!cfg) return cfg.status();
  return openStore(*cfg, ctx.registries);
}

int fail(const char* what, const Status& st, int code = 1) {
  std::fprintf(stderr, "riposte %s: %s\n", what, st.message().c_str());
  return code;
}

}  // namespace

void addUserCommands(CLI::App& app, Context& ctx) {
  auto* user = app.add_subcommand("user", "Console and API users (roles: viewer, analyst, admin, ingest)");
  user->require_subcommand(1);
  user->fallthrough();
  auto config = std::make_shared<std::string>();
  user->add_option("--config,-c", *config, "configuration file (names the store)");

  struct AddOpts {
    std::string name;
    std::string role = "viewer";
    bool generate = false;
    bool if_absent = false;
  };
  auto ao = std::make_shared<AddOpts>();
  auto* add = user->add_subcommand(
      "add", "Add a user; the password is read from stdin (or asked for on a terminal)");
  add->add_option("name", ao->name, "user name")->required();
  add->add_option("--role,-r", ao->role, "viewer, analyst, admin or ingest")->capture_default_str();
  add->add_flag("--generate", ao->generate,
                "generate a random password and print it once instead of reading one");
  add->add_flag("--if-absent", ao->if_absent, "do nothing (exit 0) when the user exists");
  add->callback([&ctx, config, ao] {
    auto role = api::roleFromName(ao->role);
    if (!role) {
      ctx.exit_code = fail("user add", Status::invalidArgument("unknown role '" + ao->role + "'"), 2);
      return;
    }
    auto store = storeFor(ctx, *config);
    if (!store) {
      ctx.exit_code = fail("user add", store.status());
      return;
    }
    auto existing = (*store)->getUser(ao->name);
    if (!existing) {
      ctx.exit_code = fail("user add", existing.status());
      return;
    }
    if (existing->has_value() && ao->if_absent) {
      std::printf("user '%s' exists (its password was shown when it was created; change it with "
                  "`riposte user passwd %s`)\n",
                  ao->name.c_str(), ao->name.c_str());
      return;
    }
    std::string password;
    if (ao->generate) {
      password = api::randomHex(12);
    } else {
      auto pw = readPassword();
      if (!pw) {
        ctx.exit_code = fail("user add", pw.status(), 2);
        return;
      }
      password = *pw;
    }
    if (Status st = api::addUser(**store, ao->name, *role, password, cliActor()); !st.isOk()) {
      ctx.exit_code = fail("user add", st, st.code() == StatusCode::kInvalidArgument ? 2 : 1);
      return;
    }
    if (ao->generate) {
      std::printf("created %s user '%s' with the one-time password: %s\n", ao->role.c_str(),
                  ao->name.c_str(), password.c_str());
      std::printf("(shown only now; change it with `riposte user passwd %s`)\n", ao->name.c_str());
    } else {
      std::printf("created %s user '%s'\n", ao->role.c_str(), ao->name.c_str());
    }
  });

  auto* list = user->add_subcommand("list", "Print the users as JSON lines");
  list->callback([&ctx, config] {
    auto store = storeFor(ctx, *config);
    if (!store) {
      ctx.exit_code = fail("user list", store.status());
      return;
    }
    auto users = (*store)->listUsers();
    if (!users) {
      ctx.exit_code = fail("user list", users.status());
      return;
    }
    for (const auto& u : *users) {
      std::printf("%s\n", nlohmann::json{{"name", u.name},
                                         {"role", u.role},
                                         {"created", formatRfc3339Utc(u.created)},
                                         {"disabled", u.disabled}}
                              .dump()
                              .c_str());
    }
  });

  auto pname = std::make_shared<std::string>();
  auto* passwd = user->add_subcommand("passwd", "Set a user's password (read like `add`)");
  passwd->add_option("name", *pname, "user name")->required();
  passwd->callback([&ctx, config, pname] {
    auto store = storeFor(ctx, *config);
    if (!store) {
      ctx.exit_code = fail("user passwd", store.status());
      return;
    }
    auto pw = readPassword();
    if (!pw) {
      ctx.exit_code = fail("user passwd", pw.status(), 2);
      return;
    }
    if (Status st = api::updateUser(**store, *pname, std::nullopt, *pw, std::nullopt, cliActor());
        !st.isOk()) {
      ctx.exit_code = fail("user passwd", st);
      return;
    }
    std::printf("password of '%s' changed; its sessions are closed\n", pname->c_str());
  });

  auto* token = app.add_subcommand("token", "API tokens for machines (shown once, stored hashed)");
  token->require_subcommand(1);
  token->fallthrough();
  token->add_option("--config,-c", *config, "configuration file (names the store)");
  struct TokOpts {
    std::string user;
    std::string name = "token";
    std::string id;
  };
  auto to = std::make_shared<TokOpts>();
  auto* create = token->add_subcommand("create", "Create a token for a user and print it once");
  create->add_option("--user,-u", to->user, "the user the token acts as")->required();
  create->add_option("--name,-n", to->name, "what the token is for")->capture_default_str();
  create->callback([&ctx, config, to] {
    auto store = storeFor(ctx, *config);
    if (!store) {
      ctx.exit_code = fail("token create", store.status());
      return;
    }
    auto t = api::createToken(**store, to->user, to->name, cliActor());
    if (!t) {
      ctx.exit_code = fail("token create", t.status());
      return;
    }
    std::printf("%s\n", t->secret.c_str());
    std::fprintf(stderr, "token %s for '%s' (shown only now; send it as 'Authorization: Bearer "
                 "<token>')\n",
                 t->record.id.c_str(), to->user.c_str());
  });
  auto* tlist = token->add_subcommand("list", "Print the tokens (never their secrets) as JSON lines");
  tlist->callback([&ctx, config] {
    auto store = storeFor(ctx, *config);
    if (!store) {
      ctx.exit_code = fail("token list", store.status());
      return;
    }
    auto ts = (*store)->listTokens();
    if (!ts) {
      ctx.exit_code = fail("token list", ts.status());
      return;
    }
    for (const auto& t : *ts) {
      std::printf("%s\n", nlohmann::json{{"id", t.id},
                                         {"user", t.user},
                                         {"name", t.name},
                                         {"created", formatRfc3339Utc(t.created)},
                                         {"revoked", t.revoked}}
                              .dump()
                              .c_str());
    }
  });
  auto* revoke = token->add_subcommand("revoke", "Revoke a token by its id");
  revoke->add_option("id", to->id, "token id (from `token list`)")->required();
  revoke->callback([&ctx, config, to] {
    auto store = storeFor(ctx, *config);
    if (!store) {
      ctx.exit_code = fail("token revoke", store.status());
      return;
    }
    if (Status st = api::revokeToken(**store, to->id, cliActor()); !st.isOk()) {
      ctx.exit_code = fail("token revoke", st);
      return;
    }
    std::printf("token %s revoked\n", to->id.c_str());
  });
}

}  // namespace riposte::cli

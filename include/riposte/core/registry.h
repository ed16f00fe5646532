// Typed registries of named factories: sources, parsers, detectors, actions and stores.
//
// Registries are filled explicitly at start-up by registerBuiltins() (no static
// self-registration). Registering a name twice is an error. Tests may add their own factories.
// Each factory can validate its component's configuration before anything is built, so a
// config file is checked whole before use.
//
// Thread safety: fill once at start-up, then read-only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "riposte/core/config.h"
#include "riposte/core/status.h"
#include "riposte/detect/detector.h"
#include "riposte/ingest/parser.h"
#include "riposte/ingest/source.h"
#include "riposte/respond/action.h"
#include "riposte/store/store.h"

namespace riposte {

class IntelHub;  // detect/shared_intel.h

// Context every factory receives.
struct FactoryContext {
  const Config* config = nullptr;
  Store* store = nullptr;  // may be null (e.g. replay without a store)
  // Background fetching may start (intel.feeds collectors, the shared intel cache's refresh);
  // replay works on what is stored and sets this false.
  bool fetch_feeds = true;
  // The detectors built with this context share one intel store per indicator database (the
  // `intel` detector and rules' intel predicates); null: each builds its own.
  std::shared_ptr<IntelHub> intel = nullptr;
};

template <typename Product>
class Registry {
 public:
  using Create = std::function<Result<std::unique_ptr<Product>>(const ComponentConfig&,
                                                                const FactoryContext&)>;
  // Validates the component's keys (other than name/type) and records diagnostics.
  using Validate = std::function<void(const ComponentConfig&, const ConfigReader&)>;

  struct Entry {
    std::string name;
    std::string description;
    Create create;
    Validate validate;
  };

  explicit Registry(std::string category) : category_(std::move(category)) {}

  Status add(std::string name, std::string description, Create create, Validate validate = {}) {
    if (entries_.count(name) != 0) {
      return Status::alreadyExists(category_ + " '" + name + "' is registered twice");
    }
    entries_.emplace(name,
                     Entry{name, std::move(description), std::move(create), std::move(validate)});
    return Status::ok();
  }

  const Entry* find(const std::string& name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
  }

  Result<std::unique_ptr<Product>> create(const ComponentConfig& cfg,
                                          const FactoryContext& ctx) const {
    const Entry* e = find(cfg.type);
    if (e == nullptr) {
      return Status::notFound(cfg.path + ": unknown " + category_ + " type '" + cfg.type +
                              "' (known: " + namesJoined() + ")");
    }
    return e->create(cfg, ctx);
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [n, _] : entries_) out.push_back(n);
    return out;
  }

  std::string namesJoined() const {
    std::string s;
    for (const auto& [n, _] : entries_) s += (s.empty() ? "" : ", ") + n;
    return s;
  }

  const std::string& category() const { return category_; }

 private:
  std::string category_;
  std::map<std::string, Entry> entries_;
};

struct Registries {
  Registry<Source> sources{"source"};
  Registry<Parser> parsers{"parser"};
  Registry<Detector> detectors{"detector"};
  Registry<Action> actions{"action"};
  Registry<Store> stores{"store"};
};

// Fills every registry with the built-in components. Defined in src/engine/builtins.cc.
Status registerBuiltins(Registries& r);

}  // namespace riposte

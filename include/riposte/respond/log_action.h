// LogAction: writes what would be enforced, one JSON line per apply/undo, to a file or stderr.
// The first slice's action, and the dry-run stand-in for every enforcing action.
//
// Configuration: { name: log, type: log, path: "-" }   ("-" = standard error)
//
// Thread safety: called from one executor thread.
#pragma once

#include <cstdio>
#include <string>

#include "riposte/respond/action.h"

namespace riposte {

class LogAction : public Action {
 public:
  static Result<std::unique_ptr<LogAction>> create(std::string name, const std::string& path);
  ~LogAction() override;

  std::string_view name() const override { return name_; }
  Status apply(const Decision& d) override;
  Status undo(const Decision& d) override;
  Status notify(const std::string& subject, const std::string& text) override;

 private:
  LogAction(std::string name, std::FILE* f, bool owned)
      : name_(std::move(name)), file_(f), owned_(owned) {}
  Status write(std::string_view verb, const Decision& d);

  std::string name_;
  std::FILE* file_;
  bool owned_;
};

}  // namespace riposte

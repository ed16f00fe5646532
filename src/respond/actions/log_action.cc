#include "riposte/respond/log_action.h"

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace riposte {

Result<std::unique_ptr<LogAction>> LogAction::create(std::string name, const std::string& path) {
  if (path.empty() || path == "-") {
    return std::unique_ptr<LogAction>(new LogAction(std::move(name), stderr, false));
  }
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) {
    return Status::ioError("log action '" + name + "': cannot open " + path + ": " +
                           std::strerror(errno));
  }
  return std::unique_ptr<LogAction>(new LogAction(std::move(name), f, true));
}

LogAction::~LogAction() {
  if (owned_) std::fclose(file_);
}

Status LogAction::write(std::string_view verb, const Decision& d) {
  const std::string line =
      "{\"log_action\":\"" + std::string(verb) + "\",\"decision\":" + d.toJson() + "}\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    return Status::ioError("log action '" + name_ + "': write failed");
  }
  return Status::ok();
}

Status LogAction::apply(const Decision& d) { return write("would-enforce", d); }
Status LogAction::notify(const std::string& subject, const std::string& text) {
  const std::string line =
      nlohmann::json{{"log_action", "notify"}, {"subject", subject}, {"text", text}}.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    return Status::ioError("log action '" + name_ + "': write failed");
  }
  return Status::ok();
}

Status LogAction::undo(const Decision& d) { return write("would-undo", d); }

}  // namespace riposte

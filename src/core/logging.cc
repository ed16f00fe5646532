#include "riposte/core/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "riposte/core/time.h"

namespace riposte {

namespace {

// One JSON object per line: {"time":..., "level":..., "logger":..., "msg":...}.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count();
    nlohmann::ordered_json j;
    j["time"] = formatRfc3339Utc(Timestamp{us, 0});
    j["level"] = std::string(spdlog::level::to_string_view(msg.level).data(),
                             spdlog::level::to_string_view(msg.level).size());
    j["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
    j["msg"] = std::string(msg.payload.data(), msg.payload.size());
    const std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(s.data(), s.data() + s.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

Status initLogging(const std::string& level, const std::string& format) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return Status::invalidArgument("unknown log level '" + level + "'");
  }
  spdlog::drop("riposte");
  auto logger = spdlog::stderr_logger_mt("riposte");
  spdlog::set_default_logger(logger);
  spdlog::set_level(lvl);
  if (format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else if (format == "text") {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  } else {
    return Status::invalidArgument("unknown log format '" + format + "' (text or json)");
  }
  return Status::ok();
}

}  // namespace riposte

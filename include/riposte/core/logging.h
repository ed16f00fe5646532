// Logging set-up (spdlog): level and text or JSON lines on standard error.
//
// Thread safety: call initLogging() once at start-up, before other threads log.
#pragma once

#include <string>

#include "riposte/core/status.h"

namespace riposte {

// level: trace, debug, info, warn, error, off. format: text or json.
Status initLogging(const std::string& level, const std::string& format);

}  // namespace riposte

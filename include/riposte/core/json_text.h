// JSON text written directly, for the paths where building a document first costs too much
// (lists of decisions, a finding's evidence events).
#pragma once

#include <string>
#include <string_view>

namespace riposte {

// Appends `s` as a JSON string: quotes, backslashes and control characters escaped, invalid
// UTF-8 replaced by U+FFFD (the text nlohmann::json writes with its `replace` error handler).
void appendJsonString(std::string& out, std::string_view s);

}  // namespace riposte

// Text as PostgreSQL accepts it: valid UTF-8 without NUL bytes (log lines may carry anything).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace riposte::pg {

// True when `s` is valid UTF-8 and has no NUL byte (the common case, checked without copying).
bool isCleanText(std::string_view s);
// `s` with each NUL byte and each byte of an invalid UTF-8 sequence replaced by U+FFFD.
std::string sanitized(std::string_view s);
void sanitizeInPlace(std::string& s);
// `s` itself when clean, else its sanitized copy in `scratch`.
const std::string& clean(const std::string& s, std::string& scratch);
// Shortest text that reads back as the same double.
std::string numberText(double v);

}  // namespace riposte::pg

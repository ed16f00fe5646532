// Hex encoding and SHA-256 digests (OpenSSL), shared by the audit chain, API tokens, webhook
// signatures, model files and intel snapshots.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace riposte {

// Lower-case hex of `n` bytes.
std::string hexEncode(const uint8_t* data, size_t n);
// SHA-256 of `data`: raw 32 bytes into `out`, or as 64 hex digits.
void sha256(std::string_view data, uint8_t out[32]);
std::string sha256Hex(std::string_view data);
// HMAC-SHA256 of `data` with `key`, as 64 hex digits.
std::string hmacSha256Hex(std::string_view key, std::string_view data);

}  // namespace riposte

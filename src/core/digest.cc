#include "riposte/core/digest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace riposte {

std::string hexEncode(const uint8_t* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kHex[data[i] >> 4];
    s[2 * i + 1] = kHex[data[i] & 15];
  }
  return s;
}

void sha256(std::string_view data, uint8_t out[32]) {
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
}

std::string sha256Hex(std::string_view data) {
  uint8_t md[32];
  sha256(data, md);
  return hexEncode(md, sizeof md);
}

std::string hmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return hexEncode(md, len);
}

}  // namespace riposte

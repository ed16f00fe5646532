#include <openssl/evp.h>

#include <cstdio>

#include "riposte/store/store.h"

namespace riposte {

std::string auditEntryHash(const AuditEntry& e) {
  // Fields are length-prefixed so no two different entries serialise the same way.
  std::string buf;
  auto add = [&buf](std::string_view v) {
    buf += std::to_string(v.size());
    buf += ':';
    buf += v;
  };
  add(e.prev_hash);
  add(std::to_string(e.seq));
  add(std::to_string(e.time.micros));
  add(e.actor);
  add(e.kind);
  add(e.target);
  add(e.reason);
  add(e.details_json);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(buf.data(), buf.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex(len * 2, '0');
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned i = 0; i < len; ++i) {
    hex[2 * i] = kHex[md[i] >> 4];
    hex[2 * i + 1] = kHex[md[i] & 15];
  }
  return hex;
}

Status verifyAuditChain(const std::vector<AuditEntry>& entries) {
  std::string prev;
  int64_t expect_seq = 1;
  for (const auto& e : entries) {
    const std::string where = "audit entry " + std::to_string(e.seq);
    if (e.seq != expect_seq) {
      return Status::failedPrecondition(where + ": expected entry " + std::to_string(expect_seq) +
                                        " here; entries were removed or reordered");
    }
    if (e.prev_hash != prev) {
      return Status::failedPrecondition(where +
                                        ": does not chain to the entry before it (removed, "
                                        "reordered or edited)");
    }
    if (auditEntryHash(e) != e.hash) {
      return Status::failedPrecondition(where + ": content does not match its hash (edited)");
    }
    prev = e.hash;
    ++expect_seq;
  }
  return Status::ok();
}

}  // namespace riposte

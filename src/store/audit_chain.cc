#include <openssl/evp.h>

#include <cstdio>

#include "riposte/store/store.h"
#include "riposte/core/digest.h"

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
  return sha256Hex(buf);
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

// Snapshot: an immutable, compact index of every active indicator, built once by
// SnapshotBuilder and then only read.
//
// One structure per type: open-addressing tables of 64-bit slots at load ≤ 1/2, each fronted by
// a blocked Bloom filter (8 bits per key) so that values that are not listed rarely touch the
// table. An IPv4 slot holds the address, the score and the entry number, so an IPv4 look-up
// reads one slot; the other slots hold a 25-bit hash tag, the score and a reference to the key
// record (IPv6 addresses and digests as bytes, not hex; strings length-prefixed), which is read
// once to confirm a hit. CIDRs (v4 and v6) are sorted range boundaries with a first-level index
// on the top 16 bits; every CIDR names its enclosing parent, so one search yields every matching
// CIDR. Domain look-ups read the name once, from its end, finding listed parents
// (a.b.evil.com hits evil.com) in the same pass. Metadata: a 16-byte entry per indicator and a
// 24-byte record per source report; source names, references and tag sets are interned. Tables of
// 2 MiB and more are mapped with transparent huge pages requested. Limits: 2^25 − 2 indicators,
// strings of at most 65535 bytes (the builder counts anything beyond as invalid).
//
// The match* functions are the hot path: they never lock and, given an `out` vector with
// capacity, never allocate; they append one Hit per matching indicator. The *Batch functions
// give the same hits for a batch of values with their memory accesses overlapped. describe() and
// lookup() are the convenient, allocating slow path (CLI, API, findings).
//
// Thread safety: immutable; every const member may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/core/ip.h"
#include "riposte/core/time.h"
#include "riposte/intel/indicator.h"

namespace riposte::intel {

struct SnapshotData;  // the indexes, defined in src/intel/snapshot_data.h

// A matching indicator: a handle into the snapshot that produced it.
struct Hit {
  uint32_t entry = 0;
  uint8_t score = 0;  // 0-100, combined over every source
  IndicatorType type = IndicatorType::kIpv4;
};

// One source's report of an indicator.
struct SourceReport {
  std::string source;
  uint8_t confidence = 0;
  Timestamp first_seen;
  Timestamp last_seen;
  Timestamp valid_until;  // unset = no expiry
  Tlp tlp = Tlp::kUnknown;
  std::string reference;
  std::vector<std::string> tags;
};

struct IndicatorMatch {
  IndicatorType type = IndicatorType::kIpv4;
  std::string value;
  uint8_t score = 0;
  Timestamp valid_until;  // latest expiry over the sources, unset when one has none
  std::vector<SourceReport> sources;
};

struct SnapshotStats {
  size_t indicators = 0;
  size_t source_reports = 0;
  std::map<std::string, size_t> per_type;    // type name → indicators
  std::map<std::string, size_t> per_source;  // source → indicators it reports
  size_t memory_bytes = 0;                   // heap held by the indexes and metadata
};

class Snapshot {
 public:
  explicit Snapshot(std::unique_ptr<SnapshotData> data);
  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // An empty snapshot (what a store holds before its first load).
  static std::shared_ptr<const Snapshot> empty();

  // ---- hot path: append hits to `out`, return how many were appended ----
  // IPv4 address (host order): the exact address and every enclosing CIDR.
  size_t matchIpv4(uint32_t addr, std::vector<Hit>& out) const;
  size_t matchIp(const IpAddress& ip, std::vector<Hit>& out) const;
  // A normalised domain and each listed parent domain.
  size_t matchDomain(std::string_view domain, std::vector<Hit>& out) const;
  size_t matchUrl(std::string_view normalised_url, std::vector<Hit>& out) const;
  size_t matchEmail(std::string_view normalised_email, std::vector<Hit>& out) const;
  // `digest` holds hashLength(type) bytes.
  size_t matchHash(IndicatorType type, const uint8_t* digest, std::vector<Hit>& out) const;
  // Batched look-ups: the same hits as calling the match function for each value in turn,
  // appended in batch order with the position of the value. A batch first touches the memory
  // every look-up needs (independent loads the CPU overlaps) and then matches, so a batch runs
  // several times faster than one look-up after the other when the tables are not in cache.
  struct BatchHit {
    uint32_t index = 0;  // position of the value in the batch
    Hit hit;
  };
  size_t matchIpv4Batch(const uint32_t* addrs, size_t n, std::vector<BatchHit>& out) const;
  size_t matchDomainBatch(const std::string_view* domains, size_t n,
                          std::vector<BatchHit>& out) const;
  size_t matchHashBatch(IndicatorType type, const uint8_t* const* digests, size_t n,
                        std::vector<BatchHit>& out) const;
  // A value of any kind for matchBatch(); the pointed-to bytes and text must outlive the call.
  struct Value {
    IndicatorType type = IndicatorType::kIpv4;  // ipv4/ipv6, domain, url, email, md5/sha1/sha256
    uint32_t v4 = 0;                            // ipv4, host order
    const uint8_t* bytes = nullptr;             // ipv6: 16 bytes; digests: hashLength(type)
    std::string_view text;                      // domain, url, email (normalised)

    static Value ipv4(uint32_t addr) { return Value{IndicatorType::kIpv4, addr, nullptr, {}}; }
    static Value ip(const IpAddress& a) {
      return a.v6 ? Value{IndicatorType::kIpv6, 0, a.bytes.data(), {}} : ipv4(a.v4());
    }
    static Value domain(std::string_view d) { return Value{IndicatorType::kDomain, 0, nullptr, d}; }
    static Value url(std::string_view u) { return Value{IndicatorType::kUrl, 0, nullptr, u}; }
    static Value email(std::string_view e) { return Value{IndicatorType::kEmail, 0, nullptr, e}; }
    static Value digest(IndicatorType t, const uint8_t* d) { return Value{t, 0, d, {}}; }
  };
  // Mixed batch (what the intel detector does with an event's IPs, domains and hashes): the
  // same hits as matchIp / matchDomain / matchUrl / matchEmail / matchHash for each value in
  // turn, in batch order. The look-ups run as a pipeline over groups of values: hash every
  // value and prefetch its filter word (and CIDR block), then test the filter and prefetch the
  // first slot of what it lets through, then prefetch the key records of slots whose tag
  // matches, then match, so that one value's memory latency hides behind the others'. A value
  // of another type (a CIDR) gives no hit.
  size_t matchBatch(const Value* values, size_t n, std::vector<BatchHit>& out) const;
  // Dispatch on a normalised value (CIDR values match the exact CIDR and enclosing CIDRs).
  size_t matchValue(const NormalisedValue& value, std::vector<Hit>& out) const;

  // ---- slow path ----
  // Classifies and normalises `raw`, then returns every matching indicator; a URL also matches
  // on its host (domain or IP), an e-mail address on its domain.
  std::vector<IndicatorMatch> lookup(std::string_view raw) const;
  IndicatorMatch describe(const Hit& hit) const;

  // ---- per-hit filters (rules' intel predicates): no allocation ----
  // Whether some source report of the hit's indicator carries `tag` (ASCII case-insensitive).
  bool hitHasTag(const Hit& hit, std::string_view tag) const;
  // Whether one of the hit's source reports comes from `source` (exact name).
  bool hitReportedBy(const Hit& hit, std::string_view source) const;

  size_t size() const;
  SnapshotStats stats() const;
  Timestamp builtAt() const;
  // Earliest expiry among the indicators (unset when none expires): when to rebuild next.
  Timestamp nextExpiry() const;
  // Calls `fn` once per (indicator, source), e.g. to persist the snapshot.
  void forEachIndicator(const std::function<void(const Indicator&)>& fn) const;

 private:
  size_t matchCidrs(const IpAddress& ip, std::vector<Hit>& out) const;

  std::unique_ptr<SnapshotData> d_;
};

}  // namespace riposte::intel

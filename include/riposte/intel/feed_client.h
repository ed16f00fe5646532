// Feed clients: fetch one configured feed over HTTP and parse it with the feed parsers.
//
// Types (`intel.feeds[].type`):
//   http   a file served over HTTP (plain list, CSV, STIX bundle, OTX or MISP export): GET with
//          conditional GET (ETag / Last-Modified → If-None-Match / If-Modified-Since); a 304
//          keeps the feed's previous indicators.
//   otx    AlienVault OTX: GET /api/v1/pulses/subscribed?limit=N&modified_since=T with header
//          X-OTX-API-KEY, following `next` until null. Incremental: T is the newest pulse
//          `modified` of the previous sync. With `endpoint: export`, GET
//          /api/v1/indicators/export?types=…&limit=N&modified_since=T instead (flat rows, the
//          types of `otx_types`); T is then when the previous sync started.
//   misp   MISP: POST /attributes/restSearch {"returnFormat":"json","limit":N,"page":P,
//          "to_ids":1,"timestamp":T…} with Authorization: <key>, paging until a short or empty
//          page. Incremental: T is when the previous sync started (deleted attributes then
//          arrive as revoked).
//   misp-feed  a MISP feed of static files (e.g. CIRCL's OSINT feed): GET manifest.json
//          (conditional), then <uuid>.json of each event whose manifest timestamp is newer than
//          the previous sync's newest (all, or those within `since`, the first time), oldest
//          first. Event files go through the MISP parser (to_ids honoured, deleted attributes
//          revoked). An event dropped from the manifest keeps its indicators until they expire.
//   taxii  TAXII 2.1: discovery → API root → collections (by id, alias or title) → GET
//          objects/?added_after=T&limit=N&match[type]=indicator with Accept
//          application/taxii+json;version=2.1, following `next` while `more`; basic or bearer
//          auth. Incremental: T is the X-TAXII-Date-Added-Last of the previous sync.
// Every client stops with an error when a server repeats a page cursor (`next` URL, TAXII
// `next`, an identical MISP page) or after `max_pages`: a loop never hangs the collector and an
// incomplete sync never replaces what the feed had.
//
// Thread safety: a FeedClient is used by one thread at a time; configs are values.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "riposte/core/config.h"
#include "riposte/core/status.h"
#include "riposte/intel/builder.h"
#include "riposte/intel/feed.h"
#include "riposte/intel/http_fetch.h"

namespace riposte::intel {

struct FeedConfig {
  std::string name;  // also the indicators' source
  std::string type;  // http | otx | misp | misp-feed | taxii
  std::string path;  // key path in the configuration file, for messages
  std::string url;   // http: the file; otx/misp: the server's base URL; taxii: discovery URL
  FeedFormat format = FeedFormat::kList;  // http only
  FeedOptions parse;                      // parser options (source = name)
  Duration interval = std::chrono::hours(1);
  Duration failure_backoff = std::chrono::minutes(1);  // first re-run delay after a failure
  bool enabled = true;
  HttpFetchOptions http;
  std::vector<std::string> headers;  // extra "Name: value" headers
  std::string api_key;               // otx: X-OTX-API-KEY; misp: Authorization
  std::string username, password;    // basic auth (taxii, http)
  std::string token;                 // bearer token (taxii, http)
  Duration since{0};  // incremental feeds: how far back the first sync reaches (0 = all)
  int page_size = 0;  // 0 = the type's default (otx 50, misp 500, taxii 100)
  int max_pages = 10'000;
  std::vector<std::string> misp_types;      // misp: restrict to these attribute types
  std::string otx_endpoint = "subscribed";  // otx: subscribed | export
  std::vector<std::string> otx_types;       // otx export: OTX type names (default: all we match)
  std::string api_root;                     // taxii: API root URL ("" = the discovery's default)
  std::string collection;                   // taxii: collection id, alias or title
  std::optional<SourcePolicy> policy;       // weight / default_confidence of this source
};

// Reads and validates `intel.feeds` (every problem reported with file:line:col and key path).
// Returns an empty list when no feeds are configured.
Result<std::vector<FeedConfig>> feedConfigsFrom(const Config& config);
// `intel.db` when set, else the `db` of the first intel detector, else "var/intel.db".
std::string feedDbPath(const Config& config);

// What a client remembers between syncs (persisted per feed next to the indicators).
struct FeedState {
  std::string etag;
  std::string last_modified;
  std::string cursor;  // otx modified_since, misp timestamp, taxii added_after
  bool operator==(const FeedState&) const = default;
};

struct FetchResult {
  bool not_modified = false;  // nothing changed since the previous sync
  bool incremental = false;   // the indicators add to the previous ones (else replace them)
  std::vector<Indicator> indicators;
  ParseReport report;  // summed over the pages
  size_t pages = 0;
  size_t requests = 0;  // HTTP requests, retries included
  size_t bytes = 0;
  FeedState state;          // to remember after this sync
  Duration retry_after{0};  // set on failure when the server asked to wait (Retry-After)
};

class FeedClient {
 public:
  virtual ~FeedClient() = default;
  // Fetches the feed. On error nothing is returned and the caller keeps the previous
  // indicators; `retry_after` receives a server-requested wait when there was one.
  virtual Result<FetchResult> fetch(const FeedState& previous, Duration* retry_after) = 0;
};

Result<std::unique_ptr<FeedClient>> makeFeedClient(const FeedConfig& config);

// The OTX type names an `endpoint: export` feed asks for by default (every type Riposte matches).
const std::vector<std::string>& otxExportTypes();

// The type names makeFeedClient() knows.
const std::vector<std::string>& feedClientTypes();

}  // namespace riposte::intel

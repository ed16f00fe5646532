// Feed parsers: pure functions from a feed's bytes to normalised indicators plus a report that
// counts every item examined, skipped (valid but carrying no usable indicator: unsupported type,
// not flagged for detection, non-indicator object) or in error, with the reason and location
// ("line 12", "objects[3] (indicator--…)") of the first errors.
//
// A malformed item never stops a parse: the other items are kept. A document that is not valid
// JSON at all (truncated download, garbage) sets report.status and the parser recovers every
// complete element of the main array it can find before the damage.
//
// Formats:
//   list  one value per line; '#' / ';' / '//' comments, inline "1.2.3.0/24 ; SBL123" (the comment
//         becomes the reference), hosts-file lines "0.0.0.0 evil.com", FireHOL .netset/.ipset.
//   csv   RFC 4180 with a configurable value column by name (header found on an uncommented line,
//         or on the last '#' comment line as URLhaus writes it) or by index; optional tag,
//         first/last-seen and reference columns (abuse.ch Feodo Tracker, URLhaus, SSLBL).
//   otx   AlienVault OTX pulses/subscribed pages, a single pulse, and indicators/export pages.
//   misp  MISP attributes restSearch ({"response":{"Attribute":[…]}}), events restSearch
//         ({"response":[{"Event":…}]}), event files ({"Event":{…}}), including object attributes.
//   stix  STIX 2.1 bundles, TAXII 2.1 envelopes, single indicator objects (see stix_pattern.h).
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "riposte/core/status.h"
#include "riposte/intel/indicator.h"

namespace riposte::intel {

enum class FeedFormat { kList, kCsv, kOtx, kMisp, kStix };
std::string_view feedFormatName(FeedFormat f);  // "list", "csv", "otx", "misp", "stix"
std::optional<FeedFormat> feedFormatFromName(std::string_view name);

struct FeedOptions {
  std::string source;                 // stamped on every indicator (required)
  std::optional<uint8_t> confidence;  // for items that carry none
  std::vector<std::string> tags;      // added to every indicator
  Tlp tlp = Tlp::kUnknown;            // for items that carry none
  std::optional<IndicatorType> type;  // list/csv: every value is of this type (else guessed)
  // list
  bool every_token = false;  // take every white-space separated token of a line
  // csv
  std::string column;     // value column by header name …
  int column_index = -1;  // … or by 0-based index
  char delimiter = ',';
  std::vector<std::string> tag_columns;  // cells become tags (split on ',')
  std::string first_seen_column;
  std::string last_seen_column;
  std::string reference_column;
  // misp
  bool require_to_ids = true;  // skip attributes not flagged for detection
  // all
  size_t max_error_samples = 50;
};

struct ParseError {
  std::string where;  // "line 12", "objects[3] (indicator--…)"
  std::string reason;
};

struct ParseReport {
  size_t items = 0;                       // lines, rows, objects or attributes examined
  size_t indicators = 0;                  // indicators produced
  size_t skipped = 0;                     // valid items without a usable indicator
  size_t errors = 0;                      // malformed items
  size_t unsupported_patterns = 0;        // STIX patterns that yield no indicator
  size_t broadened_patterns = 0;          // STIX patterns matched more widely than written
  std::map<std::string, size_t> reasons;  // reason → count, for skips and errors
  std::vector<ParseError> samples;        // the first errors, with their location
  Status status;                          // document-level failure (not JSON, missing column…)

  // Counts an error of category `kind` ("invalid value", "bad JSON"…) and keeps a sample
  // "<kind>: <detail>" with its location while fewer than `max_samples` are kept.
  void error(std::string where, const std::string& kind, const std::string& detail = {},
             size_t max_samples = 50);
  void skip(const std::string& reason);
};

struct ParseResult {
  std::vector<Indicator> indicators;
  ParseReport report;
  std::string next_page;  // OTX "next" URL, TAXII "next" cursor when "more"; empty when none
  Timestamp newest;       // OTX: the latest pulse "modified" seen (incremental sync); else unset
};

ParseResult parsePlainList(std::string_view data, const FeedOptions& options);
ParseResult parseCsv(std::string_view data, const FeedOptions& options);
ParseResult parseOtx(std::string_view data, const FeedOptions& options);
ParseResult parseMisp(std::string_view data, const FeedOptions& options);
ParseResult parseStix(std::string_view data, const FeedOptions& options);

ParseResult parseFeed(FeedFormat format, std::string_view data, const FeedOptions& options);

}  // namespace riposte::intel

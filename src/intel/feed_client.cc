#include "riposte/intel/feed_client.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <set>

namespace riposte::intel {
namespace {

using nlohmann::json;

void addReport(ParseReport& into, const ParseReport& r, const std::string& page) {
  into.items += r.items;
  into.indicators += r.indicators;
  into.skipped += r.skipped;
  into.errors += r.errors;
  into.unsupported_patterns += r.unsupported_patterns;
  into.broadened_patterns += r.broadened_patterns;
  for (const auto& [k, v] : r.reasons) into.reasons[k] += v;
  for (const auto& s : r.samples) {
    if (into.samples.size() >= 50) break;
    into.samples.push_back({page.empty() ? s.where : page + " " + s.where, s.reason});
  }
}

void append(std::vector<Indicator>& into, std::vector<Indicator>& more) {
  into.insert(into.end(), std::make_move_iterator(more.begin()),
              std::make_move_iterator(more.end()));
}

// "scheme://host[:port]" of a URL ("" when it has none).
std::string origin(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return {};
  const size_t path = url.find('/', scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

// Resolves a link a server returned against the URL it came from (absolute, or "/path").
std::string resolve(const std::string& base, const std::string& link) {
  if (link.rfind("http://", 0) == 0 || link.rfind("https://", 0) == 0) return link;
  if (!link.empty() && link[0] == '/') return origin(base) + link;
  std::string b = base;
  if (b.empty() || b.back() != '/') b += '/';
  return b + link;
}

std::string withSlash(std::string s) {
  if (s.empty() || s.back() != '/') s += '/';
  return s;
}

std::string withoutSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// Common request plumbing: headers, auth, counting.
class ClientBase : public FeedClient {
 public:
  explicit ClientBase(FeedConfig c) : c_(std::move(c)) { c_.parse.source = c_.name; }

 protected:
  HttpFetchRequest request(std::string url) const {
    HttpFetchRequest r;
    r.url = std::move(url);
    r.headers = c_.headers;
    r.username = c_.username;
    r.password = c_.password;
    if (!c_.token.empty()) r.headers.push_back("Authorization: Bearer " + c_.token);
    return r;
  }

  Result<HttpFetchResponse> send(const HttpFetchRequest& r, FetchResult& out,
                                 Duration* retry_after) {
    auto resp = httpFetch(r, c_.http, retry_after);
    if (!resp) {
      out.requests += 1;
      return resp.status().withContext("feed '" + c_.name + "'");
    }
    out.requests += static_cast<size_t>(resp->attempts);
    out.bytes += resp->body.size();
    return resp;
  }

  // Parses one page; a document-level failure is the error.
  Status parsePage(FeedFormat format, const std::string& body, const std::string& where,
                   FetchResult& out, ParseResult* keep = nullptr) {
    ParseResult pr = parseFeed(format, body, c_.parse);
    if (!pr.report.status.isOk()) {
      return Status(pr.report.status.code(), "feed '" + c_.name + "' " + where + ": " +
                                                 pr.report.status.message() +
                                                 " (previous indicators kept)");
    }
    addReport(out.report, pr.report, c_.type == "http" ? std::string() : where);
    append(out.indicators, pr.indicators);
    ++out.pages;
    if (keep != nullptr) {
      keep->next_page = std::move(pr.next_page);
      keep->newest = pr.newest;
    }
    return Status::ok();
  }

  Status tooManyPages() const {
    return Status::resourceExhausted("feed '" + c_.name + "': more than " +
                                     std::to_string(c_.max_pages) +
                                     " pages (max_pages); previous indicators kept");
  }

  // The `since` window start for a first incremental sync (unset when `since` is 0).
  Timestamp firstSince() const {
    if (c_.since.count() <= 0) return {};
    return Timestamp::now() - c_.since;
  }

  FeedConfig c_;
};

// ---- a file over HTTP ------------------------------------------------------------------------

class HttpFileClient : public ClientBase {
 public:
  using ClientBase::ClientBase;

  Result<FetchResult> fetch(const FeedState& previous, Duration* retry_after) override {
    FetchResult out;
    HttpFetchRequest r = request(c_.url);
    r.etag = previous.etag;
    r.last_modified = previous.last_modified;
    auto resp = send(r, out, retry_after);
    if (!resp) return resp.status();
    out.state = previous;
    if (resp->not_modified) {
      out.not_modified = true;
      return out;
    }
    out.state.etag = resp->header("etag");
    out.state.last_modified = resp->header("last-modified");
    RIPOSTE_RETURN_IF_ERROR(parsePage(c_.format, resp->body, c_.url, out));
    return out;
  }
};

// ---- AlienVault OTX --------------------------------------------------------------------------

class OtxClient : public ClientBase {
 public:
  using ClientBase::ClientBase;

  Result<FetchResult> fetch(const FeedState& previous, Duration* retry_after) override {
    FetchResult out;
    std::string since = previous.cursor;
    out.incremental = !since.empty();
    if (since.empty()) {
      if (Timestamp t = firstSince(); t.isSet()) since = formatRfc3339Utc(t);
    }
    // pulses/subscribed: the cursor is the newest pulse's `modified`. indicators/export rows
    // carry no time: the cursor is when this sync started.
    const bool exporting = c_.otx_endpoint == "export";
    const Timestamp started = Timestamp::now();
    std::string url = withoutSlash(c_.url);
    if (exporting) {
      std::string types;
      for (const auto& t : c_.otx_types) types += (types.empty() ? "" : ",") + t;
      url += "/api/v1/indicators/export?types=" + urlEncode(types) +
             "&limit=" + std::to_string(c_.page_size);
    } else {
      url += "/api/v1/pulses/subscribed?limit=" + std::to_string(c_.page_size);
    }
    if (!since.empty()) url += "&modified_since=" + urlEncode(since);
    std::set<std::string> seen;
    Timestamp newest;
    if (auto t = parseFeedTime(previous.cursor)) newest = *t;
    while (!url.empty()) {
      if (!seen.insert(url).second) {
        return Status::failedPrecondition("feed '" + c_.name + "': the server repeated page " +
                                          url + " (pagination loop); previous indicators kept");
      }
      if (static_cast<int>(seen.size()) > c_.max_pages) return tooManyPages();
      HttpFetchRequest r = request(url);
      r.headers.push_back("X-OTX-API-KEY: " + c_.api_key);
      r.headers.push_back("Accept: application/json");
      auto resp = send(r, out, retry_after);
      if (!resp) return resp.status();
      ParseResult page;
      RIPOSTE_RETURN_IF_ERROR(parsePage(FeedFormat::kOtx, resp->body,
                                        "page " + std::to_string(seen.size()), out, &page));
      if (newest < page.newest) newest = page.newest;
      url = page.next_page.empty() ? std::string() : resolve(url, page.next_page);
    }
    out.state = previous;
    if (exporting) {
      out.state.cursor = formatRfc3339Utc(started);
    } else if (newest.isSet()) {
      out.state.cursor = formatRfc3339Utc(newest);
    }
    return out;
  }
};

// ---- MISP ------------------------------------------------------------------------------------

class MispClient : public ClientBase {
 public:
  using ClientBase::ClientBase;

  Result<FetchResult> fetch(const FeedState& previous, Duration* retry_after) override {
    FetchResult out;
    const Timestamp started = Timestamp::now();
    out.incremental = !previous.cursor.empty();
    json filter = {{"returnFormat", "json"}, {"limit", c_.page_size}};
    if (c_.parse.require_to_ids) filter["to_ids"] = 1;
    if (!c_.misp_types.empty()) filter["type"] = c_.misp_types;
    if (!previous.cursor.empty()) {
      filter["timestamp"] = previous.cursor;
      filter["deleted"] = {0, 1};  // deletions since the last sync arrive as revoked
    } else if (Timestamp t = firstSince(); t.isSet()) {
      filter["timestamp"] = std::to_string(t.micros / 1'000'000);
    }
    const std::string url = withoutSlash(c_.url) + "/attributes/restSearch";
    std::string previous_body;
    for (int page = 1;; ++page) {
      if (page > c_.max_pages) return tooManyPages();
      filter["page"] = page;
      HttpFetchRequest r = request(url);
      r.method = "POST";
      r.body = filter.dump();
      r.headers.push_back("Authorization: " + c_.api_key);
      r.headers.push_back("Accept: application/json");
      r.headers.push_back("Content-Type: application/json");
      auto resp = send(r, out, retry_after);
      if (!resp) return resp.status();
      if (page > 1 && !resp->body.empty() && resp->body == previous_body) {
        return Status::failedPrecondition("feed '" + c_.name + "': page " + std::to_string(page) +
                                          " is the same as page " + std::to_string(page - 1) +
                                          " (the server ignores paging); previous indicators "
                                          "kept");
      }
      const size_t items_before = out.report.items;
      RIPOSTE_RETURN_IF_ERROR(
          parsePage(FeedFormat::kMisp, resp->body, "page " + std::to_string(page), out));
      const size_t items = out.report.items - items_before;
      if (items < static_cast<size_t>(c_.page_size)) break;  // a short or empty page
      previous_body = std::move(resp->body);
    }
    out.state = previous;
    out.state.cursor = std::to_string(started.micros / 1'000'000);
    return out;
  }
};

// ---- MISP feed (static files) ----------------------------------------------------------------

// An event uuid as MISP writes it (36 characters of hex digits and dashes): it becomes a file
// name in a URL, so nothing else is accepted.
bool isEventUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

class MispFeedClient : public ClientBase {
 public:
  using ClientBase::ClientBase;

  Result<FetchResult> fetch(const FeedState& previous, Duration* retry_after) override {
    FetchResult out;
    const std::string base = withSlash(c_.url);
    HttpFetchRequest r = request(base + "manifest.json");
    r.etag = previous.etag;
    r.last_modified = previous.last_modified;
    auto resp = send(r, out, retry_after);
    if (!resp) return resp.status();
    out.state = previous;
    if (resp->not_modified) {
      out.not_modified = true;
      return out;
    }
    json manifest = json::parse(resp->body, nullptr, false);
    if (manifest.is_discarded() || !manifest.is_object()) {
      return Status::parseError("feed '" + c_.name + "' manifest.json: not a JSON object of " +
                                "events (previous indicators kept)");
    }
    // Events newer than the cursor (the newest event timestamp of the previous sync), or within
    // `since` on a first sync, fetched oldest first. A run that fails stores nothing and keeps
    // the old cursor, so the next run asks for the same events again.
    int64_t cursor = -1;
    if (!previous.cursor.empty()) {
      cursor = std::strtoll(previous.cursor.c_str(), nullptr, 10);
    } else if (Timestamp t = firstSince(); t.isSet()) {
      cursor = t.micros / 1'000'000 - 1;
    }
    out.incremental = !previous.cursor.empty();
    std::vector<std::pair<int64_t, std::string>> wanted;
    int64_t newest = cursor;
    size_t index = 0;
    for (const auto& [uuid, entry] : manifest.items()) {
      const std::string where = "manifest.json[" + std::to_string(index++) + "]";
      ++out.report.items;
      if (!isEventUuid(uuid) || !entry.is_object()) {
        out.report.error(where, "invalid manifest entry",
                         "'" + uuid.substr(0, 64) + "' is not an event uuid with an object");
        continue;
      }
      int64_t ts = 0;
      const json& t = entry.contains("timestamp") ? entry["timestamp"] : json();
      if (t.is_number_integer()) {
        ts = t.get<int64_t>();
      } else if (t.is_string()) {
        char* end = nullptr;
        const std::string v = t.get<std::string>();
        ts = std::strtoll(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0') ts = -1;
      } else {
        ts = -1;
      }
      if (ts < 0) {
        out.report.error(where + " (" + uuid + ")", "invalid manifest entry",
                         "no numeric timestamp");
        continue;
      }
      if (ts <= cursor) continue;
      wanted.emplace_back(ts, uuid);
    }
    std::sort(wanted.begin(), wanted.end());
    if (static_cast<int>(wanted.size()) > c_.max_pages) return tooManyPages();
    for (const auto& [ts, uuid] : wanted) {
      auto ev = send(request(base + uuid + ".json"), out, retry_after);
      if (!ev) return ev.status();
      RIPOSTE_RETURN_IF_ERROR(parsePage(FeedFormat::kMisp, ev->body, "event " + uuid, out));
      newest = std::max(newest, ts);
    }
    out.state.etag = resp->header("etag");
    out.state.last_modified = resp->header("last-modified");
    if (newest >= 0) out.state.cursor = std::to_string(newest);
    return out;
  }
};

// ---- TAXII 2.1 -------------------------------------------------------------------------------

constexpr const char* kTaxiiAccept = "Accept: application/taxii+json;version=2.1";

class TaxiiClient : public ClientBase {
 public:
  using ClientBase::ClientBase;

  Result<FetchResult> fetch(const FeedState& previous, Duration* retry_after) override {
    FetchResult out;
    auto objects = objectsUrl(out, retry_after);
    if (!objects) return objects.status();
    out.incremental = !previous.cursor.empty();
    std::string added_after = previous.cursor;
    if (added_after.empty()) {
      if (Timestamp t = firstSince(); t.isSet()) added_after = formatRfc3339Utc(t);
    }
    std::string filters = "limit=" + std::to_string(c_.page_size) + "&match%5Btype%5D=indicator";
    if (!added_after.empty()) filters += "&added_after=" + urlEncode(added_after);
    std::string last_added = previous.cursor;
    std::set<std::string> cursors;
    std::string next;
    for (int page = 1;; ++page) {
      if (page > c_.max_pages) return tooManyPages();
      std::string url = *objects + "?" + filters;
      if (!next.empty()) url += "&next=" + urlEncode(next);
      HttpFetchRequest r = request(url);
      r.headers.push_back(kTaxiiAccept);
      auto resp = send(r, out, retry_after);
      if (!resp) return resp.status();
      ParseResult pr;
      RIPOSTE_RETURN_IF_ERROR(
          parsePage(FeedFormat::kStix, resp->body, "page " + std::to_string(page), out, &pr));
      const std::string last = resp->header("x-taxii-date-added-last");
      if (!last.empty()) {
        auto t = parseFeedTime(last);
        auto prev = parseFeedTime(last_added);
        if (t && (!prev || *prev < *t)) last_added = last;
      }
      if (pr.next_page.empty()) break;  // "more" false or absent
      if (!cursors.insert(pr.next_page).second) {
        return Status::failedPrecondition("feed '" + c_.name + "': the server repeated next '" +
                                          pr.next_page +
                                          "' (pagination loop); previous indicators kept");
      }
      next = pr.next_page;
    }
    out.state = previous;
    out.state.cursor = last_added;
    return out;
  }

 private:
  Result<json> getJson(const std::string& url, FetchResult& out, Duration* retry_after) {
    HttpFetchRequest r = request(url);
    r.headers.push_back(kTaxiiAccept);
    auto resp = send(r, out, retry_after);
    if (!resp) return resp.status();
    json j = json::parse(resp->body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return Status::parseError("feed '" + c_.name + "': GET " + url +
                                ": the response is not a JSON object");
    }
    return j;
  }

  // The collection's objects/ URL: discovery → API root → collections.
  Result<std::string> objectsUrl(FetchResult& out, Duration* retry_after) {
    std::string root = c_.api_root;
    if (root.empty()) {
      auto disc = getJson(c_.url, out, retry_after);
      if (!disc) return disc.status();
      if (disc->contains("default") && (*disc)["default"].is_string()) {
        root = (*disc)["default"].get<std::string>();
      } else if (disc->contains("api_roots") && (*disc)["api_roots"].is_array() &&
                 !(*disc)["api_roots"].empty() && (*disc)["api_roots"][0].is_string()) {
        root = (*disc)["api_roots"][0].get<std::string>();
      } else {
        return Status::notFound("feed '" + c_.name + "': discovery " + c_.url +
                                " names no API root (set api_root)");
      }
      root = resolve(c_.url, root);
    }
    root = withSlash(root);
    auto info = getJson(root, out, retry_after);  // checks the root speaks TAXII 2.1
    if (!info) return info.status();
    if (info->contains("versions") && (*info)["versions"].is_array()) {
      bool v21 = false;
      for (const auto& v : (*info)["versions"]) {
        v21 = v21 || (v.is_string() && v.get<std::string>().find("2.1") != std::string::npos);
      }
      if (!v21) {
        return Status::failedPrecondition("feed '" + c_.name + "': API root " + root +
                                          " does not offer TAXII 2.1");
      }
    }
    auto cols = getJson(root + "collections/", out, retry_after);
    if (!cols) return cols.status();
    std::vector<std::string> known;
    if (cols->contains("collections") && (*cols)["collections"].is_array()) {
      for (const auto& col : (*cols)["collections"]) {
        if (!col.is_object()) continue;
        const std::string id = col.value("id", "");
        known.push_back(id);
        if (id == c_.collection || col.value("alias", "") == c_.collection ||
            col.value("title", "") == c_.collection) {
          if (!col.value("can_read", true)) {
            return Status::permissionDenied("feed '" + c_.name + "': collection " + id +
                                            " is not readable");
          }
          return root + "collections/" + id + "/objects/";
        }
      }
    }
    std::string names;
    for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
    return Status::notFound("feed '" + c_.name + "': no collection '" + c_.collection + "' at " +
                            root + " (known: " + (names.empty() ? "none" : names) + ")");
  }
};

}  // namespace

const std::vector<std::string>& otxExportTypes() {
  static const std::vector<std::string> kTypes = {
      "IPv4", "IPv6",  "CIDR",         "domain",        "hostname",       "URL",
      "URI",  "email", "FileHash-MD5", "FileHash-SHA1", "FileHash-SHA256"};
  return kTypes;
}

const std::vector<std::string>& feedClientTypes() {
  static const std::vector<std::string> kTypes = {"http", "otx", "misp", "misp-feed", "taxii"};
  return kTypes;
}

Result<std::unique_ptr<FeedClient>> makeFeedClient(const FeedConfig& config) {
  FeedConfig c = config;
  if (c.type == "http") return std::unique_ptr<FeedClient>(new HttpFileClient(std::move(c)));
  if (c.type == "otx") {
    if (c.page_size <= 0) c.page_size = 50;
    if (c.otx_types.empty()) c.otx_types = otxExportTypes();
    if (c.url.empty()) c.url = "https://otx.alienvault.com";
    return std::unique_ptr<FeedClient>(new OtxClient(std::move(c)));
  }
  if (c.type == "misp") {
    if (c.page_size <= 0) c.page_size = 500;
    return std::unique_ptr<FeedClient>(new MispClient(std::move(c)));
  }
  if (c.type == "misp-feed") return std::unique_ptr<FeedClient>(new MispFeedClient(std::move(c)));
  if (c.type == "taxii") {
    if (c.page_size <= 0) c.page_size = 100;
    return std::unique_ptr<FeedClient>(new TaxiiClient(std::move(c)));
  }
  return Status::invalidArgument("feed '" + c.name + "': unknown type '" + c.type + "'");
}

// ---- configuration ---------------------------------------------------------------------------

namespace {

const std::set<std::string> kFeedKeys = {"name",       "type",           "url",
                                         "format",     "interval",       "failure_backoff",
                                         "enabled",    "timeout",        "connect_timeout",
                                         "max_bytes",  "max_redirects",  "attempts",
                                         "backoff",    "max_backoff",    "verify_tls",
                                         "ca_file",    "headers",        "api_key",
                                         "username",   "password",       "token",
                                         "since",      "page_size",      "max_pages",
                                         "misp_types", "endpoint",       "otx_types",
                                         "to_ids",     "api_root",       "collection",
                                         "weight",     "confidence",     "default_confidence",
                                         "tags",       "column",         "column_index",
                                         "delimiter",  "indicator_type", "tlp"};

}  // namespace

Result<std::vector<FeedConfig>> feedConfigsFrom(const Config& config) {
  std::vector<FeedConfig> out;
  if (!config.intel || !config.intel.IsMap()) return out;
  const YAML::Node feeds = config.intel["feeds"];
  if (!feeds) return out;
  std::vector<ConfigDiagnostic> diags;
  ConfigReader rd(config.file, &diags);
  if (!feeds.IsSequence()) {
    rd.error(feeds, "intel.feeds", "must be a list of feeds");
  } else {
    std::set<std::string> names;
    for (size_t i = 0; i < feeds.size(); ++i) {
      const YAML::Node n = feeds[i];
      const std::string path = "intel.feeds[" + std::to_string(i) + "]";
      if (!rd.checkKeys(n, path, kFeedKeys) && !n.IsMap()) continue;
      FeedConfig f;
      f.path = path;
      f.name = rd.getString(n, path, "name", "", true);
      if (!f.name.empty() && !names.insert(f.name).second) {
        rd.error(n["name"], path + ".name", "a feed named '" + f.name + "' is already defined");
      }
      f.type = rd.getString(n, path, "type", "", true);
      if (!f.type.empty()) {
        bool known = false;
        for (const auto& t : feedClientTypes()) known = known || t == f.type;
        if (!known) {
          rd.error(n["type"], path + ".type",
                   "unknown feed type '" + f.type + "' (known: http, otx, misp, misp-feed, taxii)");
        }
      }
      f.url = rd.getString(n, path, "url", "", f.type != "otx");
      if (!f.url.empty() && f.url.rfind("http://", 0) != 0 && f.url.rfind("https://", 0) != 0) {
        rd.error(n["url"], path + ".url", "must be an http:// or https:// URL");
      }
      const std::string format = rd.getString(n, path, "format", "list");
      if (auto fm = feedFormatFromName(format)) {
        f.format = *fm;
      } else {
        rd.error(n["format"], path + ".format",
                 "unknown format '" + format + "' (known: list, csv, stix, otx, misp)");
      }
      f.interval = rd.getDuration(n, path, "interval", f.interval);
      if (f.interval < std::chrono::seconds(1)) {
        rd.error(n["interval"], path + ".interval", "must be at least 1s");
      }
      f.failure_backoff = rd.getDuration(n, path, "failure_backoff", f.failure_backoff);
      f.enabled = rd.getBool(n, path, "enabled", true);
      f.http.timeout = rd.getDuration(n, path, "timeout", f.http.timeout);
      f.http.connect_timeout = rd.getDuration(n, path, "connect_timeout", f.http.connect_timeout);
      f.http.max_bytes = static_cast<size_t>(rd.getInt(
          n, path, "max_bytes", static_cast<int64_t>(f.http.max_bytes), 1, int64_t{1} << 40));
      f.http.max_redirects =
          static_cast<int>(rd.getInt(n, path, "max_redirects", f.http.max_redirects, 0, 50));
      f.http.attempts = static_cast<int>(rd.getInt(n, path, "attempts", f.http.attempts, 1, 20));
      f.http.backoff = rd.getDuration(n, path, "backoff", f.http.backoff);
      f.http.max_backoff = rd.getDuration(n, path, "max_backoff", f.http.max_backoff);
      f.http.verify_tls = rd.getBool(n, path, "verify_tls", true);
      f.http.ca_file = rd.getString(n, path, "ca_file", "");
      if (const YAML::Node h = n["headers"]) {
        if (!h.IsMap()) {
          rd.error(h, path + ".headers", "must be a map of header name to value");
        } else {
          for (const auto& kv : h) {
            if (!kv.second.IsScalar()) {
              rd.error(kv.second, path + ".headers." + kv.first.Scalar(), "must be a string");
              continue;
            }
            f.headers.push_back(kv.first.Scalar() + ": " + kv.second.Scalar());
          }
        }
      }
      f.api_key = rd.getString(n, path, "api_key", "", f.type == "otx" || f.type == "misp");
      f.username = rd.getString(n, path, "username", "");
      f.password = rd.getString(n, path, "password", "");
      f.token = rd.getString(n, path, "token", "");
      f.since = rd.getDuration(n, path, "since", f.since);
      f.page_size = static_cast<int>(rd.getInt(n, path, "page_size", 0, 0, 100'000));
      f.max_pages = static_cast<int>(rd.getInt(n, path, "max_pages", f.max_pages, 1, 10'000'000));
      f.misp_types = rd.getStringList(n, path, "misp_types");
      f.otx_endpoint = rd.getString(n, path, "endpoint", "subscribed");
      if (f.otx_endpoint != "subscribed" && f.otx_endpoint != "export") {
        rd.error(n["endpoint"], path + ".endpoint",
                 "unknown OTX endpoint '" + f.otx_endpoint + "' (known: subscribed, export)");
      } else if (n["endpoint"] && f.type != "otx") {
        rd.error(n["endpoint"], path + ".endpoint", "only OTX feeds have an endpoint");
      }
      f.otx_types = rd.getStringList(n, path, "otx_types");
      f.parse.require_to_ids = rd.getBool(n, path, "to_ids", true);
      f.api_root = rd.getString(n, path, "api_root", "");
      f.collection = rd.getString(n, path, "collection", "", f.type == "taxii");
      f.parse.tags = rd.getStringList(n, path, "tags");
      f.parse.column = rd.getString(n, path, "column", "");
      f.parse.column_index = static_cast<int>(rd.getInt(n, path, "column_index", -1, -1, 10'000));
      const std::string delim = rd.getString(n, path, "delimiter", ",");
      if (delim == "\\t" || delim == "tab") {
        f.parse.delimiter = '\t';
      } else if (delim.size() == 1) {
        f.parse.delimiter = delim[0];
      } else {
        rd.error(n["delimiter"], path + ".delimiter", "must be one character (or tab)");
      }
      const std::string itype = rd.getString(n, path, "indicator_type", "");
      if (!itype.empty()) {
        if (auto t = indicatorTypeFromName(itype)) {
          f.parse.type = *t;
        } else {
          rd.error(n["indicator_type"], path + ".indicator_type",
                   "unknown indicator type '" + itype + "'");
        }
      }
      if (n["confidence"]) {
        f.parse.confidence = static_cast<uint8_t>(rd.getInt(n, path, "confidence", 50, 0, 100));
      }
      if (n["tlp"]) f.parse.tlp = tlpFromName(rd.getString(n, path, "tlp", ""));
      if (n["weight"] || n["default_confidence"]) {
        SourcePolicy p;
        if (const YAML::Node w = n["weight"]) {
          try {
            p.weight = w.as<double>();
            if (p.weight < 0 || p.weight > 1) throw YAML::Exception(w.Mark(), "range");
          } catch (const YAML::Exception&) {
            rd.error(w, path + ".weight", "must be a number from 0 to 1");
          }
        }
        p.default_confidence =
            static_cast<uint8_t>(rd.getInt(n, path, "default_confidence", 50, 0, 100));
        f.policy = p;
      }
      f.parse.source = f.name;
      out.push_back(std::move(f));
    }
  }
  if (!diags.empty()) {
    std::string msg;
    for (const auto& d : diags) msg += (msg.empty() ? "" : "\n") + d.toString();
    return Status::invalidArgument(msg);
  }
  return out;
}

std::string feedDbPath(const Config& config) {
  if (config.intel && config.intel.IsMap() && config.intel["db"] && config.intel["db"].IsScalar()) {
    return config.intel["db"].Scalar();
  }
  for (const auto& d : config.detectors) {
    if (d.type == "intel" && d.node && d.node["db"] && d.node["db"].IsScalar()) {
      return d.node["db"].Scalar();
    }
  }
  return "var/intel.db";
}

}  // namespace riposte::intel

#include "riposte/intel/redis_cache.h"

#include <charconv>

namespace riposte::intel {

namespace {

constexpr std::string_view kMagic = "riposte-intel";
constexpr int kVersion = 1;

void appendEscaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\x1f': out += "\\u"; break;
      default: out += c;
    }
  }
}

std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    switch (s[++i]) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'u': out += '\x1f'; break;
      default: out += s[i];
    }
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t p = s.find(sep, start);
    if (p == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}

bool toInt(std::string_view s, int64_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

void appendTime(std::string& out, Timestamp t) {
  out += std::to_string(t.micros);
  out += '\t';
}

}  // namespace

Result<std::optional<RedisCacheOptions>> RedisCacheOptions::fromConfig(const Config& c) {
  if (c.intel_cache_type.empty()) return std::optional<RedisCacheOptions>();
  if (c.intel_cache_type != "redis") {
    return Status::invalidArgument("intel.cache.type: unknown cache type '" + c.intel_cache_type +
                                   "'");
  }
  RedisCacheOptions o;
  RIPOSTE_RETURN_IF_ERROR(
      net::parseRedisUrl(c.intel_cache_url, o.redis).withContext("intel.cache.url"));
  o.prefix = c.intel_cache_prefix;
  o.ttl = c.intel_cache_ttl;
  o.refresh = c.intel_cache_refresh;
  return std::optional<RedisCacheOptions>(std::move(o));
}

std::string encodeSourceRecord(std::string_view source, const std::vector<Indicator>& inds,
                               Timestamp published) {
  std::string out;
  out.reserve(64 + inds.size() * 96);
  out += kMagic;
  out += '\t';
  out += std::to_string(kVersion);
  out += '\t';
  appendEscaped(out, source);
  out += '\t';
  out += std::to_string(inds.size());
  out += '\t';
  out += std::to_string(published.micros);
  out += '\n';
  for (const auto& i : inds) {
    out += indicatorTypeName(i.type);
    out += '\t';
    appendEscaped(out, i.value);
    out += '\t';
    out += i.confidence ? std::to_string(*i.confidence) : std::string("-");
    out += '\t';
    appendTime(out, i.first_seen);
    appendTime(out, i.last_seen);
    appendTime(out, i.valid_from);
    appendTime(out, i.valid_until);
    out += std::to_string(static_cast<int>(i.tlp));
    out += '\t';
    out += i.revoked ? '1' : '0';
    out += '\t';
    appendEscaped(out, i.reference);
    out += '\t';
    for (size_t t = 0; t < i.tags.size(); ++t) {
      if (t > 0) out += '\x1f';
      appendEscaped(out, i.tags[t]);
    }
    out += '\n';
  }
  return out;
}

Result<SourceRecord> decodeSourceRecord(std::string_view text) {
  const size_t eol = text.find('\n');
  const auto header = split(text.substr(0, eol), '\t');
  int64_t version = 0, count = 0, published = 0;
  if (header.size() != 5 || header[0] != kMagic || !toInt(header[1], version) ||
      !toInt(header[3], count) || !toInt(header[4], published)) {
    return Status::parseError("not a riposte intel cache record");
  }
  if (version != kVersion) {
    return Status::parseError("intel cache record version " + std::to_string(version) +
                              " (this build reads " + std::to_string(kVersion) + ")");
  }
  SourceRecord r;
  r.source = unescape(header[2]);
  r.published.micros = published;
  r.indicators.reserve(static_cast<size_t>(std::max<int64_t>(0, count)));
  size_t pos = eol == std::string_view::npos ? text.size() : eol + 1;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {  // every line is written with its newline
      return Status::parseError("intel cache record for '" + r.source +
                                "' is truncated: last line unterminated after " +
                                std::to_string(r.indicators.size() + r.bad_lines) + " of " +
                                std::to_string(count) + " lines");
    }
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    const auto f = split(line, '\t');
    Indicator ind;
    int64_t conf = 0, tlp = 0;
    auto type = f.size() == 11 ? indicatorTypeFromName(f[0]) : std::nullopt;
    bool ok = type.has_value() && toInt(f[3], ind.first_seen.micros) &&
              toInt(f[4], ind.last_seen.micros) && toInt(f[5], ind.valid_from.micros) &&
              toInt(f[6], ind.valid_until.micros) && toInt(f[7], tlp) && tlp >= 0 && tlp <= 5 &&
              (f[8] == "0" || f[8] == "1");
    if (ok && f[2] != "-") ok = toInt(f[2], conf) && conf >= 0 && conf <= 100;
    if (!ok) {
      ++r.bad_lines;
      continue;
    }
    ind.type = *type;
    ind.value = unescape(f[1]);
    ind.source = r.source;
    if (f[2] != "-") ind.confidence = static_cast<uint8_t>(conf);
    ind.tlp = static_cast<Tlp>(tlp);
    ind.revoked = f[8] == "1";
    ind.reference = unescape(f[9]);
    if (!f[10].empty()) {
      for (auto t : split(f[10], '\x1f')) ind.tags.push_back(unescape(t));
    }
    r.indicators.push_back(std::move(ind));
  }
  if (static_cast<int64_t>(r.indicators.size() + r.bad_lines) != count) {
    return Status::parseError("intel cache record for '" + r.source + "' is truncated: " +
                              std::to_string(r.indicators.size() + r.bad_lines) + " of " +
                              std::to_string(count) + " lines");
  }
  return r;
}

RedisCache::RedisCache(RedisCacheOptions options)
    : options_(std::move(options)), client_(options_.redis) {}

Status RedisCache::publish(const std::string& source, const std::vector<Indicator>& inds) {
  const auto ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(options_.ttl).count();
  auto r =
      client_.command({"SET", keyFor(source), encodeSourceRecord(source, inds, Timestamp::now()),
                       "PX", std::to_string(std::max<int64_t>(1, ttl_ms))});
  if (!r) return r.status().withContext("intel cache: publishing '" + source + "'");
  return Status::ok();
}

Result<CacheContents> RedisCache::fetchAll() {
  // SCAN for the keys under the prefix (the prefix has no glob characters: config checks it).
  std::vector<std::string> keys;
  std::string cursor = "0";
  do {
    auto r = client_.command({"SCAN", cursor, "MATCH", options_.prefix + "*", "COUNT", "1000"});
    if (!r) return r.status().withContext("intel cache: listing sources");
    if (!r->isArray() || r->elements.size() != 2) {
      return Status::internal("intel cache: unexpected SCAN reply");
    }
    cursor = r->elements[0].str;
    for (auto& k : r->elements[1].elements) keys.push_back(std::move(k.str));
  } while (cursor != "0");
  CacheContents out;
  if (keys.empty()) return out;
  std::vector<net::RedisCommand> cmds;
  cmds.reserve(keys.size() * 2);
  for (const auto& k : keys) {
    cmds.push_back({"GET", k});
    cmds.push_back({"PTTL", k});
  }
  auto replies = client_.pipeline(cmds);
  if (!replies) return replies.status().withContext("intel cache: reading sources");
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto& value = (*replies)[2 * i];
    const auto& ttl = (*replies)[2 * i + 1];
    if (value.isNil()) continue;  // expired between SCAN and GET
    if (!value.isString()) {
      ++out.bad_keys;
      out.errors.push_back(keys[i] + ": not a string");
      continue;
    }
    auto rec = decodeSourceRecord(value.str);
    if (!rec) {
      ++out.bad_keys;
      out.errors.push_back(keys[i] + ": " + rec.status().message());
      continue;
    }
    CachedSource cs;
    cs.ttl_left = std::chrono::milliseconds(ttl.integer);
    cs.record = std::move(*rec);
    out.sources[cs.record.source] = std::move(cs);
  }
  return out;
}

}  // namespace riposte::intel

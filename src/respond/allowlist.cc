#include "riposte/respond/allowlist.h"

#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

namespace riposte {
namespace {

std::string rangeText(const Cidr& c) {
  return c.prefix == (c.base.v6 ? 128 : 32) ? c.base.toString() : c.toString();
}

std::string lowerCopy(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<std::string> readWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::ioError("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `n` bytes from 2n hex digits, in the order written.
bool hexBytes(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  for (size_t i = 0; i < n; ++i) {
    const int hi = hexDigit(hex[2 * i]), lo = hexDigit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t j = i;
    while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

template <typename Fn>
void forEachLine(std::string_view text, Fn fn) {
  size_t start = 0, n = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    fn(text.substr(start, end - start), ++n);
    start = end + 1;
  }
}

constexpr unsigned kRtfGateway = 0x0002;

// Adds one configured entry; a host name is resolved through the environment.
Status addConfigured(Allowlist& a, const std::string& text, const std::string& why,
                     const AllowlistEnvironment& env, std::vector<std::string>* warnings) {
  auto e = parseAllowlistEntry(text);
  if (!e) return e.status();
  if (e->kind != AllowlistEntryKind::kName) return a.add(text, why);
  a.addHost(e->name, why);
  auto addrs = env.resolve ? env.resolve(e->name) : resolveHostName(e->name);
  if (!addrs || addrs->empty()) {
    if (warnings != nullptr) {
      warnings->push_back(why + ": host name " + e->name + " did not resolve (" +
                          (addrs ? std::string("no address") : addrs.status().message()) +
                          "); only host targets of that name are allowlisted");
    }
    return Status::ok();
  }
  for (const auto& ip : *addrs) {
    a.addRange(Cidr{ip, static_cast<uint8_t>(ip.v6 ? 128 : 32)}, why + ": " + e->name);
  }
  return Status::ok();
}

}  // namespace

size_t Allowlist::KeyHash::operator()(const Key& k) const noexcept {
  uint64_t x = k.hi * 0x9e3779b97f4a7c15ULL ^ (k.lo + 0x632be59bd9b4e019ULL);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<size_t>(x ^ (x >> 31));
}

Allowlist::Key Allowlist::keyOf(const IpAddress& ip, uint8_t len) {
  uint8_t b[16] = {};
  const size_t n = ip.v6 ? 16 : 4;
  int bits = len;
  for (size_t i = 0; i < n && bits > 0; ++i, bits -= 8) {
    b[i] = bits >= 8 ? ip.bytes[i] : static_cast<uint8_t>(ip.bytes[i] & (0xff << (8 - bits)));
  }
  Key k;
  for (size_t i = 0; i < 8; ++i) k.hi = k.hi << 8 | b[i];
  for (size_t i = 8; i < 16; ++i) k.lo = k.lo << 8 | b[i];
  return k;
}

Status Allowlist::add(std::string_view entry, std::string_view why) {
  auto e = parseAllowlistEntry(entry);
  if (!e) return e.status();
  switch (e->kind) {
    case AllowlistEntryKind::kRange: addRange(e->range, std::string(why)); break;
    case AllowlistEntryKind::kUser: addUser(e->name, std::string(why)); break;
    case AllowlistEntryKind::kHost:
    case AllowlistEntryKind::kName: addHost(e->name, std::string(why)); break;
  }
  return Status::ok();
}

void Allowlist::addRange(const Cidr& c, std::string why) {
  auto& tables = c.base.v6 ? v6_ : v4_;
  auto it =
      std::find_if(tables.begin(), tables.end(), [&](const Table& t) { return t.len == c.prefix; });
  if (it == tables.end()) {
    Table t;
    t.len = c.prefix;
    it = tables.insert(
        std::upper_bound(tables.begin(), tables.end(), t,
                         [](const Table& x, const Table& y) { return x.len > y.len; }),
        std::move(t));
  }
  const auto idx = static_cast<uint32_t>(items_.size());
  if (!it->at.emplace(keyOf(c.base, c.prefix), idx).second) return;  // listed already: first wins
  items_.push_back({rangeText(c), std::move(why)});
  ranges_.push_back(c);
  range_items_.push_back(idx);
}

void Allowlist::addUser(std::string_view name, std::string why) {
  const auto idx = static_cast<uint32_t>(items_.size());
  if (!users_.emplace(std::string(name), idx).second) return;
  items_.push_back({"user:" + std::string(name), std::move(why)});
}

void Allowlist::addHost(std::string_view name, std::string why) {
  const auto idx = static_cast<uint32_t>(items_.size());
  std::string key = lowerCopy(name);
  if (!hosts_.emplace(key, idx).second) return;
  items_.push_back({"host:" + key, std::move(why)});
}

const Allowlist::Item* Allowlist::match(const IpAddress& ip) const {
  for (const auto& t : ip.v6 ? v6_ : v4_) {
    auto it = t.at.find(keyOf(ip, t.len));
    if (it != t.at.end()) return &items_[it->second];
  }
  return nullptr;
}

const Allowlist::Item* Allowlist::matchRange(const Cidr& c) const {
  // An entry containing the range's base overlaps it whatever its width; so does one inside it.
  if (const Item* i = match(c.base)) return i;
  for (size_t i = 0; i < ranges_.size(); ++i) {
    if (c.contains(ranges_[i].base)) return &items_[range_items_[i]];
  }
  return nullptr;
}

const Allowlist::Item* Allowlist::match(const Target& t) const {
  switch (t.type) {
    case TargetType::kIp: {
      auto ip = IpAddress::parse(t.value);
      if (ip) return match(*ip);
      auto c = Cidr::parse(t.value);  // an address written as a /32 or /128
      return c ? matchRange(*c) : nullptr;
    }
    case TargetType::kCidr: {
      auto c = Cidr::parse(t.value);
      return c ? matchRange(*c) : nullptr;
    }
    case TargetType::kUser: {
      auto it = users_.find(t.value);
      return it == users_.end() ? nullptr : &items_[it->second];
    }
    case TargetType::kHost: {
      std::string key = lowerCopy(t.value);
      if (!key.empty() && key.back() == '.') key.pop_back();
      auto it = hosts_.find(key);
      return it == hosts_.end() ? nullptr : &items_[it->second];
    }
  }
  return nullptr;
}

std::vector<HostAddress> parseRouteGateways(std::string_view route, std::string_view ipv6_route) {
  std::vector<HostAddress> out;
  auto push = [&](const IpAddress& ip, std::string_view iface) {
    for (const auto& h : out) {
      if (h.ip == ip) return;
    }
    out.push_back({ip, std::string(iface)});
  };
  // Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT (header first);
  // addresses are the kernel's 32-bit values in host byte order.
  forEachLine(route, [&](std::string_view line, size_t n) {
    if (n == 1) return;
    const auto f = fields(line);
    if (f.size() < 4) return;
    uint8_t gw[4];
    uint8_t fl[2];
    if (!hexBytes(f[2], gw, 4) || f[3].size() != 4 || !hexBytes(f[3], fl, 2)) return;
    const unsigned flags = unsigned{fl[0]} << 8 | fl[1];
    if ((flags & kRtfGateway) == 0) return;
    uint32_t v = uint32_t{gw[0]} << 24 | uint32_t{gw[1]} << 16 | uint32_t{gw[2]} << 8 | gw[3];
    if (v == 0) return;
    IpAddress ip;
    std::memcpy(ip.bytes.data(), &v, 4);  // the native value's bytes are the network order
    push(ip, f[0]);
  });
  // dest plen src plen next_hop metric refcnt use flags iface; addresses in network order.
  forEachLine(ipv6_route, [&](std::string_view line, size_t) {
    const auto f = fields(line);
    if (f.size() < 10) return;
    IpAddress ip;
    ip.v6 = true;
    uint8_t fl[4];
    if (!hexBytes(f[4], ip.bytes.data(), 16) || !hexBytes(f[8], fl, 4)) return;
    const unsigned flags = unsigned{fl[2]} << 8 | fl[3];
    if ((flags & kRtfGateway) == 0) return;
    if (std::all_of(ip.bytes.begin(), ip.bytes.end(), [](uint8_t b) { return b == 0; })) return;
    push(ip, f[9]);
  });
  return out;
}

Result<std::vector<HostAddress>> interfaceAddresses() {
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) != 0)
    return Status::ioError(std::string("getifaddrs: ") + std::strerror(errno));
  std::vector<HostAddress> out;
  for (ifaddrs* i = ifs; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    IpAddress ip;
    if (i->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      std::memcpy(ip.bytes.data(), &sin->sin_addr, 4);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      std::memcpy(ip.bytes.data(), &sin6->sin6_addr, 16);
      ip.v6 = true;
    } else {
      continue;
    }
    out.push_back({ip, i->ifa_name != nullptr ? i->ifa_name : ""});
  }
  freeifaddrs(ifs);
  return out;
}

Result<std::vector<IpAddress>> resolveHostName(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc != 0) return Status::unavailable(gai_strerror(rc));
  std::vector<IpAddress> out;
  for (addrinfo* r = res; r != nullptr; r = r->ai_next) {
    IpAddress ip;
    if (r->ai_family == AF_INET) {
      std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in*>(r->ai_addr)->sin_addr, 4);
    } else if (r->ai_family == AF_INET6) {
      std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(r->ai_addr)->sin6_addr,
                  16);
      ip.v6 = true;
      // An IPv4-mapped answer is the IPv4 address.
      if (auto v4 = IpAddress::parse(ip.toString())) ip = *v4;
    } else {
      continue;
    }
    if (std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(ip);
  }
  freeaddrinfo(res);
  return out;
}

Result<Allowlist> buildAllowlist(const Config& c, const AllowlistEnvironment& env,
                                 std::vector<std::string>* warnings) {
  Allowlist a;
  for (size_t i = 0; i < c.allowlist.size(); ++i) {
    RIPOSTE_RETURN_IF_ERROR(addConfigured(a, c.allowlist[i], "response.allowlist", env, warnings)
                                .withContext("response.allowlist[" + std::to_string(i) + "]"));
  }
  for (size_t i = 0; i < c.customers.size(); ++i) {
    const auto& cu = c.customers[i];
    for (size_t j = 0; j < cu.entries.size(); ++j) {
      RIPOSTE_RETURN_IF_ERROR(
          addConfigured(a, cu.entries[j], "important customer " + cu.name, env, warnings)
              .withContext("response.customers[" + std::to_string(i) + "].allowlist[" +
                           std::to_string(j) + "]"));
    }
  }
  if (!c.customers_file.empty()) {
    auto text = readWhole(c.customers_file);
    if (!text) return text.status().withContext("response.customers_file");
    Status bad = Status::ok();
    forEachLine(*text, [&](std::string_view line, size_t n) {
      if (!bad.isOk()) return;
      if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
      const auto f = fields(line);
      if (f.empty()) return;
      std::string name;
      if (f.size() > 1) {
        const size_t from = static_cast<size_t>(f[1].data() - line.data());
        name = std::string(line.substr(from));
        while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) {
          name.pop_back();
        }
      }
      const std::string where = c.customers_file + ":" + std::to_string(n);
      bad = addConfigured(
                a, std::string(f[0]),
                name.empty() ? "important customer (" + where + ")" : "important customer " + name,
                env, warnings)
                .withContext(where);
    });
    RIPOSTE_RETURN_IF_ERROR(bad);
  }
  if (env.own_addresses) {
    auto own = interfaceAddresses();
    if (!own) return own.status().withContext("own interface addresses");
    for (const auto& h : *own) {
      a.addRange(Cidr{h.ip, static_cast<uint8_t>(h.ip.v6 ? 128 : 32)},
                 "own address (" + h.iface + ")");
    }
  }
  if (env.gateways) {
    auto route = readWhole(env.proc_net + "/route");
    auto route6 = readWhole(env.proc_net + "/ipv6_route");
    if (!route && warnings != nullptr) warnings->push_back("gateways: " + route.status().message());
    // IPv6 may be disabled: no ipv6_route is no IPv6 gateway, not a warning.
    for (const auto& g :
         parseRouteGateways(route ? *route : std::string(), route6 ? *route6 : std::string())) {
      a.addRange(Cidr{g.ip, static_cast<uint8_t>(g.ip.v6 ? 128 : 32)}, "gateway (" + g.iface + ")");
    }
  }
  return a;
}

}  // namespace riposte

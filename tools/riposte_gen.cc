// riposte-gen: a seeded workload generator with ground truth, for detection tests and
// evaluations of the short-window rules and the long-term behaviour analysis.
//
// Writes, into --out DIR:
//   auth.log     sshd lines (syslog, no year: replay with --year 2025), sorted by time:
//                benign users (interactive logins, occasional typos, an hourly automated
//                login), fast brute force, slow brute force over the whole period, a
//                distributed brute force (many sources, few attempts each) against one
//                account, and scanners (probes without authentication); with --lines N,
//                automation sessions (configuration management, backups, monitoring:
//                key logins with their session lines, from internal and IPv6 hosts) fill
//                the log up to exactly N lines — a busy bastion;
//   flows.ndjson Suricata EVE flow records (or --flows zeek: Zeek conn JSON, flows.zeek.json):
//                benign browsing, DNS and NTP, a jittery periodic update agent, and
//                beaconing hosts (regular intervals, small jitter, a few missed beats);
//   truth.json   the ground truth: addresses per attack kind, benign addresses.
//
// Deterministic for a seed (its own xorshift generator; no std::*_distribution, whose output
// differs between standard libraries). Addresses come only from documentation ranges
// (192.0.2.0/24 internal hosts, 198.51.100.0/24 benign peers, 203.0.113.0/24 attackers).
//
// Usage: riposte-gen --out DIR [--seed N] [--days N] [--benign-users N] [--fast N] [--slow N]
//                    [--distributed-sources N] [--scanners N] [--beacons N] [--hosts N]
//                    [--flows eve|zeek] [--lines N]
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace {

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL) {
    for (int i = 0; i < 4; ++i) next();
  }
  uint64_t next() {
    // xorshift64*
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1DULL;
  }
  // [0, 1)
  double unit() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  // [lo, hi]
  int64_t range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool chance(double p) { return unit() < p; }
  double exponential(double mean) { return -mean * std::log(1.0 - unit()); }

 private:
  uint64_t s_;
};

constexpr int64_t kStart = 1740787200;  // 2025-03-01T00:00:00Z

struct Line {
  int64_t ms;  // milliseconds since the epoch
  std::string text;
};

std::string syslogTime(int64_t ms) {
  static const char* kMon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const time_t s = static_cast<time_t>(ms / 1000);
  tm t{};
  gmtime_r(&s, &t);
  char b[64];
  std::snprintf(b, sizeof b, "%s %2d %02d:%02d:%02d", kMon[t.tm_mon], t.tm_mday, t.tm_hour,
                t.tm_min, t.tm_sec);
  return b;
}

std::string isoTime(int64_t ms) {
  const time_t s = static_cast<time_t>(ms / 1000);
  tm t{};
  gmtime_r(&s, &t);
  char b[96];
  std::snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%06d+0000", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<int>(ms % 1000) * 1000);
  return b;
}

std::string ip(const char* net, int host) { return std::string(net) + "." + std::to_string(host); }

struct Options {
  std::string out;
  uint64_t seed = 1;
  int days = 2;
  int benign_users = 40;
  int fast = 5;
  int slow = 2;
  int distributed = 60;
  int scanners = 10;
  int beacons = 3;
  int hosts = 40;
  std::string flows = "eve";
  int64_t lines = 0;  // 0: the scenario's own lines only
};

class Generator {
 public:
  explicit Generator(const Options& o) : o_(o), rng_(o.seed) {}

  void run() {
    benign();
    fastBruteForce();
    slowBruteForce();
    distributed();
    scanners();
    automation();
    flowsBenign();
    beacons();
  }

  bool write() {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(o_.out, ec);
    auto byTime = [](const Line& a, const Line& b) { return a.ms < b.ms; };
    std::stable_sort(auth_.begin(), auth_.end(), byTime);
    std::stable_sort(flows_.begin(), flows_.end(), byTime);
    if (!writeLines(o_.out + "/auth.log", auth_)) return false;
    const std::string flow_file =
        o_.out + (o_.flows == "zeek" ? "/flows.zeek.json" : "/flows.ndjson");
    if (!writeLines(flow_file, flows_)) return false;
    std::ofstream t(o_.out + "/truth.json");
    t << "{\n  \"seed\": " << o_.seed << ",\n  \"days\": " << o_.days
      << ",\n  \"start\": \"2025-03-01T00:00:00Z\",\n  \"distributed_account\": \"admin\"";
    for (const auto& [kind, ips] : truth_) {
      t << ",\n  \"" << kind << "\": [";
      for (size_t i = 0; i < ips.size(); ++i) t << (i ? ", " : "") << '"' << ips[i] << '"';
      t << "]";
    }
    t << "\n}\n";
    std::printf("auth.log: %zu lines, %s: %zu lines, truth.json\n", auth_.size(), flow_file.c_str(),
                flows_.size());
    return static_cast<bool>(t);
  }

 private:
  int64_t periodMs() const { return int64_t{o_.days} * 86'400'000; }
  int64_t at(int64_t offset_ms) const { return kStart * 1000 + offset_ms; }

  void sshd(int64_t ms, const std::string& msg) {
    auth_.push_back({ms, syslogTime(ms) + " bastion sshd[" + std::to_string(pid_++) + "]: " + msg});
    if (pid_ > 65000) pid_ = 2000;
  }
  std::string port() { return std::to_string(rng_.range(32768, 60999)); }

  // Automation sessions until the log has --lines lines: each is a key login followed by its
  // session lines under one sshd process id. Agents are benign and never mistype.
  void automation() {
    if (o_.lines <= static_cast<int64_t>(auth_.size())) return;
    static const char* kUsers[] = {"ansible", "backup", "monitor", "deploy", "git"};
    constexpr int kAgents = 120;
    std::vector<std::string> agents;
    for (int a = 0; a < kAgents; ++a) {
      agents.push_back(a % 2 == 0 ? ip("192.0.2", 150 + a / 2)
                                  : "2001:db8:10::" + std::to_string(a / 2 + 1));
      truth_["benign"].push_back(agents.back());
    }
    const size_t target = static_cast<size_t>(o_.lines);
    while (auth_.size() < target) {
      const int a = static_cast<int>(rng_.range(0, kAgents - 1));
      const std::string& addr = agents[static_cast<size_t>(a)];
      const std::string user = kUsers[a % 5];
      const std::string p = port();
      const int64_t t = at(rng_.range(0, periodMs() - 60'000));
      const int64_t end = t + rng_.range(1, 30) * 1000;
      const std::string head = " bastion sshd[" + std::to_string(pid_) + "]: ";
      if (++pid_ > 65000) pid_ = 2000;
      const std::string lines[] = {
          "Accepted publickey for " + user + " from " + addr + " port " + p +
              " ssh2: ED25519 SHA256:QXV0b21hdGlvbktleQ",
          "pam_unix(sshd:session): session opened for user " + user +
              "(uid=" + std::to_string(1001 + a % 5) + ") by (uid=0)",
          "Received disconnect from " + addr + " port " + p + ":11: disconnected by user",
          "Disconnected from user " + user + " " + addr + " port " + p,
          "pam_unix(sshd:session): session closed for user " + user};
      for (size_t i = 0; i < 5 && auth_.size() < target; ++i) {
        const int64_t ms = i < 2 ? t : end;
        auth_.push_back({ms, syslogTime(ms) + head + lines[i]});
      }
    }
  }

  void benign() {
    static const char* kNames[] = {"alice",   "bob",   "carol",  "dave",   "erin",
                                   "frank",   "grace", "heidi",  "ivan",   "judy",
                                   "mallory", "niaj",  "olivia", "peggy",  "rupert",
                                   "sybil",   "trent", "victor", "walter", "yves"};
    for (int u = 0; u < o_.benign_users; ++u) {
      std::string name = kNames[u % 20];
      if (u >= 20) name += std::to_string(u / 20);
      // Most users have one address; some share an office NAT address (host 250).
      const std::string addr = rng_.chance(0.2) ? ip("198.51.100", 250) : ip("198.51.100", 10 + u);
      truth_["benign"].push_back(addr);
      for (int d = 0; d < o_.days; ++d) {
        const int logins = static_cast<int>(rng_.range(1, 6));
        for (int i = 0; i < logins; ++i) {
          int64_t t = at(int64_t{d} * 86'400'000 + rng_.range(7 * 3600, 20 * 3600) * 1000);
          const int typos = rng_.chance(0.12) ? (rng_.chance(0.2) ? 2 : 1) : 0;
          for (int k = 0; k < typos; ++k) {
            sshd(t, "Failed password for " + name + " from " + addr + " port " + port() + " ssh2");
            t += rng_.range(3, 15) * 1000;
          }
          sshd(t, std::string("Accepted ") + (rng_.chance(0.5) ? "password" : "publickey") +
                      " for " + name + " from " + addr + " port " + port() + " ssh2");
        }
      }
    }
    // An automated job logging in every hour with a key.
    const std::string job = ip("198.51.100", 5);
    truth_["benign"].push_back(job);
    for (int64_t t = 0; t < periodMs(); t += 3'600'000) {
      sshd(at(t + rng_.range(0, 20'000)), "Accepted publickey for deploy from " + job + " port " +
                                              port() + " ssh2: ED25519 SHA256:Zm9vYmFy");
    }
  }

  void fastBruteForce() {
    static const char* kUsers[] = {"root", "admin", "test", "oracle", "ubuntu", "guest", "pi"};
    for (int i = 0; i < o_.fast; ++i) {
      const std::string addr = ip("203.0.113", 1 + i);
      truth_["fast_bruteforce"].push_back(addr);
      int64_t t = at(rng_.range(0, periodMs() - 3'600'000));
      const int n = static_cast<int>(rng_.range(30, 80));
      for (int k = 0; k < n; ++k) {
        const std::string u = kUsers[rng_.range(0, 6)];
        if (u == "root") {
          sshd(t, "Failed password for root from " + addr + " port " + port() + " ssh2");
        } else {
          sshd(t, "Failed password for invalid user " + u + " from " + addr + " port " + port() +
                      " ssh2");
        }
        t += rng_.range(500, 3000);
      }
    }
  }

  void slowBruteForce() {
    static const char* kUsers[] = {"root", "admin", "postgres", "git", "ubuntu"};
    for (int i = 0; i < o_.slow; ++i) {
      const std::string addr = ip("203.0.113", 20 + i);
      truth_["slow_bruteforce"].push_back(addr);
      // One attempt every 8 to 20 minutes for the whole period: never more than one attempt
      // in any short window.
      for (int64_t t = rng_.range(0, 600'000); t < periodMs(); t += rng_.range(480, 1200) * 1000) {
        const std::string u = kUsers[rng_.range(0, 4)];
        sshd(at(t), "Failed password for " + std::string(u == "root" ? "" : "invalid user ") + u +
                        " from " + addr + " port " + port() + " ssh2");
      }
    }
  }

  void distributed() {
    for (int i = 0; i < o_.distributed; ++i) {
      const std::string addr = ip("203.0.113", 100 + i);
      truth_["distributed_bruteforce"].push_back(addr);
      const int n = static_cast<int>(rng_.range(1, 3));
      for (int k = 0; k < n; ++k) {
        sshd(at(rng_.range(0, periodMs() - 1000)),
             "Failed password for admin from " + addr + " port " + port() + " ssh2");
      }
    }
  }

  void scanners() {
    for (int i = 0; i < o_.scanners; ++i) {
      const std::string addr = ip("203.0.113", 60 + i);
      truth_["scanner"].push_back(addr);
      const int n = static_cast<int>(rng_.range(2, 6));
      const bool burst = i % 5 == 0;  // a few probe in quick succession
      int64_t t = at(rng_.range(0, periodMs() - 3'600'000));
      for (int k = 0; k < n; ++k) {
        switch (rng_.range(0, 2)) {
          case 0:
            sshd(t, "Did not receive identification string from " + addr + " port " + port());
            break;
          case 1:
            sshd(t, "banner exchange: Connection from " + addr + " port " + port() +
                        ": invalid format");
            break;
          default:
            sshd(t, "Unable to negotiate with " + addr + " port " + port() +
                        ": no matching key exchange method found. Their offer: "
                        "diffie-hellman-group1-sha1 [preauth]");
        }
        t += burst ? rng_.range(2, 20) * 1000 : rng_.range(1800, 6 * 3600) * 1000;
      }
    }
  }

  void flow(int64_t ms, const std::string& src, const std::string& dst, int dport,
            const char* proto, const char* app, int64_t bytes) {
    const int64_t age_ms = rng_.range(50, 4000);
    const int sport = static_cast<int>(rng_.range(32768, 60999));
    char line[1024];
    if (o_.flows == "zeek") {
      std::snprintf(line, sizeof line,
                    "{\"ts\":%.6f,\"uid\":\"C%016" PRIx64
                    "\",\"id.orig_h\":\"%s\",\"id.orig_p\":%d,"
                    "\"id.resp_h\":\"%s\",\"id.resp_p\":%d,\"proto\":\"%s\",\"service\":\"%s\","
                    "\"duration\":%.3f,\"orig_bytes\":%" PRId64 ",\"resp_bytes\":%" PRId64
                    ",\"conn_state\":\"SF\"}",
                    static_cast<double>(ms) / 1000.0, rng_.next(), src.c_str(), sport, dst.c_str(),
                    dport, proto[0] == 'U' ? "udp" : "tcp", app, age_ms / 1000.0, bytes / 8, bytes);
    } else {
      std::snprintf(
          line, sizeof line,
          "{\"timestamp\":\"%s\",\"flow_id\":%" PRIu64
          ",\"event_type\":\"flow\","
          "\"src_ip\":\"%s\",\"src_port\":%d,\"dest_ip\":\"%s\",\"dest_port\":%d,"
          "\"proto\":\"%s\",\"app_proto\":\"%s\",\"flow\":{\"pkts_toserver\":%d,"
          "\"pkts_toclient\":%d,\"bytes_toserver\":%" PRId64 ",\"bytes_toclient\":%" PRId64
          ",\"start\":\"%s\",\"end\":\"%s\",\"age\":%" PRId64
          ",\"state\":\"closed\",\"reason\":\"timeout\"}}",
          isoTime(ms + age_ms).c_str(), rng_.next() >> 12, src.c_str(), sport, dst.c_str(), dport,
          proto, app, static_cast<int>(rng_.range(2, 30)), static_cast<int>(rng_.range(2, 40)),
          bytes / 8, bytes, isoTime(ms).c_str(), isoTime(ms + age_ms).c_str(), age_ms / 1000);
    }
    // Suricata logs a flow when it ends: order by that time.
    flows_.push_back({o_.flows == "zeek" ? ms : ms + age_ms, line});
  }

  void flowsBenign() {
    const std::string resolver = ip("192.0.2", 1);
    const std::string ntp = ip("198.51.100", 123);
    for (int h = 0; h < o_.hosts; ++h) {
      const std::string host = ip("192.0.2", 10 + h);
      truth_["benign_flow_hosts"].push_back(host);
      // NTP: strictly periodic, on the ignored port 123.
      for (int64_t t = rng_.range(0, 1024'000); t < periodMs(); t += 1024'000) {
        flow(at(t), host, ntp, 123, "UDP", "ntp", 90);
      }
      // Browsing sessions in working hours: bursts with exponential gaps.
      for (int d = 0; d < o_.days; ++d) {
        const int sessions = static_cast<int>(rng_.range(3, 12));
        for (int s = 0; s < sessions; ++s) {
          int64_t t = int64_t{d} * 86'400'000 + rng_.range(8 * 3600, 19 * 3600) * 1000;
          const int n = static_cast<int>(rng_.range(5, 40));
          for (int k = 0; k < n; ++k) {
            const std::string dst = ip("198.51.100", static_cast<int>(rng_.range(150, 199)));
            flow(at(t), host, resolver, 53, "UDP", "dns", 120);
            flow(at(t + 20), host, dst, rng_.chance(0.8) ? 443 : 80, "TCP",
                 rng_.chance(0.8) ? "tls" : "http", rng_.range(2'000, 2'000'000));
            t += static_cast<int64_t>(rng_.exponential(25'000)) + 200;
          }
        }
      }
      // Every fifth host runs an update agent polling hourly with a wide random delay.
      if (h % 5 == 0) {
        const std::string upd = ip("198.51.100", 140);
        for (int64_t t = 0; t < periodMs(); t += 3'600'000) {
          flow(at(t + rng_.range(0, 1'800'000)), host, upd, 443, "TCP", "tls", 5'000);
        }
      }
    }
  }

  void beacons() {
    static const int64_t kPeriodS[] = {60, 300, 900, 120, 600};
    for (int b = 0; b < o_.beacons; ++b) {
      const std::string host = ip("192.0.2", 100 + b);
      const std::string c2 = ip("203.0.113", 200 + b);
      truth_["beaconing"].push_back(host);
      truth_["beaconing_c2"].push_back(c2);
      const int64_t period = kPeriodS[b % 5] * 1000;
      const int64_t jitter = period * static_cast<int64_t>(rng_.range(2, 5)) / 100;
      const int dport = b % 2 == 0 ? 443 : 8443;
      for (int64_t t = rng_.range(0, period); t < periodMs(); t += period) {
        if (rng_.chance(0.05)) continue;  // a missed beat (host asleep, packet lost)
        flow(at(t + rng_.range(-jitter, jitter)), host, c2, dport, "TCP", "tls",
             rng_.range(400, 900));
      }
    }
  }

  static bool writeLines(const std::string& path, const std::vector<Line>& lines) {
    std::ofstream f(path);
    for (const auto& l : lines) f << l.text << '\n';
    if (!f) {
      std::fprintf(stderr, "riposte-gen: cannot write %s\n", path.c_str());
      return false;
    }
    return true;
  }

  Options o_;
  Rng rng_;
  int pid_ = 2000;
  std::vector<Line> auth_;
  std::vector<Line> flows_;
  std::map<std::string, std::vector<std::string>> truth_;
};

int usage() {
  std::fprintf(stderr,
               "usage: riposte-gen --out DIR [--seed N] [--days N] [--benign-users N] [--fast N] "
               "[--slow N] [--distributed-sources N] [--scanners N] [--beacons N] [--hosts N] "
               "[--flows eve|zeek] [--lines N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string v = argv[++i];
    char* end = nullptr;
    const long long n = std::strtoll(v.c_str(), &end, 10);
    const bool num = end != nullptr && *end == '\0' && n >= 0 && n <= 100'000'000;
    auto need = [&](int& dst, long long lo, long long hi) {
      if (!num || n < lo || n > hi) {
        std::fprintf(stderr, "riposte-gen: %s wants a number in [%lld, %lld], got '%s'\n",
                     a.c_str(), lo, hi, v.c_str());
        std::exit(2);
      }
      dst = static_cast<int>(n);
    };
    if (a == "--out")
      o.out = v;
    else if (a == "--seed")
      o.seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--days")
      need(o.days, 1, 30);
    else if (a == "--benign-users")
      need(o.benign_users, 0, 100);
    else if (a == "--fast")
      need(o.fast, 0, 19);
    else if (a == "--slow")
      need(o.slow, 0, 40);
    else if (a == "--distributed-sources")
      need(o.distributed, 0, 100);
    else if (a == "--scanners")
      need(o.scanners, 0, 40);
    else if (a == "--beacons")
      need(o.beacons, 0, 50);
    else if (a == "--hosts")
      need(o.hosts, 0, 80);
    else if (a == "--lines") {
      if (!num) {
        std::fprintf(stderr, "riposte-gen: --lines wants a number in [0, 100000000], got '%s'\n",
                     v.c_str());
        return 2;
      }
      o.lines = n;
    } else if (a == "--flows" && (v == "eve" || v == "zeek"))
      o.flows = v;
    else
      return usage();
  }
  if (o.out.empty()) return usage();
  Generator g(o);
  g.run();
  return g.write() ? 0 : 1;
}

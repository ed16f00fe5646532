#!/usr/bin/env bash
# Whole-program replay throughput: generates an sshd auth log of N lines (default 1,000,000;
# documentation address ranges, a mix of accepted logins, failures, invalid users and probes)
# and runs `riposte replay` over it with the bundled ruleset. Prints riposte's summary line.
# Usage: bench/replay_bench.sh [LINES] [BUILD_DIR]
set -euo pipefail
n=${1:-1000000}
build=${2:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$n" > "$tmp/auth.log" <<'PY'
import sys, random
random.seed(1)
n = int(sys.argv[1])
out = sys.stdout
nets = ["192.0.2", "198.51.100", "203.0.113"]
for i in range(n):
    s = i // 20
    ts = "Mar %2d %02d:%02d:%02d" % (1 + s // 86400 % 28, s // 3600 % 24, s // 60 % 60, s % 60)
    ip = "%s.%d" % (nets[i % 3], random.randrange(1, 255))
    k = random.random()
    if k < 0.4:
        m = "Failed password for root from %s port %d ssh2" % (ip, 30000 + i % 30000)
    elif k < 0.6:
        m = "Invalid user u%d from %s port %d" % (i % 97, ip, 30000 + i % 30000)
    elif k < 0.8:
        m = "Accepted publickey for deploy from %s port %d ssh2: ED25519 SHA256:abc" % (ip, 30000 + i % 30000)
    elif k < 0.9:
        m = "Connection closed by authenticating user root %s port %d [preauth]" % (ip, 30000 + i % 30000)
    else:
        m = "Did not receive identification string from %s port %d" % (ip, 30000 + i % 30000)
    out.write("%s web1 sshd[%d]: %s\n" % (ts, 1000 + i % 50000, m))
PY
"$build/riposte" replay --type sshd --year 2025 "$tmp/auth.log" > /dev/null

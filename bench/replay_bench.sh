#!/usr/bin/env bash
# Whole-program replay throughput: generates an sshd auth log of N lines (default 1,000,000;
# documentation address ranges, a mix of accepted logins, failures, invalid users and probes)
# and runs `riposte replay` over it, then prints the lines per second of each run (wall clock and
# CPU time) beside peers measured in the same run on the same file (`cat`, `wc -l`, `wc -w`) and
# the load average.
#
# Usage: bench/replay_bench.sh [LINES] [BUILD_DIR] [MODE...]
#   MODE: noop  — no detector at all (reading, splitting, parsing, counting: the pipeline's
#                 own cost; a configuration with `detectors: []`)
#         rules — the bundled ruleset (default configuration)
#         threadsN — the bundled ruleset with --threads N (e.g. threads2)
#   default modes: noop rules
set -euo pipefail
n=${1:-1000000}
build=${2:-build}
shift $(( $# > 2 ? 2 : $# ))
modes=("$@")
[ ${#modes[@]} -eq 0 ] && modes=(noop rules)
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
printf 'detectors: []\n' > "$tmp/noop.yaml"

# Each run: wall-clock rate and CPU-time rate (user + system). On a machine shared with other
# work the wall clock measures the share the scheduler gave; the CPU time measures the program.
measure() {  # label, command...
  local label=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$@" > /dev/null 2> "$tmp/err"
  read -r wall user sys < "$tmp/time"
  python3 - "$label" "$n" "$wall" "$user" "$sys" <<'PY'
import sys
label, n, wall, user, sys_ = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:])
cpu = user + sys_
print("%-16s %6.3f s wall %9.0f lines/s | %6.3f s CPU (%.3f user + %.3f sys) %9.0f lines/s"
      % (label, wall, n / wall if wall else 0, cpu, user, sys_, n / cpu if cpu else 0))
PY
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $n lines, $(stat -c %s "$tmp/auth.log") bytes"
cat "$tmp/auth.log" > /dev/null  # in the page cache for every run below
measure "peer cat" cat "$tmp/auth.log"
measure "peer wc -l" wc -l "$tmp/auth.log"
measure "peer wc -w" wc -w "$tmp/auth.log"
for mode in "${modes[@]}"; do
  args=(replay --type sshd --year 2025)
  case "$mode" in
    noop) args+=(--config "$tmp/noop.yaml") ;;
    rules) ;;
    threads*) args+=(--threads "${mode#threads}") ;;
    *) echo "unknown mode $mode" >&2; exit 2 ;;
  esac
  measure "riposte $mode" "$build/riposte" "${args[@]}" "$tmp/auth.log"
  echo "  $(grep -o 'replay: .*' "$tmp/err")"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

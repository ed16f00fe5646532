#!/usr/bin/env bash
# Replay speed on one core: Riposte beside fail2ban and CrowdSec on the same generated auth log.
#
# riposte-gen writes a seeded two-day auth log of LINES lines (the attacks of the scenario plus
# automation sessions up to LINES: `riposte-gen --lines`) with its ground truth. Every program
# then reads the same file, from the page cache, pinned to one core (taskset -c $CPU):
#  - `riposte replay` with the bundled rules (the default configuration) — twice: the first run
#    also compiles the rules' Hyperscan databases into an empty cache directory, the second
#    reads them back (what every later start does);
#  - `fail2ban-regex FILE /etc/fail2ban/filter.d/sshd.conf` (Debian's fail2ban 1.0.2);
#  - CrowdSec 1.4.6 in time-machine mode with the hub's sshd parser and ssh-bf / ssh-slow-bf
#    scenarios (offline configuration of bench/peers/lib.sh).
# Each is timed by /usr/bin/time (wall clock, user + system CPU). Then Riposte's decisions are
# checked against the ground truth: every fast brute-force attacker blocked, no benign address.
#
# Usage: bench/peers/speed_auth.sh [LINES] [SEED]   (defaults 1000000 1; BUILD_DIR env, CPU env)
# Exits 77 when a peer is missing (`scripts/setup --peers`), 1 when the detection check fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build}
hub=${CROWDSEC_HUB:-/work/shared/corpora/crowdsec-hub}
lines=${1:-1000000}
seed=${2:-1}
cpu=${CPU:-1}

source bench/peers/lib.sh
peers_require
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
crowdsec_setup "$tmp/crowdsec"

"$build/riposte-gen" --seed "$seed" --days 2 --lines "$lines" --out "$tmp/w" > /dev/null
log=$tmp/w/auth.log
cat "$log" > /dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //');" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg); $lines lines, $(stat -c %s "$log") bytes; core $cpu"

declare -A wall cpu_s
run() {  # name, command...
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$tmp/$name.time" taskset -c "$cpu" "$@" > "$tmp/$name.out" \
    2> "$tmp/$name.err"
  read -r w u s < "$tmp/$name.time"
  wall[$name]=$w
  cpu_s[$name]=$(python3 -c "print($u + $s)")
}

export RIPOSTE_CACHE_DIR=$tmp/hs-cache
run riposte_cold "$build/riposte" replay --year 2025 "$log"
run riposte "$build/riposte" replay --year 2025 "$log"
run fail2ban fail2ban-regex "$log" /etc/fail2ban/filter.d/sshd.conf
crowdsec_reset "$tmp/crowdsec"
run crowdsec crowdsec -c "$cs/config.yaml" -dsn "file://$log" -type syslog -no-capi
crowdsec_bans > "$tmp/crowdsec.banned"

python3 - "$lines" "$tmp" "${wall[riposte_cold]}" "${cpu_s[riposte_cold]}" "${wall[riposte]}" \
  "${cpu_s[riposte]}" "${wall[fail2ban]}" "${cpu_s[fail2ban]}" "${wall[crowdsec]}" \
  "${cpu_s[crowdsec]}" <<'PY'
import json, sys
n = int(sys.argv[1]); tmp = sys.argv[2]
t = list(map(float, sys.argv[3:]))
runs = {"riposte replay, first start (compiles the rules)": t[0:2],
        "riposte replay": t[2:4], "fail2ban-regex (sshd filter)": t[4:6],
        "crowdsec (time machine, sshd scenarios)": t[6:8]}
print("| program | wall | lines/s (wall) | CPU | lines/s (CPU) |")
print("| --- | --- | --- | --- | --- |")
for name, (w, c) in runs.items():
    print(f"| {name} | {w:.2f} s | {n / w:,.0f} | {c:.2f} s | {n / c:,.0f} |")
rw, rc = t[2], t[3]
for peer, (w, c) in (("fail2ban", t[4:6]), ("CrowdSec", t[6:8])):
    print(f"Riposte / {peer}: {w / rw:.0f}x by wall clock, {c / rc:.0f}x by CPU time")
err = open(f"{tmp}/riposte.err").read().strip().splitlines()
print(err[-1] if err else "")
truth = json.load(open(f"{tmp}/w/truth.json"))
blocked = {json.loads(l)["target"] for l in open(f"{tmp}/riposte.out") if l.strip()}
fast = set(truth["fast_bruteforce"])
benign = set(truth["benign"])
missed = sorted(fast - blocked)
wrong = sorted(benign & blocked)
print(f"fast brute force blocked: {len(fast & blocked)} of {len(fast)}"
      f"{' (missed ' + ' '.join(missed) + ')' if missed else ''}; "
      f"benign addresses blocked: {len(wrong)}{' ' + ' '.join(wrong) if wrong else ''}")
f2b = open(f"{tmp}/fail2ban.out").read()
for line in f2b.splitlines():
    if line.startswith("Lines:"):
        print("fail2ban-regex:", line)
cs = [l.strip() for l in open(f"{tmp}/crowdsec.banned") if l.strip()]
print(f"CrowdSec banned {len(cs)} addresses ({len(set(cs) & fast)} of the fast brute force)")
sys.exit(1 if missed or wrong else 0)
PY

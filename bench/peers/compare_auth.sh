#!/usr/bin/env bash
# Riposte beside CrowdSec and fail2ban on the same generated sshd auth log, per attack kind.
#
# For each seed: riposte-gen writes the two-day workload with its ground truth (as
# bench/behavior_eval.sh does); then, over the same auth.log:
#  - Riposte: `riposte replay` with the bundled rules, and with the rules plus the long-term
#    detector (behavior_eval.sh's two configurations); caught = an address that got a verdict.
#  - CrowdSec (Debian's 1.4.6) in time-machine mode (`crowdsec -dsn file://... -type syslog`),
#    offline: its own config in a temporary directory, a local API on loopback with a SQLite
#    database and no central API (-no-capi), the hub's syslog, sshd and dateparse parsers and the
#    ssh-bf and ssh-slow-bf scenarios (each file holds a brute-force and a user-enumeration
#    bucket) from $CROWDSEC_HUB (default: the stored hub, /work/shared/corpora/crowdsec-hub).
#    1.4.6 reads scenario labels as strings only, so the list-valued `classification` label of the
#    newer hub files is dropped; nothing else changes. Caught = an address with a ban decision in
#    CrowdSec's database (profile: every remediation alert on an Ip scope is a ban).
#  - fail2ban (Debian's 1.0.2): `fail2ban-regex` with the stock sshd filter (mode normal) gives
#    every failure it matches with its address and time; fail2ban-regex never bans, so the default
#    sshd jail's rule (maxretry 5 within findtime 10m) is applied to those matches here. The
#    window slides over every match, so this bans at least what the jail's own counter would.
# False positives: banned addresses that the ground truth lists as benign (and any other address
# not among the attackers).
#
# Usage: bench/peers/compare_auth.sh [SEED...]   (default: 1 2; BUILD_DIR env, default build)
# Exits 77 when a peer is missing (install them with `scripts/setup --peers`).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build}
hub=${CROWDSEC_HUB:-/work/shared/corpora/crowdsec-hub}
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2)

source bench/peers/lib.sh
peers_require
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# CrowdSec's offline configuration, shared by every seed (the database is reset per seed).
crowdsec_setup "$tmp/crowdsec"

cat > "$tmp/rules.yaml" <<'YAML'
detectors:
  - {name: rules, type: rules, paths: ["@bundled"]}
YAML
cat > "$tmp/both.yaml" <<'YAML'
detectors:
  - {name: rules, type: rules, paths: ["@bundled"]}
  - {name: longterm, type: longterm}
YAML

for seed in "${seeds[@]}"; do
  w=$tmp/seed$seed
  mkdir -p "$w"
  "$build/riposte-gen" --seed "$seed" --days 2 --out "$w" >&2
  "$build/riposte" replay --config "$tmp/rules.yaml" --year 2025 --db "$w/rules.db" \
    "$w/auth.log" > "$w/rules.out" 2> "$w/rules.err"
  "$build/riposte" replay --config "$tmp/both.yaml" --year 2025 --db "$w/both.db" \
    "$w/auth.log" > "$w/both.out" 2> "$w/both.err"

  start=$(date +%s.%N)
  crowdsec_replay "$w/auth.log" "$w/crowdsec.banned"
  cs_secs=$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')")

  fail2ban-regex -o row "$w/auth.log" /etc/fail2ban/filter.d/sshd.conf > "$w/fail2ban.rows" 2> "$w/fail2ban.err"

  python3 - "$w" "$seed" "$cs_secs" <<'PY'
import ast, collections, json, sys
w, seed, cs_secs = sys.argv[1:4]
truth = json.load(open(f"{w}/truth.json"))

def riposte(name):
    return {json.loads(l)["target"] for l in open(f"{w}/{name}.out") if l.strip()}

rules, both = riposte("rules"), riposte("both")
crowdsec = {l.strip() for l in open(f"{w}/crowdsec.banned") if l.strip()}

# fail2ban's matches: one row per failure, [ip, time, {...}]; the sshd jail's default rule.
MAXRETRY, FINDTIME = 5, 600
times = collections.defaultdict(list)
matches = 0
for line in open(f"{w}/fail2ban.rows"):
    line = line.strip().rstrip(",")
    if not line.startswith("["):
        continue
    row = ast.literal_eval(line.replace("\t", " "))
    times[row[0]].append(float(row[1]))
    matches += 1
fail2ban = set()
for ip, ts in times.items():
    ts.sort()
    if any(ts[i + MAXRETRY - 1] - ts[i] <= FINDTIME for i in range(len(ts) - MAXRETRY + 1)):
        fail2ban.add(ip)

lines = sum(1 for _ in open(f"{w}/auth.log"))
print(f"seed {seed}: {lines} auth lines; fail2ban-regex matched {matches} failures; "
      f"CrowdSec replay {cs_secs} s wall")
print("| attack kind | attackers | Riposte rules only | Riposte rules + longterm | CrowdSec 1.4.6 | fail2ban 1.0.2 (sshd jail rule) |")
print("| --- | --- | --- | --- | --- | --- |")
kinds = [("fast_bruteforce", "fast brute force"), ("slow_bruteforce", "slow brute force (2 days)"),
         ("distributed_bruteforce", "distributed brute force (sources)"), ("scanner", "scanners")]
for key, label in kinds:
    ips = set(truth[key])
    print(f"| {label} | {len(ips)} | {len(ips & rules)} | {len(ips & both)} | "
          f"{len(ips & crowdsec)} | {len(ips & fail2ban)} |")
acct = truth["distributed_account"]
print(f"| distributed brute force (account `{acct}` alerted) | 1 | {int(acct in rules)} | "
      f"{int(acct in both)} | - | - |")
benign = set(truth["benign"])
attackers = set().union(*(set(truth[k]) for k, _ in kinds)) | {acct}
def fp(banned):
    wrong = sorted(banned - attackers)
    return f"{len(wrong)} {' '.join(wrong)}".strip()
print(f"| false positives ({len(benign)} benign addresses) | - | {fp(rules)} | {fp(both)} | "
      f"{fp(crowdsec)} | {fp(fail2ban)} |")
print()
PY
done
